// Command hubspot-webhook is the Lambda behind HubSpot's webhook URL (the
// HTTP API route POST /webhooks/hubspot of template.yaml, or a Lambda
// Function URL). It is wiring only:
// the work is hubspot.WebhookReceiver.
//
// Configuration (environment):
//
//	HUBSPOT_WEBHOOK_SECRET_ID   Secrets Manager name or ARN of the app's client secret(s) (required)
//	TRIGGER_QUEUE_URL           SQS FIFO queue the triggers go to (required)
//	HUBSPOT_SIGNATURE_VERSIONS  accepted signature versions, comma-separated (default "v3";
//	                            add v1/v2 only for apps that cannot send v3)
//	HUBSPOT_WEBHOOK_MAX_BODY    body cap in bytes (default 1 MiB)
//
// and the AWS region and credentials Lambda sets, read by secrets.EnvConfig
// rather than the SDK's config loader (a shorter cold start).
//
// The secret's SecretString is the client secret, or during a rotation
// the accepted secrets comma-separated ("new,old") or as JSON
// {"client_secrets": ["new", "old"]} (hubspot.ParseWebhookSecrets). It is
// read once, at cold start.
//
// The events/hubspot-webhook-*.json samples are signed with the test
// secret "crmsync-events-test-secret" at 2026-11-23T12:00:00Z; see
// events_test.go.
package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"strconv"
	"strings"

	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-lambda-go/lambdacontext"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	"github.com/aws/aws-sdk-go-v2/service/sqs"

	"github.com/crmsync/crmsync/pkg/hubspot"
	"github.com/crmsync/crmsync/pkg/secrets"
	"github.com/crmsync/crmsync/pkg/sqsqueue"
)

type config struct {
	SecretID string
	QueueURL string
	Versions []hubspot.SignatureVersion
	MaxBody  int
}

func loadConfig(getenv func(string) string) (config, error) {
	c := config{
		SecretID: strings.TrimSpace(getenv("HUBSPOT_WEBHOOK_SECRET_ID")),
		QueueURL: strings.TrimSpace(getenv("TRIGGER_QUEUE_URL")),
		MaxBody:  hubspot.DefaultMaxBody,
	}
	var errs []error
	if c.SecretID == "" {
		errs = append(errs, errors.New("HUBSPOT_WEBHOOK_SECRET_ID is not set"))
	}
	if c.QueueURL == "" {
		errs = append(errs, errors.New("TRIGGER_QUEUE_URL is not set"))
	}
	versions := getenv("HUBSPOT_SIGNATURE_VERSIONS")
	if strings.TrimSpace(versions) == "" {
		versions = string(hubspot.SignatureV3)
	}
	for _, v := range strings.Split(versions, ",") {
		switch ver := hubspot.SignatureVersion(strings.ToLower(strings.TrimSpace(v))); ver {
		case hubspot.SignatureV1, hubspot.SignatureV2, hubspot.SignatureV3:
			c.Versions = append(c.Versions, ver)
		default:
			errs = append(errs, fmt.Errorf("HUBSPOT_SIGNATURE_VERSIONS: unknown version %q", v))
		}
	}
	if s := strings.TrimSpace(getenv("HUBSPOT_WEBHOOK_MAX_BODY")); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n <= 0 {
			errs = append(errs, fmt.Errorf("HUBSPOT_WEBHOOK_MAX_BODY: %q is not a positive number of bytes", s))
		} else {
			c.MaxBody = n
		}
	}
	if err := errors.Join(errs...); err != nil {
		return config{}, fmt.Errorf("config: %w", err)
	}
	return c, nil
}

func main() {
	logger := lambdacontext.NewLogger()
	slog.SetDefault(logger)
	if err := run(context.Background(), logger); err != nil {
		logger.Error("hubspot-webhook: start failed", "error", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, logger *slog.Logger) error {
	cfg, err := loadConfig(os.Getenv)
	if err != nil {
		return err
	}
	// Not config.LoadDefaultConfig: see secrets.EnvConfig (cold start).
	awsCfg, err := secrets.EnvConfig(os.Getenv)
	if err != nil {
		return err
	}
	raw, err := secrets.Read(ctx, secretsmanager.NewFromConfig(awsCfg), cfg.SecretID)
	if err != nil {
		return err
	}
	clientSecrets, err := hubspot.ParseWebhookSecrets(raw)
	if err != nil {
		return fmt.Errorf("read secret %s: %w", cfg.SecretID, err)
	}
	receiver := &hubspot.WebhookReceiver{
		Secrets:  clientSecrets,
		Versions: cfg.Versions,
		Queue:    sqsqueue.New(sqs.NewFromConfig(awsCfg), cfg.QueueURL),
		MaxBody:  cfg.MaxBody,
		Logger:   logger,
	}
	logger.Info("hubspot-webhook ready", "secrets", len(clientSecrets), "versions", cfg.Versions)
	lambda.Start(receiver.Handle)
	return nil
}
