package backfill_test

import (
	"context"
	"os"
	"strconv"
	"testing"
	"time"

	"github.com/crmsync/crmsync/pkg/backfill"
	"github.com/crmsync/crmsync/pkg/crmsync"
	"github.com/crmsync/crmsync/pkg/engine"
)

// budgetScale is the budget test's backfill and Salesforce allocation:
// 50 000 records and 1 000 calls; a tenth of both under the race
// detector or -short; $CRMSYNC_BACKFILL_RECORDS records (for measuring).
func budgetScale(t *testing.T) (records, allocation int) {
	if v := os.Getenv("CRMSYNC_BACKFILL_RECORDS"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1000 {
			t.Fatalf("CRMSYNC_BACKFILL_RECORDS=%q: want a number ≥ 1000", v)
		}
		return n, 1000
	}
	if raceBuild || testing.Short() {
		return 5_000, 100
	}
	return 50_000, 1000
}

// Issue #13's budget test: an allocation of 1 000 Salesforce calls with a
// 50 000-record backfill queued. crmsync never exceeds the allocation
// (the org never answers REQUEST_LIMIT_EXCEEDED, and its usage stays
// within 1 000), P0 and P1 work keeps flowing while the backfill (P3) is
// paused, and everything completes once the window moves (simulated
// clock). The backfill's pages are 100 records, so it needs more than
// one day's allocation and must pause.
func TestBackfillKeepsInsideTheAllocation(t *testing.T) {
	ctx := context.Background()
	n, allocation := budgetScale(t)
	w := newWorld(t, allocation, true, nil)
	w.contacts(t, 0, n)
	w.job.Size = 100
	if v := os.Getenv("CRMSYNC_BACKFILL_PAGE"); v != "" { // for measuring
		w.job.Size, _ = strconv.Atoi(v)
	}

	pauses, maxUsed := 0, 0
	flowed := false
	var p0 crmsync.RecordRef
	_ = p0
	sleep := func(ctx context.Context, d time.Duration) error {
		pauses++
		if !flowed {
			flowed = true
			if st := w.eng.Budget(); len(st.Paused) == 0 || st.Paused[len(st.Paused)-1] != "P3" {
				t.Errorf("the backfill waits but the budget says %+v", st)
			}
			// A new contact (P0) and a change of one already synced (P1).
			c := w.hsFake.Put(crmsync.Record{Ref: crmsync.RecordRef{Side: crmsync.HubSpot, Object: crmsync.HSContact, ID: "new"},
				Properties: map[string]string{"email": "new@example.com", "lastname": "New", "company": "N"}})
			p0 = c.Ref
			if out, err := w.eng.Resolve(ctx, w.trigger(p0, crmsync.KindCreated)); err != nil || out.Decision != engine.DecisionSynced {
				t.Errorf("a creation (P0) while the backfill is paused: %+v %v", out, err)
			}
			ref := crmsync.RecordRef{Side: crmsync.HubSpot, Object: crmsync.HSContact, ID: "000000"}
			w.hsFake.Edit(ref, map[string]string{"jobtitle": "CTO"})
			if out, err := w.eng.Resolve(ctx, w.trigger(ref, crmsync.KindPropertyChanged)); err != nil || out.Decision != engine.DecisionSynced {
				t.Errorf("an update (P1) while the backfill is paused: %+v %v", out, err)
			}
			// The backfill is still paused.
			if p, err := w.job.Step(ctx); err != nil || p.Paused == "" {
				t.Errorf("after the P0/P1 work the backfill should still wait: %+v %v", p, err)
			}
		}
		w.clock.advance(d)
		return nil
	}
	start := time.Now()
	p, err := w.job.Run(ctx, time.Hour, sleep, func(backfill.Progress) {
		if used := w.sfUsed(); used > maxUsed {
			maxUsed = used
		}
	})
	elapsed := time.Since(start)
	if err != nil {
		t.Fatal(err)
	}
	if !p.Finished || pauses == 0 || !flowed {
		t.Fatalf("finished %v after %d pauses (P0/P1 checked: %v): %+v", p.Finished, pauses, flowed, p.Checkpoint)
	}
	if refused := w.refuse.n.Load(); refused > 0 || maxUsed > allocation {
		t.Errorf("Salesforce refused %d calls; usage reached %d of %d", refused, maxUsed, allocation)
	}
	leads := w.org.Records("Lead")
	if len(leads) != n+1 {
		t.Errorf("%d leads, want %d (every contact once, and the P0 one)", len(leads), n+1)
	}
	unlinked := 0
	for _, c := range w.hsFake.Records(crmsync.HSContact) {
		l, err := w.store.GetLink(ctx, c.Ref)
		if err != nil || l.Salesforce.IsZero() || l.Status != crmsync.LinkActive {
			unlinked++
		}
	}
	if unlinked > 0 {
		t.Errorf("%d contacts not linked after the backfill", unlinked)
	}
	if p.Decisions[engine.DecisionSynced] < n {
		t.Errorf("decisions %v, want %d synced", p.Decisions, n)
	}
	sfCalls := w.refuse.calls.Load()
	t.Logf("%d records: %d pauses, peak Salesforce usage %d/%d, %v (%.0f records/s), decisions %v, %d Salesforce calls (%.4f per record)",
		n, pauses, maxUsed, allocation, elapsed.Round(time.Millisecond), float64(n)/elapsed.Seconds(), p.Decisions, sfCalls, float64(sfCalls)/float64(n))
}
