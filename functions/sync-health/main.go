// Command sync-health is the Lambda behind the Sync Health Function URL:
// the pages of package health (HTML at /health, JSON at /health.json,
// record and error-card pages, and their Resync, CSV-export and
// allocation actions) over the stack's table and trigger queue. It is
// wiring only.
//
// Every request must carry the access token — as Authorization: Bearer
// <token>, or the session cookie that signing in at /health with the
// token sets — compared in constant time; others get 401. The token is
// read once, at cold start, from Secrets Manager.
//
// Configuration (environment):
//
//	CRMSYNC_TABLE                    the DynamoDB table (required)
//	TRIGGER_QUEUE_URL                the trigger queue: resyncs go there; its depth is shown (required)
//	TRIGGER_DLQ_URL                  its dead-letter queue, for the page's count (optional: shown as unknown)
//	SYNC_HEALTH_TOKEN_SECRET_ID      Secrets Manager name or ARN of the access token (required); its
//	                                 SecretString is the token itself, at least 32 characters
//	SALESFORCE_ORG_ID                the connected org, shown on the page (optional)
//	SALESFORCE_ORG_KIND              production or sandbox, shown on the page (optional)
package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"strings"

	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-lambda-go/lambdacontext"
	awsconfig "github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	"github.com/aws/aws-sdk-go-v2/service/sqs"

	"github.com/crmsync/crmsync/pkg/crmsync"
	"github.com/crmsync/crmsync/pkg/ddbstore"
	"github.com/crmsync/crmsync/pkg/engine"
	"github.com/crmsync/crmsync/pkg/health"
	"github.com/crmsync/crmsync/pkg/secrets"
	"github.com/crmsync/crmsync/pkg/sqsqueue"
)

// minTokenLength keeps guessable tokens out: the page can resync records
// and change the API allocation.
const minTokenLength = 32

type config struct {
	Table         string
	QueueURL      string
	DLQURL        string
	TokenSecretID string
	OrgID         string
	OrgKind       string
}

func loadConfig(getenv func(string) string) (config, error) {
	get := func(k string) string { return strings.TrimSpace(getenv(k)) }
	c := config{Table: get("CRMSYNC_TABLE"), QueueURL: get("TRIGGER_QUEUE_URL"), DLQURL: get("TRIGGER_DLQ_URL"),
		TokenSecretID: get("SYNC_HEALTH_TOKEN_SECRET_ID"), OrgID: get("SALESFORCE_ORG_ID"), OrgKind: get("SALESFORCE_ORG_KIND")}
	var errs []error
	for _, kv := range [][2]string{{"CRMSYNC_TABLE", c.Table}, {"TRIGGER_QUEUE_URL", c.QueueURL},
		{"SYNC_HEALTH_TOKEN_SECRET_ID", c.TokenSecretID}} {
		if kv[1] == "" {
			errs = append(errs, fmt.Errorf("%s is not set", kv[0]))
		}
	}
	switch c.OrgKind {
	case "", "production", "sandbox":
	default:
		errs = append(errs, fmt.Errorf("SALESFORCE_ORG_KIND: %q is not production or sandbox", c.OrgKind))
	}
	if err := errors.Join(errs...); err != nil {
		return config{}, fmt.Errorf("config: %w", err)
	}
	return c, nil
}

// parseToken checks the token secret: the token itself, long enough.
func parseToken(s string) (string, error) {
	s = strings.TrimSpace(s)
	switch {
	case strings.HasPrefix(s, "{"):
		return "", errors.New("the secret holds JSON: store the token itself as the SecretString")
	case len(s) < minTokenLength:
		return "", fmt.Errorf("the token is %d characters, fewer than %d (openssl rand -hex 24 makes one)", len(s), minTokenLength)
	}
	return s, nil
}

// newHandler builds the pages' handler from its parts (dlq may be nil).
func newHandler(cfg config, token string, store crmsync.Store, queue crmsync.Queue, dlq health.StatsReader, logger *slog.Logger) *health.Handler {
	return &health.Handler{Store: store, Queue: queue, DeadLetters: dlq, Settings: (&engine.Engine{Store: store}).Settings,
		Connection: health.Connection{SalesforceOrgID: cfg.OrgID, SalesforceOrgKind: cfg.OrgKind},
		Token:      token, Logger: logger}
}

func main() {
	logger := lambdacontext.NewLogger()
	slog.SetDefault(logger)
	if err := run(context.Background(), logger); err != nil {
		logger.Error("sync-health: start failed", "error", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, logger *slog.Logger) error {
	cfg, err := loadConfig(os.Getenv)
	if err != nil {
		return err
	}
	awsCfg, err := awsconfig.LoadDefaultConfig(ctx)
	if err != nil {
		return fmt.Errorf("load aws config: %w", err)
	}
	raw, err := secrets.Read(ctx, secretsmanager.NewFromConfig(awsCfg), cfg.TokenSecretID)
	if err != nil {
		return err
	}
	token, err := parseToken(raw)
	if err != nil {
		return fmt.Errorf("read secret %s: %w", cfg.TokenSecretID, err)
	}
	sqsClient := sqs.NewFromConfig(awsCfg)
	var dlq health.StatsReader
	if cfg.DLQURL != "" {
		dlq = sqsqueue.New(sqsClient, cfg.DLQURL)
	}
	h := newHandler(cfg, token, ddbstore.New(dynamodb.NewFromConfig(awsCfg), cfg.Table),
		sqsqueue.New(sqsClient, cfg.QueueURL), dlq, logger)
	logger.Info("sync-health ready", "table", cfg.Table, "dead_letter_queue", cfg.DLQURL != "")
	lambda.Start(h.HandleLambda)
	return nil
}
