package sweep_test

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/crmsync/crmsync/pkg/crmsync"
	"github.com/crmsync/crmsync/pkg/sweep"
)

var discardLogger = slog.New(slog.DiscardHandler)

func objectReport(tb testing.TB, rep sweep.Report, side crmsync.Side, o crmsync.ObjectType) sweep.ObjectReport {
	tb.Helper()
	for _, or := range rep.Objects {
		if or.Side == side && or.Object == o {
			return or
		}
	}
	tb.Fatalf("report has no %s %s: %+v", side, o, rep.Objects)
	return sweep.ObjectReport{}
}

func TestIncrementalCursor(t *testing.T) {
	h := newHarness(t)
	ctx := t.Context()
	put(h.hs, hsContact("101"), t0.Add(-10*time.Minute), map[string]string{"email": "a@x"})
	put(h.hs, hsContact("102"), t0.Add(-10*time.Minute), map[string]string{"email": "b@x"})
	put(h.sf, sfContact("003A"), t0.Add(-9*time.Minute), nil)
	lead := crmsync.RecordRef{Side: crmsync.Salesforce, Object: crmsync.SFLead, ID: "00QA"}
	put(h.sf, lead, t0.Add(-8*time.Minute), nil)
	// Companies are off in the default settings: not swept.
	put(h.hs, crmsync.RecordRef{Side: crmsync.HubSpot, Object: crmsync.HSCompany, ID: "9"}, t0.Add(-8*time.Minute), nil)

	rep := h.run(t)
	wantSent(t, "first run", h.rec.take(), crmsync.KindSweep, hsContact("101"), hsContact("102"), sfContact("003A"), lead)
	if rep.Enqueued() != 4 || rep.Skipped || rep.Stopped || len(rep.Errors) > 0 {
		t.Errorf("first run report: %+v", rep)
	}
	if len(rep.Objects) != 3 {
		t.Errorf("first run swept %d objects, want 3 (HubSpot contacts, Salesforce leads and contacts)", len(rep.Objects))
	}
	until := t0.Add(-sweep.DefaultLag)
	for _, o := range rep.Objects {
		if !o.CaughtUp || !o.Cursor.Timestamp.Equal(until) || o.Lag != sweep.DefaultLag {
			t.Errorf("%s %s: caught up %v, cursor %v, lag %v; want caught up at %v (lag %v)", o.Side, o.Object, o.CaughtUp, o.Cursor.Timestamp, o.Lag, until, sweep.DefaultLag)
		}
		stored, err := h.store.GetCursor(ctx, o.Side, o.Object)
		if err != nil || !stored.Timestamp.Equal(o.Cursor.Timestamp) || stored.LastID != o.Cursor.LastID {
			t.Errorf("%s %s: stored cursor %+v, %v; want the reported %+v", o.Side, o.Object, stored, err, o.Cursor)
		}
	}

	h.clk.Add(5 * time.Minute)
	h.hs.Edit(hsContact("101"), map[string]string{"email": "a2@x"})
	h.clk.Add(10 * time.Minute)
	rep = h.run(t)
	got := h.rec.take()
	wantSent(t, "after one edit", got, crmsync.KindSweep, hsContact("101"))
	if rep.Enqueued() != 1 {
		t.Errorf("after one edit: report counts %d enqueued, want 1", rep.Enqueued())
	}
	h.run(t)
	wantSent(t, "nothing changed", h.rec.take(), crmsync.KindSweep)
}

// TestLagWindow: changes within Lag of now wait for a later run, so a
// record that becomes visible late (with a modification time before the
// moment it was committed) is not skipped, and nothing is read twice.
func TestLagWindow(t *testing.T) {
	h := newHarness(t)
	a, b, atBound := hsContact("1"), hsContact("2"), hsContact("3")
	put(h.hs, a, t0.Add(-5*time.Minute), nil)
	put(h.hs, b, t0.Add(-time.Minute), nil) // within the lag
	put(h.hs, atBound, t0.Add(-sweep.DefaultLag), nil)
	rep := h.run(t)
	wantSent(t, "first run", h.rec.take(), crmsync.KindSweep, a, atBound)
	if c := objectReport(t, rep, crmsync.HubSpot, crmsync.HSContact).Cursor; !c.Timestamp.Equal(t0.Add(-sweep.DefaultLag)) || c.LastID != "3" {
		t.Errorf("cursor after the first run = %v/%q, want the record at the bound", c.Timestamp, c.LastID)
	}

	// Committed after the first run, stamped 90 s before it: within the lag.
	late := hsContact("0")
	put(h.hs, late, t0.Add(-90*time.Second), nil)
	h.clk.Add(15 * time.Minute)
	h.run(t)
	wantSent(t, "second run", h.rec.take(), crmsync.KindSweep, late, b)

	h.clk.Add(15 * time.Minute)
	h.run(t)
	wantSent(t, "third run", h.rec.take(), crmsync.KindSweep)
}

// TestSameTimestamp25000 puts 25 000 records on one timestamp on each
// side, sweeps them across budget stops, and checks every record is
// enqueued exactly once, then exactly once more after it changes.
func TestSameTimestamp25000(t *testing.T) {
	if testing.Short() {
		t.Skip("50 000 records")
	}
	h := newHarness(t)
	const n = 25000
	at := t0.Add(-time.Hour)
	var refs []crmsync.RecordRef
	for i := range n {
		hs, sf := hsContact(fmt.Sprintf("%06d", i)), sfContact(fmt.Sprintf("003%012d", i))
		put(h.hs, hs, at, nil)
		put(h.sf, sf, at, nil)
		refs = append(refs, hs, sf)
	}
	// Each record read costs a millisecond of the fake clock: a 7-second
	// budget stops every run after about 7 000 records, in the middle of
	// the timestamp.
	tick := func(sweep.Change) { h.clk.Add(time.Millisecond) }
	h.hsSrc.onChange, h.sfSrc.onChange = tick, tick
	h.sw.Budget = 7 * time.Second
	var runs, stopped int
	for runs = 1; runs <= 20; runs++ {
		rep := h.run(t)
		if rep.Stopped {
			stopped++
		}
		if objectReport(t, rep, crmsync.HubSpot, crmsync.HSContact).CaughtUp &&
			objectReport(t, rep, crmsync.Salesforce, crmsync.SFContact).CaughtUp {
			break
		}
	}
	if stopped < 5 {
		t.Errorf("%d of %d runs stopped on the budget, want several (the test must resume mid-timestamp)", stopped, runs)
	}
	sent := h.rec.take()
	wantSent(t, "25 000 per side on one timestamp", sent, crmsync.KindSweep, refs...)
	keys := map[string]bool{}
	for _, tr := range sent {
		keys[tr.DedupeKey] = true
	}
	if len(keys) != len(sent) {
		t.Errorf("%d triggers with %d distinct dedupe keys, want one key per record", len(sent), len(keys))
	}
	st, err := h.queue.Stats(t.Context())
	if err != nil || st.Visible != 2*n {
		t.Errorf("queue holds %d messages (%v), want %d", st.Visible, err, 2*n)
	}

	h.sw.Budget = 0
	h.hsSrc.onChange, h.sfSrc.onChange = nil, nil
	h.clk.Add(time.Minute)
	h.hs.Edit(hsContact("012345"), map[string]string{"email": "new@x"})
	h.sf.Edit(sfContact("003000000000007"), map[string]string{"Email": "new@x"})
	h.clk.Add(15 * time.Minute)
	h.run(t)
	second := h.rec.take()
	wantSent(t, "after one change on each side", second, crmsync.KindSweep, hsContact("012345"), sfContact("003000000000007"))
	for _, tr := range second {
		if keys[tr.DedupeKey] {
			t.Errorf("the new change of %s has the dedupe key of its first sweep; want a new key per change", tr.Record)
		}
	}
}

func TestBudgetStopAndResume(t *testing.T) {
	h := newHarness(t)
	var refs []crmsync.RecordRef
	for i := range 50 {
		r := hsContact(fmt.Sprintf("%03d", i))
		put(h.hs, r, t0.Add(-time.Hour+time.Duration(i/10)*time.Second), nil)
		refs = append(refs, r)
	}
	h.hsSrc.onChange = func(sweep.Change) { h.clk.Add(time.Second) }
	h.sw.Budget = 12 * time.Second
	h.sw.BatchSize = 5
	h.sw.Sources = map[crmsync.Side]sweep.Source{crmsync.HubSpot: h.hsSrc}
	rep := h.run(t)
	first := h.rec.take()
	or := objectReport(t, rep, crmsync.HubSpot, crmsync.HSContact)
	if !rep.Stopped || or.CaughtUp || len(first) == 0 || len(first) >= 50 {
		t.Fatalf("first run: stopped %v, caught up %v, %d sent; want a stop part-way", rep.Stopped, or.CaughtUp, len(first))
	}
	last := first[len(first)-1].Record.ID
	if c, err := h.store.GetCursor(t.Context(), crmsync.HubSpot, crmsync.HSContact); err != nil || c.LastID != last {
		t.Errorf("cursor after the stop = %+v, %v; want at the last record sent, %s", c, err, last)
	}
	for range 10 {
		if objectReport(t, h.run(t), crmsync.HubSpot, crmsync.HSContact).CaughtUp {
			break
		}
	}
	wantSent(t, "over all runs", append(first, h.rec.take()...), crmsync.KindSweep, refs...)
}

// TestCursorAfterEnqueue: a failed Send leaves the cursor at the last batch
// that was enqueued, so the next run sends the rest.
func TestCursorAfterEnqueue(t *testing.T) {
	h := newHarness(t)
	var refs []crmsync.RecordRef
	for i := range 35 {
		r := hsContact(fmt.Sprintf("%03d", i))
		put(h.hs, r, t0.Add(-time.Hour), nil)
		refs = append(refs, r)
	}
	h.sw.BatchSize = 10
	h.sw.Sources = map[crmsync.Side]sweep.Source{crmsync.HubSpot: h.hsSrc}
	sends := 0
	queueDown := errors.New("queue down")
	h.rec.fail = func([]crmsync.Trigger) error {
		if sends++; sends == 2 {
			return queueDown
		}
		return nil
	}
	rep, err := h.sw.Run(t.Context())
	if !errors.Is(err, queueDown) || len(rep.Errors) != 1 {
		t.Fatalf("Run with a failing Send: err %v, report errors %v; want the queue's error", err, rep.Errors)
	}
	if c, err := h.store.GetCursor(t.Context(), crmsync.HubSpot, crmsync.HSContact); err != nil || c.LastID != "009" {
		t.Errorf("cursor after the failed send = %+v, %v; want after the first batch (009)", c, err)
	}
	h.rec.fail = nil
	h.run(t)
	wantSent(t, "both runs", h.rec.take(), crmsync.KindSweep, refs...)
}

func TestDeletes(t *testing.T) {
	h := newHarness(t)
	keep, gone, old := sfContact("003keep"), sfContact("003gone"), sfContact("003old")
	put(h.sf, keep, t0.Add(-time.Hour), nil)
	h.run(t) // first run: cursors, no deletions asked
	h.rec.take()
	h.sfSrc.Delete(gone, t0.Add(5*time.Minute))
	h.sfSrc.Delete(old, t0.Add(-2*time.Hour)) // before the cursor: reported by an earlier run
	h.clk.Add(15 * time.Minute)
	rep := h.run(t)
	wantSent(t, "after a delete", h.rec.take(), crmsync.KindDeleted, gone)
	if or := objectReport(t, rep, crmsync.Salesforce, crmsync.SFContact); or.Deletes != 1 || or.BehindDeletedWindow || rep.BehindDeletedWindow {
		t.Errorf("report: %+v, behind %v; want one delete, not behind", or, rep.BehindDeletedWindow)
	}
	h.clk.Add(15 * time.Minute)
	h.run(t)
	wantSent(t, "next run", h.rec.take(), crmsync.KindDeleted)

	// A cursor older than the 15 days the source keeps deletions.
	h.clk.Add(20 * 24 * time.Hour)
	h.sfSrc.Delete(sfContact("003recent"), h.clk.Now().Add(-time.Hour))
	rep = h.run(t)
	if !rep.BehindDeletedWindow || !objectReport(t, rep, crmsync.Salesforce, crmsync.SFContact).BehindDeletedWindow {
		t.Errorf("20 days after the last run: behind the deleted window = %v; want true", rep.BehindDeletedWindow)
	}
	if objectReport(t, rep, crmsync.HubSpot, crmsync.HSContact).BehindDeletedWindow {
		t.Errorf("HubSpot contacts reported behind a deleted window they do not have")
	}
	var deleted []crmsync.Trigger
	for _, tr := range h.rec.take() {
		if tr.Kind == crmsync.KindDeleted {
			deleted = append(deleted, tr)
		}
	}
	wantSent(t, "deletes within the window", deleted, crmsync.KindDeleted, sfContact("003recent"))
	h.clk.Add(15 * time.Minute)
	if rep := h.run(t); rep.BehindDeletedWindow {
		t.Errorf("once caught up: still behind the deleted window")
	}
}

// TestOverlappingRuns: a run that starts while another holds the lease
// does nothing; the work is done once.
func TestOverlappingRuns(t *testing.T) {
	h := newHarness(t)
	var refs []crmsync.RecordRef
	for i := range 20 {
		r := hsContact(fmt.Sprintf("%02d", i))
		put(h.hs, r, t0.Add(-time.Hour), nil)
		refs = append(refs, r)
	}
	inside, proceed := make(chan struct{}), make(chan struct{})
	var entered atomic.Bool
	h.hsSrc.onChange = func(sweep.Change) {
		if entered.CompareAndSwap(false, true) { // the first run waits, once
			close(inside)
			<-proceed
		}
	}
	var first sweep.Report
	var firstErr error
	done := make(chan struct{})
	go func() {
		defer close(done)
		first, firstErr = h.sw.Run(t.Context())
	}()
	<-inside
	second, err := h.sw.Run(t.Context())
	close(proceed)
	<-done
	if err != nil || firstErr != nil {
		t.Fatalf("Run errors: %v, %v", firstErr, err)
	}
	if !second.Skipped || second.Holder == "" || second.Enqueued() != 0 {
		t.Errorf("second run while the first held the lease: %+v; want skipped, naming the holder", second)
	}
	if first.Skipped || first.Enqueued() != 20 {
		t.Errorf("first run: skipped %v, %d enqueued; want 20", first.Skipped, first.Enqueued())
	}
	third := h.run(t)
	if third.Skipped {
		t.Errorf("a run after the first ended was skipped: the lease was not released")
	}
	wantSent(t, "all runs", h.rec.take(), crmsync.KindSweep, refs...)

	// Many runs started together: the records are still enqueued once.
	h.hsSrc.onChange = nil
	for _, r := range refs {
		h.hs.Edit(r, map[string]string{"email": "x@y"})
	}
	h.clk.Add(15 * time.Minute)
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			if _, err := h.sw.Run(t.Context()); err != nil {
				t.Errorf("concurrent Run: %v", err)
			}
		})
	}
	wg.Wait()
	wantSent(t, "8 concurrent runs", h.rec.take(), crmsync.KindSweep, refs...)
}

func TestLeaseErrorStopsRun(t *testing.T) {
	h := newHarness(t)
	put(h.hs, hsContact("1"), t0.Add(-time.Hour), nil)
	if err := h.bolt.Close(); err != nil {
		t.Fatal(err)
	}
	rep, err := h.sw.Run(t.Context())
	if err == nil || rep.Enqueued() != 0 {
		t.Errorf("Run on a closed store: %d enqueued, err %v; want an error and nothing enqueued", rep.Enqueued(), err)
	}
}

// failingSource fails for one object type and lists the others.
type failingSource struct {
	*source
	object crmsync.ObjectType
	err    error
}

func (s failingSource) Changes(ctx context.Context, o crmsync.ObjectType, from crmsync.Cursor, fn func(sweep.Change) error) error {
	if o == s.object {
		return s.err
	}
	return s.source.Changes(ctx, o, from, fn)
}

// TestSourceErrorIsolated: a failing object is reported and keeps its
// cursor; the other objects are swept.
func TestSourceErrorIsolated(t *testing.T) {
	h := newHarness(t)
	lead := crmsync.RecordRef{Side: crmsync.Salesforce, Object: crmsync.SFLead, ID: "00Q1"}
	put(h.sf, lead, t0.Add(-time.Hour), nil)
	put(h.sf, sfContact("003C"), t0.Add(-time.Hour), nil)
	put(h.hs, hsContact("1"), t0.Add(-time.Hour), nil)
	unavailable := errors.New("503 service unavailable")
	h.sw.Sources[crmsync.Salesforce] = failingSource{source: h.sfSrc.source, object: crmsync.SFLead, err: unavailable}
	rep, err := h.sw.Run(t.Context())
	if !errors.Is(err, unavailable) || len(rep.Errors) != 1 || objectReport(t, rep, crmsync.Salesforce, crmsync.SFLead).Error == "" {
		t.Errorf("Run with leads failing: err %v, report errors %v; want the leads' error, reported on leads", err, rep.Errors)
	}
	wantSent(t, "others swept", h.rec.take(), crmsync.KindSweep, sfContact("003C"), hsContact("1"))
	if _, err := h.store.GetCursor(t.Context(), crmsync.Salesforce, crmsync.SFLead); !errors.Is(err, crmsync.ErrNotFound) {
		t.Errorf("leads cursor after the failure: %v, want none stored", err)
	}
	h.sw.Sources[crmsync.Salesforce] = h.sfSrc
	h.run(t)
	wantSent(t, "after recovery", h.rec.take(), crmsync.KindSweep, lead)
}
