package engine_test

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http/httptest"
	"path/filepath"
	"testing"
	"time"

	"golang.org/x/oauth2"

	"github.com/crmsync/crmsync/pkg/boltstore"
	"github.com/crmsync/crmsync/pkg/crmsync"
	"github.com/crmsync/crmsync/pkg/engine"
	"github.com/crmsync/crmsync/pkg/hubspot"
	"github.com/crmsync/crmsync/pkg/salesforce"
	"github.com/crmsync/crmsync/pkg/sandbox/hubspotsim"
	"github.com/crmsync/crmsync/pkg/sandbox/salesforcesim"
)

// simWorld is the engine over the real clients and both simulators (no
// webhooks: the benchmark feeds triggers itself), on a bbolt store.
type simWorld struct {
	eng    *engine.Engine
	portal *hubspotsim.Portal
	org    *salesforcesim.Org
	leads  []string // Salesforce lead ids, linked
	seq    int
}

func newSimWorld(b *testing.B, n int) *simWorld {
	b.Helper()
	ctx := context.Background()
	portal := hubspotsim.New(hubspotsim.Config{})
	org := salesforcesim.New(salesforcesim.Config{DailyLimit: 100_000_000, IntegrationUserModifyAll: true})
	hsSrv, sfSrv := httptest.NewServer(portal), httptest.NewServer(org)
	b.Cleanup(hsSrv.Close)
	b.Cleanup(sfSrv.Close)
	org.SetInstanceURL(sfSrv.URL)
	st, err := boltstore.Open(filepath.Join(b.TempDir(), "state.db"))
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { st.Close() })
	hs, err := hubspot.NewClient(hubspot.WithBaseURL(hsSrv.URL), hubspot.WithPrivateAppToken("bench"),
		hubspot.WithRateLimit(0, 0), hubspot.WithSearchRateLimit(0, 0))
	if err != nil {
		b.Fatal(err)
	}
	sf, err := salesforce.NewClient(salesforce.WithBaseURL(sfSrv.URL),
		salesforce.WithTokenSource(oauth2.StaticTokenSource(&oauth2.Token{AccessToken: org.Session("")})))
	if err != nil {
		b.Fatal(err)
	}
	w := &simWorld{portal: portal, org: org, eng: &engine.Engine{Store: st, HubSpot: hs, Salesforce: sf,
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil))}}
	// n linked pairs, created the way crmsync creates them.
	var ts []crmsync.Trigger
	for i := range n {
		c, err := portal.CreateAsUser(crmsync.HSContact, map[string]string{"email": fmt.Sprintf("bench%d@example.com", i),
			"firstname": "B", "lastname": fmt.Sprint(i), "company": "Bench"})
		if err != nil {
			b.Fatal(err)
		}
		ts = append(ts, w.trigger(crmsync.RecordRef{Side: crmsync.HubSpot, Object: crmsync.HSContact, ID: c.ID}))
	}
	for _, t := range ts {
		out, err := w.eng.Resolve(ctx, t)
		if err != nil || out.Decision != engine.DecisionSynced {
			b.Fatalf("setup: %+v %v", out, err)
		}
		w.leads = append(w.leads, out.Writes[0].Ref.ID)
	}
	return w
}

func (w *simWorld) trigger(ref crmsync.RecordRef) crmsync.Trigger {
	w.seq++
	return crmsync.Trigger{Record: ref, Kind: crmsync.KindPropertyChanged, OccurredAt: time.Now(),
		DedupeKey: crmsync.DedupeKeyOf("bench", fmt.Sprint(w.seq))}
}

// change has a Salesforce user edit every lead and returns one trigger per
// lead (as its outbound message would).
func (w *simWorld) change(b *testing.B, round int) []crmsync.Trigger {
	var ts []crmsync.Trigger
	for i, id := range w.leads {
		if err := w.org.UpdateAs("", id, map[string]any{"Phone": fmt.Sprintf("+1 %d %d", round, i)}); err != nil {
			b.Fatal(err)
		}
		ts = append(ts, w.trigger(crmsync.RecordRef{Side: crmsync.Salesforce, Object: crmsync.SFLead, ID: id}))
	}
	return ts
}

func (w *simWorld) calls() int {
	used, _ := w.org.APIUsage()
	return used + w.portal.Calls()
}

// resolveAll resolves ts in queue batches of size (1 = one by one, as
// without batching) and fails on any trigger not synced.
func (w *simWorld) resolveAll(b *testing.B, ts []crmsync.Trigger, size int) {
	ctx := context.Background()
	for lo := 0; lo < len(ts); lo += size {
		batch := ts[lo:min(lo+size, len(ts))]
		outs, errs := w.eng.ResolveBatch(ctx, batch)
		for i := range batch {
			if errs[i] != nil || outs[i].Decision != engine.DecisionSynced {
				b.Fatalf("trigger %d: %+v %v", lo+i, outs[i], errs[i])
			}
		}
	}
}

// BenchmarkSingleChange: one Salesforce change of a linked lead, resolved
// on its own: triggers/s and API calls per synced record (both CRMs).
func BenchmarkSingleChange(b *testing.B) {
	w := newSimWorld(b, 1)
	calls, round := 0, 0
	b.ResetTimer()
	for b.Loop() {
		round++
		b.StopTimer()
		ts := w.change(b, round)
		before := w.calls()
		b.StartTimer()
		w.resolveAll(b, ts, 1)
		calls += w.calls() - before
	}
	b.ReportMetric(float64(calls)/float64(round), "calls/record")
	b.ReportMetric(float64(round)/b.Elapsed().Seconds(), "triggers/s")
}

// BenchmarkBulkChange5000: 5 000 linked leads changed at once in
// Salesforce, resolved in the worker's drained batches of 200, in SQS
// FIFO batches of 10 (ResolveBatch) and, for comparison, one by one.
func BenchmarkBulkChange5000(b *testing.B) {
	const n = 5000
	w := newSimWorld(b, n)
	for _, size := range []int{200, 10, 1} {
		b.Run(fmt.Sprintf("batch=%d", size), func(b *testing.B) {
			calls, round := 0, 0
			for b.Loop() {
				round++
				b.StopTimer()
				ts := w.change(b, round*10+size)
				before := w.calls()
				b.StartTimer()
				w.resolveAll(b, ts, size)
				calls += w.calls() - before
			}
			b.ReportMetric(float64(calls)/float64(round*n), "calls/record")
			b.ReportMetric(float64(round*n)/b.Elapsed().Seconds(), "triggers/s")
		})
	}
}
