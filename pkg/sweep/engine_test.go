package sweep_test

import (
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/crmsync/crmsync/pkg/crmsync"
	"github.com/crmsync/crmsync/pkg/engine"
	"github.com/crmsync/crmsync/pkg/mapping"
	"github.com/crmsync/crmsync/pkg/sweep"
)

// work resolves every visible trigger with eng and returns them.
func (h *harness) work(tb testing.TB, eng *engine.Engine) []crmsync.Trigger {
	tb.Helper()
	var done []crmsync.Trigger
	for {
		msgs, err := h.queue.Receive(tb.Context(), 10, time.Minute)
		if err != nil {
			tb.Fatalf("Receive: %v", err)
		}
		if len(msgs) == 0 {
			return done
		}
		for _, m := range msgs {
			if _, err := eng.Resolve(tb.Context(), m.Trigger); err != nil {
				tb.Fatalf("Resolve(%s): %v", m.Trigger.Record, err)
			}
			if err := h.queue.Delete(tb.Context(), m.Receipt); err != nil {
				tb.Fatalf("Delete: %v", err)
			}
			done = append(done, m.Trigger)
		}
	}
}

func (h *harness) engine() *engine.Engine {
	return &engine.Engine{Store: h.store, HubSpot: h.hs, Salesforce: h.sf, Now: h.clk.Now, Logger: discardLogger}
}

func (h *harness) putSettings(tb testing.TB, edit func(*crmsync.Settings)) {
	tb.Helper()
	s := crmsync.DefaultSettings()
	s.Mappings = mapping.DefaultMappings(s.DefaultRule)
	edit(&s)
	if _, err := h.store.PutSettings(tb.Context(), s); err != nil {
		tb.Fatal(err)
	}
}

// TestRetrySchedule runs the sweep every 5 minutes of a fake clock for
// three days with the engine working the queue in between. A contact
// without an email fails every attempt; the sweep must retry it every
// Interval while the attempts are at most MaxAttempts, then every
// ThenEvery — and each retry exactly once.
func TestRetrySchedule(t *testing.T) {
	h := newHarness(t)
	h.putSettings(t, func(s *crmsync.Settings) {
		s.Retry = crmsync.RetrySettings{Interval: 20 * time.Minute, MaxAttempts: 3, ThenEvery: 24 * time.Hour}
	})
	eng := h.engine()
	noEmail := hsContact("42")
	put(h.hs, noEmail, t0.Add(-time.Hour), map[string]string{"firstname": "Ann"})

	var firstFailure time.Time
	var retries []time.Time
	var attempts []int
	for step := 0; step < 3*24*12; step++ {
		h.run(t)
		for _, tr := range h.work(t, eng) {
			switch tr.Kind {
			case crmsync.KindSweep:
				if !firstFailure.IsZero() {
					t.Fatalf("a second sweep trigger for %s at %v", tr.Record, h.clk.Now())
				}
				firstFailure = h.clk.Now()
			case crmsync.KindManualResync:
				retries = append(retries, h.clk.Now())
				attempts = append(attempts, tr.Attempt)
			default:
				t.Fatalf("unexpected trigger %s %s", tr.Kind, tr.Record)
			}
		}
		h.clk.Add(5 * time.Minute)
	}
	if firstFailure.IsZero() {
		t.Fatal("the sweep never enqueued the contact")
	}
	var gaps []time.Duration
	prev := firstFailure
	for _, at := range retries {
		gaps = append(gaps, at.Sub(prev))
		prev = at
	}
	want := []time.Duration{20 * time.Minute, 20 * time.Minute, 20 * time.Minute, 24 * time.Hour, 24 * time.Hour}
	if !slices.Equal(gaps, want) {
		t.Errorf("retry gaps = %v, want %v (every 20 min while attempts <= 3, then daily)", gaps, want)
	}
	if !slices.Equal(attempts, []int{1, 2, 3, 4, 5}) {
		t.Errorf("retry triggers carried attempts %v, want 1…5 (the error's count when enqueued)", attempts)
	}
	se, err := h.store.GetSyncError(t.Context(), noEmail)
	if err != nil || se.Attempts != 6 {
		t.Errorf("sync error after the last retry: %+v, %v; want 6 attempts", se, err)
	}
}

// TestRetryAfterRecovery: a record that failed, recovered and failed again
// is retried again, although its attempt count starts over.
func TestRetryAfterRecovery(t *testing.T) {
	h := newHarness(t)
	eng := h.engine()
	c := hsContact("7")
	put(h.hs, c, t0.Add(-time.Hour), map[string]string{"firstname": "Bo"})
	h.run(t)
	h.work(t, eng) // fails: no email
	h.clk.Add(20 * time.Minute)
	h.run(t)
	if got := h.rec.take(); len(got) != 2 || got[1].Kind != crmsync.KindManualResync {
		t.Fatalf("after 20 minutes: sent %v, want the sweep trigger and one retry", counts(got))
	}
	h.hs.Edit(c, map[string]string{"email": "bo@x"})
	h.work(t, eng) // the retry syncs it; the error is cleared
	if _, err := h.store.GetSyncError(t.Context(), c); err == nil {
		t.Fatalf("sync error still there after a successful retry")
	}
	h.clk.Add(5 * time.Minute)
	h.hs.Edit(c, map[string]string{"email": ""})
	h.clk.Add(5 * time.Minute)
	h.run(t)
	h.work(t, eng) // fails again, attempts 1
	h.clk.Add(20 * time.Minute)
	h.run(t)
	var retried []crmsync.Trigger
	for _, tr := range h.work(t, eng) {
		if tr.Kind == crmsync.KindManualResync {
			retried = append(retried, tr)
		}
	}
	if len(retried) != 1 {
		t.Errorf("second failure: %d retries resolved, want 1 (not dropped as a repeat of the first episode)", len(retried))
	}
}

// twoWay makes every default mapping Two-way, so a change on either side
// is carried to the other.
func twoWay(s *crmsync.Settings) {
	s.DefaultRule = crmsync.RuleTwoWay
	s.Mappings = mapping.DefaultMappings(crmsync.RuleTwoWay)
}

// linkPair stores a linked pair whose shadow matches both sides.
func (h *harness) linkPair(tb testing.TB, i int) crmsync.Link {
	tb.Helper()
	props := map[string]string{"email": fmt.Sprintf("p%d@x", i), "firstname": fmt.Sprintf("P%d", i), "lastname": "Pair"}
	sfProps := map[string]string{"Email": props["email"], "FirstName": props["firstname"], "LastName": "Pair"}
	hs, sf := hsContact(fmt.Sprintf("%d", 500+i)), sfContact(fmt.Sprintf("003P%02d", i))
	put(h.hs, hs, t0.Add(-time.Hour), props)
	put(h.sf, sf, t0.Add(-time.Hour), sfProps)
	shadow := map[string]crmsync.FieldShadow{}
	for _, m := range mapping.For(mapping.DefaultMappings(crmsync.RulePreferSalesforce), crmsync.HSContact, crmsync.SFContact) {
		shadow[m.Key()] = crmsync.NewFieldShadow(props[m.HubSpotProperty], t0.Add(-time.Hour))
	}
	l, err := h.store.CreateLink(tb.Context(), crmsync.Link{ID: fmt.Sprintf("link-%02d", i), HubSpot: hs, Salesforce: sf,
		Shadow: shadow, Status: crmsync.LinkActive, CreatedAt: t0, UpdatedAt: t0})
	if err != nil {
		tb.Fatal(err)
	}
	return l
}

// TestDrift: a bounded slice of links per run, resumed from the lease's
// checkpoint; pairs that differ from the shadow are enqueued once; after
// the engine resolves them they no longer drift.
func TestDrift(t *testing.T) {
	h := newHarness(t)
	h.putSettings(t, twoWay)
	h.sw.Sources = nil // only the drift check
	h.sw.DriftLimit = 3
	var links []crmsync.Link
	for i := range 7 {
		links = append(links, h.linkPair(t, i))
	}
	// Changed without a trigger (a webhook lost): HubSpot side of pair 1,
	// Salesforce side of pair 5; pair 3's HubSpot record is deleted.
	h.hs.Put(crmsync.Record{Ref: links[1].HubSpot, LastModified: t0.Add(-30 * time.Minute),
		Properties: map[string]string{"email": "p1@x", "firstname": "Changed", "lastname": "Pair"}})
	h.sf.Put(crmsync.Record{Ref: links[5].Salesforce, LastModified: t0.Add(-30 * time.Minute),
		Properties: map[string]string{"Email": "p5@x", "FirstName": "P5", "LastName": "Renamed"}})
	h.hs.Put(crmsync.Record{Ref: links[3].HubSpot, Archived: true, Properties: map[string]string{}})

	var reps []sweep.Report
	for range 3 {
		reps = append(reps, h.run(t))
	}
	checked := []int{reps[0].Drift.Checked, reps[1].Drift.Checked, reps[2].Drift.Checked}
	if !slices.Equal(checked, []int{3, 3, 1}) || !reps[2].Drift.Wrapped || reps[0].Drift.Wrapped {
		t.Errorf("links checked per run = %v (wrapped %v, %v, %v), want 3, 3, 1 and a wrap at the end",
			checked, reps[0].Drift.Wrapped, reps[1].Drift.Wrapped, reps[2].Drift.Wrapped)
	}
	sent := h.rec.take()
	wantSent(t, "drift", sent, crmsync.KindSweep, links[1].HubSpot, links[3].HubSpot, links[5].Salesforce)

	// The engine syncs the drifted pairs (and marks the deleted one); a
	// full pass later finds no drift.
	h.work(t, h.engine())
	for range 3 {
		h.run(t)
	}
	if again := h.rec.take(); len(again) != 0 {
		t.Errorf("after the engine resolved the drift, a full pass enqueued %v", counts(again))
	}
	if got, ok := h.sf.Record(links[1].Salesforce); !ok || got.Properties["FirstName"] != "Changed" {
		t.Errorf("pair 1 after resolving: Salesforce FirstName %q, want Changed", got.Properties["FirstName"])
	}
}

// TestSweepConvergesWithoutWebhooks: changes made on both sides with no
// webhook at all reach the other side after one sweep and one pass of
// the worker.
func TestSweepConvergesWithoutWebhooks(t *testing.T) {
	h := newHarness(t)
	h.putSettings(t, twoWay)
	eng := h.engine()
	l := h.linkPair(t, 1)
	h.clk.Add(time.Minute)
	h.hs.Edit(l.HubSpot, map[string]string{"firstname": "FromHubSpot"})
	h.sf.Edit(l.Salesforce, map[string]string{"LastName": "FromSalesforce"})
	fresh := hsContact("900")
	put(h.hs, fresh, h.clk.Now(), map[string]string{"email": "new@x", "firstname": "New", "lastname": "Person"})
	h.clk.Add(15 * time.Minute)
	h.run(t)
	h.work(t, eng)
	sf, _ := h.sf.Record(l.Salesforce)
	hs, _ := h.hs.Record(l.HubSpot)
	if sf.Properties["FirstName"] != "FromHubSpot" || hs.Properties["lastname"] != "FromSalesforce" {
		t.Errorf("after one sweep: Salesforce FirstName %q, HubSpot lastname %q; want both changes carried over",
			sf.Properties["FirstName"], hs.Properties["lastname"])
	}
	if link, err := h.store.GetLink(t.Context(), fresh); err != nil || link.Salesforce.IsZero() {
		t.Errorf("new HubSpot contact after one sweep: link %+v, %v; want it created in Salesforce", link, err)
	}
}

// TestRetryOnlyEnabledObjects: errors of object types whose sync is off
// are not retried (the engine would skip them).
func TestRetryOnlyEnabledObjects(t *testing.T) {
	h := newHarness(t)
	h.sw.Sources = nil
	company := crmsync.RecordRef{Side: crmsync.HubSpot, Object: crmsync.HSCompany, ID: "5"}
	lead := crmsync.RecordRef{Side: crmsync.Salesforce, Object: crmsync.SFLead, ID: "00Q5"}
	for _, ref := range []crmsync.RecordRef{company, lead} {
		e := crmsync.SyncError{Record: ref, Category: crmsync.CategoryOther, Message: "failed",
			FirstSeen: t0, LastSeen: t0, Attempts: 1, NextRetry: t0.Add(-time.Minute)}
		if err := h.store.PutSyncError(t.Context(), e); err != nil {
			t.Fatal(err)
		}
	}
	rep := h.run(t)
	wantSent(t, "companies off, contacts on", h.rec.take(), crmsync.KindManualResync, lead)
	if rep.Retries != 1 {
		t.Errorf("report: %d retries, want 1", rep.Retries)
	}
}
