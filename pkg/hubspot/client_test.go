package hubspot

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"golang.org/x/oauth2"

	"github.com/crmsync/crmsync/pkg/crmsync"
)

// The test server is mounted under apiPrefix: a client that drops the
// base URL's path (an absolute-URL bug) hits the catch-all and fails.
const (
	apiPrefix = "/hubspot-api"
	apiToken  = "pat-na1-11111111-2222-3333-4444-555555555555"
)

type usageCounter struct {
	mu sync.Mutex
	n  int
}

func (u *usageCounter) AddAPIUsage(_ context.Context, side crmsync.Side, _ time.Time, n int) error {
	u.mu.Lock()
	defer u.mu.Unlock()
	if side != crmsync.HubSpot {
		return errors.New("wrong side")
	}
	u.n += n
	return nil
}

func (u *usageCounter) count() int { u.mu.Lock(); defer u.mu.Unlock(); return u.n }

type harness struct {
	t     *testing.T
	mux   *http.ServeMux
	srv   *httptest.Server
	c     *Client
	usage *usageCounter

	mu    sync.Mutex
	now   time.Time
	slept []time.Duration
	hits  map[string]int
}

func newHarness(t *testing.T, opts ...Option) *harness {
	t.Helper()
	h := &harness{t: t, mux: http.NewServeMux(), usage: &usageCounter{}, hits: map[string]int{},
		now: time.Date(2026, 11, 23, 12, 0, 0, 0, time.UTC)}
	h.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !strings.HasPrefix(r.URL.Path, apiPrefix+"/") {
			t.Errorf("request outside the base path: %s %s", r.Method, r.URL.Path)
			http.Error(w, "outside prefix", http.StatusTeapot)
			return
		}
		h.mu.Lock()
		h.hits[r.Method+" "+strings.TrimPrefix(r.URL.Path, apiPrefix)]++
		h.mu.Unlock()
		h.mux.ServeHTTP(w, r)
	}))
	t.Cleanup(h.srv.Close)
	all := append([]Option{WithBaseURL(h.srv.URL + apiPrefix), WithHTTPClient(h.srv.Client()),
		WithPrivateAppToken(apiToken), WithUsageCounter(h.usage)}, opts...)
	c, err := NewClient(all...)
	if err != nil {
		t.Fatal(err)
	}
	c.now = h.clock
	c.sleep = func(ctx context.Context, d time.Duration) error {
		if d <= 0 {
			return ctx.Err()
		}
		h.mu.Lock()
		h.slept = append(h.slept, d)
		h.now = h.now.Add(d)
		h.mu.Unlock()
		return ctx.Err()
	}
	c.jitter = func(d time.Duration) time.Duration { return d }
	h.c = c
	return h
}

func (h *harness) clock() time.Time { h.mu.Lock(); defer h.mu.Unlock(); return h.now }

func (h *harness) hitCount(key string) int { h.mu.Lock(); defer h.mu.Unlock(); return h.hits[key] }

func (h *harness) sleeps() []time.Duration {
	h.mu.Lock()
	defer h.mu.Unlock()
	return append([]time.Duration(nil), h.slept...)
}

func (h *harness) handle(pattern string, f http.HandlerFunc) {
	method, path, _ := strings.Cut(pattern, " ")
	h.mux.HandleFunc(method+" "+apiPrefix+path, f)
}

func testdata(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile("testdata/api/" + name)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func serve(t testing.TB, w http.ResponseWriter, status int, name string) {
	t.Helper()
	w.Header().Set("Content-Type", "application/json;charset=utf-8")
	w.WriteHeader(status)
	w.Write(testdata(t, name))
}

func decodeBody(t testing.TB, r *http.Request, v any) {
	t.Helper()
	if err := json.NewDecoder(r.Body).Decode(v); err != nil {
		t.Errorf("decode request body: %v", err)
	}
}

func TestGetObject(t *testing.T) {
	h := newHarness(t)
	h.handle("GET /crm/v3/objects/contacts/{id}", func(w http.ResponseWriter, r *http.Request) {
		if got := r.Header.Get("Authorization"); got != "Bearer "+apiToken {
			t.Errorf("Authorization = %q", got)
		}
		if got := r.URL.Query().Get("properties"); got != "email,phone" {
			t.Errorf("properties = %q", got)
		}
		if r.PathValue("id") != "512" {
			serve(t, w, 404, "error-not-found.json")
			return
		}
		serve(t, w, 200, "contact.json")
	})
	obj, err := h.c.GetObject(context.Background(), crmsync.HSContact, "512", []string{"email", "phone"})
	if err != nil {
		t.Fatal(err)
	}
	if obj.ID != "512" || obj.Properties["email"] != "bcooper@biglytics.net" || obj.Archived {
		t.Errorf("object = %+v", obj)
	}
	if v, ok := obj.Properties["phone"]; !ok || v != "" {
		t.Errorf("null phone = %q, %v; want present and empty", v, ok)
	}
	if want := time.Date(2019, 12, 7, 16, 50, 6, 678e6, time.UTC); !obj.UpdatedAt.Equal(want) {
		t.Errorf("updatedAt = %v", obj.UpdatedAt)
	}

	_, err = h.c.GetObject(context.Background(), crmsync.HSContact, "999", []string{"email", "phone"})
	var apiErr *APIError
	if !errors.As(err, &apiErr) || !errors.Is(err, crmsync.ErrNotFound) {
		t.Fatalf("missing object: %v, want *APIError that is ErrNotFound", err)
	}
	if apiErr.Status != 404 || apiErr.CorrelationID != "b6ad4bb2-3f5c-4f44-b1b3-0e5c9a0d2c11" || apiErr.Transient() || crmsync.IsTransient(err) {
		t.Errorf("not found error = %+v", apiErr)
	}
	if h.usage.count() != 2 {
		t.Errorf("usage = %d, want 2", h.usage.count())
	}
	if _, err := h.c.GetObject(context.Background(), crmsync.SFLead, "1", nil); !errors.Is(err, crmsync.ErrInvalid) {
		t.Errorf("salesforce type: %v", err)
	}
}

func TestGetObjectByEscapesTheValue(t *testing.T) {
	h := newHarness(t)
	h.handle("GET /crm/v3/objects/contacts/{id}", func(w http.ResponseWriter, r *http.Request) {
		if r.PathValue("id") != "a/b c+d@example.com" || r.URL.Query().Get("idProperty") != "email" {
			t.Errorf("id %q (raw path %q), idProperty %q", r.PathValue("id"), r.URL.EscapedPath(), r.URL.Query().Get("idProperty"))
		}
		serve(t, w, 200, "contact.json")
	})
	if _, err := h.c.GetObjectBy(context.Background(), crmsync.HSContact, "email", "a/b c+d@example.com", nil); err != nil {
		t.Fatal(err)
	}
}

func TestAPIErrors(t *testing.T) {
	tests := []struct {
		file     string
		status   int
		category crmsync.Category
		code     string
	}{
		{"error-validation.json", 400, crmsync.CategoryPropertyValues, "INVALID_EMAIL"},
		{"error-conflict.json", 409, crmsync.CategoryDuplicates, "CONFLICT"},
		{"error-missing-scopes.json", 403, crmsync.CategoryPermissions, "MISSING_SCOPES"},
		{"error-not-found.json", 404, crmsync.CategoryOther, "OBJECT_NOT_FOUND"},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			h := newHarness(t)
			h.handle("PATCH /crm/v3/objects/contacts/{id}", func(w http.ResponseWriter, r *http.Request) {
				serve(t, w, tt.status, tt.file)
			})
			_, err := h.c.UpdateObject(context.Background(), crmsync.HSContact, "512", map[string]string{"email": "bcooper@"})
			var apiErr *APIError
			if !errors.As(err, &apiErr) {
				t.Fatalf("error %T %v, want *APIError", err, err)
			}
			var vendor crmsync.VendorError
			if !errors.As(err, &vendor) || vendor.Category() != tt.category || vendor.Code() != tt.code {
				t.Errorf("category %q code %q, want %q %q", apiErr.Category(), apiErr.Code(), tt.category, tt.code)
			}
			if apiErr.Status != tt.status || apiErr.Message == "" || apiErr.CorrelationID == "" || crmsync.IsTransient(err) {
				t.Errorf("error = %+v", apiErr)
			}
			if n := h.hitCount("PATCH /crm/v3/objects/contacts/512"); n != 1 {
				t.Errorf("a terminal error was sent %d times", n)
			}
			if strings.Contains(err.Error(), apiToken) {
				t.Error("token in error")
			}
		})
	}
}

func TestRateLimitTenSecondlyRetried(t *testing.T) {
	h := newHarness(t)
	var n atomic.Int32
	h.handle("GET /crm/v3/objects/deals/{id}", func(w http.ResponseWriter, r *http.Request) {
		if n.Add(1) <= 2 {
			w.Header().Set("Retry-After", "3")
			serve(t, w, 429, "error-429-ten-secondly.json")
			return
		}
		serve(t, w, 200, "contact.json")
	})
	if _, err := h.c.GetObject(context.Background(), crmsync.HSDeal, "7", nil); err != nil {
		t.Fatal(err)
	}
	if n.Load() != 3 || h.usage.count() != 3 {
		t.Errorf("requests %d, usage %d; want 3 and 3", n.Load(), h.usage.count())
	}
	waited := time.Duration(0)
	for _, d := range h.sleeps() {
		waited += d
	}
	if waited < 6*time.Second {
		t.Errorf("waited %v in all, want at least 2 × Retry-After 3s", waited)
	}
}

func TestRateLimitRetriesBounded(t *testing.T) {
	h := newHarness(t, WithMaxRetries(2))
	var n atomic.Int32
	h.handle("GET /crm/v3/objects/deals/{id}", func(w http.ResponseWriter, r *http.Request) {
		n.Add(1)
		w.Header().Set("X-HubSpot-RateLimit-Interval-Milliseconds", "10000")
		serve(t, w, 429, "error-429-ten-secondly.json")
	})
	_, err := h.c.GetObject(context.Background(), crmsync.HSDeal, "7", nil)
	var rl *RateLimitError
	if !errors.As(err, &rl) || rl.Policy != PolicyTenSecondly || rl.Daily() || !crmsync.IsTransient(err) {
		t.Fatalf("error = %v, want a transient ten-secondly RateLimitError", err)
	}
	if rl.RetryAfter != 10*time.Second || rl.CorrelationID != "c033cdaa-2c40-4a64-ae48-b4cec88dad24" {
		t.Errorf("rate limit error = %+v", rl)
	}
	if n.Load() != 3 {
		t.Errorf("%d requests, want 1 + 2 retries", n.Load())
	}
}

func TestRateLimitDailyNotRetried(t *testing.T) {
	h := newHarness(t)
	var n atomic.Int32
	h.handle("GET /crm/v3/objects/contacts/{id}", func(w http.ResponseWriter, r *http.Request) {
		n.Add(1)
		serve(t, w, 429, "error-429-daily.json")
	})
	_, err := h.c.GetObject(context.Background(), crmsync.HSContact, "1", nil)
	var rl *RateLimitError
	if !errors.As(err, &rl) || !rl.Daily() {
		t.Fatalf("error = %v, want a daily RateLimitError", err)
	}
	if rl.RetryAfter != 12*time.Hour { // the harness clock is 12:00 UTC
		t.Errorf("RetryAfter = %v, want until UTC midnight (12h)", rl.RetryAfter)
	}
	if !crmsync.IsTransient(err) {
		t.Error("a daily limit is transient (it resets)")
	}
	// Until the reset, calls fail without being sent.
	_, err = h.c.GetObject(context.Background(), crmsync.HSContact, "2", nil)
	if !errors.As(err, &rl) || !rl.Daily() {
		t.Fatalf("second call: %v", err)
	}
	if n.Load() != 1 {
		t.Errorf("%d requests sent, want 1 (no retry, no send while spent)", n.Load())
	}
	for _, d := range h.sleeps() {
		if d > time.Minute {
			t.Errorf("slept %v: a daily limit must not be waited out inside a call", d)
		}
	}
}

func TestDailyRemainingZeroStopsSending(t *testing.T) {
	h := newHarness(t)
	var n atomic.Int32
	h.handle("GET /crm/v3/objects/contacts/{id}", func(w http.ResponseWriter, r *http.Request) {
		n.Add(1)
		w.Header().Set("X-HubSpot-RateLimit-Daily", "250000")
		w.Header().Set("X-HubSpot-RateLimit-Daily-Remaining", "0")
		serve(t, w, 200, "contact.json")
	})
	if _, err := h.c.GetObject(context.Background(), crmsync.HSContact, "512", nil); err != nil {
		t.Fatal(err)
	}
	_, err := h.c.GetObject(context.Background(), crmsync.HSContact, "512", nil)
	var rl *RateLimitError
	if !errors.As(err, &rl) || !rl.Daily() || n.Load() != 1 {
		t.Fatalf("after Daily-Remaining 0: %v, %d requests sent", err, n.Load())
	}
}

func TestLockedBacksOff(t *testing.T) {
	h := newHarness(t)
	var n atomic.Int32
	h.handle("PATCH /crm/v3/objects/companies/{id}", func(w http.ResponseWriter, r *http.Request) {
		if n.Add(1) == 1 {
			serve(t, w, 423, "error-423-locked.json")
			return
		}
		serve(t, w, 200, "contact.json")
	})
	if _, err := h.c.UpdateObject(context.Background(), crmsync.HSCompany, "5", map[string]string{"name": "x"}); err != nil {
		t.Fatal(err)
	}
	s := h.sleeps()
	if n.Load() != 2 || len(s) == 0 || s[len(s)-1] < 2*time.Second {
		t.Errorf("requests %d, sleeps %v; want a retry after at least 2s", n.Load(), s)
	}
}

func TestBackoffGrows(t *testing.T) {
	h := newHarness(t, WithMaxRetries(3))
	h.handle("PATCH /crm/v3/objects/companies/{id}", func(w http.ResponseWriter, r *http.Request) {
		serve(t, w, 423, "error-423-locked.json")
	})
	_, err := h.c.UpdateObject(context.Background(), crmsync.HSCompany, "5", map[string]string{"name": "x"})
	var apiErr *APIError
	if !errors.As(err, &apiErr) || apiErr.Status != 423 || !crmsync.IsTransient(err) {
		t.Fatalf("error %v, want a transient 423 after the retries", err)
	}
	want := []time.Duration{2 * time.Second, 4 * time.Second, 8 * time.Second}
	if got := h.sleeps(); fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("waits %v, want %v (jitter off)", got, want)
	}
	if backoff(time.Second, 50) != maxBackoff {
		t.Errorf("backoff is not capped: %v", backoff(time.Second, 50))
	}
}

func TestServerErrorsRetriedOnlyWhenIdempotent(t *testing.T) {
	h := newHarness(t)
	var gets, creates atomic.Int32
	h.handle("GET /crm/v3/objects/contacts/{id}", func(w http.ResponseWriter, r *http.Request) {
		if gets.Add(1) == 1 {
			http.Error(w, "<html>502 Bad Gateway</html>", http.StatusBadGateway)
			return
		}
		serve(t, w, 200, "contact.json")
	})
	h.handle("POST /crm/v3/objects/contacts", func(w http.ResponseWriter, r *http.Request) {
		creates.Add(1)
		http.Error(w, "<html>502 Bad Gateway</html>", http.StatusBadGateway)
	})
	if _, err := h.c.GetObject(context.Background(), crmsync.HSContact, "512", nil); err != nil {
		t.Fatal(err)
	}
	_, err := h.c.CreateObject(context.Background(), crmsync.HSContact, map[string]string{"email": "a@b.c"}, nil)
	var apiErr *APIError
	if !errors.As(err, &apiErr) || apiErr.Status != 502 || !crmsync.IsTransient(err) || !strings.Contains(apiErr.Message, "502 Bad Gateway") {
		t.Fatalf("create error = %v", err)
	}
	if gets.Load() != 2 || creates.Load() != 1 {
		t.Errorf("gets %d creates %d; want the get retried and the create not", gets.Load(), creates.Load())
	}
}

func TestRateLimitHeadersPause(t *testing.T) {
	h := newHarness(t)
	h.handle("GET /crm/v3/objects/contacts/{id}", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("X-HubSpot-RateLimit-Max", "110")
		w.Header().Set("X-HubSpot-RateLimit-Remaining", "0")
		w.Header().Set("X-HubSpot-RateLimit-Interval-Milliseconds", "10000")
		serve(t, w, 200, "contact.json")
	})
	for i := 0; i < 2; i++ {
		if _, err := h.c.GetObject(context.Background(), crmsync.HSContact, "512", nil); err != nil {
			t.Fatal(err)
		}
	}
	if s := h.sleeps(); len(s) != 1 || s[0] != 10*time.Second {
		t.Errorf("sleeps %v, want one 10s wait after Remaining hit 0", s)
	}
}

func TestBurstLimiter(t *testing.T) {
	l := newWindowLimiter(110, 10*time.Second)
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	for i := 0; i < 110; i++ {
		if d := l.reserve(t0); d != 0 {
			t.Fatalf("request %d waits %v, want 0", i, d)
		}
	}
	if d := l.reserve(t0); d != 10*time.Second {
		t.Fatalf("request 111 waits %v, want 10s", d)
	}
	if d := l.reserve(t0.Add(5 * time.Second)); d != 5*time.Second {
		t.Fatalf("request 112 at +5s waits %v, want 5s", d)
	}
	// A window later everything has left it.
	if d := l.reserve(t0.Add(25 * time.Second)); d != 0 {
		t.Fatalf("after the window: waits %v", d)
	}
	s := newWindowLimiter(5, time.Second)
	var waits []time.Duration
	for i := 0; i < 11; i++ {
		waits = append(waits, s.reserve(t0))
	}
	if waits[4] != 0 || waits[5] != time.Second || waits[10] != 2*time.Second {
		t.Errorf("search waits %v", waits)
	}
	s.pauseUntil(t0.Add(time.Hour))
	if d := s.reserve(t0); d < time.Hour {
		t.Errorf("paused limiter waits %v", d)
	}
	var none *windowLimiter
	if d := none.reserve(t0); d != 0 {
		t.Errorf("disabled limiter waits %v", d)
	}
}

func TestClientUsesBurstAndSearchLimiters(t *testing.T) {
	h := newHarness(t, WithRateLimit(3, 10*time.Second), WithSearchRateLimit(2, time.Second))
	h.handle("GET /crm/v3/objects/contacts/{id}", func(w http.ResponseWriter, r *http.Request) { serve(t, w, 200, "contact.json") })
	h.handle("POST /crm/v3/objects/contacts/search", func(w http.ResponseWriter, r *http.Request) { serve(t, w, 200, "search-page.json") })
	for i := 0; i < 4; i++ {
		if _, err := h.c.GetObject(context.Background(), crmsync.HSContact, "512", nil); err != nil {
			t.Fatal(err)
		}
	}
	if s := h.sleeps(); len(s) != 1 || s[0] != 10*time.Second {
		t.Fatalf("burst sleeps %v, want one 10s wait before the 4th call", s)
	}
	for i := 0; i < 3; i++ {
		if _, err := h.c.Search(context.Background(), crmsync.HSContact, SearchRequest{}); err != nil {
			t.Fatal(err)
		}
	}
	if s := h.sleeps(); len(s) != 2 || s[1] != time.Second {
		t.Fatalf("search sleeps %v, want a 1s wait before the 3rd search", s)
	}
}

func TestBatchCreateSplitsAndMaps207(t *testing.T) {
	h := newHarness(t)
	var sizes []int
	var mu sync.Mutex
	h.handle("POST /crm/v3/objects/contacts/batch/create", func(w http.ResponseWriter, r *http.Request) {
		var req struct {
			Inputs []struct {
				Properties         map[string]string `json:"properties"`
				ObjectWriteTraceID string            `json:"objectWriteTraceId"`
			} `json:"inputs"`
		}
		decodeBody(t, r, &req)
		mu.Lock()
		sizes = append(sizes, len(req.Inputs))
		mu.Unlock()
		// Answer in reverse order; every input whose email starts with
		// "dup" is a conflict, reported with its trace id only.
		type result struct {
			ID                 string            `json:"id"`
			Properties         map[string]string `json:"properties"`
			CreatedAt          string            `json:"createdAt"`
			UpdatedAt          string            `json:"updatedAt"`
			Archived           bool              `json:"archived"`
			ObjectWriteTraceID string            `json:"objectWriteTraceId"`
		}
		resp := map[string]any{"status": "COMPLETE", "startedAt": "2024-05-02T09:00:00.010Z", "completedAt": "2024-05-02T09:00:00.080Z"}
		var results []result
		var errs []map[string]any
		for i := len(req.Inputs) - 1; i >= 0; i-- {
			in := req.Inputs[i]
			if strings.HasPrefix(in.Properties["email"], "dup") {
				errs = append(errs, map[string]any{"status": "error", "category": "CONFLICT",
					"message": "Contact already exists. Existing ID: 1", "context": map[string][]string{"objectWriteTraceId": {in.ObjectWriteTraceID}}})
				continue
			}
			results = append(results, result{ID: "9" + in.ObjectWriteTraceID, Properties: in.Properties,
				CreatedAt: "2024-05-02T09:00:00.050Z", UpdatedAt: "2024-05-02T09:00:00.050Z", ObjectWriteTraceID: in.ObjectWriteTraceID})
		}
		resp["results"] = results
		status := 201
		if len(errs) > 0 {
			resp["errors"], resp["numErrors"], status = errs, len(errs), 207
		}
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(status)
		json.NewEncoder(w).Encode(resp)
	})
	inputs := make([]CreateInput, 250)
	for i := range inputs {
		email := fmt.Sprintf("c%d@example.com", i)
		if i%50 == 7 {
			email = "dup" + email
		}
		inputs[i] = CreateInput{Properties: map[string]string{"email": email}}
	}
	res, err := h.c.BatchCreate(context.Background(), crmsync.HSContact, inputs)
	var be *BatchError
	if !errors.As(err, &be) || be.Failed != 5 || be.Total != 250 {
		t.Fatalf("error = %v, want a BatchError with 5 of 250 failed", err)
	}
	if fmt.Sprint(sizes) != "[100 100 50]" {
		t.Errorf("batch sizes %v, want [100 100 50]", sizes)
	}
	for i, r := range res {
		if i%50 == 7 {
			var apiErr *APIError
			if r.Object != nil || !errors.As(r.Err, &apiErr) || apiErr.Category() != crmsync.CategoryDuplicates {
				t.Errorf("input %d: %+v, want a Duplicates error", i, r)
			}
			continue
		}
		if r.Err != nil || r.Object == nil || r.Object.Properties["email"] != inputs[i].Properties["email"] || r.Object.ID != fmt.Sprintf("9%d", i) {
			t.Errorf("input %d mapped to %+v", i, r)
		}
	}
}

func TestBatchRead207NotFound(t *testing.T) {
	h := newHarness(t)
	h.handle("POST /crm/v3/objects/contacts/batch/read", func(w http.ResponseWriter, r *http.Request) {
		var req struct {
			Properties []string `json:"properties"`
			Inputs     []struct {
				ID string `json:"id"`
			} `json:"inputs"`
		}
		decodeBody(t, r, &req)
		if len(req.Inputs) != 3 || len(req.Properties) != 1 {
			t.Errorf("request %+v", req)
		}
		serve(t, w, 207, "batch-read-207.json")
	})
	res, err := h.c.BatchRead(context.Background(), crmsync.HSContact, []string{"999", "513", "512"}, "", []string{"email"})
	if err == nil {
		t.Fatal("no BatchError")
	}
	if !errors.Is(res[0].Err, crmsync.ErrNotFound) || res[0].Object != nil {
		t.Errorf("999: %+v", res[0])
	}
	if res[1].Err != nil || res[1].Object.Properties["email"] != "ada@example.com" {
		t.Errorf("513: %+v", res[1])
	}
	if res[2].Err != nil || res[2].Object.ID != "512" {
		t.Errorf("512: %+v", res[2])
	}
}

func TestBatchUpsertAndUpdate(t *testing.T) {
	h := newHarness(t)
	h.handle("POST /crm/v3/objects/contacts/batch/upsert", func(w http.ResponseWriter, r *http.Request) {
		var req struct {
			Inputs []struct {
				ID         string            `json:"id"`
				IDProperty string            `json:"idProperty"`
				Properties map[string]string `json:"properties"`
			} `json:"inputs"`
		}
		decodeBody(t, r, &req)
		var results []map[string]any
		for i, in := range req.Inputs {
			if in.IDProperty != "email" {
				t.Errorf("idProperty %q", in.IDProperty)
			}
			props := map[string]string{"email": strings.ToLower(in.ID), "firstname": in.Properties["firstname"]}
			results = append([]map[string]any{{"id": fmt.Sprint(100 + i), "properties": props, "new": i == 0,
				"createdAt": "2024-05-02T09:00:00.050Z", "updatedAt": "2024-05-02T09:00:00.050Z", "archived": false}}, results...)
		}
		w.WriteHeader(200)
		json.NewEncoder(w).Encode(map[string]any{"status": "COMPLETE", "results": results})
	})
	res, err := h.c.BatchUpsert(context.Background(), crmsync.HSContact, "email", []UpsertInput{
		{ID: "New@Example.com", Properties: map[string]string{"firstname": "New"}},
		{ID: "old@example.com", Properties: map[string]string{"firstname": "Old"}},
	})
	if err != nil {
		t.Fatal(err)
	}
	if !res[0].New || res[0].Object.ID != "100" || res[1].New || res[1].Object.ID != "101" {
		t.Errorf("upsert results %+v %+v", res[0], res[1])
	}

	h.handle("POST /crm/v3/objects/deals/batch/update", func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(207)
		io.WriteString(w, `{"status":"COMPLETE","results":[{"id":"2","properties":{"amount":"10"},"createdAt":"2024-05-02T09:00:00Z","updatedAt":"2024-05-02T09:00:00Z","archived":false}],
		"numErrors":1,"errors":[{"status":"error","category":"VALIDATION_ERROR","message":"Property values were not valid","errors":[{"message":"10x is not a number","code":"INVALID_INTEGER"}],"context":{"ids":["1"]}}]}`)
	})
	res, err = h.c.BatchUpdate(context.Background(), crmsync.HSDeal, []UpdateInput{{ID: "1", Properties: map[string]string{"amount": "10x"}}, {ID: "2", Properties: map[string]string{"amount": "10"}}})
	var apiErr *APIError
	if err == nil || !errors.As(res[0].Err, &apiErr) || apiErr.Code() != "INVALID_INTEGER" || apiErr.Category() != crmsync.CategoryPropertyValues {
		t.Errorf("update 1: %+v (%v)", res[0], err)
	}
	if res[1].Err != nil || res[1].Object.Properties["amount"] != "10" {
		t.Errorf("update 2: %+v", res[1])
	}
}

func TestBatchUnmappedInputIsAnError(t *testing.T) {
	h := newHarness(t)
	h.handle("POST /crm/v3/objects/deals/batch/update", func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(200)
		io.WriteString(w, `{"status":"COMPLETE","results":[{"id":"2","properties":{},"createdAt":"2024-05-02T09:00:00Z","updatedAt":"2024-05-02T09:00:00Z","archived":false}]}`)
	})
	res, err := h.c.BatchUpdate(context.Background(), crmsync.HSDeal, []UpdateInput{{ID: "1"}, {ID: "2"}, {ID: "3"}})
	if err == nil || !errors.Is(res[0].Err, ErrNoResult) || res[1].Err != nil || !errors.Is(res[2].Err, ErrNoResult) {
		t.Errorf("results %+v, %v", res, err)
	}
}

func TestBatchArchiveAndArchive(t *testing.T) {
	h := newHarness(t)
	var got []int
	h.handle("POST /crm/v3/objects/notes/batch/archive", func(w http.ResponseWriter, r *http.Request) {
		var req struct {
			Inputs []struct {
				ID string `json:"id"`
			} `json:"inputs"`
		}
		decodeBody(t, r, &req)
		got = append(got, len(req.Inputs))
		w.WriteHeader(204)
	})
	h.handle("DELETE /crm/v3/objects/notes/{id}", func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(204) })
	ids := make([]string, 201)
	for i := range ids {
		ids[i] = fmt.Sprint(i + 1)
	}
	if err := h.c.BatchArchive(context.Background(), crmsync.HSNote, ids); err != nil {
		t.Fatal(err)
	}
	if fmt.Sprint(got) != "[100 100 1]" {
		t.Errorf("archive batches %v", got)
	}
	if err := h.c.ArchiveObject(context.Background(), crmsync.HSNote, "5"); err != nil {
		t.Fatal(err)
	}
}

func TestSearch(t *testing.T) {
	h := newHarness(t)
	h.handle("POST /crm/v3/objects/contacts/search", func(w http.ResponseWriter, r *http.Request) {
		var req SearchRequest
		decodeBody(t, r, &req)
		want := `{"filterGroups":[{"filters":[{"propertyName":"lifecyclestage","operator":"EQ","value":"lead"}]}],"sorts":[{"propertyName":"lastmodifieddate","direction":"DESCENDING"}],"properties":["email"],"limit":50,"after":"50"}`
		if b, _ := json.Marshal(req); string(b) != want {
			t.Errorf("request\n got %s\nwant %s", b, want)
		}
		serve(t, w, 200, "search-page.json")
	})
	page, err := h.c.Search(context.Background(), crmsync.HSContact, SearchRequest{
		FilterGroups: []FilterGroup{{Filters: []Filter{{PropertyName: "lifecyclestage", Operator: "EQ", Value: "lead"}}}},
		Sorts:        []Sort{{PropertyName: "lastmodifieddate", Direction: "DESCENDING"}},
		Properties:   []string{"email"}, Limit: 50, After: "50",
	})
	if err != nil {
		t.Fatal(err)
	}
	if page.Total != 3 || len(page.Results) != 1 || page.Next != "1" || page.Results[0].Properties["hubspot_owner_id"] != "" {
		t.Errorf("page %+v", page)
	}
	for _, bad := range []SearchRequest{{Limit: 201}, {Limit: 200, After: "9801"}} {
		if _, err := h.c.Search(context.Background(), crmsync.HSContact, bad); !errors.Is(err, crmsync.ErrInvalid) {
			t.Errorf("Search(%+v) = %v, want ErrInvalid", bad, err)
		}
	}
}

func TestAssociations(t *testing.T) {
	h := newHarness(t)
	h.handle("POST /crm/v4/associations/contacts/companies/batch/read", func(w http.ResponseWriter, r *http.Request) {
		serve(t, w, 207, "associations-batch-read.json")
	})
	h.handle("GET /crm/v4/objects/contacts/{id}/associations/companies", func(w http.ResponseWriter, r *http.Request) {
		if r.PathValue("id") != "512" || r.URL.Query().Get("after") != "MTA%3D" {
			t.Errorf("page request %s", r.URL)
		}
		serve(t, w, 200, "associations-page.json")
	})
	got, err := h.c.BatchReadAssociations(context.Background(), crmsync.HSContact, crmsync.HSCompany, []string{"512", "513", "514"})
	if err != nil {
		t.Fatal(err)
	}
	if len(got["512"]) != 2 || got["512"][0].ToID != "4711" || got["512"][1].ToID != "4712" || got["512"][0].Types[1].Label != "Primary" {
		t.Errorf("512: %+v", got["512"])
	}
	if len(got["513"]) != 1 || got["513"][0].ToID != "9007199254740993" || got["513"][0].Types[0].TypeID != 37 {
		t.Errorf("513: %+v", got["513"])
	}
	if _, ok := got["514"]; ok {
		t.Errorf("514 has associations: %+v", got["514"])
	}

	h.handle("POST /crm/v4/associations/deals/contacts/batch/create", func(w http.ResponseWriter, r *http.Request) {
		var req struct {
			Inputs []struct {
				From  AssociationTarget `json:"from"`
				To    AssociationTarget `json:"to"`
				Types []AssociationType `json:"types"`
			} `json:"inputs"`
		}
		decodeBody(t, r, &req)
		if len(req.Inputs) != 2 || req.Inputs[0].Types[0].TypeID != 3 || req.Inputs[0].Types[0].Category != "HUBSPOT_DEFINED" {
			t.Errorf("create request %+v", req)
		}
		w.WriteHeader(207)
		io.WriteString(w, `{"status":"COMPLETE","results":[{"fromObjectTypeId":"0-3","fromObjectId":1,"toObjectTypeId":"0-1","toObjectId":2,"labels":[]}],
		"numErrors":1,"errors":[{"status":"error","category":"VALIDATION_ERROR","subCategory":"crm.associations.INVALID_OBJECT_IDS","message":"Invalid object ids","context":{"toObjectId":["99"]}}]}`)
	})
	err = h.c.CreateAssociations(context.Background(), crmsync.HSDeal, crmsync.HSContact, []AssociationPair{
		{FromID: "1", ToID: "2", Types: []AssociationType{{Category: "HUBSPOT_DEFINED", TypeID: 3}}},
		{FromID: "1", ToID: "99", Types: []AssociationType{{Category: "HUBSPOT_DEFINED", TypeID: 3}}},
	})
	var apiErr *APIError
	if !errors.As(err, &apiErr) || apiErr.Category() != crmsync.CategoryAssociations {
		t.Errorf("create error %v, want an Associations APIError", err)
	}

	h.handle("POST /crm/v4/associations/deals/contacts/batch/archive", func(w http.ResponseWriter, r *http.Request) {
		var req struct {
			Inputs []struct {
				From AssociationTarget   `json:"from"`
				To   []AssociationTarget `json:"to"`
			} `json:"inputs"`
		}
		decodeBody(t, r, &req)
		if len(req.Inputs) != 1 || req.Inputs[0].To[0].ID != "2" {
			t.Errorf("archive request %+v", req)
		}
		w.WriteHeader(204)
	})
	if err := h.c.DeleteAssociations(context.Background(), crmsync.HSDeal, crmsync.HSContact, []AssociationPair{{FromID: "1", ToID: "2"}}); err != nil {
		t.Fatal(err)
	}
	h.handle("POST /crm/v4/associations/deals/contacts/batch/associate/default", func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(200)
		io.WriteString(w, `{"status":"COMPLETE","results":[{"from":{"id":"1"},"to":{"id":"2"},"associationSpec":{"associationCategory":"HUBSPOT_DEFINED","associationTypeId":3}}]}`)
	})
	if err := h.c.CreateDefaultAssociations(context.Background(), crmsync.HSDeal, crmsync.HSContact, []AssociationPair{{FromID: "1", ToID: "2"}}); err != nil {
		t.Fatal(err)
	}
}

func TestListsOwnersProperties(t *testing.T) {
	h := newHarness(t)
	h.handle("GET /crm/v3/lists/records/{type}/{id}/memberships", func(w http.ResponseWriter, r *http.Request) {
		if r.PathValue("type") != "0-1" || r.PathValue("id") != "512" {
			t.Errorf("memberships request %s", r.URL)
		}
		serve(t, w, 200, "list-memberships.json")
	})
	h.handle("GET /crm/v3/lists/{id}/memberships", func(w http.ResponseWriter, r *http.Request) {
		serve(t, w, 200, "list-members.json")
	})
	h.handle("GET /crm/v3/owners", func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Query().Get("after") == "1" {
			serve(t, w, 200, "owners-2.json")
			return
		}
		serve(t, w, 200, "owners.json")
	})
	h.handle("GET /crm/v3/properties/contacts", func(w http.ResponseWriter, r *http.Request) { serve(t, w, 200, "properties.json") })
	ctx := context.Background()
	ref := crmsync.RecordRef{Side: crmsync.HubSpot, Object: crmsync.HSContact, ID: "512"}
	for list, want := range map[string]bool{"456": true, "789": false} {
		if in, err := h.c.InList(ctx, list, ref); err != nil || in != want {
			t.Errorf("InList(%s) = %v, %v", list, in, err)
		}
	}
	ids, next, err := h.c.ListMembers(ctx, "123", "", 100)
	if err != nil || fmt.Sprint(ids) != "[512 9007199254740993]" || next != "AoJ6" {
		t.Errorf("ListMembers = %v %q %v", ids, next, err)
	}
	owners, err := h.c.Owners(ctx, "")
	if err != nil || len(owners) != 2 || owners[1].Email != "rory@example.com" {
		t.Fatalf("Owners = %+v, %v", owners, err)
	}
	o, err := h.c.OwnerByEmail(ctx, "AMELIA@example.com")
	if err != nil || o.ID != "41629779" || o.UserID != 9586504 {
		t.Errorf("OwnerByEmail = %+v, %v", o, err)
	}
	if _, err := h.c.OwnerByEmail(ctx, "nobody@example.com"); !errors.Is(err, crmsync.ErrNotFound) {
		t.Errorf("unknown owner: %v", err)
	}
	props, err := h.c.Properties(ctx, crmsync.HSContact)
	if err != nil || len(props) != 2 || props[0].Options[1].Value != "lead" || props[0].ReadOnly() || !props[1].ReadOnly() {
		t.Errorf("Properties = %+v, %v", props, err)
	}
}

func TestCRMPort(t *testing.T) {
	h := newHarness(t)
	h.handle("GET /crm/v3/objects/contacts/{id}", func(w http.ResponseWriter, r *http.Request) {
		props := r.URL.Query().Get("properties")
		if !strings.Contains(props, "lastmodifieddate") || !strings.Contains(props, "hubspot_owner_id") {
			t.Errorf("properties %q lack the modified date or owner", props)
		}
		serve(t, w, 200, "contact.json")
	})
	h.handle("GET /crm/v3/owners/{id}", func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, `{"id":"41629779","email":"amelia@example.com","firstName":"Amelia","lastName":"Pond","userId":9586504,"archived":false}`)
	})
	h.handle("POST /crm/v3/objects/contacts/search", func(w http.ResponseWriter, r *http.Request) {
		var req SearchRequest
		decodeBody(t, r, &req)
		if f := req.FilterGroups[0].Filters[0]; f.PropertyName != "email" || f.Operator != "EQ" || f.Value != "Bcooper@biglytics.net" {
			t.Errorf("filter %+v", f)
		}
		serve(t, w, 200, "search-page.json")
	})
	h.handle("POST /crm/v3/objects/contacts", func(w http.ResponseWriter, r *http.Request) { serve(t, w, 201, "contact.json") })
	h.handle("PATCH /crm/v3/objects/contacts/{id}", func(w http.ResponseWriter, r *http.Request) { serve(t, w, 200, "contact.json") })

	var crm crmsync.CRM = h.c
	ctx := context.Background()
	ref := crmsync.RecordRef{Side: crmsync.HubSpot, Object: crmsync.HSContact, ID: "512"}
	rec, err := crm.Get(ctx, ref, []string{"email"})
	if err != nil {
		t.Fatal(err)
	}
	if rec.Ref != ref || rec.OwnerEmail != "amelia@example.com" || !rec.LastModified.Equal(time.Date(2019, 12, 7, 16, 50, 6, 678e6, time.UTC)) {
		t.Errorf("record %+v", rec)
	}
	// The owner is cached.
	if _, err := crm.Get(ctx, ref, nil); err != nil || h.hitCount("GET /crm/v3/owners/41629779") != 1 {
		t.Errorf("owner fetched %d times (%v)", h.hitCount("GET /crm/v3/owners/41629779"), err)
	}
	found, err := crm.FindByEmail(ctx, crmsync.HSContact, "Bcooper@biglytics.net", nil)
	if err != nil || len(found) != 1 || found[0].Ref.ID != "512" {
		t.Errorf("FindByEmail = %+v, %v", found, err)
	}
	if _, err := crm.FindByEmail(ctx, crmsync.HSDeal, "x@y.z", nil); !errors.Is(err, crmsync.ErrInvalid) {
		t.Errorf("FindByEmail(deal) = %v", err)
	}
	if rec, err := crm.Create(ctx, crmsync.HSContact, map[string]string{"email": "bcooper@biglytics.net"}); err != nil || rec.Ref.ID != "512" {
		t.Errorf("Create = %+v, %v", rec, err)
	}
	if err := crm.Update(ctx, ref, map[string]string{"phone": ""}); err != nil {
		t.Errorf("Update: %v", err)
	}
}

func TestOAuth2Refresh(t *testing.T) {
	var refreshes atomic.Int32
	h := newHarness(t)
	h.handle("POST /oauth/v1/token", func(w http.ResponseWriter, r *http.Request) {
		r.ParseForm()
		if r.Form.Get("grant_type") != "refresh_token" || r.Form.Get("refresh_token") != "refresh-secret" || r.Form.Get("client_secret") != "client-secret" {
			w.WriteHeader(400)
			io.WriteString(w, `{"status":"BAD_REFRESH_TOKEN","message":"missing or unknown refresh token"}`)
			return
		}
		refreshes.Add(1)
		w.Header().Set("Content-Type", "application/json")
		io.WriteString(w, `{"token_type":"bearer","refresh_token":"refresh-secret","access_token":"access-1","expires_in":1800}`)
	})
	h.handle("GET /crm/v3/objects/contacts/{id}", func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Authorization") != "Bearer access-1" {
			t.Errorf("Authorization %q", r.Header.Get("Authorization"))
		}
		serve(t, w, 200, "contact.json")
	})
	cfg := &oauth2.Config{ClientID: "client-id", ClientSecret: "client-secret",
		Endpoint: oauth2.Endpoint{TokenURL: h.srv.URL + apiPrefix + "/oauth/v1/token", AuthStyle: oauth2.AuthStyleInParams}}
	c, err := NewClient(WithBaseURL(h.srv.URL+apiPrefix), WithHTTPClient(h.srv.Client()), WithOAuth2(cfg, "refresh-secret"))
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 3; i++ {
		if _, err := c.GetObject(context.Background(), crmsync.HSContact, "512", nil); err != nil {
			t.Fatal(err)
		}
	}
	if refreshes.Load() != 1 {
		t.Errorf("%d refreshes, want 1 (token reused)", refreshes.Load())
	}

	bad, err := NewClient(WithBaseURL(h.srv.URL+apiPrefix), WithHTTPClient(h.srv.Client()),
		WithOAuth2(&oauth2.Config{ClientID: "client-id", ClientSecret: "wrong-client-secret", Endpoint: cfg.Endpoint}, "refresh-secret"))
	if err != nil {
		t.Fatal(err)
	}
	_, err = bad.GetObject(context.Background(), crmsync.HSContact, "512", nil)
	var authErr *AuthError
	if !errors.As(err, &authErr) || authErr.Status != 400 || crmsync.IsTransient(err) {
		t.Fatalf("error %v, want a terminal AuthError with status 400", err)
	}
	for _, secret := range []string{"refresh-secret", "wrong-client-secret", "access-1"} {
		if strings.Contains(err.Error(), secret) {
			t.Errorf("error %q contains %q", err, secret)
		}
	}
}

func TestTokenNeverInErrors(t *testing.T) {
	h := newHarness(t, WithMaxRetries(0))
	h.srv.Close() // every request now fails at the network
	_, err := h.c.GetObject(context.Background(), crmsync.HSContact, "512", []string{"email"})
	var ne *NetworkError
	if !errors.As(err, &ne) || !crmsync.IsTransient(err) {
		t.Fatalf("error %T %v, want a transient NetworkError", err, err)
	}
	if strings.Contains(err.Error(), apiToken) || strings.Contains(err.Error(), "properties=") {
		t.Errorf("error leaks request details: %v", err)
	}
}

func TestNewClientOptions(t *testing.T) {
	for name, opt := range map[string]Option{
		"relative base": WithBaseURL("/api"), "nil http": WithHTTPClient(nil), "empty token": WithPrivateAppToken(""),
		"no oauth cfg": WithOAuth2(nil, "x"), "negative retries": WithMaxRetries(-1), "nil source": WithTokenSource(nil),
	} {
		if _, err := NewClient(opt); err == nil {
			t.Errorf("%s: no error", name)
		}
	}
	c, err := NewClient()
	if err != nil || c.baseURL.String() != DefaultBaseURL {
		t.Errorf("default client: %v %v", c, err)
	}
}
