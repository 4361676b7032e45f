package chaos

import (
	"context"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"os"
	"path/filepath"
	"sort"
	"sync"
	"time"

	"github.com/crmsync/crmsync/pkg/crmsync"
	"github.com/crmsync/crmsync/pkg/engine"
	"github.com/crmsync/crmsync/pkg/localqueue"
	"github.com/crmsync/crmsync/pkg/localstack"
	"github.com/crmsync/crmsync/pkg/mapping"
	"github.com/crmsync/crmsync/pkg/sandbox/hubspotsim"
	"github.com/crmsync/crmsync/pkg/sandbox/salesforcesim"
)

// Config is one chaos run.
type Config struct {
	// Backend is BackendBolt or BackendAWS.
	Backend string
	// Changes is the number of changes made (default 10 000): a fifth are
	// creations, the rest updates, on both sides.
	Changes int
	// Rate is changes per second (default 50).
	Rate float64
	// Kills is how often the worker pool is killed mid-batch during the
	// load (default 4); Down how long it stays down (default 3 s).
	Kills int
	Down  time.Duration
	// Companies and Deals add companies/accounts and deals/opportunities
	// to the load (and turn their sync on).
	Companies, Deals bool
	// NoFaults turns every injected fault off (a baseline).
	NoFaults bool
	// Sweeps is the most sweeps run after the load to converge (default 2).
	Sweeps int
	// Settle bounds each wait for the stack to go quiet (default 10 min).
	Settle time.Duration
	Seed   uint64
	// Dir holds the bbolt file and the stack's log.
	Dir string
	// Progress receives a line per phase (nil: none).
	Progress func(format string, args ...any)
}

func (c *Config) defaults() {
	if c.Changes <= 0 {
		c.Changes = 10000
	}
	if c.Rate <= 0 {
		c.Rate = 50
	}
	if c.Kills < 0 {
		c.Kills = 0
	}
	if c.Down <= 0 {
		c.Down = 3 * time.Second
	}
	if c.Sweeps <= 0 {
		c.Sweeps = 2
	}
	if c.Settle <= 0 {
		c.Settle = 10 * time.Minute
	}
	if c.Seed == 0 {
		c.Seed = 15
	}
	if c.Progress == nil {
		c.Progress = func(string, ...any) {}
	}
}

// Vendor fault rates of a chaos run: 10 % of API calls on each side, and
// duplicated and reordered deliveries.
var (
	HubSpotFaults = hubspotsim.Faults{RateLimit: 0.03, ServerError: 0.04, Locked: 0.028, Timeout: 0.002,
		DuplicateWebhook: 0.2, ReorderWebhook: 0.2}
	SalesforceFaults = salesforcesim.Faults{LockRow: 0.05, ServerError: 0.03, Drop: 0.018, Timeout: 0.002}
	AWSFaultsOn      = AWSFaultRates{Throttle: 0.02, FailTransaction: 0.02, LoseDelete: 0.02}
)

// Run runs one chaos run and reports it. The error is for a run that
// could not be made (a backend that would not open); what the run found
// is in the report.
func Run(ctx context.Context, cfg Config) (*Report, error) {
	cfg.defaults()
	if cfg.Dir == "" {
		d, err := os.MkdirTemp("", "crmsync-chaos-")
		if err != nil {
			return nil, err
		}
		defer os.RemoveAll(d)
		cfg.Dir = d
	} else if err := os.MkdirAll(cfg.Dir, 0o755); err != nil {
		return nil, err
	}
	awsRates := AWSFaultsOn
	if cfg.NoFaults {
		awsRates = AWSFaultRates{}
	}
	be, err := OpenBackend(ctx, cfg.Backend, cfg.Dir, cfg.Seed, awsRates)
	if err != nil {
		return nil, err
	}
	defer be.Close()
	logPath := filepath.Join(cfg.Dir, "stack-"+cfg.Backend+".log")
	logFile, err := os.Create(logPath)
	if err != nil {
		return nil, err
	}
	defer logFile.Close()

	kinds := []*kind{&kindContact}
	if cfg.Companies {
		kinds = append(kinds, &kindCompany)
	}
	if cfg.Deals {
		kinds = append(kinds, &kindDeal)
	}
	r := &runner{cfg: cfg, be: be, kinds: kinds, rep: &Report{Backend: cfg.Backend, Machine: ThisMachine(), Started: time.Now().UTC(),
		Changes: cfg.Changes, Rate: cfg.Rate, Kills: cfg.Kills, Companies: cfg.Companies, Deals: cfg.Deals, Faults: faultsOf(cfg, awsRates),
		Decisions: map[engine.Decision]int{}, Errors: map[crmsync.Category]int{}}}
	stack, err := localstack.Start(ctx, localstack.Config{Store: be.Store, Queue: be.Queue, Strict: true, Seed: cfg.Seed,
		Logger:    slog.New(slog.NewJSONHandler(logFile, &slog.HandlerOptions{Level: slog.LevelWarn})),
		OnOutcome: r.outcome})
	if err != nil {
		return nil, err
	}
	defer stack.Close()
	r.stack = stack
	if err := r.run(ctx); err != nil {
		return r.rep, err
	}
	return r.rep, nil
}

type runner struct {
	cfg   Config
	be    *Backend
	stack *localstack.Stack
	kinds []*kind
	load  *load
	rep   *Report
	// echo lookup: side → object → field on that side → driven there.
	drivenOn map[crmsync.Side]map[crmsync.ObjectType]map[string]bool

	mu sync.Mutex
}

// outcome counts a resolved trigger: its decision, and the echo writes
// among its writes (a field written to the side that drives it).
func (r *runner) outcome(o engine.Outcome) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.rep.Triggers++
	r.rep.Decisions[o.Decision]++
	for _, w := range o.Writes {
		r.rep.Writes++
		if w.Op != "update" || r.drivenOn == nil {
			continue
		}
		for f := range w.Properties {
			if r.drivenOn[w.Ref.Side][w.Ref.Object][f] {
				r.rep.EchoWrites++
				r.rep.EchoExamples = appendMax(r.rep.EchoExamples, fmt.Sprintf("%s %s: %s (%s)", w.Op, w.Ref, f, o.Reason), 10)
				break
			}
		}
	}
}

func (r *runner) run(ctx context.Context) error {
	cfg, st, rep := r.cfg, r.stack, r.rep
	if !cfg.NoFaults {
		st.HubSpot.SetFaults(HubSpotFaults)
		st.Salesforce.SetFaults(SalesforceFaults)
		st.Salesforce.SetOutboundOptions(salesforcesim.OutboundOptions{Duplicate: true, Reorder: true,
			Backoff: func(int) time.Duration { return time.Second }})
	}
	// Thousands of changes exceed a developer org's 15 000 calls a day; a
	// production org has 100 000 and more.
	st.Salesforce.SetDailyLimit(5_000_000)
	settings, err := r.settings(ctx)
	if err != nil {
		return err
	}
	r.drivenOn = drivenIndex(r.kinds, settings.Mappings)
	// One sweep of the empty world sets the cursors, as a deployed
	// stack's first run does.
	if _, err := st.Sweeper.Run(ctx); err != nil {
		cfg.Progress("first sweep: %v", err)
	}
	r.load = &load{hs: st.HubSpot, sf: st.Salesforce, kinds: r.kinds, rng: rand.New(rand.NewPCG(cfg.Seed, 7)),
		byKey: map[string]*entity{}, failed: map[string]int{},
		sfField: func(k *kind, prop string) string { return sfField(settings.Mappings, k, prop) }}
	hs0, sf0 := st.HubSpot.Calls(), sfUsed(st.Salesforce)

	cfg.Progress("%s: %d changes at %.0f/s, %d kills", cfg.Backend, cfg.Changes, cfg.Rate, cfg.Kills)
	learnCtx, stopLearning := context.WithCancel(ctx)
	var learnWG sync.WaitGroup
	learnWG.Add(1)
	go func() {
		defer learnWG.Done()
		t := time.NewTicker(2 * time.Second)
		defer t.Stop()
		for {
			select {
			case <-learnCtx.Done():
				return
			case <-t.C:
				r.load.learnIDs(snapshot(st.HubSpot, st.Salesforce, r.kinds))
			}
		}
	}()
	var killWG sync.WaitGroup
	killAt := map[int]bool{}
	for k := 1; k <= cfg.Kills; k++ {
		killAt[k*cfg.Changes/(cfg.Kills+1)] = true
	}
	creations := max(cfg.Changes/5, 1)
	tick := time.NewTicker(time.Duration(float64(time.Second) / cfg.Rate))
	start := time.Now()
	for i := range cfg.Changes {
		select {
		case <-ctx.Done():
			tick.Stop()
			stopLearning()
			return ctx.Err()
		case <-tick.C:
		}
		r.load.step(i, creations)
		if killAt[i] {
			killWG.Add(1)
			go func() {
				defer killWG.Done()
				st.KillWorkers()
				r.mu.Lock()
				rep.KillsDone++
				r.mu.Unlock()
				time.Sleep(cfg.Down)
				st.StartWorkers()
			}()
		}
		if (i+1)%max(cfg.Changes/10, 1) == 0 {
			q, _ := r.be.Queue.Stats(ctx)
			cfg.Progress("  %d changes in %s; queue %d visible, %d in flight", i+1, time.Since(start).Round(time.Second), q.Visible, q.InFlight)
		}
	}
	tick.Stop()
	lastChange := time.Now()
	rep.LoadSeconds = lastChange.Sub(start).Seconds()
	killWG.Wait()
	stopLearning()
	learnWG.Wait()
	rep.Creations, rep.Updates = r.load.created, r.load.updated
	rep.LoadFailures = r.load.failed

	// Drain, check; then sweep, drain, check — until converged or out of
	// sweeps.
	for sweeps := 0; ; sweeps++ {
		if sweeps > 0 {
			sw, err := st.Sweeper.Run(ctx)
			stage := Stage{Name: fmt.Sprintf("sweep %d", sweeps), SweepEnqueued: sw.Enqueued(), SweepDrifted: sw.Drift.Drifted}
			if err != nil {
				stage.SweepError = err.Error()
			}
			rep.Stages = append(rep.Stages, stage)
		} else {
			rep.Stages = append(rep.Stages, Stage{Name: "after the load"})
		}
		stage := &rep.Stages[len(rep.Stages)-1]
		quiet := r.drain(ctx)
		stage.Quiet = quiet
		res := r.check(ctx, settings)
		stage.AfterSeconds = time.Since(lastChange).Seconds()
		stage.Converged, stage.Expected = res.Converged, res.Expected
		stage.Lost, stage.Duplicates, stage.Unlinked = res.Count(FindingLost), res.Count(FindingDuplicate), res.Count(FindingUnlinked)
		stage.Examples = res.Findings[:min(len(res.Findings), 5)]
		cfg.Progress("  %s: %d of %d converged (lost %d, duplicates %d, unlinked %d) %.0f s after the last change",
			stage.Name, res.Converged, res.Expected, stage.Lost, stage.Duplicates, stage.Unlinked, stage.AfterSeconds)
		rep.Result = res
		if res.OK() {
			rep.Converged, rep.SweepsToConverge, rep.ConvergeSeconds = true, sweeps, stage.AfterSeconds
			break
		}
		if sweeps == cfg.Sweeps || ctx.Err() != nil {
			break
		}
	}
	rep.HubSpotCalls, rep.SalesforceCalls = st.HubSpot.Calls()-hs0, sfUsed(st.Salesforce)-sf0
	rep.Records = len(r.load.expected())
	if rep.Records > 0 {
		rep.HubSpotCallsPerRecord = float64(rep.HubSpotCalls) / float64(rep.Records)
		rep.SalesforceCallsPerRecord = float64(rep.SalesforceCalls) / float64(rep.Records)
	}
	rep.HubSpotCallsPerChange = float64(rep.HubSpotCalls) / float64(cfg.Changes)
	rep.SalesforceCallsPerChange = float64(rep.SalesforceCalls) / float64(cfg.Changes)
	if r.be.Faults != nil {
		rep.AWSFaultsInjected = r.be.Faults.Counts()
	}
	rep.DeadLettered = deadLettered(ctx, r.be)
	if err := r.syncErrors(ctx); err != nil {
		return err
	}
	if n := len(rep.Result.Findings); n > 50 {
		rep.Result.Findings = rep.Result.Findings[:50]
	}
	if !rep.Converged || rep.EchoWrites > 0 {
		// Keep the evidence: the bbolt file stays in cfg.Dir; the table
		// stays on DynamoDB Local while it runs.
		r.be.Keep, rep.Table = true, r.be.Table
	}
	rep.Finished = time.Now().UTC()
	return nil
}

// settings stores the run's settings: every mapping Two-way, and the
// object types of the load on.
func (r *runner) settings(ctx context.Context) (crmsync.Settings, error) {
	s, err := r.stack.Engine.Settings(ctx)
	if err != nil {
		return s, err
	}
	s.Objects.Companies, s.Objects.Deals = r.cfg.Companies, r.cfg.Deals
	s.DefaultRule = crmsync.RuleTwoWay
	for i := range s.Mappings {
		s.Mappings[i].Rule = crmsync.RuleTwoWay
	}
	stored, err := r.be.Store.PutSettings(ctx, s)
	if err != nil {
		return s, fmt.Errorf("chaos: store settings: %w", err)
	}
	return stored, nil
}

// drain waits for the stack to go quiet (WaitQuiet), at most cfg.Settle.
func (r *runner) drain(ctx context.Context) bool {
	return WaitQuiet(ctx, r.stack, r.be.Queue, r.cfg.Settle)
}

// WaitQuiet waits until nothing is pending in st — no webhook, no
// outbound message, q empty — five checks 200 ms apart in a row, at most
// bound. It reports whether the stack went quiet.
func WaitQuiet(ctx context.Context, st *localstack.Stack, q crmsync.Queue, bound time.Duration) bool {
	deadline := time.Now().Add(bound)
	quiet := 0
	for quiet < 5 {
		if time.Now().After(deadline) || ctx.Err() != nil {
			return false
		}
		qs, err := q.Stats(ctx)
		if err == nil && qs.Visible == 0 && qs.InFlight == 0 && st.HubSpot.Pending() == 0 && st.Salesforce.PendingOutbound() == 0 {
			quiet++
		} else {
			quiet = 0
		}
		time.Sleep(200 * time.Millisecond)
	}
	return true
}

func (r *runner) check(ctx context.Context, settings crmsync.Settings) Result {
	snap := snapshot(r.stack.HubSpot, r.stack.Salesforce, r.kinds)
	page := crmsync.PageRequest{Limit: 500}
	for {
		links, next, err := r.be.Store.ListLinks(ctx, page)
		if err != nil {
			r.rep.CheckErrors = appendMax(r.rep.CheckErrors, "list links: "+err.Error(), 10)
			break
		}
		snap.Links = append(snap.Links, links...)
		if next == "" {
			break
		}
		page.Token = next
	}
	return Check(snap, settings.Mappings, r.load.expected())
}

// syncErrors lists the records in error, per category and per distinct
// vendor code and message.
func (r *runner) syncErrors(ctx context.Context) error {
	page := crmsync.PageRequest{Limit: 500}
	why := map[string]*ErrorGroup{}
	for {
		errs, next, err := r.be.Store.ListSyncErrors(ctx, "", page)
		if err != nil {
			return fmt.Errorf("chaos: list sync errors: %w", err)
		}
		for _, e := range errs {
			r.rep.Errors[e.Category]++
			k := string(e.Category) + "\x00" + e.Code + "\x00" + e.Message
			g := why[k]
			if g == nil {
				g = &ErrorGroup{Category: e.Category, Code: e.Code, Message: e.Message, Example: e.Record.String()}
				why[k] = g
			}
			g.Records++
		}
		if next == "" {
			break
		}
		page.Token = next
	}
	for _, g := range why {
		r.rep.ErrorGroups = append(r.rep.ErrorGroups, *g)
	}
	sort.Slice(r.rep.ErrorGroups, func(i, j int) bool { return r.rep.ErrorGroups[i].Records > r.rep.ErrorGroups[j].Records })
	return nil
}

// deadLettered counts the dead-lettered triggers (-1 when the queue's
// dead-letter queue cannot be read).
func deadLettered(ctx context.Context, be *Backend) int {
	if lq, ok := be.Queue.(*localqueue.Queue); ok && lq.DeadLetters() != nil {
		if s, err := lq.DeadLetters().Stats(ctx); err == nil {
			return s.Visible + s.InFlight
		}
	}
	if be.DeadLetters != nil {
		if s, err := be.DeadLetters.Stats(ctx); err == nil {
			return s.Visible + s.InFlight
		}
	}
	return -1
}

// sfField is the Salesforce field k's HubSpot property prop maps to on
// the object the load creates.
func sfField(mappings []crmsync.FieldMapping, k *kind, prop string) string {
	for _, m := range mapping.For(mappings, k.pair.HubSpot, k.sfObject) {
		if m.HubSpotProperty == prop {
			return m.SalesforceField
		}
	}
	return ""
}

// drivenIndex says, per side, object and that side's field name, whether
// the load drives the field on that side.
func drivenIndex(kinds []*kind, mappings []crmsync.FieldMapping) map[crmsync.Side]map[crmsync.ObjectType]map[string]bool {
	out := map[crmsync.Side]map[crmsync.ObjectType]map[string]bool{crmsync.HubSpot: {}, crmsync.Salesforce: {}}
	for _, k := range kinds {
		hs := map[string]bool{}
		for _, p := range k.hubspot {
			hs[p] = true
		}
		out[crmsync.HubSpot][k.pair.HubSpot] = hs
		for _, o := range k.pair.Salesforce {
			sf := map[string]bool{}
			for _, m := range mapping.For(mappings, k.pair.HubSpot, o) {
				for _, p := range k.salesforce {
					if m.HubSpotProperty == p {
						sf[m.SalesforceField] = true
					}
				}
			}
			out[crmsync.Salesforce][o] = sf
		}
	}
	return out
}

func sfUsed(o *salesforcesim.Org) int {
	used, _ := o.APIUsage()
	return used
}

func appendMax(s []string, v string, n int) []string {
	if len(s) >= n {
		return s
	}
	return append(s, v)
}
