package sweep_test

import (
	"context"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/crmsync/crmsync/pkg/crmsync"
	"github.com/crmsync/crmsync/pkg/sweep"
)

// feed is a webhook-less activity source: events at or after since,
// oldest first, at most limit (as crmsync.ActivityFeed promises).
type feed struct {
	forms, emails []crmsync.ActivityEvent
	calls         int
}

func (f *feed) page(evs []crmsync.ActivityEvent, since time.Time, limit int) []crmsync.ActivityEvent {
	f.calls++
	var out []crmsync.ActivityEvent
	for _, ev := range evs {
		if !ev.OccurredAt.Before(since) && (limit == 0 || len(out) < limit) {
			out = append(out, ev)
		}
	}
	return out
}

func (f *feed) FormSubmissions(_ context.Context, since time.Time, limit int) ([]crmsync.ActivityEvent, error) {
	return f.page(f.forms, since, limit), nil
}

func (f *feed) EmailEvents(_ context.Context, since time.Time, limit int) ([]crmsync.ActivityEvent, error) {
	return f.page(f.emails, since, limit), nil
}

// Each poll enqueues the events since the last one, once, with the event
// on the trigger; the first poll of a type starts its cursor (no
// history); a type that is off is not polled.
func TestPollActivitiesEnqueuesEachEventOnce(t *testing.T) {
	h := newHarness(t)
	h.putSettings(t, func(s *crmsync.Settings) { s.Activities.FormSubmissions = true })
	f := &feed{}
	h.sw.Activities = f
	add := func(n int, at time.Time) {
		for range n {
			f.forms = append(f.forms, crmsync.ActivityEvent{Type: crmsync.HSFormSubmission, ID: fmt.Sprintf("form-1/%d", len(f.forms)),
				OccurredAt: at, ContactEmail: "a@example.com", FormID: "form-1"})
			f.emails = append(f.emails, crmsync.ActivityEvent{Type: crmsync.HSMarketingEmailEvent, ID: fmt.Sprint(len(f.emails)), OccurredAt: at})
		}
	}
	add(3, t0.Add(-time.Hour)) // before the toggle: not backfilled
	if n, err := h.sw.Poll(t.Context()); err != nil || n != 0 {
		t.Fatalf("first poll: %d, %v; want the cursor started and nothing enqueued", n, err)
	}
	now := t0.Add(time.Minute)
	for i, step := range []struct{ add, want int }{{700, 700}, {0, 0}, {2, 2}, {0, 0}} {
		add(step.add, now.Add(time.Duration(i)*time.Second))
		n, err := h.sw.Poll(t.Context())
		if err != nil || n != step.want {
			t.Fatalf("step %d: poll enqueued %d, %v; want %d", i, n, err, step.want)
		}
	}
	got := h.rec.take()
	if len(got) != 702 {
		t.Fatalf("%d triggers in all, want 702", len(got))
	}
	var ids []string
	for _, tr := range got {
		if tr.Kind != crmsync.KindActivity || tr.Event == nil || tr.Record.Object != crmsync.HSFormSubmission || tr.Record.ID != tr.Event.ID {
			t.Fatalf("trigger %+v", tr)
		}
		ids = append(ids, tr.Record.ID)
	}
	slices.Sort(ids)
	if len(slices.Compact(ids)) != 702 {
		t.Error("an event was enqueued twice")
	}
	// 700 events on one time: a page of 500, the same page again (nothing
	// new: the limit doubles), then all 700; each later poll starts at
	// that time until a later event moves the cursor. Forms only:
	// marketing emails are off.
	if f.calls != 3+2+2+1 {
		t.Errorf("%d feed calls, want 8", f.calls)
	}
}

func TestHintedContactChangesPoll(t *testing.T) {
	contact := crmsync.RecordRef{Side: crmsync.HubSpot, Object: crmsync.HSContact, ID: "1"}
	for _, c := range []struct {
		t    crmsync.Trigger
		want bool
	}{
		{crmsync.Trigger{Record: contact, Kind: crmsync.KindPropertyChanged, Properties: []string{"firstname", "recent_conversion_date"}}, true},
		{crmsync.Trigger{Record: contact, Kind: crmsync.KindPropertyChanged, Properties: []string{"hs_email_last_open_date"}}, true},
		{crmsync.Trigger{Record: contact, Kind: crmsync.KindPropertyChanged, Properties: []string{"firstname"}}, false},
		{crmsync.Trigger{Record: crmsync.RecordRef{Side: crmsync.Salesforce, Object: crmsync.SFLead, ID: "1"}, Properties: []string{"recent_conversion_date"}}, false},
	} {
		if got := sweep.Hinted(c.t); got != c.want {
			t.Errorf("Hinted(%s %v) = %v, want %v", c.t.Record, c.t.Properties, got, c.want)
		}
	}
}

// An event HubSpot records behind the cursor is missed by the short poll
// and offered by the next sweep, with the window before it (repeats keep
// their dedupe keys).
func TestSweepOffersLateEventsAgain(t *testing.T) {
	h := newHarness(t)
	h.putSettings(t, func(s *crmsync.Settings) { s.Activities.MarketingEmails = true })
	f := &feed{}
	h.sw.Activities = f
	if _, err := h.sw.Poll(t.Context()); err != nil { // starts the cursor
		t.Fatal(err)
	}
	at := t0.Add(time.Minute)
	f.emails = append(f.emails, crmsync.ActivityEvent{Type: crmsync.HSMarketingEmailEvent, ID: "on-time", OccurredAt: at})
	if n, err := h.sw.Poll(t.Context()); err != nil || n != 1 {
		t.Fatalf("poll: %d, %v", n, err)
	}
	first := h.rec.take()
	f.emails = append(f.emails, crmsync.ActivityEvent{Type: crmsync.HSMarketingEmailEvent, ID: "late", OccurredAt: at.Add(-time.Second)})
	if n, err := h.sw.Poll(t.Context()); err != nil || n != 0 {
		t.Fatalf("poll after a late event: %d, %v; want 0 (behind the cursor)", n, err)
	}
	if _, err := h.sw.Run(t.Context()); err != nil {
		t.Fatal(err)
	}
	keys := map[string]bool{}
	for _, tr := range h.rec.take() {
		if tr.Record.Object == crmsync.HSMarketingEmailEvent {
			keys[tr.Record.ID] = true
			if tr.Record.ID == "on-time" && tr.DedupeKey != first[0].DedupeKey {
				t.Error("a re-offered event has a new dedupe key")
			}
		}
	}
	if !keys["late"] {
		t.Errorf("the sweep offered %v, want the late event", keys)
	}
}
