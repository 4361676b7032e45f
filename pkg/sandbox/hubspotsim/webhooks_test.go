package hubspotsim_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/crmsync/crmsync/pkg/crmsync"
	"github.com/crmsync/crmsync/pkg/httpapi"
	"github.com/crmsync/crmsync/pkg/hubspot"
	"github.com/crmsync/crmsync/pkg/sandbox/hubspotsim"
)

const hookSecret = "sim-app-client-secret"

// sink is crmsync's real webhook receiver behind net/http, with a queue
// double that can fail, a log of the attemptNumbers it was sent, and the
// trigger of every event of each accepted delivery (the receiver itself
// coalesces a record's events; these tests are about the events).
type sink struct {
	mu       sync.Mutex
	triggers []crmsync.Trigger
	attempts []int
	fail     func() error
}

// accepted records the events of a delivery the receiver accepted.
func (s *sink) accepted(body []byte) {
	evs, err := hubspot.ParseEvents(body)
	if err != nil {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	for i := range evs {
		if t, err := evs[i].Trigger(); err == nil {
			s.triggers = append(s.triggers, t)
		}
	}
}

func (s *sink) Send(_ context.Context, ts []crmsync.Trigger) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.fail != nil {
		if err := s.fail(); err != nil {
			return err
		}
	}
	return nil
}

func (s *sink) got() []crmsync.Trigger {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.triggers)
}

type transient struct{}

func (transient) Error() string   { return "queue unavailable" }
func (transient) Transient() bool { return true }

// newWebhookEnv starts a receiver at a URL with escapes in its query (the
// signature must survive HubSpot's decoding rules) and a portal sending
// to it.
func newWebhookEnv(t *testing.T, secret string, cfg hubspotsim.Config) (*env, *sink) {
	t.Helper()
	s := &sink{}
	// Now is set to the portal's clock once the portal exists (the hook
	// server's URL is needed first).
	recv := &hubspot.WebhookReceiver{Secrets: []string{"old-secret", hookSecret}, Queue: s,
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil))}
	h := httpapi.Handler(recv.Handle)
	hook := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		var evs []struct {
			AttemptNumber int `json:"attemptNumber"`
		}
		json.Unmarshal(body, &evs)
		s.mu.Lock()
		for _, e := range evs {
			s.attempts = append(s.attempts, e.AttemptNumber)
		}
		s.mu.Unlock()
		r.Body = io.NopCloser(bytes.NewReader(body))
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, r)
		if rec.Code == http.StatusNoContent {
			s.accepted(body)
		}
		for k, v := range rec.Header() {
			w.Header()[k] = v
		}
		w.WriteHeader(rec.Code)
		w.Write(rec.Body.Bytes())
	}))
	t.Cleanup(hook.Close)
	cfg.Webhook = hubspotsim.WebhookConfig{URL: hook.URL + "/hooks/hubspot?portal=62515&next=%2Fsync%3Fa%3Db", Secret: secret,
		RetryDelay: time.Millisecond, MaxBatch: cfg.Webhook.MaxBatch, MaxAttempts: cfg.Webhook.MaxAttempts}
	e := newEnv(t, cfg)
	recv.Now = e.clock.Now
	return e, s
}

func byKind(ts []crmsync.Trigger, k crmsync.TriggerKind) []crmsync.Trigger {
	var out []crmsync.Trigger
	for _, t := range ts {
		if t.Kind == k {
			out = append(out, t)
		}
	}
	return out
}

func TestWebhooksEndToEnd(t *testing.T) {
	e, s := newWebhookEnv(t, hookSecret, hubspotsim.Config{})
	// Through the API (crmsync's own writes) …
	api, err := e.client.CreateObject(ctx, crmsync.HSContact, map[string]string{"email": "api@example.com"}, nil)
	if err != nil {
		t.Fatal(err)
	}
	// … and as people in the UI.
	var ids []string
	for i := 0; i < 250; i++ {
		o, err := e.portal.CreateAsUser(crmsync.HSContact, map[string]string{"firstname": "n"})
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, o.ID)
	}
	company, _ := e.portal.CreateAsUser(crmsync.HSCompany, map[string]string{"name": "Biglytics"})
	note, _ := e.portal.CreateAsUser(crmsync.HSNote, map[string]string{"hs_note_body": "called"})
	if _, err := e.portal.MergeContacts(ids[0], ids[1]); err != nil {
		t.Fatal(err)
	}
	if err := e.portal.Associate(crmsync.HSContact, ids[0], crmsync.HSCompany, company.ID); err != nil {
		t.Fatal(err)
	}
	if err := e.portal.DeleteAsUser(crmsync.HSContact, ids[2]); err != nil {
		t.Fatal(err)
	}
	if err := e.portal.RestoreAsUser(crmsync.HSContact, ids[2]); err != nil {
		t.Fatal(err)
	}
	if err := e.portal.FlushWebhooks(ctx); err != nil {
		t.Fatal(err)
	}
	for _, d := range e.portal.Deliveries() {
		if d.Events > 100 || d.Status != http.StatusNoContent {
			t.Errorf("delivery %+v: want ≤ 100 events answered 204 (signature verified by the real receiver)", d)
		}
	}
	if len(e.portal.Deliveries()) < 6 {
		t.Errorf("%d deliveries for 500+ events, want batches of ≤ 100", len(e.portal.Deliveries()))
	}
	got := s.got()
	created := byKind(got, crmsync.KindCreated)
	if len(created) != 253 {
		t.Errorf("%d creation triggers, want 253", len(created))
	}
	for _, tr := range created {
		want := "CRM_UI/userId:2620022"
		if tr.Record.ID == api.ID {
			want = "INTEGRATION/1160452"
		}
		if tr.ChangeSource != want || tr.AppID != "1160452" {
			t.Errorf("%s: change source %q app %q, want %q", tr.Record.ID, tr.ChangeSource, tr.AppID, want)
		}
	}
	if n := byKind(got, crmsync.KindCreated); !slices.ContainsFunc(n, func(tr crmsync.Trigger) bool { return tr.Record.Object == crmsync.HSNote && tr.Record.ID == note.ID }) {
		t.Error("no trigger for the note (object.creation with objectTypeId 0-46)")
	}
	merged := byKind(got, crmsync.KindMerged)
	if len(merged) != 1 || merged[0].Record.ID != ids[0] || !slices.Equal(merged[0].MergedIDs, []string{ids[1]}) {
		t.Errorf("merge triggers %+v", merged)
	}
	assoc := byKind(got, crmsync.KindAssociationChanged)
	if len(assoc) != 2 {
		t.Fatalf("association triggers %+v, want one per side", assoc)
	}
	for _, a := range assoc {
		if a.Association == nil || a.Association.Removed || (a.Record.ID != ids[0] && a.Record.ID != company.ID) {
			t.Errorf("association trigger %+v", a)
		}
	}
	if d := byKind(got, crmsync.KindDeleted); len(d) != 1 || d[0].Record.ID != ids[2] {
		t.Errorf("deleted %+v", d)
	}
	if r := byKind(got, crmsync.KindRestored); len(r) != 1 || r[0].Record.ID != ids[2] {
		t.Errorf("restored %+v", r)
	}
	if p := byKind(got, crmsync.KindPropertyChanged); len(p) < 251 {
		t.Errorf("%d property-change triggers", len(p))
	}
}

// TestWebhookRetries: a receiver whose queue is down answers 503; the
// portal retries with attemptNumber 1, 2, … and the events arrive with
// the dedupe keys they would have had the first time.
func TestWebhookRetries(t *testing.T) {
	e, s := newWebhookEnv(t, hookSecret, hubspotsim.Config{})
	fails := 2
	s.fail = func() error {
		if fails > 0 {
			fails--
			return transient{}
		}
		return nil
	}
	if _, err := e.portal.CreateAsUser(crmsync.HSDeal, map[string]string{"dealname": "Big"}); err != nil {
		t.Fatal(err)
	}
	if err := e.portal.FlushWebhooks(ctx); err != nil {
		t.Fatal(err)
	}
	var statuses, attempts []int
	for _, d := range e.portal.Deliveries() {
		statuses, attempts = append(statuses, d.Status), append(attempts, d.Attempt)
	}
	if !slices.Equal(statuses, []int{503, 503, 204}) || !slices.Equal(attempts, []int{0, 1, 2}) {
		t.Fatalf("deliveries: statuses %v attempts %v", statuses, attempts)
	}
	s.mu.Lock()
	sent := slices.Clone(s.attempts)
	s.mu.Unlock()
	if !slices.Equal(sent, []int{0, 0, 1, 1, 2, 2}) { // creation + propertyChange, three times
		t.Errorf("attemptNumbers in bodies %v", sent)
	}
	if got := s.got(); len(got) != 2 {
		t.Errorf("%d triggers, want 2", len(got))
	}
}

func TestWebhookGivesUp(t *testing.T) {
	// A receiver that does not know the secret answers 401 every time.
	e, s := newWebhookEnv(t, "a-secret-the-receiver-does-not-know", hubspotsim.Config{Webhook: hubspotsim.WebhookConfig{MaxAttempts: 4}})
	if _, err := e.portal.CreateAsUser(crmsync.HSCompany, map[string]string{"name": "x"}); err != nil {
		t.Fatal(err)
	}
	if err := e.portal.FlushWebhooks(ctx); err == nil || !strings.Contains(err.Error(), "dropped") {
		t.Fatalf("flush: %v, want a drop", err)
	}
	d := e.portal.Deliveries()
	if len(d) != 4 || d[3].Attempt != 3 || d[0].Status != 401 {
		t.Errorf("deliveries %+v", d)
	}
	if len(s.got()) != 0 || e.portal.Pending() != 0 {
		t.Errorf("triggers %d, pending %d", len(s.got()), e.portal.Pending())
	}
}

// TestWebhookDuplicateAndReorder: duplicated and reordered deliveries
// carry the same dedupe keys as clean ones.
func TestWebhookDuplicateAndReorder(t *testing.T) {
	run := func(f hubspotsim.Faults) ([]string, int) {
		e, s := newWebhookEnv(t, hookSecret, hubspotsim.Config{Seed: 9})
		e.portal.SetFaults(f)
		for i := 0; i < 30; i++ {
			if _, err := e.portal.CreateAsUser(crmsync.HSContact, map[string]string{"firstname": "x"}); err != nil {
				t.Fatal(err)
			}
		}
		if err := e.portal.FlushWebhooks(ctx); err != nil {
			t.Fatal(err)
		}
		var keys []string
		for _, tr := range s.got() {
			keys = append(keys, tr.DedupeKey)
		}
		n := len(keys)
		slices.Sort(keys)
		return slices.Compact(keys), n
	}
	clean, n := run(hubspotsim.Faults{})
	chaos, m := run(hubspotsim.Faults{DuplicateWebhook: 1, ReorderWebhook: 1})
	if n != 60 || m != 120 {
		t.Errorf("%d clean and %d chaotic triggers, want 60 and 120", n, m)
	}
	if !slices.Equal(clean, chaos) {
		t.Error("duplicated/reordered deliveries produced other dedupe keys")
	}
}

// TestRunDelivers: a running portal delivers changes without a flush.
func TestRunDelivers(t *testing.T) {
	e, s := newWebhookEnv(t, hookSecret, hubspotsim.Config{})
	runCtx, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() { e.portal.Run(runCtx, 5*time.Millisecond, func(err error) { t.Error(err) }); close(done) }()
	defer func() { cancel(); <-done }()
	if _, err := e.portal.CreateAsUser(crmsync.HSDeal, map[string]string{"dealname": "x"}); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(10 * time.Second)
	for len(s.got()) < 2 && time.Now().Before(deadline) {
		time.Sleep(5 * time.Millisecond)
	}
	if got := s.got(); len(got) != 2 {
		t.Fatalf("%d triggers delivered by Run, want 2", len(got))
	}
}

// A change is attributed to the app whose token made it: crmsync's own
// writes carry its app id as sourceId, another integration's carry that
// integration's, so the engine can tell its echoes from other apps.
func TestChangesAreAttributedToTheTokensApp(t *testing.T) {
	e, s := newWebhookEnv(t, hookSecret, hubspotsim.Config{Apps: map[string]int64{"other-app-token": 777}})
	own, err := e.client.CreateObject(ctx, crmsync.HSContact, map[string]string{"email": "own@example.com"}, nil)
	if err != nil {
		t.Fatal(err)
	}
	other, err := hubspot.NewClient(hubspot.WithBaseURL(e.srv.URL+prefix), hubspot.WithHTTPClient(e.srv.Client()),
		hubspot.WithPrivateAppToken("other-app-token"), hubspot.WithRateLimit(0, 0), hubspot.WithSearchRateLimit(0, 0))
	if err != nil {
		t.Fatal(err)
	}
	theirs, err := other.CreateObject(ctx, crmsync.HSContact, map[string]string{"email": "theirs@example.com"}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := e.portal.FlushWebhooks(ctx); err != nil {
		t.Fatal(err)
	}
	for _, tr := range byKind(s.got(), crmsync.KindCreated) {
		want := map[string]string{own.ID: "INTEGRATION/1160452", theirs.ID: "INTEGRATION/777"}[tr.Record.ID]
		if tr.ChangeSource != want {
			t.Errorf("%s: change source %q, want %q", tr.Record.ID, tr.ChangeSource, want)
		}
	}
}
