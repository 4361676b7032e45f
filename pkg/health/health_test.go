package health

import (
	"context"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"github.com/crmsync/crmsync/pkg/boltstore"
	"github.com/crmsync/crmsync/pkg/crmsync"
	"github.com/crmsync/crmsync/pkg/crmsynctest"
	"github.com/crmsync/crmsync/pkg/ddbstore"
	"github.com/crmsync/crmsync/pkg/engine"
	"github.com/crmsync/crmsync/pkg/localqueue"
)

func newBolt(t testing.TB) crmsync.Store {
	t.Helper()
	st, err := boltstore.Open(filepath.Join(t.TempDir(), "state.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	return st
}

func newDynamo(t testing.TB) crmsync.Store {
	t.Helper()
	ep := crmsynctest.Endpoint(t, crmsynctest.EnvDynamoDB, "DynamoDB Local", "health usage and cards/ddbstore")
	ddb := dynamodb.New(dynamodb.Options{Region: "us-east-1", BaseEndpoint: aws.String(ep),
		Credentials: credentials.NewStaticCredentialsProvider("test", "test", "")})
	table := fmt.Sprintf("health-%d", time.Now().UnixNano())
	if err := ddbstore.CreateTable(context.Background(), ddb, table); err != nil {
		t.Fatal(err)
	}
	return ddbstore.New(ddb, table)
}

// stores runs f over each store: bbolt always, DynamoDB Local when make
// test provides it.
func stores(t *testing.T, f func(t *testing.T, st crmsync.Store)) {
	t.Run("boltstore", func(t *testing.T) { f(t, newBolt(t)) })
	t.Run("ddbstore", func(t *testing.T) { f(t, newDynamo(t)) })
}

// newHandler is a handler over st and a local queue, with the defaults as
// the settings when none are stored.
func newHandler(st crmsync.Store, now time.Time) (*Handler, *localqueue.Queue) {
	q := localqueue.New(localqueue.Options{MaxReceives: 3})
	return &Handler{Store: st, Queue: q, DeadLetters: q.DeadLetters(), Now: func() time.Time { return now },
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil)),
		Settings: func(ctx context.Context) (crmsync.Settings, error) {
			s, err := st.GetSettings(ctx)
			if errors.Is(err, crmsync.ErrNotFound) {
				return crmsync.DefaultSettings(), nil
			}
			return s, err
		}}, q
}

func TestHourlyUsage(t *testing.T) {
	stores(t, func(t *testing.T, st crmsync.Store) {
		ctx := t.Context()
		now := time.Date(2026, 12, 3, 10, 37, 0, 0, time.UTC)
		for _, a := range []struct {
			side crmsync.Side
			at   time.Time
			n    int
		}{
			{crmsync.Salesforce, now.Add(-30 * time.Hour), 1000},                    // before the chart
			{crmsync.Salesforce, time.Date(2026, 12, 2, 11, 0, 0, 0, time.UTC), 3},  // first hour, its first bucket
			{crmsync.Salesforce, time.Date(2026, 12, 2, 10, 59, 0, 0, time.UTC), 7}, // the hour before it
			{crmsync.Salesforce, time.Date(2026, 12, 3, 9, 59, 59, 0, time.UTC), 5},
			{crmsync.Salesforce, time.Date(2026, 12, 3, 10, 0, 0, 0, time.UTC), 11},
			{crmsync.Salesforce, time.Date(2026, 12, 3, 10, 36, 0, 0, time.UTC), 2},
			{crmsync.HubSpot, time.Date(2026, 12, 3, 10, 10, 0, 0, time.UTC), 40}, // other side
		} {
			if err := st.AddAPIUsage(ctx, a.side, a.at, a.n); err != nil {
				t.Fatal(err)
			}
		}
		hours, err := hourlyUsage(ctx, st, crmsync.Salesforce, now)
		if err != nil {
			t.Fatal(err)
		}
		if len(hours) != 24 || !hours[0].Start.Equal(time.Date(2026, 12, 2, 11, 0, 0, 0, time.UTC)) || !hours[23].Start.Equal(now.Truncate(time.Hour)) {
			t.Fatalf("hours from %v to %v (%d)", hours[0].Start, hours[len(hours)-1].Start, len(hours))
		}
		want := map[int]int64{0: 3, 22: 5, 23: 13}
		for i, h := range hours {
			if h.Calls != want[i] {
				t.Errorf("hour %d (%s) = %d calls, want %d", i, h.Start.Format("15:04"), h.Calls, want[i])
			}
		}
	})
}

// putErrors stores n errors of each kind: vendor Custom code errors,
// no-email refusals (Property values) and vendor Property values errors.
func putErrors(t testing.TB, st crmsync.Store, n int, now time.Time) {
	t.Helper()
	for i := range n {
		ref := func(p string) crmsync.RecordRef {
			return crmsync.RecordRef{Side: crmsync.HubSpot, Object: crmsync.HSContact, ID: fmt.Sprintf("%s%04d", p, i)}
		}
		for _, e := range []crmsync.SyncError{
			{Record: ref("1"), Category: crmsync.CategoryCustomCode, Code: "FIELD_CUSTOM_VALIDATION_EXCEPTION",
				Message: "Blocked <script>alert(1)</script> may not be a lead", Attempts: 2},
			crmsync.NotEligible(ref("2"), crmsync.ReasonNoEmail, "the contact has no email", now),
			{Record: ref("3"), Category: crmsync.CategoryPropertyValues, Code: "INVALID_OR_NULL_FOR_RESTRICTED_PICKLIST",
				Message: "=cmd|' /C calc'!A0 is not a State", Attempts: 1},
		} {
			e.FirstSeen, e.LastSeen = now, now
			if err := st.PutSyncError(context.Background(), e); err != nil {
				t.Fatal(err)
			}
		}
	}
}

func TestCards(t *testing.T) {
	stores(t, func(t *testing.T, st crmsync.Store) {
		ctx := t.Context()
		now := time.Now().UTC()
		putErrors(t, st, 7, now)
		cards, all, err := buildCards(ctx, st)
		if err != nil || !all {
			t.Fatalf("buildCards: all %v, %v", all, err)
		}
		got := map[CardKey][2]int{}
		for _, c := range cards {
			got[c.Key] = [2]int{c.Records, c.Errors}
		}
		want := map[CardKey][2]int{"custom-code": {7, 14}, "no_email": {7, 7}, "property-values": {7, 7}}
		for _, d := range cardDefs() {
			if got[d.Key] != want[d.Key] {
				t.Errorf("card %s = %v (records, errors), want %v", d.Key, got[d.Key], want[d.Key])
			}
		}
		// Property values holds vendor errors only; the no-email refusals,
		// listed under the same category, are on their own card. Pages of
		// 3 walk it without loss or repeat.
		for _, key := range []CardKey{"property-values", "no_email"} {
			d, err := findCard(key)
			if err != nil {
				t.Fatal(err)
			}
			seen, token := map[string]bool{}, ""
			for {
				recs, next, err := listCard(ctx, st, d, token, 3)
				if err != nil {
					t.Fatal(err)
				}
				if len(recs) > 3 {
					t.Fatalf("page of %d records, want at most 3", len(recs))
				}
				for _, e := range recs {
					if cardOf(e) != key || seen[e.Record.Key()] {
						t.Errorf("card %s lists %s (card %s) again or wrongly", key, e.Record, cardOf(e))
					}
					seen[e.Record.Key()] = true
				}
				if next == "" {
					break
				}
				token = next
			}
			if len(seen) != 7 {
				t.Errorf("card %s paged through %d records, want 7", key, len(seen))
			}
		}
	})
}

func TestCardCSVAndResync(t *testing.T) {
	st := newBolt(t)
	now := time.Now().UTC()
	putErrors(t, st, 3, now)
	h, q := newHandler(st, now)
	srv := httptest.NewServer(h)
	defer srv.Close()

	resp, err := http.Get(srv.URL + "/health/card?card=property-values&format=csv")
	if err != nil {
		t.Fatal(err)
	}
	rows, err := csv.NewReader(resp.Body).ReadAll()
	resp.Body.Close()
	if err != nil {
		t.Fatal(err)
	}
	if len(rows) != 4 || strings.Join(rows[0], ",") != strings.Join(csvHeader, ",") {
		t.Fatalf("CSV rows = %q", rows)
	}
	if rows[1][5] != "INVALID_OR_NULL_FOR_RESTRICTED_PICKLIST" || !strings.HasPrefix(rows[1][6], "'=cmd") {
		t.Errorf("row = %q, want the code and the formula defused", rows[1])
	}

	resp, err = http.PostForm(srv.URL+"/health/card/resync", url.Values{"card": {"no_email"}})
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || resp.Request.URL.Query().Get("n") != "3" {
		t.Fatalf("resync card: %s, redirected to %s", resp.Status, resp.Request.URL)
	}
	msgs, err := q.Receive(t.Context(), 10, time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	if len(msgs) != 3 {
		t.Fatalf("%d triggers enqueued, want 3", len(msgs))
	}
	for _, m := range msgs {
		if m.Trigger.Kind != crmsync.KindManualResync || m.Trigger.DeliveryID != crmsync.DeliveryResyncErrors || !strings.HasPrefix(m.Trigger.Record.ID, "2") {
			t.Errorf("trigger %+v, want a manual resync of a no-email record", m.Trigger)
		}
	}
}

func TestSetAllocation(t *testing.T) {
	st := newBolt(t)
	now := time.Date(2026, 12, 3, 10, 0, 0, 0, time.UTC)
	h, _ := newHandler(st, now)
	ctx := t.Context()
	if _, err := h.SetAllocation(ctx, -1, 0, "me"); !errors.Is(err, crmsync.ErrInvalid) {
		t.Errorf("negative allocation: %v, want ErrInvalid", err)
	}
	s, err := h.SetAllocation(ctx, 12000, 0, "ops@example.com")
	if err != nil || s.Version != 1 || s.Budget.SalesforceDailyLimit != 12000 || s.UpdatedBy != "ops@example.com" {
		t.Fatalf("first save: %+v, %v", s.Budget, err)
	}
	if _, err := h.SetAllocation(ctx, 9000, 0, "late@example.com"); !errors.Is(err, crmsync.ErrVersionConflict) {
		t.Errorf("save from a stale page: %v, want ErrVersionConflict", err)
	}
	h.Now = func() time.Time { return now.Add(time.Minute) } // the ledger orders by time
	if _, err := h.SetAllocation(ctx, 9000, 1, "ops@example.com"); err != nil {
		t.Fatal(err)
	}
	entries, _, err := st.ListLedger(ctx, SettingsLedgerKey, crmsync.PageRequest{})
	if err != nil {
		t.Fatal(err)
	}
	var trail []string
	for _, e := range entries {
		trail = append(trail, e.Changes[0].Before+"→"+e.Changes[0].After+" "+e.Result)
	}
	if strings.Join(trail, "; ") != "12000→9000 settings version 2; 0→12000 settings version 1" {
		t.Errorf("audit trail = %q", trail)
	}
}

func TestPagesEscapeAndSayWhatIsUnknown(t *testing.T) {
	st := newBolt(t)
	now := time.Now().UTC()
	putErrors(t, st, 1, now)
	h, _ := newHandler(st, now)
	h.DeadLetters = nil
	srv := httptest.NewServer(h)
	defer srv.Close()
	for _, path := range []string{"/health/card?card=custom-code", "/health/record?side=hubspot&object=contact&id=10000"} {
		body := getBody(t, srv.URL+path, http.StatusOK)
		if strings.Contains(body, "<script>") || !strings.Contains(body, "Blocked &lt;script&gt;alert(1)&lt;/script&gt;") {
			t.Errorf("%s does not escape the vendor message:\n%s", path, body)
		}
	}
	var rep Report
	if err := json.Unmarshal([]byte(getBody(t, srv.URL+"/health.json", http.StatusOK)), &rep); err != nil {
		t.Fatal(err)
	}
	if rep.Queue.DeadLetters != nil || rep.Sweep.LagSeconds != nil || rep.Usage.Percent != nil {
		t.Errorf("unknowns reported as values: DLQ %v, sweep lag %v, percent %v", rep.Queue.DeadLetters, rep.Sweep.LagSeconds, rep.Usage.Percent)
	}
	page := getBody(t, srv.URL+"/health", http.StatusOK)
	for _, want := range []string{"dead-letter queue size unknown", "not recorded here", "no allocation set for crmsync", "production or sandbox unknown"} {
		if !strings.Contains(page, want) {
			t.Errorf("the page does not say %q", want)
		}
	}
	getBody(t, srv.URL+"/health/record?side=hubspot&object=Lead&id=1", http.StatusBadRequest)
	getBody(t, srv.URL+"/health/card?card=nope", http.StatusNotFound)
}

func TestLocalPagesAnswerLoopbackOnly(t *testing.T) {
	h, _ := newHandler(newBolt(t), time.Now())
	for _, c := range []struct {
		remote string
		want   int
	}{{"127.0.0.1:5000", http.StatusOK}, {"[::1]:5000", http.StatusOK}, {"192.0.2.7:5000", http.StatusForbidden}} {
		r := httptest.NewRequest(http.MethodGet, "/health.json", nil)
		r.RemoteAddr = c.remote
		w := httptest.NewRecorder()
		h.ServeHTTP(w, r)
		if w.Code != c.want {
			t.Errorf("GET from %s: %d, want %d", c.remote, w.Code, c.want)
		}
	}
}

func TestCrossSitePostRefused(t *testing.T) {
	h, q := newHandler(newBolt(t), time.Now())
	r := httptest.NewRequest(http.MethodPost, "/health/record/resync", strings.NewReader("side=hubspot&object=contact&id=1"))
	r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	r.Header.Set("Sec-Fetch-Site", "cross-site")
	r.RemoteAddr = "127.0.0.1:5000"
	w := httptest.NewRecorder()
	h.ServeHTTP(w, r)
	if st, _ := q.Stats(t.Context()); w.Code != http.StatusForbidden || st.Visible != 0 {
		t.Errorf("cross-site POST: %d and %d enqueued, want 403 and none", w.Code, st.Visible)
	}
}

func getBody(t *testing.T, u string, want int) string {
	t.Helper()
	resp, err := http.Get(u)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode != want {
		t.Fatalf("GET %s: %d, want %d: %.300s", u, resp.StatusCode, want, b)
	}
	return string(b)
}

// BenchmarkPage builds and renders the whole page, its JSON and a card
// over a store holding 300 sync errors and a day of usage (bbolt, and
// DynamoDB Local under make bench); it reports each answer's size.
func BenchmarkPage(b *testing.B) {
	b.Run("boltstore", func(b *testing.B) { benchmarkPage(b, newBolt(b)) })
	b.Run("ddbstore", func(b *testing.B) { benchmarkPage(b, newDynamo(b)) })
}

func benchmarkPage(b *testing.B, st crmsync.Store) {
	now := time.Now().UTC()
	putErrors(b, st, 100, now)
	for i := range 24 * 12 {
		if err := st.AddAPIUsage(context.Background(), crmsync.Salesforce, now.Add(-time.Duration(i)*5*time.Minute), 17); err != nil {
			b.Fatal(err)
		}
	}
	h, _ := newHandler(st, now)
	for _, path := range []string{"/health", "/health.json", "/health/card?card=custom-code"} {
		b.Run(path, func(b *testing.B) {
			var size int
			for b.Loop() {
				r := httptest.NewRequest(http.MethodGet, path, nil)
				r.RemoteAddr = "127.0.0.1:40000"
				w := httptest.NewRecorder()
				h.ServeHTTP(w, r)
				if w.Code != http.StatusOK {
					b.Fatalf("%s: %d", path, w.Code)
				}
				size = w.Body.Len()
			}
			b.ReportMetric(float64(size), "bytes/page")
		})
	}
}

// What the API budget pauses is on the page and in the JSON where the
// process runs the engine, and said to be unknown elsewhere.
func TestPagesSayWhatTheBudgetPauses(t *testing.T) {
	st := newBolt(t)
	h, _ := newHandler(st, time.Now().UTC())
	srv := httptest.NewServer(h)
	defer srv.Close()
	if page := getBody(t, srv.URL+"/health", http.StatusOK); !strings.Contains(page, "known to the worker, not to these pages") {
		t.Error("without the engine the page does not say the budget is unknown here")
	}
	h.Budget = func() engine.BudgetState {
		return engine.BudgetState{SharePercent: 81, Known: true, Paused: []string{"P3"}}
	}
	if page := getBody(t, srv.URL+"/health", http.StatusOK); !strings.Contains(page, "Paused by the budget: P3") {
		t.Error("the page does not name the paused class")
	}
	var rep Report
	if err := json.Unmarshal([]byte(getBody(t, srv.URL+"/health.json", http.StatusOK)), &rep); err != nil || rep.Budget == nil || len(rep.Budget.Paused) != 1 {
		t.Errorf("JSON budget %+v %v", rep.Budget, err)
	}
}
