package hubspot

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"slices"
	"strconv"
	"sync/atomic"
	"testing"
	"time"

	"github.com/crmsync/crmsync/pkg/crmsync"
)

const (
	formContactUs = "4d6c2f1e-8a3b-4c5d-9e7f-0a1b2c3d4e5f"
	formDemo      = "9f8e7d6c-5b4a-4392-8170-6f5e4d3c2b1a"
)

// at is 2026-11-23 12:mm UTC, the time of the testdata's events.
func at(mm int) time.Time { return time.Date(2026, 11, 23, 12, mm, 0, 0, time.UTC) }

// formsAPI serves the forms and submissions testdata.
func formsAPI(t *testing.T, h *harness) {
	h.handle("GET /marketing/v3/forms/", func(w http.ResponseWriter, r *http.Request) {
		if got := r.URL.Query().Get("limit"); got != "100" {
			t.Errorf("forms limit = %q", got)
		}
		if got := r.URL.Query()["formTypes"]; !slices.Equal(got, []string{"hubspot", "captured", "flow"}) {
			t.Errorf("formTypes = %q, want every lead-capture type, repeated", got)
		}
		switch after := r.URL.Query().Get("after"); after {
		case "":
			serve(t, w, 200, "forms-page-1.json")
		case "MQ%3D%3D":
			serve(t, w, 200, "forms-page-2.json")
		default:
			t.Errorf("forms after = %q", after)
		}
	})
	h.handle("GET /form-integrations/v1/submissions/forms/{id}", func(w http.ResponseWriter, r *http.Request) {
		if got := r.URL.Query().Get("limit"); got != "50" {
			t.Errorf("submissions limit = %q", got)
		}
		switch id, after := r.PathValue("id"), r.URL.Query().Get("after"); {
		case id == formDemo:
			serve(t, w, 200, "submissions-no-conversion-id.json")
		case id == formContactUs && after == "":
			serve(t, w, 200, "submissions-page-1.json")
		case id == formContactUs && after == "MTc5NTQzNTMyMDAwMA":
			serve(t, w, 200, "submissions-page-2.json")
		default:
			t.Errorf("submissions of %s after %q: the feed read past since", id, after)
		}
	})
}

func TestFormSubmissionsFeed(t *testing.T) {
	h := newHarness(t)
	formsAPI(t, h)
	got, err := h.c.FormSubmissions(context.Background(), at(0).Add(-30*time.Minute), 0)
	if err != nil {
		t.Fatal(err)
	}
	var ids []string
	for _, e := range got {
		ids = append(ids, e.ID)
	}
	want := []string{formContactUs + "/5d4c3b2a-1f0e-4d9c-8b7a-6f5e4d3c2b1a", formContactUs + "/0b9e8d7c-6a5f-4e3d-8c2b-1a0f9e8d7c6b",
		formDemo + "/1795435320000/barbara@example.com", formContactUs + "/7a1c59f1-3f3e-4b1c-9a8d-2c0f6a7e1b23"}
	if !slices.Equal(ids, want) {
		t.Fatalf("ids (oldest first) =\n%q\nwant\n%q", ids, want)
	}
	grace := got[3]
	if grace.Type != crmsync.HSFormSubmission || !grace.OccurredAt.Equal(at(3)) || grace.ContactEmail != "grace@example.com" ||
		grace.FormID != formContactUs || grace.FormName != "Contact us" || grace.URL != "https://www.example.com/contact" ||
		grace.Values["message"] != "Please call me" || len(grace.Values) != 3 {
		t.Errorf("grace's submission = %+v", grace)
	}
	if b := got[2]; b.ContactEmail != "Barbara@Example.com" || b.FormName != "Demo request" || b.Values["company"] != "Liskov & Co" {
		t.Errorf("barbara's submission = %+v", b)
	}
	// The submission at 11:00, older than since, is not returned.
	if h.hitCount("GET /form-integrations/v1/submissions/forms/"+formContactUs) != 2 {
		t.Errorf("contact us submissions read %d times, want 2 pages", h.hitCount("GET /form-integrations/v1/submissions/forms/"+formContactUs))
	}

	// A limit cuts after the limit-th event and the events sharing its time.
	got, err = h.c.FormSubmissions(context.Background(), at(0).Add(-30*time.Minute), 2)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 3 || !got[2].OccurredAt.Equal(at(2)) {
		t.Errorf("limit 2 = %d events (%v), want 3: the second's time is shared", len(got), got)
	}
	// since is inclusive.
	got, err = h.c.FormSubmissions(context.Background(), at(3), 0)
	if err != nil || len(got) != 1 || got[0].ContactEmail != "grace@example.com" {
		t.Errorf("since 12:03 = %v, %v", got, err)
	}
}

// emailEventsAPI serves the email events and campaign testdata; since is
// the startTimestamp the feed must send.
func emailEventsAPI(t *testing.T, h *harness, since time.Time) *atomic.Int32 {
	h.handle("GET /email/public/v1/events", func(w http.ResponseWriter, r *http.Request) {
		q := r.URL.Query()
		for k, want := range map[string]string{"startTimestamp": strconv.FormatInt(since.UnixMilli(), 10),
			"endTimestamp": strconv.FormatInt(h.clock().UnixMilli(), 10), "excludeFilteredEvents": "true", "limit": "1000", "eventType": ""} {
			if got := q.Get(k); got != want {
				t.Errorf("email events %s = %q, want %q", k, got, want)
			}
		}
		switch off := q.Get("offset"); off {
		case "":
			serve(t, w, 200, "email-events-page-1.json")
		case "CO3m7Jq5MhIkMmQ2ZDZkYjEtNjI3NS0zYWJjLWEzYjUtMmQ5ZTY4YWM5NmQ2":
			serve(t, w, 200, "email-events-page-2.json")
		default:
			t.Errorf("offset %q", off)
		}
	})
	var campaignReads atomic.Int32
	h.handle("GET /email/public/v1/campaigns/{id}", func(w http.ResponseWriter, r *http.Request) {
		campaignReads.Add(1)
		if r.PathValue("id") == "412660005" {
			serve(t, w, 200, "email-campaign.json")
			return
		}
		serve(t, w, 404, "error-not-found.json")
	})
	return &campaignReads
}

func TestEmailEventsFeed(t *testing.T) {
	h := newHarness(t)
	h.now = at(10)
	since := at(0).Add(-time.Hour)
	campaignReads := emailEventsAPI(t, h, since)
	got, err := h.c.EmailEvents(context.Background(), since, 0)
	if err != nil {
		t.Fatal(err)
	}
	var summary []string
	for _, e := range got {
		summary = append(summary, e.EventType+" "+e.ContactEmail+" "+e.OccurredAt.Format("15:04")+" "+e.EmailName)
	}
	want := []string{"SENT ada@example.com 12:00 November newsletter", "SENT alan@example.com 12:00 ",
		"OPEN ada@example.com 12:03 November newsletter", "CLICK ada@example.com 12:04 November newsletter"}
	if !slices.Equal(summary, want) {
		t.Fatalf("events (oldest first, SENT/OPEN/CLICK only) =\n%q\nwant\n%q", summary, want)
	}
	click := got[3]
	if click.Type != crmsync.HSMarketingEmailEvent || click.ID != "2d6d6db1-6275-3abc-a3b5-2d9e68ac96d6" ||
		click.EmailCampaignID != "412660005" || click.URL != "https://www.example.com/offer?utm_campaign=november" {
		t.Errorf("click = %+v", click)
	}
	// The campaign is read once per campaign, the missing one included.
	if _, err := h.c.EmailEvents(context.Background(), since, 0); err != nil {
		t.Fatal(err)
	}
	if n := campaignReads.Load(); n != 2 {
		t.Errorf("campaigns read %d times, want 2 (one per campaign, cached)", n)
	}
}

// eventLog is a fake email events API over many events, answering as
// HubSpot does: the window's events newest first, limit per page, an
// offset for the next page.
type eventLog struct {
	t      *testing.T
	events []wireEmailEvent // oldest first
	calls  atomic.Int32
}

func (l *eventLog) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	l.calls.Add(1)
	q := r.URL.Query()
	start, _ := strconv.ParseInt(q.Get("startTimestamp"), 10, 64)
	end, _ := strconv.ParseInt(q.Get("endTimestamp"), 10, 64)
	limit, _ := strconv.Atoi(q.Get("limit"))
	offset, _ := strconv.Atoi(q.Get("offset"))
	var match []wireEmailEvent
	for _, e := range slices.Backward(l.events) {
		if e.Created >= start && e.Created <= end {
			match = append(match, e)
		}
	}
	page := match[min(offset, len(match)):min(offset+limit, len(match))]
	body := map[string]any{"events": page, "hasMore": offset+limit < len(match), "offset": strconv.Itoa(offset + limit)}
	w.Header().Set("Content-Type", "application/json")
	json.NewEncoder(w).Encode(body)
}

func TestEmailEventsLimitReadsOnlyTheOldest(t *testing.T) {
	h := newHarness(t)
	base := at(0).Add(-2 * time.Hour)
	log := &eventLog{t: t}
	types := []string{"SENT", "DELIVERED", "OPEN"}
	for i := range 3000 {
		log.events = append(log.events, wireEmailEvent{ID: "ev-" + strconv.Itoa(i), Created: base.Add(time.Duration(i) * time.Second).UnixMilli(),
			Type: types[i%3], Recipient: "r" + strconv.Itoa(i) + "@example.com", EmailCampaignID: 412660005})
	}
	h.handle("GET /email/public/v1/events", log.ServeHTTP)
	h.handle("GET /email/public/v1/campaigns/{id}", func(w http.ResponseWriter, r *http.Request) { serve(t, w, 200, "email-campaign.json") })

	got, err := h.c.EmailEvents(context.Background(), base, 100)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 100 {
		t.Fatalf("%d events, want 100", len(got))
	}
	for i, e := range got {
		// The kept types are SENT and OPEN: events 0, 2, 3, 5, 6 …
		n := i/2*3 + i%2*2
		if e.ID != "ev-"+strconv.Itoa(n) {
			t.Fatalf("event %d = %s, want ev-%d (the oldest, in order)", i, e.ID, n)
		}
	}
	t.Logf("%d calls for the 100 oldest", log.calls.Load())
	if n := log.calls.Load(); n > 4 {
		t.Errorf("%d calls for the 100 oldest of 3000 events; the feed should not read everything newer", n)
	}

	log.calls.Store(0)
	all, err := h.c.EmailEvents(context.Background(), base, 0)
	if err != nil || len(all) != 2000 {
		t.Fatalf("no limit: %d events, %v; want every SENT and OPEN (2000)", len(all), err)
	}
	if n := log.calls.Load(); n != 3 {
		t.Errorf("no limit: %d calls, want 3 pages of 1000", n)
	}
	// Resuming at the last event's time continues where the poll stopped.
	next, err := h.c.EmailEvents(context.Background(), got[99].OccurredAt, 100)
	if err != nil || len(next) != 100 || next[0].ID != got[99].ID || next[1].ID == got[98].ID {
		t.Errorf("resumed poll starts with %v, %v", next[:min(2, len(next))], err)
	}
}

func TestActivityFeedRateLimits(t *testing.T) {
	h := newHarness(t)
	var n atomic.Int32
	h.handle("GET /form-integrations/v1/submissions/forms/{id}", func(w http.ResponseWriter, r *http.Request) {
		serve(t, w, 200, "submissions-no-conversion-id.json")
	})
	h.handle("GET /marketing/v3/forms/", func(w http.ResponseWriter, r *http.Request) {
		if n.Add(1) == 1 {
			w.Header().Set("Retry-After", "2")
			serve(t, w, 429, "error-429-ten-secondly.json")
			return
		}
		serve(t, w, 200, "forms-page-2.json")
	})
	got, err := h.c.FormSubmissions(context.Background(), at(0), 0)
	if err != nil || len(got) != 1 {
		t.Fatalf("after a ten-secondly 429: %v, %v", got, err)
	}
	if s := h.sleeps(); len(s) == 0 || s[0] < 2*time.Second {
		t.Errorf("slept %v, want Retry-After 2s first", s)
	}

	h.handle("GET /email/public/v1/events", func(w http.ResponseWriter, r *http.Request) { serve(t, w, 429, "error-429-daily.json") })
	_, err = h.c.EmailEvents(context.Background(), at(0), 10)
	var rl *RateLimitError
	if !errors.As(err, &rl) || !rl.Daily() || !errors.Is(err, crmsync.ErrBudget) || !crmsync.IsTransient(err) {
		t.Errorf("daily 429 = %v, want a daily RateLimitError (ErrBudget, transient)", err)
	}
}

func TestEmailCampaignNotFound(t *testing.T) {
	h := newHarness(t)
	h.handle("GET /email/public/v1/campaigns/{id}", func(w http.ResponseWriter, r *http.Request) { serve(t, w, 404, "error-not-found.json") })
	_, err := h.c.EmailCampaign(context.Background(), 7)
	var apiErr *APIError
	if !errors.Is(err, crmsync.ErrNotFound) || !errors.As(err, &apiErr) || apiErr.Op != "get email campaign 7" {
		t.Errorf("error = %v, want a not-found APIError", err)
	}
}
