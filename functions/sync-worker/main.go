// Command sync-worker is the Lambda on the FIFO trigger queue (SQS event
// source with ReportBatchItemFailures). It is wiring only: the work is
// worker.Worker.HandleSQS over engine.Engine.
//
// Configuration (environment):
//
//	CRMSYNC_TABLE                     DynamoDB table of settings, links, errors, usage, ledger (required)
//	TRIGGER_QUEUE_URL                 the trigger queue, to back off transient failures (required)
//	HUBSPOT_APP_ID                    crmsync's HubSpot app id: its changes coming back are named echoes (optional)
//	(and the credential variables of package crmclients)
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
	"os"
	"strconv"
	"strings"

	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-lambda-go/lambdacontext"
	awsconfig "github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	"github.com/aws/aws-sdk-go-v2/service/sqs"

	"github.com/crmsync/crmsync/pkg/crmclients"
	"github.com/crmsync/crmsync/pkg/crmsync"
	"github.com/crmsync/crmsync/pkg/ddbstore"
	"github.com/crmsync/crmsync/pkg/emf"
	"github.com/crmsync/crmsync/pkg/engine"
	"github.com/crmsync/crmsync/pkg/hubspot"
	"github.com/crmsync/crmsync/pkg/sqsqueue"
	"github.com/crmsync/crmsync/pkg/sweep"
	"github.com/crmsync/crmsync/pkg/worker"
)

type config struct {
	Table    string
	QueueURL string
	// HubSpotAppID is crmsync's HubSpot app id (optional): a HubSpot
	// change made by this app is named an echo of crmsync's own write.
	HubSpotAppID string
	// Drain is the most triggers resolved together (WORKER_DRAIN, default
	// worker.DefaultDrain): the event's batch and what else is visible.
	Drain int
	crmclients.Config
}

func loadConfig(getenv func(string) string) (config, error) {
	get := func(k string) string { return strings.TrimSpace(getenv(k)) }
	c := config{
		Table:    get("CRMSYNC_TABLE"),
		QueueURL: get("TRIGGER_QUEUE_URL"),
		// HUBSPOT_APP_ID is optional.
		HubSpotAppID: get("HUBSPOT_APP_ID"),
	}
	cc, errs := crmclients.LoadConfig(getenv)
	c.Drain = worker.DefaultDrain
	if s := get("WORKER_DRAIN"); s != "" {
		if n, err := strconv.Atoi(s); err != nil || n < 1 || n > 1000 {
			errs = append(errs, fmt.Errorf("WORKER_DRAIN: %q is not a number from 1 to 1000", s))
		} else {
			c.Drain = n
		}
	}
	c.Config = cc
	for k, v := range map[string]string{"CRMSYNC_TABLE": c.Table, "TRIGGER_QUEUE_URL": c.QueueURL} {
		if v == "" {
			errs = append(errs, fmt.Errorf("%s is not set", k))
		}
	}
	if err := errors.Join(errs...); err != nil {
		return config{}, fmt.Errorf("config: %w", err)
	}
	return c, nil
}

// newWorker builds the handler from its dependencies: the engine over
// store and both CRMs, the queue for visibility back-off, metrics to w.
func newWorker(store crmsync.Store, hs engine.HubSpotCRM, sf engine.SalesforceCRM, appID string, vis worker.Visibility, logger *slog.Logger, metrics io.Writer) *worker.Worker {
	eng := &engine.Engine{Store: store, HubSpot: hs, Salesforce: sf, OwnHubSpotAppID: appID, Logger: logger}
	return &worker.Worker{Resolver: eng, Visibility: vis, Logger: logger, Metrics: emf.New(metrics)}
}

// hintedPoll is the short poll the worker runs when a contact change says
// a form submission or an email event just happened: it enqueues them on
// the trigger queue (sweep.Sweeper.PollIfHinted).
func hintedPoll(store crmsync.Store, hs *hubspot.Client, queue crmsync.Queue, logger *slog.Logger) func(context.Context, []crmsync.Trigger) (int, error) {
	sw := &sweep.Sweeper{Store: store, Queue: queue, Lists: hs, Activities: hs, Logger: logger}
	return sw.PollIfHinted
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
	store := ddbstore.New(dynamodb.NewFromConfig(awsCfg), cfg.Table)
	clients, err := crmclients.New(ctx, secretsmanager.NewFromConfig(awsCfg), cfg.Config, store)
	if err != nil {
		return err
	}
	hs, sf := clients.HubSpot, clients.Salesforce
	queue := sqsqueue.New(sqs.NewFromConfig(awsCfg), cfg.QueueURL)
	w := newWorker(store, hs, sf, cfg.HubSpotAppID, queue, logger, os.Stdout)
	w.Hints = hintedPoll(store, hs, queue, logger)
	w.Drain, w.From = cfg.Drain, queue
	logger.Info("sync-worker ready", "table", cfg.Table, "hubspot_auth", clients.HubSpotAuth,
		"salesforce_flow", clients.SalesforceFlow, "salesforce_client_id", cfg.SalesforceClientID, "drain", cfg.Drain)
	lambda.Start(w.HandleSQS)
	return nil
}
