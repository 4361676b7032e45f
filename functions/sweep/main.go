// Command sweep is the Lambda the EventBridge Scheduler runs every 15
// minutes. It is wiring only: the work is sweep.Sweeper.Run, which finds
// what webhooks missed and enqueues it. After each run it emits the
// sweep's CloudWatch metrics in the Embedded Metric Format (stdout):
//
//	SweepEnqueued             triggers enqueued by the run
//	SweepLagSeconds           how far the oldest change cursor is behind the run's start
//	SweepBehindDeletedWindow  1 when a cursor is older than Salesforce keeps deletions, else 0
//	SalesforceAPIUsagePercent crmsync's Salesforce calls in the last 24 h (Store.APIUsage)
//	                          as a share of the allocation (see below)
//
// A run skipped because another sweep holds the lease emits only the API
// usage. The run gets a deadline SWEEP_DEADLINE_MARGIN before the Lambda's
// (and its budget ends there), so it stops starting work, stores its
// cursors and releases its lease before Lambda stops it; the next run
// resumes from the cursors. A run with failures returns an error, so the
// function's Errors metric counts it (the schedule does not retry: the
// next run is 15 minutes later).
//
// Configuration (environment), besides the worker's (CRMSYNC_TABLE,
// TRIGGER_QUEUE_URL, HUBSPOT_CREDENTIALS_SECRET_ID,
// SALESFORCE_CREDENTIALS_SECRET_ID, SALESFORCE_CLIENT_ID,
// CRMSYNC_HTTP_TIMEOUT, HUBSPOT_BASE_URL, SALESFORCE_INSTANCE_URL; see
// functions/sync-worker):
//
//	SALESFORCE_API_ALLOCATION  Salesforce calls per 24 h crmsync may use (default 0: the stored
//	                           settings' budget.salesforce_daily_limit, else the org's allocation
//	                           from the last Sforce-Limit-Info the sweep saw)
//	SWEEP_DEADLINE_MARGIN      time kept before the Lambda deadline (default 30s)
//	SWEEP_DRIFT_LIMIT          linked pairs drift-checked per run (default sweep.DefaultDriftLimit;
//	                           negative turns the drift check off)
package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/aws/aws-lambda-go/events"
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
	"github.com/crmsync/crmsync/pkg/sqsqueue"
	"github.com/crmsync/crmsync/pkg/sweep"
)

// Defaults.
const DefaultDeadlineMargin = 30 * time.Second

type config struct {
	Table    string
	QueueURL string
	crmclients.Config
	APIAllocation  int64
	DeadlineMargin time.Duration
	DriftLimit     int
}

func loadConfig(getenv func(string) string) (config, error) {
	get := func(k string) string { return strings.TrimSpace(getenv(k)) }
	c := config{
		Table:          get("CRMSYNC_TABLE"),
		QueueURL:       get("TRIGGER_QUEUE_URL"),
		DeadlineMargin: DefaultDeadlineMargin,
	}
	cc, errs := crmclients.LoadConfig(getenv)
	c.Config = cc
	for _, kv := range [][2]string{{"CRMSYNC_TABLE", c.Table}, {"TRIGGER_QUEUE_URL", c.QueueURL}} {
		if kv[1] == "" {
			errs = append(errs, fmt.Errorf("%s is not set", kv[0]))
		}
	}
	duration := func(key string, dst *time.Duration, allowZero bool) {
		s := get(key)
		if s == "" {
			return
		}
		d, err := time.ParseDuration(s)
		if err != nil || d < 0 || d == 0 && !allowZero {
			errs = append(errs, fmt.Errorf("%s: %q is not a positive duration like 30s", key, s))
			return
		}
		*dst = d
	}
	duration("SWEEP_DEADLINE_MARGIN", &c.DeadlineMargin, true)
	if s := get("SALESFORCE_API_ALLOCATION"); s != "" {
		n, err := strconv.ParseInt(s, 10, 64)
		if err != nil || n < 0 {
			errs = append(errs, fmt.Errorf("SALESFORCE_API_ALLOCATION: %q is not a number of calls (0 = from settings or the org)", s))
		} else {
			c.APIAllocation = n
		}
	}
	if s := get("SWEEP_DRIFT_LIMIT"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil {
			errs = append(errs, fmt.Errorf("SWEEP_DRIFT_LIMIT: %q is not a number", s))
		} else {
			c.DriftLimit = n
		}
	}
	if err := errors.Join(errs...); err != nil {
		return config{}, fmt.Errorf("config: %w", err)
	}
	return c, nil
}

// PollDetailType is the detail-type of the one-minute schedule's events:
// they run the short poll only (sweep.Sweeper.Poll: the inclusion list,
// form submissions, marketing email events; template.yaml, ShortPoll).
const PollDetailType = "crmsync short poll"

// handler runs one sweep per scheduled event and reports its metrics.
type handler struct {
	// run performs the sweep with a budget (0 = the sweeper's default).
	run func(ctx context.Context, budget time.Duration) (sweep.Report, error)
	// poll runs the short poll (the one-minute schedule's events).
	poll func(ctx context.Context) (int, error)
	// store answers the API usage and the settings' budget.
	store crmsync.Store
	// allocation is the configured Salesforce allocation (0 = none).
	allocation int64
	// orgAllocation, when set, returns the org's allocation as last seen
	// (0 = not seen yet).
	orgAllocation func() int64
	margin        time.Duration
	metrics       *emf.Logger
	logger        *slog.Logger
	now           func() time.Time
}

// runSweeper returns a run func over s that sets the budget per run.
func runSweeper(s *sweep.Sweeper) func(context.Context, time.Duration) (sweep.Report, error) {
	return func(ctx context.Context, budget time.Duration) (sweep.Report, error) {
		run := *s
		run.Budget = budget
		return run.Run(ctx)
	}
}

// Handle is the Lambda handler. The event is only logged: the schedule's
// time does not change what a sweep does (cursors do).
func (h *handler) Handle(ctx context.Context, ev events.CloudWatchEvent) error {
	if ev.DetailType == PollDetailType {
		n, err := h.poll(ctx)
		if err != nil {
			return fmt.Errorf("short poll: %w", err)
		}
		h.logger.InfoContext(ctx, "short poll", "enqueued", n)
		return nil
	}
	var budget time.Duration
	if dl, ok := ctx.Deadline(); ok {
		stop := dl.Add(-h.margin)
		budget = time.Until(stop)
		if budget <= 0 {
			return fmt.Errorf("sweep: %v left before the Lambda deadline, less than the margin %v", time.Until(dl).Round(time.Millisecond), h.margin)
		}
		var cancel context.CancelFunc
		ctx, cancel = context.WithDeadline(ctx, stop)
		defer cancel()
	}
	h.logger.InfoContext(ctx, "sweep start", "schedule_time", ev.Time, "event_id", ev.ID, "budget", budget.String())
	rep, err := h.run(ctx, budget)
	h.report(context.WithoutCancel(ctx), rep)
	if ferr := h.metrics.Flush(); ferr != nil {
		h.logger.WarnContext(ctx, "could not write metrics", "error", ferr)
	}
	if err != nil {
		h.logger.ErrorContext(ctx, "sweep failed", "errors", rep.Errors, "enqueued", rep.Enqueued(), "stopped", rep.Stopped)
		return fmt.Errorf("sweep: %w", err)
	}
	return nil
}

// report records the run's metrics (not flushed).
func (h *handler) report(ctx context.Context, rep sweep.Report) {
	if !rep.Skipped {
		h.metrics.Put(emf.SweepEnqueued, float64(rep.Enqueued()), emf.Count)
		behind := 0.0
		if rep.BehindDeletedWindow {
			behind = 1
		}
		h.metrics.Put(emf.SweepBehindDeletedWindow, behind, emf.Count)
		lag, ok := time.Duration(0), false
		for _, o := range rep.Objects {
			if !o.Cursor.Timestamp.IsZero() {
				lag, ok = max(lag, o.Lag), true
			}
		}
		if ok {
			h.metrics.Put(emf.SweepLagSeconds, lag.Seconds(), emf.Seconds)
		}
	}
	if pct, ok := h.usagePercent(ctx); ok {
		h.metrics.Put(emf.SalesforceAPIUsagePercent, pct, emf.Percent)
	}
}

// usagePercent is crmsync's Salesforce usage over the last 24 h as a
// percentage of the allocation: the configured one, else the settings'
// budget, else the org's.
func (h *handler) usagePercent(ctx context.Context) (float64, bool) {
	used, err := h.store.APIUsage(ctx, crmsync.Salesforce, h.now())
	if err != nil {
		h.logger.WarnContext(ctx, "could not read Salesforce API usage", "error", err)
		return 0, false
	}
	alloc := h.allocation
	if alloc <= 0 {
		s, err := h.store.GetSettings(ctx)
		switch {
		case err == nil:
			alloc = int64(s.Budget.SalesforceDailyLimit)
		case !errors.Is(err, crmsync.ErrNotFound):
			h.logger.WarnContext(ctx, "could not read settings for the API budget", "error", err)
		}
	}
	if alloc <= 0 && h.orgAllocation != nil {
		alloc = h.orgAllocation()
	}
	if alloc <= 0 {
		h.logger.WarnContext(ctx, "no Salesforce API allocation known; SalesforceAPIUsagePercent not emitted (set SalesforceDailyAPIAllocation)",
			"salesforce_calls_24h", used)
		return 0, false
	}
	return 100 * float64(used) / float64(alloc), true
}

func main() {
	logger := lambdacontext.NewLogger()
	slog.SetDefault(logger)
	if err := run(context.Background(), logger); err != nil {
		logger.Error("sweep: start failed", "error", err)
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
	sw := &sweep.Sweeper{
		Store: store,
		Queue: sqsqueue.New(sqs.NewFromConfig(awsCfg), cfg.QueueURL),
		Sources: map[crmsync.Side]sweep.Source{
			crmsync.HubSpot:    &sweep.HubSpotSource{Client: hs},
			crmsync.Salesforce: &sweep.SalesforceSource{Client: sf},
		},
		Drift:      &engine.Engine{Store: store, HubSpot: hs, Salesforce: sf, Logger: logger},
		Lists:      hs,
		Activities: hs,
		Logger:     logger,
		DriftLimit: cfg.DriftLimit,
	}
	h := &handler{
		run:        runSweeper(sw),
		poll:       sw.Poll,
		store:      store,
		allocation: cfg.APIAllocation,
		orgAllocation: func() int64 {
			info, _ := sf.LimitInfo()
			return info.Max
		},
		margin:  cfg.DeadlineMargin,
		metrics: emf.New(os.Stdout),
		logger:  logger,
		now:     time.Now,
	}
	logger.Info("sweep ready", "table", cfg.Table, "hubspot_auth", clients.HubSpotAuth, "salesforce_flow", clients.SalesforceFlow,
		"salesforce_api_allocation", cfg.APIAllocation, "deadline_margin", cfg.DeadlineMargin.String())
	lambda.Start(h.Handle)
	return nil
}
