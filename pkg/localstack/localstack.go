// Package localstack runs all of crmsync on one machine: both receivers on
// a local HTTP port (the Lambdas' exact handler code, through pkg/httpapi),
// a worker pool over a crmsync.Queue, the engine over a crmsync.Store, and
// — in sandbox mode — both simulators wired to send their webhooks and
// outbound messages to the receivers. `crmsync local --sandbox` (make run)
// and the end-to-end scenario tests use it; the scenario tests run it over
// boltstore + localqueue and over ddbstore + sqsqueue against the real
// local servers.
//
// Routes on the receiver port are the deployed ones: POST /webhooks/hubspot
// and POST /webhooks/salesforce, plus the Sync Health pages (package
// health: GET /health, GET /health.json and the pages' actions, loopback
// callers only) and the admin routes (Admin).
//
// Decisions: the simulators' clocks are real time; HubSpot webhooks are
// flushed and Salesforce outbound messages delivered every 200 ms with
// short retry back-offs (1 s), so a change shows up on the other side in
// about a second; the HubSpot webhook secret is a fixed local one.
package localstack

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"strconv"
	"sync"
	"time"

	"golang.org/x/oauth2"

	"github.com/crmsync/crmsync/pkg/backfill"
	"github.com/crmsync/crmsync/pkg/crmsync"
	"github.com/crmsync/crmsync/pkg/engine"
	"github.com/crmsync/crmsync/pkg/health"
	"github.com/crmsync/crmsync/pkg/httpapi"
	"github.com/crmsync/crmsync/pkg/hubspot"
	"github.com/crmsync/crmsync/pkg/localqueue"
	"github.com/crmsync/crmsync/pkg/salesforce"
	"github.com/crmsync/crmsync/pkg/sandbox/hubspotsim"
	"github.com/crmsync/crmsync/pkg/sandbox/salesforcesim"
	"github.com/crmsync/crmsync/pkg/sweep"
	"github.com/crmsync/crmsync/pkg/worker"
)

// SandboxAppID is crmsync's HubSpot app id in the sandbox: the simulated
// portal attributes crmsync's API writes to it (changeSource
// INTEGRATION/<id>), so the engine names their webhooks echoes.
const SandboxAppID = 1160452

// WebhookSecret is the HubSpot app secret of the local sandbox.
const WebhookSecret = "crmsync-local-webhook-secret"

// Config configures a stack.
type Config struct {
	// Store and Queue are required.
	Store crmsync.Store
	Queue crmsync.Queue
	// Real, when set, runs against real CRMs instead of the simulators.
	Real *Real
	// Addr is the receivers' listen address (default 127.0.0.1:0).
	Addr string
	// HubSpotAddr and SalesforceAddr are the simulators' listen addresses
	// (default 127.0.0.1:0).
	HubSpotAddr, SalesforceAddr string
	// Workers is the worker pool size (default 4).
	Workers int
	// NoWebhooks turns the simulators' webhooks and outbound messages off:
	// only the sweep finds changes.
	NoWebhooks bool
	// SweepEvery runs the sweep on a ticker (0 = not on a ticker; Sweep
	// runs one by hand). SweepLag is its lag window (default 2 s locally,
	// where clocks are one and commits instant).
	SweepEvery time.Duration
	SweepLag   time.Duration
	// DataFile is the absolute path of the bbolt file behind Store ("" when
	// none), which the admin info route reports.
	DataFile string
	// Seed seeds the simulators.
	Seed uint64
	// SalesforcePicklists is the simulated org's State and
	// Country/Territory Picklists setting.
	SalesforcePicklists salesforcesim.Picklists
	// Strict runs the simulators with the vendors' limits and rules on
	// (strict.go): make chaos and make bench use it.
	Strict bool
	Logger *slog.Logger
	// OnOutcome is called for every resolved trigger.
	OnOutcome func(engine.Outcome)
	// OnSweep is called after every ticker sweep.
	OnSweep func(sweep.Report)
}

// Real are the clients and receiver secrets of real CRMs (crmsync local
// without --sandbox). Their webhooks and outbound messages reach the local
// receivers only through a tunnel the user sets up; the sweep finds every
// change anyway.
type Real struct {
	HubSpot    *hubspot.Client
	Salesforce *salesforce.Client
	// OrgID is the Salesforce org outbound messages must come from.
	OrgID string
	// WebhookSecrets verify HubSpot webhooks (the app's client secrets).
	WebhookSecrets []string
}

// Stack is a running local stack.
type Stack struct {
	HubSpot    *hubspotsim.Portal
	Salesforce *salesforcesim.Org
	// HubSpotClient and SalesforceClient are crmsync's clients of the
	// simulators.
	HubSpotClient    *hubspot.Client
	SalesforceClient *salesforce.Client
	Engine           *engine.Engine
	// Sweeper is the 15-minute sweep over both simulators.
	Sweeper *sweep.Sweeper
	// ReceiverURL, HubSpotURL and SalesforceURL are the base URLs.
	ReceiverURL, HubSpotURL, SalesforceURL string

	cancel  context.CancelFunc
	wg      sync.WaitGroup
	workers *workerPool
	servers []*http.Server
}

// Start starts a sandbox stack; Close stops it.
func Start(ctx context.Context, cfg Config) (*Stack, error) {
	if cfg.Store == nil || cfg.Queue == nil {
		return nil, errors.New("localstack: Store and Queue are required")
	}
	if cfg.Workers <= 0 {
		cfg.Workers = 4
	}
	log := cfg.Logger
	if log == nil {
		log = slog.Default()
	}
	s := &Stack{}
	listen := func(addr string) (net.Listener, string, error) {
		if addr == "" {
			addr = "127.0.0.1:0"
		}
		l, err := net.Listen("tcp", addr)
		if err != nil {
			return nil, "", fmt.Errorf("localstack: listen %s: %w", addr, err)
		}
		return l, "http://" + l.Addr().String(), nil
	}
	rl, rURL, err := listen(cfg.Addr)
	if err != nil {
		return nil, err
	}
	s.ReceiverURL = rURL
	servers := []served{{rl, nil}} // the receivers' mux is set below
	orgID, secrets := "", []string{WebhookSecret}
	if cfg.Real != nil {
		s.HubSpotClient, s.SalesforceClient = cfg.Real.HubSpot, cfg.Real.Salesforce
		orgID, secrets = cfg.Real.OrgID, cfg.Real.WebhookSecrets
	} else {
		sims, err := s.startSimulators(cfg, listen)
		if err != nil {
			rl.Close()
			return nil, err
		}
		servers = append(servers, sims...)
		orgID = s.Salesforce.OrgID()
	}

	// Receivers: the Lambdas' handlers on a local port.
	hr := &hubspot.WebhookReceiver{Secrets: secrets, Queue: cfg.Queue, Logger: log}
	sr := &salesforce.OutboundReceiver{OrgID: orgID, Queue: cfg.Queue, Logger: log}
	mux := http.NewServeMux()
	mux.Handle("/webhooks/hubspot", httpapi.Handler(hr.Handle))
	mux.Handle("/webhooks/salesforce", httpapi.Handler(sr.Handle))
	admin := &Admin{Queue: cfg.Queue, Store: cfg.Store, Lists: s.HubSpotClient, DataFile: cfg.DataFile, Logger: log,
		Preview: func(ctx context.Context, ref crmsync.RecordRef) (engine.Preview, error) {
			return s.Engine.Preview(ctx, ref)
		},
		Plan: func(ctx context.Context, proposed crmsync.Settings, batch int) (engine.SettingsPlan, error) {
			return s.Engine.PlanSettings(ctx, proposed, batch)
		},
		Backfill: func(ctx context.Context, req BackfillRequest) (backfill.Progress, error) {
			j, err := s.backfillJob(ctx, cfg.Store, req.Size)
			if err == nil && req.Restart {
				err = j.Restart(ctx)
			}
			if err != nil {
				return backfill.Progress{}, err
			}
			return j.Step(ctx)
		},
		PlanBackfill: func(ctx context.Context, size int) (*engine.BulkPlan, error) {
			j, err := s.backfillJob(ctx, cfg.Store, size)
			if err != nil {
				return nil, err
			}
			return j.Plan(ctx, s.Engine, cfg.Store)
		},
		PlanResync: func(ctx context.Context, ts []crmsync.Trigger, batch int) (*engine.BulkPlan, error) {
			return s.Engine.PlanTriggers(ctx, ts, batch)
		}}
	if r, ok := cfg.Queue.(redriver); ok {
		admin.Redrive = r.Redrive
	}
	mux.Handle(AdminPath, admin) // the CLI's way in while the stack holds the file and the queue
	servers[0].h = mux

	s.Engine = &engine.Engine{Store: cfg.Store, HubSpot: s.HubSpotClient, Salesforce: s.SalesforceClient, Logger: log}
	if cfg.Real == nil {
		s.Engine.OwnHubSpotAppID = strconv.FormatInt(SandboxAppID, 10)
	}
	sweeps := &health.SweepLog{}
	healthPages := &health.Handler{Store: cfg.Store, Queue: cfg.Queue, DeadLetters: deadLetters(cfg.Queue),
		Settings: s.Engine.Settings, Sweeps: sweeps, Budget: s.Engine.Budget, Connection: s.connection(cfg), Logger: log}
	mux.Handle("/health", healthPages)
	mux.Handle("/health.json", healthPages)
	mux.Handle("/health/", healthPages)
	lag := cfg.SweepLag
	if lag == 0 {
		lag = 2 * time.Second
	}
	s.Sweeper = &sweep.Sweeper{Store: cfg.Store, Queue: cfg.Queue, Logger: log, Lag: lag,
		Sources: map[crmsync.Side]sweep.Source{
			crmsync.HubSpot:    &sweep.HubSpotSource{Client: s.HubSpotClient},
			crmsync.Salesforce: &sweep.SalesforceSource{Client: s.SalesforceClient},
		},
		Drift: s.Engine, Lists: s.HubSpotClient, Activities: s.HubSpotClient}
	w := &worker.Worker{Resolver: s.Engine, Visibility: cfg.Queue, Logger: log, OnOutcome: cfg.OnOutcome, Hints: s.Sweeper.PollIfHinted,
		Drain: worker.DefaultDrain}

	runCtx, cancel := context.WithCancel(context.Background())
	s.cancel = cancel
	for _, srv := range servers {
		hs := &http.Server{Handler: srv.h, ReadHeaderTimeout: 10 * time.Second}
		s.servers = append(s.servers, hs)
		s.goRun(func() {
			if err := hs.Serve(srv.l); err != nil && !errors.Is(err, http.ErrServerClosed) {
				log.Error("local server stopped", "addr", srv.l.Addr().String(), "error", err)
			}
		})
	}
	s.workers = &workerPool{w: w, q: cfg.Queue, n: cfg.Workers, log: log, parent: runCtx, goRun: s.goRun}
	s.workers.mu.Lock()
	s.workers.start()
	s.workers.mu.Unlock()
	if s.HubSpot != nil {
		s.goRun(func() {
			s.HubSpot.Run(runCtx, 200*time.Millisecond, func(err error) { log.Warn("hubspot sandbox dropped a webhook", "error", err) })
		})
		s.goRun(func() { s.Salesforce.RunOutbound(runCtx, 200*time.Millisecond) })
	}
	if !cfg.NoWebhooks {
		s.goRun(func() { s.pollLists(runCtx, log) })
	}
	if cfg.SweepEvery > 0 {
		s.goRun(func() {
			t := time.NewTicker(cfg.SweepEvery)
			defer t.Stop()
			for {
				select {
				case <-runCtx.Done():
					return
				case <-t.C:
					rep, err := s.Sweeper.Run(runCtx)
					sweeps.Record(rep, err)
					if err != nil {
						if runCtx.Err() != nil {
							return // stopped mid-sweep: not a failure
						}
						log.Warn("sweep failed", "error", err)
					} else if cfg.OnSweep != nil {
						cfg.OnSweep(rep)
					}
				}
			}
		})
	}
	return s, nil
}

// redriver is a queue that keeps dead letters and can move them back
// (localqueue).
type redriver interface {
	Redrive(ctx context.Context, since, until time.Time) (int, error)
}

// deadLetters is the local queue's dead-letter queue, for the health
// page (nil when q has none it can read).
func deadLetters(q crmsync.Queue) health.StatsReader {
	if lq, ok := q.(*localqueue.Queue); ok && lq.DeadLetters() != nil {
		return lq.DeadLetters()
	}
	return nil
}

// connection is what the health page shows of the connected accounts.
func (s *Stack) connection(cfg Config) health.Connection {
	if cfg.Real != nil {
		return health.Connection{SalesforceOrgID: cfg.Real.OrgID}
	}
	user, _ := s.Salesforce.Get(s.Salesforce.IntegrationUserID)
	return health.Connection{SalesforceOrgID: s.Salesforce.OrgID(), SalesforceOrgKind: "sandbox (simulator)",
		IntegrationUser: fmt.Sprint(user["Username"]), HubSpotPortal: "simulator"}
}

// served is a listener and what serves it.
type served struct {
	l net.Listener
	h http.Handler
}

// startSimulators starts both simulators, sending their webhooks and
// outbound messages to the receivers, and crmsync's clients of them.
func (s *Stack) startSimulators(cfg Config, listen func(string) (net.Listener, string, error)) ([]served, error) {
	hl, hURL, err := listen(cfg.HubSpotAddr)
	if err != nil {
		return nil, err
	}
	sl, sURL, err := listen(cfg.SalesforceAddr)
	if err != nil {
		hl.Close()
		return nil, err
	}
	s.HubSpotURL, s.SalesforceURL = hURL, sURL
	rURL := s.ReceiverURL
	hook := hubspotsim.WebhookConfig{URL: rURL + "/webhooks/hubspot", Secret: WebhookSecret, RetryDelay: time.Second}
	if cfg.NoWebhooks {
		hook = hubspotsim.WebhookConfig{}
	}
	hsCfg := hubspotsim.Config{Seed: cfg.Seed, Webhook: hook, AppID: SandboxAppID}
	// The integration user has "Modify All Data", as most have; selective
	// sync scenarios turn sharing back on per test.
	sfCfg := salesforcesim.Config{Seed: int64(cfg.Seed), IntegrationUserModifyAll: true, Picklists: cfg.SalesforcePicklists}
	if cfg.Strict {
		strict(&hsCfg, &sfCfg)
	}
	s.HubSpot = hubspotsim.New(hsCfg)
	s.Salesforce = salesforcesim.New(sfCfg)
	s.Salesforce.SetInstanceURL(sURL)
	s.Salesforce.SetOutboundOptions(salesforcesim.OutboundOptions{Backoff: func(int) time.Duration { return time.Second }})
	// An outbound message on create and update of each synced object,
	// carrying the Id only (the engine re-reads the record anyway).
	for _, object := range []string{"Lead", "Contact", "Account", "Opportunity"} {
		if cfg.NoWebhooks {
			break
		}
		s.Salesforce.AddOutboundRule(salesforcesim.OutboundRule{Name: "crmsync " + object, Object: object,
			OnUpdate: true, URL: rURL + "/webhooks/salesforce"})
	}
	// crmsync's clients of the simulators; every call is counted.
	s.HubSpotClient, err = hubspot.NewClient(hubspot.WithBaseURL(hURL), hubspot.WithPrivateAppToken("local-sandbox"),
		hubspot.WithUsageCounter(cfg.Store))
	if err == nil {
		s.SalesforceClient, err = salesforce.NewClient(salesforce.WithBaseURL(sURL),
			salesforce.WithTokenSource(oauth2.StaticTokenSource(&oauth2.Token{AccessToken: s.Salesforce.Session("")})),
			salesforce.WithUsageCounter(cfg.Store))
	}
	if err != nil {
		hl.Close()
		sl.Close()
		return nil, fmt.Errorf("localstack: sandbox clients: %w", err)
	}
	return []served{{hl, s.HubSpot}, {sl, s.Salesforce}}, nil
}

// ListPollEvery is how often the local stack runs the short poll (in
// AWS: every minute), so a contact added to it syncs within seconds.
const ListPollEvery = 2 * time.Second

// pollLists runs the short poll (inclusion list, form submissions, email
// events) until ctx is done.
func (s *Stack) pollLists(ctx context.Context, log *slog.Logger) {
	t := time.NewTicker(ListPollEvery)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			if _, err := s.Sweeper.Poll(ctx); err != nil && ctx.Err() == nil {
				log.Warn("short poll (inclusion list, form submissions, email events) failed", "error", err)
			}
		}
	}
}

func (s *Stack) goRun(f func()) {
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		f()
	}()
}

// Close stops the stack and waits for its goroutines.
func (s *Stack) Close() error {
	s.cancel()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	var errs []error
	for _, srv := range s.servers {
		if err := srv.Shutdown(ctx); err != nil {
			errs = append(errs, err)
		}
	}
	s.wg.Wait()
	return errors.Join(errs...)
}
