// Command sync-worker is the Lambda on the FIFO trigger queue (SQS event
// source with ReportBatchItemFailures). It is wiring only: the work is
// worker.Worker.HandleSQS over engine.Engine.
//
// Configuration (environment):
//
//	CRMSYNC_TABLE                     DynamoDB table of settings, links, errors, usage, ledger (required)
//	TRIGGER_QUEUE_URL                 the trigger queue, to back off transient failures (required)
//	HUBSPOT_CREDENTIALS_SECRET_ID     Secrets Manager name or ARN of the HubSpot credentials (required;
//	                                  JSON, see hubspot.Credentials)
//	SALESFORCE_CREDENTIALS_SECRET_ID  Secrets Manager name or ARN of the Salesforce credentials (required;
//	                                  JSON, see salesforce.Credentials)
//	SALESFORCE_CLIENT_ID              Sforce-Call-Options client id on every call (default "crmsync"),
//	                                  how crmsync recognises its own writes
//	CRMSYNC_HTTP_TIMEOUT              timeout of one vendor HTTP call (default 30s)
//	HUBSPOT_BASE_URL                  HubSpot API base URL (default https://api.hubapi.com/)
//	SALESFORCE_INSTANCE_URL           Salesforce instance URL (default: the token's instance_url)
//
// The secrets are read once, at cold start; after a rotation the next cold
// start picks the new value up (or update the function to force one).
// Every vendor call is counted into the table's API-usage buckets, which
// the sweep turns into the SalesforceAPIUsagePercent metric. The worker's
// own metrics (emf.TriggersResolved, SyncErrors, TransientFailures,
// PoisonMessages) go to stdout in the Embedded Metric Format.
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"strings"
	"time"

	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-lambda-go/lambdacontext"
	"github.com/aws/aws-sdk-go-v2/aws"
	awsconfig "github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"golang.org/x/oauth2"

	"github.com/crmsync/crmsync/pkg/crmsync"
	"github.com/crmsync/crmsync/pkg/ddbstore"
	"github.com/crmsync/crmsync/pkg/emf"
	"github.com/crmsync/crmsync/pkg/engine"
	"github.com/crmsync/crmsync/pkg/hubspot"
	"github.com/crmsync/crmsync/pkg/salesforce"
	"github.com/crmsync/crmsync/pkg/sqsqueue"
	"github.com/crmsync/crmsync/pkg/worker"
)

// DefaultHTTPTimeout bounds one vendor HTTP call.
const DefaultHTTPTimeout = 30 * time.Second

type config struct {
	Table                 string
	QueueURL              string
	HubSpotSecretID       string
	SalesforceSecretID    string
	SalesforceClientID    string
	HTTPTimeout           time.Duration
	HubSpotBaseURL        string
	SalesforceInstanceURL string
}

func loadConfig(getenv func(string) string) (config, error) {
	get := func(k string) string { return strings.TrimSpace(getenv(k)) }
	c := config{
		Table:                 get("CRMSYNC_TABLE"),
		QueueURL:              get("TRIGGER_QUEUE_URL"),
		HubSpotSecretID:       get("HUBSPOT_CREDENTIALS_SECRET_ID"),
		SalesforceSecretID:    get("SALESFORCE_CREDENTIALS_SECRET_ID"),
		SalesforceClientID:    get("SALESFORCE_CLIENT_ID"),
		HTTPTimeout:           DefaultHTTPTimeout,
		HubSpotBaseURL:        get("HUBSPOT_BASE_URL"),
		SalesforceInstanceURL: get("SALESFORCE_INSTANCE_URL"),
	}
	var errs []error
	for k, v := range map[string]string{"CRMSYNC_TABLE": c.Table, "TRIGGER_QUEUE_URL": c.QueueURL,
		"HUBSPOT_CREDENTIALS_SECRET_ID": c.HubSpotSecretID, "SALESFORCE_CREDENTIALS_SECRET_ID": c.SalesforceSecretID} {
		if v == "" {
			errs = append(errs, fmt.Errorf("%s is not set", k))
		}
	}
	if c.SalesforceClientID == "" {
		c.SalesforceClientID = salesforce.DefaultClientID
	}
	if s := get("CRMSYNC_HTTP_TIMEOUT"); s != "" {
		d, err := time.ParseDuration(s)
		if err != nil || d <= 0 {
			errs = append(errs, fmt.Errorf("CRMSYNC_HTTP_TIMEOUT: %q is not a positive duration like 30s", s))
		} else {
			c.HTTPTimeout = d
		}
	}
	if err := errors.Join(errs...); err != nil {
		return config{}, fmt.Errorf("config: %w", err)
	}
	return c, nil
}

// newWorker builds the handler from its dependencies: the engine over
// store and both CRMs, the queue for visibility back-off, metrics to w.
func newWorker(store crmsync.Store, hs, sf crmsync.CRM, vis worker.Visibility, logger *slog.Logger, metrics io.Writer) *worker.Worker {
	eng := &engine.Engine{Store: store, HubSpot: hs, Salesforce: sf, Logger: logger}
	return &worker.Worker{Resolver: eng, Visibility: vis, Logger: logger, Metrics: emf.New(metrics)}
}

func main() {
	logger := lambdacontext.NewLogger()
	slog.SetDefault(logger)
	if err := run(context.Background(), logger); err != nil {
		logger.Error("sync-worker: start failed", "error", err)
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
	hc := &http.Client{Timeout: cfg.HTTPTimeout}
	sm := secretsmanager.NewFromConfig(awsCfg)
	hsSecret, err := readSecret(ctx, sm, cfg.HubSpotSecretID)
	if err != nil {
		return err
	}
	hsCreds, err := hubspot.ParseCredentials(hsSecret)
	if err != nil {
		return fmt.Errorf("secret %s: %w", cfg.HubSpotSecretID, err)
	}
	sfSecret, err := readSecret(ctx, sm, cfg.SalesforceSecretID)
	if err != nil {
		return err
	}
	sfCreds, err := salesforce.ParseCredentials(sfSecret)
	if err != nil {
		return fmt.Errorf("secret %s: %w", cfg.SalesforceSecretID, err)
	}

	store := ddbstore.New(dynamodb.NewFromConfig(awsCfg), cfg.Table)
	hsAuth, err := hsCreds.Option()
	if err != nil {
		return err
	}
	hsOpts := []hubspot.Option{hsAuth, hubspot.WithHTTPClient(hc), hubspot.WithUsageCounter(store)}
	if cfg.HubSpotBaseURL != "" {
		hsOpts = append(hsOpts, hubspot.WithBaseURL(cfg.HubSpotBaseURL))
	}
	hs, err := hubspot.NewClient(hsOpts...)
	if err != nil {
		return err
	}
	// Token requests go through hc too (the context outlives every call).
	tokens, err := sfCreds.TokenSource(context.WithValue(context.Background(), oauth2.HTTPClient, hc))
	if err != nil {
		return err
	}
	sfOpts := []salesforce.Option{salesforce.WithTokenSource(tokens), salesforce.WithHTTPClient(hc),
		salesforce.WithClientID(cfg.SalesforceClientID), salesforce.WithUsageCounter(store)}
	if cfg.SalesforceInstanceURL != "" {
		sfOpts = append(sfOpts, salesforce.WithBaseURL(cfg.SalesforceInstanceURL))
	}
	sf, err := salesforce.NewClient(sfOpts...)
	if err != nil {
		return err
	}

	queue := sqsqueue.New(sqs.NewFromConfig(awsCfg), cfg.QueueURL)
	w := newWorker(store, hs, sf, queue, logger, os.Stdout)
	logger.Info("sync-worker ready", "table", cfg.Table, "hubspot_auth", hsCreds.Kind(),
		"salesforce_flow", sfCreds.Flow(), "salesforce_client_id", cfg.SalesforceClientID)
	lambda.Start(w.HandleSQS)
	return nil
}

// readSecret returns a secret's SecretString. Errors name the secret, never
// its value.
func readSecret(ctx context.Context, sm *secretsmanager.Client, id string) (string, error) {
	out, err := sm.GetSecretValue(ctx, &secretsmanager.GetSecretValueInput{SecretId: aws.String(id)})
	if err != nil {
		return "", fmt.Errorf("read secret %s: %w", id, err)
	}
	if out.SecretString == nil {
		return "", fmt.Errorf("read secret %s: it has no SecretString (binary secrets are not supported)", id)
	}
	return *out.SecretString, nil
}
