package bench

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/crmsync/crmsync/pkg/boltstore"
	"github.com/crmsync/crmsync/pkg/chaos"
	"github.com/crmsync/crmsync/pkg/crmsync"
	"github.com/crmsync/crmsync/pkg/engine"
	"github.com/crmsync/crmsync/pkg/localqueue"
	"github.com/crmsync/crmsync/pkg/localstack"
	"github.com/crmsync/crmsync/pkg/sandbox/hubspotsim"
	"github.com/crmsync/crmsync/pkg/sandbox/salesforcesim"
)

// world is a strict local stack on bbolt and the local queue, with what
// the bench observes of it.
type world struct {
	*localstack.Stack
	store crmsync.Store
	queue *localqueue.Queue

	mu       sync.Mutex
	triggers int
	noWrite  int
	// sent is when each tracked value was written by the load; arrived
	// collects the latencies of those that reached the other side.
	sent    map[string]sentValue
	arrived map[crmsync.Side]*Sample
}

type sentValue struct {
	at   time.Time
	from crmsync.Side
}

func startWorld(ctx context.Context, dir string, noWebhooks bool) (*world, error) {
	st, err := boltstore.Open(filepath.Join(dir, fmt.Sprintf("bench-%d.db", time.Now().UnixNano())))
	if err != nil {
		return nil, err
	}
	w := &world{store: st, queue: localqueue.New(localqueue.Options{MaxReceives: chaos.MaxReceives}),
		sent: map[string]sentValue{}, arrived: map[crmsync.Side]*Sample{crmsync.HubSpot: {}, crmsync.Salesforce: {}}}
	s, err := localstack.Start(ctx, localstack.Config{Store: st, Queue: w.queue, Strict: true, NoWebhooks: noWebhooks,
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil)), OnOutcome: w.outcome})
	if err != nil {
		st.Close()
		return nil, err
	}
	w.Stack = s
	// A production org's allocation, not a developer org's 15 000.
	s.Salesforce.SetDailyLimit(5_000_000)
	return w, nil
}

func (w *world) close() {
	w.Stack.Close()
	if c, ok := w.store.(io.Closer); ok {
		c.Close()
	}
}

func (w *world) outcome(o engine.Outcome) {
	now := time.Now()
	w.mu.Lock()
	defer w.mu.Unlock()
	w.triggers++
	if len(o.Writes) == 0 {
		w.noWrite++
	}
	for _, wr := range o.Writes {
		for _, v := range wr.Properties {
			if s, ok := w.sent[v]; ok && s.from != wr.Ref.Side {
				w.arrived[s.from].Add(now.Sub(s.at).Seconds() * 1000)
				delete(w.sent, v)
			}
		}
	}
}

func (w *world) counts() (triggers, noWrite int) {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.triggers, w.noWrite
}

func (w *world) sfCalls() int {
	used, _ := w.Salesforce.APIUsage()
	return used
}

func (w *world) quiet(ctx context.Context, bound time.Duration) bool {
	return chaos.WaitQuiet(ctx, w.Stack, w.queue, bound)
}

// pair is a linked contact and lead.
type pair struct{ hs, sf string }

// seed creates n contacts in HubSpot, or n leads in Salesforce, as people
// would, and returns their emails.
func (w *world) seed(side crmsync.Side, n int, tag string) ([]string, error) {
	emails := make([]string, n)
	for i := range n {
		emails[i] = fmt.Sprintf("%s%d.%s@bench.example", tag, i, side)
		var err error
		if side == crmsync.HubSpot {
			_, err = w.HubSpot.CreateAsUser(crmsync.HSContact, map[string]string{"email": emails[i], "firstname": "B",
				"lastname": fmt.Sprint("Bench", i), "company": "Bench Co"})
		} else {
			_, err = w.Salesforce.CreateAs("", "Lead", map[string]any{"Email": emails[i], "FirstName": "B",
				"LastName": fmt.Sprint("Bench", i), "Company": "Bench Co"})
		}
		if err != nil {
			return nil, fmt.Errorf("bench: seed: %w", err)
		}
	}
	return emails, nil
}

// pairs returns the linked contact/lead pairs among emails.
func (w *world) pairs(emails []string) []pair {
	want := map[string]bool{}
	for _, e := range emails {
		want[strings.ToLower(e)] = true
	}
	hs := map[string]string{}
	for _, o := range w.HubSpot.Objects(crmsync.HSContact) {
		if e := strings.ToLower(o.Properties["email"]); want[e] {
			hs[e] = o.ID
		}
	}
	var out []pair
	for _, r := range w.Salesforce.Records("Lead") {
		e := strings.ToLower(fmt.Sprint(r["Email"]))
		if id := hs[e]; id != "" && want[e] {
			out = append(out, pair{hs: id, sf: fmt.Sprint(r["Id"])})
		}
	}
	return out
}

// change writes a new tracked value on side from of p: the HubSpot
// jobtitle or the Salesforce Phone (both Two-way in the bench's
// settings), remembering when.
func (w *world) change(p pair, from crmsync.Side, seq int) error {
	v := fmt.Sprintf("v%d-%s", seq, from)
	w.mu.Lock()
	w.sent[v] = sentValue{at: time.Now(), from: from}
	w.mu.Unlock()
	if from == crmsync.HubSpot {
		_, err := w.HubSpot.UpdateAsUser(crmsync.HSContact, p.hs, map[string]string{"jobtitle": v})
		return err
	}
	return w.Salesforce.UpdateAs("", p.sf, map[string]any{"Phone": v})
}

// twoWay stores settings with every mapping Two-way, so changes flow both
// ways whatever the other side holds.
func (w *world) twoWay(ctx context.Context) error {
	s, err := w.Engine.Settings(ctx)
	if err != nil {
		return err
	}
	s.DefaultRule = crmsync.RuleTwoWay
	for i := range s.Mappings {
		s.Mappings[i].Rule = crmsync.RuleTwoWay
	}
	_, err = w.store.PutSettings(ctx, s)
	return err
}

// realtime measures on a stack with webhooks and outbound messages:
// single changes, a steady rate, 10 % faults, and memory with 10 000
// triggers queued.
func realtime(ctx context.Context, cfg Config, rep *Report) error {
	w, err := startWorld(ctx, cfg.Dir, false)
	if err != nil {
		return err
	}
	defer w.close()
	if err := w.twoWay(ctx); err != nil {
		return err
	}
	cfg.Progress("real-time: seeding %d linked pairs", cfg.Pairs)
	hsEmails, err := w.seed(crmsync.HubSpot, cfg.Pairs/2, "rt")
	if err != nil {
		return err
	}
	sfEmails, err := w.seed(crmsync.Salesforce, cfg.Pairs-cfg.Pairs/2, "rt")
	if err != nil {
		return err
	}
	w.quiet(ctx, 10*time.Minute)
	pairs := w.pairs(append(hsEmails, sfEmails...))
	if len(pairs) == 0 {
		return fmt.Errorf("bench: no pair linked after seeding")
	}
	rng := rand.New(rand.NewPCG(15, 15))
	seq := 0

	// Single real-time changes, one at a time, each direction.
	cfg.Progress("real-time: %d single changes each way", cfg.Singles)
	for _, from := range []crmsync.Side{crmsync.HubSpot, crmsync.Salesforce} {
		var calls, trig Sample
		for range cfg.Singles {
			seq++
			sf0 := w.sfCalls()
			t0, _ := w.counts()
			if err := w.change(pairs[rng.IntN(len(pairs))], from, seq); err != nil {
				return err
			}
			w.quiet(ctx, time.Minute)
			t1, _ := w.counts()
			calls.Add(float64(w.sfCalls() - sf0))
			trig.Add(float64(t1 - t0))
		}
		dir := direction(from)
		rep.add(Row{Metric: "Salesforce calls per single real-time change, " + dir, Goal: "≤ 2", Unit: "calls",
			P50: calls.Quantile(0.5), P99: calls.Quantile(0.99), Value: calls.Mean(), N: calls.N(), Dist: true})
		rep.add(Row{Metric: "triggers per real change, " + dir, Goal: "~1", Unit: "triggers",
			P50: trig.Quantile(0.5), P99: trig.Quantile(0.99), Value: trig.Mean(), N: trig.N(), Dist: true,
			Note: "every trigger resolved from the change until the stack is quiet, echoes of crmsync's own write included"})
	}

	// A steady rate, both directions alternating.
	n := int(cfg.Rate * cfg.Duration.Seconds())
	cfg.Progress("real-time: %d changes at %.0f/s", n, cfg.Rate)
	w.mu.Lock()
	w.arrived = map[crmsync.Side]*Sample{crmsync.HubSpot: {}, crmsync.Salesforce: {}}
	w.mu.Unlock()
	t0, _ := w.counts()
	maxDepth := 0
	depthDone := make(chan struct{})
	var depthWG sync.WaitGroup
	depthWG.Add(1)
	go func() {
		defer depthWG.Done()
		for {
			select {
			case <-depthDone:
				return
			case <-time.After(250 * time.Millisecond):
				if s, err := w.queue.Stats(ctx); err == nil {
					maxDepth = max(maxDepth, s.Visible+s.InFlight)
				}
			}
		}
	}()
	tick := time.NewTicker(time.Duration(float64(time.Second) / cfg.Rate))
	start := time.Now()
	for i := range n {
		<-tick.C
		seq++
		from := crmsync.HubSpot
		if i%2 == 1 {
			from = crmsync.Salesforce
		}
		if err := w.change(pairs[rng.IntN(len(pairs))], from, seq); err != nil {
			tick.Stop()
			return err
		}
	}
	tick.Stop()
	driven := time.Since(start)
	quiet := w.quiet(ctx, cfg.Settle)
	drained := time.Since(start)
	close(depthDone)
	depthWG.Wait()
	t1, _ := w.counts()
	w.mu.Lock()
	lost := len(w.sent)
	w.sent = map[string]sentValue{}
	for _, from := range []crmsync.Side{crmsync.HubSpot, crmsync.Salesforce} {
		s := w.arrived[from]
		note := fmt.Sprintf("%d changes at %.0f/s over %s; queue peaked at %d; all drained after %s", n, cfg.Rate,
			driven.Round(time.Second), maxDepth, drained.Round(time.Second))
		if !quiet {
			note += " (not quiet within the bound)"
		}
		rep.add(Row{Metric: "change → other side, " + direction(from), Goal: "p99 ≤ 2 s at 200/s", Unit: "ms",
			P50: s.Quantile(0.5), P99: s.Quantile(0.99), N: s.N(), Dist: true, Note: note})
	}
	w.mu.Unlock()
	rep.add(Row{Metric: "sustained rate at a steady load", Unit: "changes/s", Value: float64(n) / drained.Seconds(),
		Note: fmt.Sprintf("%d changes offered at %.0f/s; %d values not measured (never written to the other side as such: superseded by a later change of the same record before it synced); %d triggers (%.2f per change)",
			n, cfg.Rate, lost, t1-t0, float64(t1-t0)/float64(n))})

	// 10 % faults.
	cfg.Progress("real-time: %d changes under 10 %% faults", cfg.FaultChanges)
	w.HubSpot.SetFaults(chaos.HubSpotFaults)
	w.Salesforce.SetFaults(chaos.SalesforceFaults)
	w.Salesforce.SetOutboundOptions(salesforcesim.OutboundOptions{Duplicate: true, Reorder: true,
		Backoff: func(int) time.Duration { return time.Second }})
	sf0 := w.sfCalls()
	tr0, nw0 := w.counts()
	touched := map[pair]bool{}
	for i := range cfg.FaultChanges {
		seq++
		p := pairs[rng.IntN(len(pairs))]
		touched[p] = true
		from := crmsync.HubSpot
		if i%2 == 1 {
			from = crmsync.Salesforce
		}
		if err := w.change(p, from, seq); err != nil {
			return err
		}
		time.Sleep(50 * time.Millisecond)
	}
	w.quiet(ctx, cfg.Settle)
	tr1, nw1 := w.counts()
	rep.add(Row{Metric: "Salesforce calls per record under 10 % faults", Unit: "calls", Value: float64(w.sfCalls()-sf0) / float64(len(touched)),
		Note: fmt.Sprintf("%d changes to %d pairs at 20/s; %d of %d resolutions (%.0f %%) wrote nothing", cfg.FaultChanges, len(touched),
			nw1-nw0, tr1-tr0, 100*float64(nw1-nw0)/float64(max(tr1-tr0, 1)))})
	w.HubSpot.SetFaults(hubspotsim.Faults{})
	w.Salesforce.SetFaults(salesforcesim.Faults{})

	// Memory with 10 000 triggers queued.
	cfg.Progress("real-time: worker memory with %d triggers queued", cfg.Queued)
	w.KillWorkers()
	base := heapInUse()
	var ts []crmsync.Trigger
	for i := range cfg.Queued {
		p := pairs[i%len(pairs)]
		ts = append(ts, crmsync.Trigger{Record: crmsync.RecordRef{Side: crmsync.HubSpot, Object: crmsync.HSContact, ID: p.hs},
			Kind: crmsync.KindPropertyChanged, OccurredAt: time.Now(), DedupeKey: crmsync.DedupeKeyOf("bench", strconv.Itoa(i))})
		if len(ts) == 100 || i == cfg.Queued-1 {
			if err := w.queue.Send(ctx, ts); err != nil {
				return err
			}
			ts = ts[:0]
		}
	}
	queued := heapInUse()
	w.StartWorkers()
	peak := queued
	deadline := time.Now().Add(cfg.MemoryWatch)
	for time.Now().Before(deadline) {
		time.Sleep(100 * time.Millisecond)
		var m runtime.MemStats
		runtime.ReadMemStats(&m)
		peak = max(peak, m.HeapInuse)
	}
	s, _ := w.queue.Stats(ctx)
	rep.add(Row{Metric: fmt.Sprintf("worker memory with %d triggers queued", cfg.Queued), Unit: "MiB", Value: mib(peak),
		Note: fmt.Sprintf("heap in use of the whole local stack (simulators, store, queue, worker): %.1f MiB before, %.1f MiB with %d queued, peak %.1f MiB while the workers resolved for %s (%d still queued); max RSS %s",
			mib(base), mib(queued), cfg.Queued, mib(peak), cfg.MemoryWatch, s.Visible+s.InFlight, maxRSS())})
	return nil
}

// bulk measures on a stack without webhooks (records existing before
// crmsync was connected): the first sync each way by sweeps, and a bulk
// Salesforce change found by a sweep.
func bulk(ctx context.Context, cfg Config, rep *Report) error {
	w, err := startWorld(ctx, cfg.Dir, true)
	if err != nil {
		return err
	}
	defer w.close()
	if err := w.twoWay(ctx); err != nil {
		return err
	}
	if _, err := w.Sweeper.Run(ctx); err != nil { // the cursors start here
		return err
	}
	const bound = 1100.0 // HubSpot: 100 records per batch call × 11 calls/s
	var leads []pair
	for _, from := range []crmsync.Side{crmsync.HubSpot, crmsync.Salesforce} {
		emails, err := w.seed(from, cfg.Records, "fs")
		if err != nil {
			return err
		}
		cfg.Progress("bulk: first sync of %d records, %s", cfg.Records, direction(from))
		start := time.Now()
		sweeps, linked := w.sweepUntil(ctx, cfg, func() bool { return len(w.pairs(emails)) == len(emails) })
		took := time.Since(start)
		got := len(w.pairs(emails))
		rate := float64(got) / took.Seconds()
		note := fmt.Sprintf("%d of %d linked in %s by %d sweeps; %.1f %% of the %v records/s bound", got, cfg.Records,
			took.Round(time.Second), sweeps, 100*rate/bound, bound)
		if !linked {
			note += "; stopped at the bound"
		}
		rep.add(Row{Metric: "first sync, " + direction(from), Goal: "≥ 990 records/s (90 % of the bound)", Unit: "records/s",
			Value: rate, N: got, Note: note})
		if from == crmsync.Salesforce {
			leads = w.pairs(emails)
		}
	}
	// A bulk change: every lead changed in Salesforce at once.
	cfg.Progress("bulk: a change of %d Salesforce leads", len(leads))
	sf0 := w.sfCalls()
	vals := map[string]string{}
	for i, p := range leads {
		v := fmt.Sprintf("bulk %d", i)
		vals[p.hs] = v
		if err := w.Salesforce.UpdateAs("", p.sf, map[string]any{"Phone": v}); err != nil {
			return err
		}
	}
	start := time.Now()
	sweeps, done := w.sweepUntil(ctx, cfg, func() bool {
		for _, o := range w.HubSpot.Objects(crmsync.HSContact) {
			if v, ok := vals[o.ID]; ok && o.Properties["phone"] != v {
				return false
			}
		}
		return true
	})
	note := fmt.Sprintf("%d leads changed at once, found by %d sweeps, all in HubSpot after %s", len(leads), sweeps, time.Since(start).Round(time.Second))
	if !done {
		note += " (not all arrived within the bound)"
	}
	rep.add(Row{Metric: "Salesforce calls per record, bulk change", Goal: "≤ 0.02", Unit: "calls",
		Value: float64(w.sfCalls()-sf0) / float64(max(len(leads), 1)), N: len(leads), Note: note})
	return nil
}

// sweepUntil runs sweeps, each followed by the queue draining, until done
// or cfg.Settle has passed; it returns the sweeps run and whether done.
func (w *world) sweepUntil(ctx context.Context, cfg Config, done func() bool) (int, bool) {
	deadline := time.Now().Add(cfg.Settle)
	sweeps := 0
	for time.Now().Before(deadline) && ctx.Err() == nil {
		sweeps++
		if _, err := w.Sweeper.Run(ctx); err != nil {
			cfg.Progress("  sweep %d: %v", sweeps, err)
		}
		w.quiet(ctx, time.Until(deadline))
		if done() {
			return sweeps, true
		}
	}
	return sweeps, false
}

func direction(from crmsync.Side) string {
	if from == crmsync.HubSpot {
		return "HubSpot → Salesforce"
	}
	return "Salesforce → HubSpot"
}

func heapInUse() uint64 {
	runtime.GC()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return m.HeapInuse
}

func mib(b uint64) float64 { return float64(b) / (1 << 20) }

// maxRSS is the process's peak resident set (VmHWM), "" when unknown.
func maxRSS() string {
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return "unknown"
	}
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, "VmHWM:"); ok {
			return strings.TrimSpace(v) + " (the bench process)"
		}
	}
	return "unknown"
}
