// Command salesforce-outbound is the Lambda behind the Salesforce Outbound
// Message endpoint (an API Gateway HTTP API route, payload v2, e.g.
// POST /salesforce/outbound/{token}). It is wiring only: the work is
// salesforce.OutboundReceiver.
//
// Configuration (environment):
//
//	SALESFORCE_ORG_ID                    the org whose messages are accepted, 15 or 18 characters (required)
//	TRIGGER_QUEUE_URL                    SQS FIFO queue the triggers go to (required)
//	SALESFORCE_OUTBOUND_TOKEN_SECRET_ID  Secrets Manager name or ARN of the endpoint token (optional;
//	                                     without it any caller that knows the org id is accepted)
//	SALESFORCE_OUTBOUND_MAX_BODY         body cap in bytes (default 2 MiB)
//
// The token secret's SecretString is the token itself or {"token": "…"}.
// It is read once, at cold start; the endpoint URL configured in
// Salesforce carries it as the {token} path segment or a token query
// parameter.
//
// The events/salesforce-outbound-*.json samples are for org
// 00D5e000000AbCd with token "sample-token-0123"; see events_test.go.
package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"strconv"
	"strings"

	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-lambda-go/lambdacontext"
	awsconfig "github.com/aws/aws-sdk-go-v2/config"
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
	MaxBody       int
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

// parseToken reads the token secret: the bare token or {"token": "…"}.
func parseToken(s string) (string, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return "", errors.New("secret is empty")
	}
	if !strings.HasPrefix(s, "{") {
		return s, nil
	}
	var v struct {
		Token string `json:"token"`
	}
	if err := json.Unmarshal([]byte(s), &v); err != nil {
		return "", fmt.Errorf("secret is not valid JSON: %w", err)
	}
	if v.Token = strings.TrimSpace(v.Token); v.Token == "" {
		return "", errors.New(`secret JSON has no "token"`)
	}
	return v.Token, nil
}

// newReceiver builds the handler from the configuration, the token read
// at cold start ("" = none) and the queue.
func newReceiver(cfg config, token string, queue salesforce.Enqueuer, logger *slog.Logger) *salesforce.OutboundReceiver {
	return &salesforce.OutboundReceiver{OrgID: cfg.OrgID, Token: token, Queue: queue, MaxBody: cfg.MaxBody, Logger: logger}
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
	awsCfg, err := awsconfig.LoadDefaultConfig(ctx)
	if err != nil {
		return fmt.Errorf("load aws config: %w", err)
	}
	token := ""
	if cfg.TokenSecretID != "" {
		raw, err := secrets.Read(ctx, secretsmanager.NewFromConfig(awsCfg), cfg.TokenSecretID)
		if err != nil {
			return err
		}
		if token, err = parseToken(raw); err != nil {
			return fmt.Errorf("read secret %s: %w", cfg.TokenSecretID, err)
		}
	} else {
		logger.Warn("salesforce-outbound: no endpoint token configured; messages are checked by organization id only")
	}
	receiver := newReceiver(cfg, token, sqsqueue.New(sqs.NewFromConfig(awsCfg), cfg.QueueURL), logger)
	logger.Info("salesforce-outbound ready", "org_id", cfg.OrgID, "token", token != "", "max_body", cfg.MaxBody)
	lambda.Start(receiver.Handle)
	return nil
}
