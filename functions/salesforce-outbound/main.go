// Command salesforce-outbound is the Lambda behind the Salesforce Outbound
// Message endpoint (an API Gateway HTTP API route, payload v2:
// POST /webhooks/salesforce/{token}, and POST /webhooks/salesforce, which
// only the insecure mode accepts). It is wiring only: the work is
// salesforce.OutboundReceiver.
//
// Configuration (environment):
//
//	SALESFORCE_ORG_ID                    the org whose messages are accepted, 15 or 18 characters (required)
//	TRIGGER_QUEUE_URL                    SQS FIFO queue the triggers go to (required)
//	SALESFORCE_OUTBOUND_TOKEN_SECRET_ID  Secrets Manager name or ARN of the endpoint token(s)
//	                                     (required unless SALESFORCE_OUTBOUND_INSECURE is true)
//	SALESFORCE_OUTBOUND_INSECURE         "true" accepts messages without a token, checked by
//	                                     org id only (default false; the org id is no secret)
//	SALESFORCE_OUTBOUND_ALLOWED_CIDRS    comma-separated source ranges messages may come from
//	                                     (default: any; Salesforce publishes its ranges)
//	SALESFORCE_OUTBOUND_MAX_BODY         body cap in bytes (default 2 MiB)
//
// and the AWS region and credentials Lambda sets, read by secrets.EnvConfig
// rather than the SDK's config loader (a shorter cold start).
//
// The token secret's SecretString is read by salesforce.ParseOutboundTokens
// (the token, {"token": "…"}, or several during a rotation). It is read
// once, at cold start; the endpoint URL configured in Salesforce carries
// it as the {token} path segment. Without a token secret and without the
// insecure mode the receiver starts but refuses every message with a
// soapenv:Server fault (Salesforce retries for 24 hours, so nothing is
// lost while the configuration is fixed).
//
// The events/salesforce-outbound-*.json samples are for org
// 00D5e000000AbCd with token "sample-token-0123"; see events_test.go.
package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/netip"
	"os"
	"strconv"
	"strings"

	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-lambda-go/lambdacontext"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	"github.com/aws/aws-sdk-go-v2/service/sqs"

	"github.com/crmsync/crmsync/pkg/salesforce"
	"github.com/crmsync/crmsync/pkg/secrets"
	"github.com/crmsync/crmsync/pkg/sqsqueue"
)

type config struct {
	OrgID         string
	QueueURL      string
	TokenSecretID string
	// Insecure accepts messages without a token when no token secret is set.
	Insecure bool
	// AllowedSources are the source ranges accepted (none = any).
	AllowedSources []netip.Prefix
	MaxBody        int
}

func loadConfig(getenv func(string) string) (config, error) {
	c := config{
		OrgID:         strings.TrimSpace(getenv("SALESFORCE_ORG_ID")),
		QueueURL:      strings.TrimSpace(getenv("TRIGGER_QUEUE_URL")),
		TokenSecretID: strings.TrimSpace(getenv("SALESFORCE_OUTBOUND_TOKEN_SECRET_ID")),
		MaxBody:       salesforce.DefaultMaxBody,
	}
	var errs []error
	switch {
	case c.OrgID == "":
		errs = append(errs, errors.New("SALESFORCE_ORG_ID is not set"))
	case !salesforce.ValidID(c.OrgID):
		errs = append(errs, fmt.Errorf("SALESFORCE_ORG_ID: %q is not a 15- or 18-character id", c.OrgID))
	}
	if c.QueueURL == "" {
		errs = append(errs, errors.New("TRIGGER_QUEUE_URL is not set"))
	}
	if s := strings.TrimSpace(getenv("SALESFORCE_OUTBOUND_INSECURE")); s != "" {
		b, err := strconv.ParseBool(s)
		if err != nil {
			errs = append(errs, fmt.Errorf("SALESFORCE_OUTBOUND_INSECURE: %q is not true or false", s))
		}
		c.Insecure = b
	}
	for _, cidr := range strings.Split(getenv("SALESFORCE_OUTBOUND_ALLOWED_CIDRS"), ",") {
		if cidr = strings.TrimSpace(cidr); cidr == "" {
			continue
		}
		p, err := netip.ParsePrefix(cidr)
		if err != nil {
			errs = append(errs, fmt.Errorf("SALESFORCE_OUTBOUND_ALLOWED_CIDRS: %q is not a CIDR range like 13.108.0.0/14", cidr))
			continue
		}
		c.AllowedSources = append(c.AllowedSources, p.Masked())
	}
	if s := strings.TrimSpace(getenv("SALESFORCE_OUTBOUND_MAX_BODY")); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n <= 0 {
			errs = append(errs, fmt.Errorf("SALESFORCE_OUTBOUND_MAX_BODY: %q is not a positive number of bytes", s))
		} else {
			c.MaxBody = n
		}
	}
	if err := errors.Join(errs...); err != nil {
		return config{}, fmt.Errorf("config: %w", err)
	}
	return c, nil
}

// newReceiver builds the handler from the configuration, the tokens read
// at cold start (none without a token secret) and the queue. A token is
// required unless the configuration is insecure.
func newReceiver(cfg config, tokens []string, queue salesforce.Enqueuer, logger *slog.Logger) *salesforce.OutboundReceiver {
	return &salesforce.OutboundReceiver{OrgID: cfg.OrgID, Tokens: tokens, RequireToken: !cfg.Insecure,
		AllowedSources: cfg.AllowedSources, Queue: queue, MaxBody: cfg.MaxBody, Logger: logger}
}

func main() {
	logger := lambdacontext.NewLogger()
	slog.SetDefault(logger)
	if err := run(context.Background(), logger); err != nil {
		logger.Error("salesforce-outbound: start failed", "error", err)
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
	var tokens []string
	switch {
	case cfg.TokenSecretID != "":
		raw, err := secrets.Read(ctx, secretsmanager.NewFromConfig(awsCfg), cfg.TokenSecretID)
		if err != nil {
			return err
		}
		if tokens, err = salesforce.ParseOutboundTokens(raw); err != nil {
			return fmt.Errorf("read secret %s: %w", cfg.TokenSecretID, err)
		}
	case cfg.Insecure:
		logger.Warn("salesforce-outbound: insecure mode: messages are accepted without an endpoint token, checked by organization id only")
	default:
		logger.Error("salesforce-outbound: no endpoint token secret (SALESFORCE_OUTBOUND_TOKEN_SECRET_ID) and not insecure: every message is refused")
	}
	receiver := newReceiver(cfg, tokens, sqsqueue.New(sqs.NewFromConfig(awsCfg), cfg.QueueURL), logger)
	logger.Info("salesforce-outbound ready", "org_id", cfg.OrgID, "tokens", len(tokens), "insecure", cfg.Insecure, "allowed_sources", len(cfg.AllowedSources), "max_body", cfg.MaxBody)
	lambda.Start(receiver.Handle)
	return nil
}
