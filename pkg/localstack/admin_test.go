package localstack

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/crmsync/crmsync/pkg/boltstore"
	"github.com/crmsync/crmsync/pkg/crmsync"
	"github.com/crmsync/crmsync/pkg/engine"
	"github.com/crmsync/crmsync/pkg/localqueue"
)

var discard = slog.New(slog.NewTextHandler(io.Discard, nil))

type adminFixture struct {
	url   string
	queue *localqueue.Queue
	store *boltstore.Store
}

func newAdminFixture(t *testing.T, q crmsync.Queue) adminFixture {
	t.Helper()
	st, err := boltstore.Open(filepath.Join(t.TempDir(), "state.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	lq := localqueue.New(localqueue.Options{ReceiveWait: -1})
	if q == nil {
		q = lq
	}
	mux := http.NewServeMux()
	mux.Handle(AdminPath, &Admin{Queue: q, Store: st, Logger: discard})
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	return adminFixture{url: srv.URL, queue: lq, store: st}
}

func post(t *testing.T, url, body string) (int, ResyncResponse) {
	t.Helper()
	resp, err := http.Post(url, "application/json", strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var rr ResyncResponse
	if err := json.NewDecoder(resp.Body).Decode(&rr); err != nil {
		t.Fatalf("POST %s: decode answer: %v", url, err)
	}
	return resp.StatusCode, rr
}

// drain receives every visible message.
func drain(t *testing.T, q *localqueue.Queue) []crmsync.Trigger {
	t.Helper()
	var out []crmsync.Trigger
	for {
		ms, err := q.Receive(context.Background(), 10, time.Minute)
		if err != nil {
			t.Fatal(err)
		}
		if len(ms) == 0 {
			return out
		}
		for _, m := range ms {
			out = append(out, m.Trigger)
			if err := q.Delete(context.Background(), m.Receipt); err != nil {
				t.Fatal(err)
			}
		}
	}
}

func TestAdminResyncEnqueuesManualResync(t *testing.T) {
	f := newAdminFixture(t, nil)
	ref := crmsync.RecordRef{Side: crmsync.Salesforce, Object: crmsync.SFLead, ID: "00Q000000000001"}
	var keys []string
	for range 2 {
		status, rr := post(t, f.url+"/_crmsync/resync", `{"side":"salesforce","object":"Lead","id":"00Q000000000001"}`)
		if status != http.StatusAccepted || len(rr.Enqueued) != 1 || rr.Enqueued[0].Record != ref || rr.Enqueued[0].DedupeKey == "" {
			t.Fatalf("resync = %d %+v", status, rr)
		}
		keys = append(keys, rr.Enqueued[0].DedupeKey)
	}
	if keys[0] == keys[1] {
		t.Fatalf("two resyncs of one record share dedupe key %s: the second would be dropped", keys[0])
	}
	got := drain(t, f.queue)
	if len(got) != 2 {
		t.Fatalf("queue holds %d triggers, want 2: %+v", len(got), got)
	}
	for i, tr := range got {
		if tr.Kind != crmsync.KindManualResync || tr.Record != ref || tr.DedupeKey != keys[i] || tr.DeliveryID != crmsync.DeliveryResync {
			t.Errorf("trigger %d = %+v, want manual_resync of %s with key %s", i, tr, ref, keys[i])
		}
	}
}

func TestAdminRefusesBadInput(t *testing.T) {
	f := newAdminFixture(t, nil)
	for _, tc := range []struct{ path, body string }{
		{"/_crmsync/resync", `{"side":"zoho","object":"contact","id":"1"}`},
		{"/_crmsync/resync", `{"side":"hubspot","object":"Lead","id":"1"}`},
		{"/_crmsync/resync", `{"side":"hubspot","object":"contact"}`},
		{"/_crmsync/resync", `{"side":"hubspot",`},
		{"/_crmsync/resync", `{"side":"hubspot","object":"contact","id":"1","extra":true}`},
		{"/_crmsync/resync-errors", `{"category":"Typos"}`},
	} {
		status, rr := post(t, f.url+tc.path, tc.body)
		if status != http.StatusBadRequest || rr.Error == "" {
			t.Errorf("POST %s %s = %d %+v, want 400 with an error", tc.path, tc.body, status, rr)
		}
	}
	resp, err := http.Get(f.url + "/_crmsync/resync")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusMethodNotAllowed || resp.Header.Get("Allow") != "POST" {
		t.Errorf("GET = %d (Allow %q), want 405", resp.StatusCode, resp.Header.Get("Allow"))
	}
	if got := drain(t, f.queue); len(got) != 0 {
		t.Errorf("bad input enqueued %+v", got)
	}
}

func TestAdminAnswersLoopbackOnly(t *testing.T) {
	q := localqueue.New(localqueue.Options{ReceiveWait: -1})
	a := &Admin{Queue: q, Logger: discard}
	req := httptest.NewRequest(http.MethodPost, "/_crmsync/resync", strings.NewReader(`{"side":"hubspot","object":"contact","id":"1"}`))
	req.RemoteAddr = "192.0.2.1:1234"
	w := httptest.NewRecorder()
	a.ServeHTTP(w, req)
	if w.Code != http.StatusForbidden {
		t.Fatalf("from 192.0.2.1: %d, want 403", w.Code)
	}
	if got := drain(t, q); len(got) != 0 {
		t.Errorf("a remote caller enqueued %+v", got)
	}
}

func TestAdminResyncErrors(t *testing.T) {
	f := newAdminFixture(t, nil)
	ctx := context.Background()
	at := time.Date(2026, 11, 1, 9, 0, 0, 0, time.UTC)
	dup := crmsync.RecordRef{Side: crmsync.HubSpot, Object: crmsync.HSContact, ID: "2"}
	noMail := crmsync.RecordRef{Side: crmsync.HubSpot, Object: crmsync.HSContact, ID: "3"}
	for _, e := range []crmsync.SyncError{
		crmsync.NotEligible(dup, crmsync.ReasonFlaggedDuplicate, "email owned by another link", at),
		crmsync.NotEligible(noMail, crmsync.ReasonNoEmail, "no email", at),
	} {
		if err := f.store.PutSyncError(ctx, e); err != nil {
			t.Fatal(err)
		}
	}
	status, rr := post(t, f.url+"/_crmsync/resync-errors", `{"category":"Duplicates"}`)
	if status != http.StatusAccepted || len(rr.Enqueued) != 1 || rr.Enqueued[0].Record != dup {
		t.Fatalf("resync-errors Duplicates = %d %+v", status, rr)
	}
	if got := drain(t, f.queue); len(got) != 1 || got[0].Record != dup || got[0].Kind != crmsync.KindManualResync {
		t.Fatalf("queue after Duplicates: %+v", got)
	}
	status, rr = post(t, f.url+"/_crmsync/resync-errors", ``)
	if status != http.StatusAccepted || len(rr.Enqueued) != 2 {
		t.Fatalf("resync-errors = %d %+v", status, rr)
	}
	got := drain(t, f.queue)
	if len(got) != 2 || got[0].Record != dup || got[1].Record != noMail || got[0].DeliveryID != crmsync.DeliveryResyncErrors {
		t.Fatalf("queue after all: %+v", got)
	}
}

// failingQueue fails every Send with err.
type failingQueue struct {
	crmsync.Queue
	err error
}

func (q failingQueue) Send(ctx context.Context, ts []crmsync.Trigger) error { return q.err }

type transientErr struct{}

func (transientErr) Error() string   { return "queue throttled" }
func (transientErr) Transient() bool { return true }

func TestAdminReportsQueueFailures(t *testing.T) {
	body := `{"side":"hubspot","object":"contact","id":"1"}`
	f := newAdminFixture(t, failingQueue{err: transientErr{}})
	if status, rr := post(t, f.url+"/_crmsync/resync", body); status != http.StatusServiceUnavailable || len(rr.Enqueued) != 0 {
		t.Errorf("transient failure = %d %+v, want 503", status, rr)
	}
	f = newAdminFixture(t, failingQueue{err: &crmsync.SendError{Failed: map[int]error{0: transientErr{}}}})
	if status, rr := post(t, f.url+"/_crmsync/resync", body); status != http.StatusServiceUnavailable || len(rr.Enqueued) != 0 || !strings.Contains(rr.Error, "0 of 1") {
		t.Errorf("failed entry = %d %+v, want 503 listing nothing enqueued", status, rr)
	}
}

// The running stack serves Admin on the receivers' port: with webhooks
// off nothing syncs a new contact until it is resynced by hand.
func TestStackServesAdminOnReceiverPort(t *testing.T) {
	st, err := boltstore.Open(filepath.Join(t.TempDir(), "state.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	outcomes := make(chan engine.Outcome, 100)
	s, err := Start(context.Background(), Config{Store: st, Queue: localqueue.New(localqueue.Options{MaxReceives: 5}),
		NoWebhooks: true, Logger: discard, OnOutcome: func(o engine.Outcome) { outcomes <- o }})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	c, err := s.HubSpot.CreateAsUser(crmsync.HSContact, map[string]string{"email": "hand@example.com", "lastname": "Hand", "company": "H"})
	if err != nil {
		t.Fatal(err)
	}
	status, rr := post(t, s.ReceiverURL+"/_crmsync/resync", `{"side":"hubspot","object":"contact","id":"`+c.ID+`"}`)
	if status != http.StatusAccepted || len(rr.Enqueued) != 1 {
		t.Fatalf("resync = %d %+v", status, rr)
	}
	select {
	case o := <-outcomes:
		if o.Trigger.Kind != crmsync.KindManualResync || o.Trigger.DedupeKey != rr.Enqueued[0].DedupeKey || o.Decision != engine.DecisionSynced {
			t.Fatalf("outcome = %+v, want the resync to sync", o)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("the worker resolved nothing within 30 s of the resync")
	}
	if leads := s.Salesforce.Records("Lead"); len(leads) != 1 || leads[0]["Email"] != "hand@example.com" {
		t.Errorf("Salesforce leads after the resync: %v", leads)
	}
}

// The read and settings routes through AdminClient: what the CLI sees
// while the stack holds the file.
func TestAdminClientRoutes(t *testing.T) {
	f := newAdminFixture(t, nil)
	ctx := context.Background()
	c := &AdminClient{BaseURL: f.url}
	at := time.Date(2026, 11, 1, 9, 0, 0, 0, time.UTC)
	ref := crmsync.RecordRef{Side: crmsync.HubSpot, Object: crmsync.HSContact, ID: "5"}
	if err := f.store.PutSyncError(ctx, crmsync.NotEligible(ref, crmsync.ReasonNoEmail, "no email", at)); err != nil {
		t.Fatal(err)
	}

	rep, err := c.Errors(ctx, "", 0)
	if err != nil || rep.Total != 1 || len(rep.Errors) != 1 || rep.Errors[0].Record != ref {
		t.Errorf("Errors = %+v, %v", rep, err)
	}
	if _, err := c.Errors(ctx, "Typos", 0); !errors.Is(err, crmsync.ErrInvalid) {
		t.Errorf("Errors of an unknown category = %v, want ErrInvalid", err)
	}
	x, err := c.Explain(ctx, ref, 10)
	if err != nil || x.Record != ref || len(x.SyncErrors) != 1 || x.Link != nil {
		t.Errorf("Explain = %+v, %v", x, err)
	}
	if _, err := c.Explain(ctx, crmsync.RecordRef{Side: "zoho", Object: "contact", ID: "1"}, 0); !errors.Is(err, crmsync.ErrInvalid) {
		t.Errorf("Explain of a bad ref = %v, want ErrInvalid", err)
	}

	s, err := c.Settings(ctx)
	if err != nil || s.Version != 0 || !s.Objects.Contacts || len(s.Mappings) == 0 {
		t.Fatalf("Settings = %+v, %v; want the defaults", s.Objects, err)
	}
	s.Objects.Deals = true
	stored, err := c.PutSettings(ctx, s)
	if err != nil || stored.Version != 1 {
		t.Fatalf("PutSettings = v%d, %v", stored.Version, err)
	}
	if got, err := f.store.GetSettings(ctx); err != nil || !got.Objects.Deals {
		t.Errorf("stored settings = %+v, %v", got.Objects, err)
	}
	if _, err := c.PutSettings(ctx, s); !errors.Is(err, crmsync.ErrVersionConflict) {
		t.Errorf("stale PutSettings = %v, want ErrVersionConflict", err)
	}
	bad := stored
	bad.DefaultRule = "sometimes"
	if _, err := c.PutSettings(ctx, bad); !errors.Is(err, crmsync.ErrInvalid) {
		t.Errorf("invalid PutSettings = %v, want ErrInvalid", err)
	}

	// What this stack cannot do is 501, not a failure of the call.
	for _, call := range []func() error{
		func() error { _, err := c.Redrive(ctx, time.Time{}, time.Time{}); return err },
		func() error { _, _, err := c.ResyncList(ctx, ResyncListRequest{ListID: "1"}); return err },
	} {
		var ae *AdminError
		if err := call(); !errors.As(err, &ae) || ae.Status != http.StatusNotImplemented {
			t.Errorf("= %v, want 501", err)
		}
	}
	resp, err := http.Post(f.url+"/_crmsync/settings", "application/json", strings.NewReader("{}"))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusMethodNotAllowed || resp.Header.Get("Allow") != "GET, PUT" {
		t.Errorf("POST settings = %d (Allow %q), want 405 GET, PUT", resp.StatusCode, resp.Header.Get("Allow"))
	}
}

// The stack tells which data file it holds, so the CLI knows it reached
// the right one.
func TestAdminInfo(t *testing.T) {
	a := &Admin{DataFile: "/var/lib/crmsync/state.db", Logger: discard}
	srv := httptest.NewServer(a)
	defer srv.Close()
	info, err := (&AdminClient{BaseURL: srv.URL}).Info(context.Background())
	if err != nil || info.DataFile != a.DataFile {
		t.Errorf("Info = %+v, %v", info, err)
	}
	other := httptest.NewServer(http.NotFoundHandler())
	defer other.Close()
	var ae *AdminError
	if _, err := (&AdminClient{BaseURL: other.URL}).Info(context.Background()); !errors.As(err, &ae) || !strings.Contains(err.Error(), "not an admin answer") {
		t.Errorf("Info of something else = %v", err)
	}
}
