package hubspot

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/crmsync/crmsync/pkg/crmsync"
)

const testSecret = "crmsync-test-secret"

var testNow = time.Date(2026, 11, 23, 12, 0, 0, 0, time.UTC)

// recordingQueue is a function-field double of the trigger queue.
type recordingQueue struct {
	mu    sync.Mutex
	sent  [][]crmsync.Trigger
	fail  func([]crmsync.Trigger) error
	calls int
}

func (q *recordingQueue) Send(_ context.Context, ts []crmsync.Trigger) error {
	q.mu.Lock()
	defer q.mu.Unlock()
	q.calls++
	if q.fail != nil {
		if err := q.fail(ts); err != nil {
			return err
		}
	}
	q.sent = append(q.sent, slices.Clone(ts))
	return nil
}

func (q *recordingQueue) triggers() []crmsync.Trigger {
	q.mu.Lock()
	defer q.mu.Unlock()
	var out []crmsync.Trigger
	for _, b := range q.sent {
		out = append(out, b...)
	}
	return out
}

type transientErr struct{}

func (transientErr) Error() string   { return "queue throttled" }
func (transientErr) Transient() bool { return true }

// request is a signed HTTP API v2 request for body.
type request struct {
	body      string
	secret    string
	timestamp time.Time
	method    string
	domain    string
	path      string
	query     string
	base64    bool
	unsigned  bool
	tamper    func(*events.APIGatewayV2HTTPRequest)
}

func (r request) build() events.APIGatewayV2HTTPRequest {
	if r.secret == "" {
		r.secret = testSecret
	}
	if r.timestamp.IsZero() {
		r.timestamp = testNow.Add(-2 * time.Second)
	}
	if r.method == "" {
		r.method = http.MethodPost
	}
	if r.domain == "" {
		r.domain = "abcdefghij.lambda-url.eu-west-1.on.aws"
	}
	if r.path == "" {
		r.path = "/"
	}
	ts := strconv.FormatInt(r.timestamp.UnixMilli(), 10)
	req := events.APIGatewayV2HTTPRequest{
		Version: "2.0", RouteKey: "$default", RawPath: r.path, RawQueryString: r.query,
		Headers: map[string]string{"content-type": "application/json", "user-agent": "HubSpot Connect 2.0 (http://dev.hubspot.com/)"},
		RequestContext: events.APIGatewayV2HTTPRequestContext{
			DomainName: r.domain, RequestID: "req-1",
			HTTP: events.APIGatewayV2HTTPRequestContextHTTPDescription{Method: r.method, Path: r.path},
		},
		Body: r.body,
	}
	if !r.unsigned {
		req.Headers["x-hubspot-signature-v3"] = SignV3(r.secret, r.method, SignedURI(r.domain, r.path, r.query), []byte(r.body), ts)
		req.Headers["x-hubspot-request-timestamp"] = ts
	}
	if r.base64 {
		req.Body = base64.StdEncoding.EncodeToString([]byte(r.body))
		req.IsBase64Encoded = true
	}
	if r.tamper != nil {
		r.tamper(&req)
	}
	return req
}

func newReceiver(q Enqueuer) *WebhookReceiver {
	return &WebhookReceiver{
		Secrets: []string{"rotated-out-secret", testSecret},
		Queue:   q,
		Now:     func() time.Time { return testNow },
		MaxBody: 64 << 10,
		Logger:  slog.New(slog.NewTextHandler(io.Discard, nil)),
	}
}

func docsBatch(t testing.TB) string {
	b, err := os.ReadFile("testdata/webhook-batch-docs-subscriptionType.json")
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func event(id, objectID int64, typ string, attempt int) string {
	return fmt.Sprintf(`{"eventId":%d,"subscriptionId":25,"portalId":33,"appId":1160452,"occurredAt":1763899200000,"subscriptionType":%q,"attemptNumber":%d,"objectId":%d,"changeSource":"CRM_UI","propertyName":"email","propertyValue":"x@example.com"}`, id, typ, attempt, objectID)
}

func TestReceiver(t *testing.T) {
	big := "[" + strings.Repeat(" ", 64<<10) + "]"
	tests := []struct {
		name      string
		req       request
		queueFail error
		versions  []SignatureVersion
		status    int
		enqueued  int
	}{
		{name: "docs batch", req: request{body: docsBatch(t)}, status: 204, enqueued: 2},
		{name: "base64 body", req: request{body: docsBatch(t), base64: true}, status: 204, enqueued: 2},
		{name: "escaped query and path", req: request{body: docsBatch(t), path: "/hubspot%28v3%29", query: "portal=33&next=%2Fx%3Fy&sp=a%20b"}, status: 204, enqueued: 2},
		{name: "HTTP API domain", req: request{body: docsBatch(t), domain: "hooks.example.com", path: "/prod/hubspot"}, status: 204, enqueued: 2},
		{name: "empty array", req: request{body: `[]`}, status: 204},
		{name: "only unsupported events", req: request{body: `[{"eventId":1,"occurredAt":1,"subscriptionType":"ticket.creation","objectId":1}]`}, status: 204},
		{name: "invalid event skipped, others enqueued", req: request{body: "[" + event(1, 5, "contact.creation", 0) + `,{"eventId":2,"subscriptionType":"contact.creation"}]`}, status: 204, enqueued: 1},
		{name: "same event twice in a delivery", req: request{body: "[" + event(1, 5, "contact.creation", 0) + "," + event(1, 5, "contact.creation", 1) + "]"}, status: 204, enqueued: 1},
		{name: "oversized", req: request{body: big}, status: 413},
		{name: "oversized base64", req: request{body: big, base64: true}, status: 413},
		{name: "bad base64", req: request{body: docsBatch(t), tamper: func(r *events.APIGatewayV2HTTPRequest) { r.IsBase64Encoded = true; r.Body = "!!" }}, status: 400},
		{name: "malformed JSON", req: request{body: `[{"objectId":1,`}, status: 400},
		{name: "object not array", req: request{body: `{"objectId":1}`}, status: 400},
		{name: "unsigned", req: request{body: docsBatch(t), unsigned: true}, status: 401},
		{name: "unsigned malformed", req: request{body: `[{`, unsigned: true}, status: 401},
		{name: "wrong secret", req: request{body: docsBatch(t), secret: "not-the-secret"}, status: 401},
		{name: "expired", req: request{body: docsBatch(t), timestamp: testNow.Add(-5*time.Minute - time.Second)}, status: 401},
		{name: "flipped body byte", req: request{body: docsBatch(t), tamper: func(r *events.APIGatewayV2HTTPRequest) {
			r.Body = strings.Replace(r.Body, "1246965", "1246966", 1)
		}}, status: 401},
		{name: "other host", req: request{body: docsBatch(t), tamper: func(r *events.APIGatewayV2HTTPRequest) {
			r.RequestContext.DomainName = "evil.example.com"
		}}, status: 401},
		{name: "timestamp replaced", req: request{body: docsBatch(t), tamper: func(r *events.APIGatewayV2HTTPRequest) {
			r.Headers["x-hubspot-request-timestamp"] = strconv.FormatInt(testNow.UnixMilli(), 10)
		}}, status: 401},
		{name: "v1 signature not enabled", req: request{body: docsBatch(t), unsigned: true, tamper: func(r *events.APIGatewayV2HTTPRequest) {
			r.Headers["x-hubspot-signature"] = SignV1(testSecret, []byte(r.Body))
			r.Headers["x-hubspot-signature-version"] = "v1"
		}}, status: 401},
		{name: "v1 signature enabled", versions: []SignatureVersion{SignatureV1, SignatureV3}, req: request{body: docsBatch(t), unsigned: true, tamper: func(r *events.APIGatewayV2HTTPRequest) {
			r.Headers["x-hubspot-signature"] = SignV1(testSecret, []byte(r.Body))
			r.Headers["x-hubspot-signature-version"] = "v1"
		}}, status: 204, enqueued: 2},
		{name: "GET", req: request{body: "", method: http.MethodGet}, status: 405},
		{name: "queue throttled", req: request{body: docsBatch(t)}, queueFail: transientErr{}, status: 503},
		{name: "queue refuses", req: request{body: docsBatch(t)}, queueFail: errors.New("access denied"), status: 500},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			q := &recordingQueue{}
			if tt.queueFail != nil {
				q.fail = func([]crmsync.Trigger) error { return tt.queueFail }
			}
			r := newReceiver(q)
			r.Versions = tt.versions
			resp, err := r.Handle(context.Background(), tt.req.build())
			if err != nil {
				t.Fatalf("Handle error: %v", err)
			}
			if resp.StatusCode != tt.status {
				t.Fatalf("status = %d, want %d", resp.StatusCode, tt.status)
			}
			got := q.triggers()
			if len(got) != tt.enqueued {
				t.Fatalf("enqueued %d triggers, want %d", len(got), tt.enqueued)
			}
			if tt.status >= 400 && tt.status < 500 && q.calls != 0 {
				t.Fatalf("queue called %d times on a %d", q.calls, tt.status)
			}
			for _, tr := range got {
				if err := tr.Validate(); err != nil {
					t.Errorf("enqueued invalid trigger: %v", err)
				}
			}
		})
	}
}

func TestReceiverWithoutQueue(t *testing.T) {
	r := newReceiver(nil)
	resp, err := r.Handle(context.Background(), request{body: docsBatch(t)}.build())
	if err != nil || resp.StatusCode != http.StatusInternalServerError {
		t.Fatalf("status %d, %v; want 500 (and no panic)", resp.StatusCode, err)
	}
}

func dedupeKeys(ts []crmsync.Trigger) []string {
	var keys []string
	for _, t := range ts {
		keys = append(keys, t.DedupeKey)
	}
	slices.Sort(keys)
	return keys
}

// TestReceiverRedelivery: a retried delivery (attemptNumber 1) and a
// delivery of the same events in another order produce the same dedupe
// keys as the first, so the queue drops them.
func TestReceiverRedelivery(t *testing.T) {
	first := "[" + event(1, 10, "contact.creation", 0) + "," + event(2, 10, "contact.propertyChange", 0) + "," + event(3, 4294967296, "company.creation", 0) + "]"
	retry := "[" + event(1, 10, "contact.creation", 1) + "," + event(2, 10, "contact.propertyChange", 1) + "," + event(3, 4294967296, "company.creation", 1) + "]"
	reordered := "[" + event(3, 4294967296, "company.creation", 2) + "," + event(1, 10, "contact.creation", 2) + "," + event(2, 10, "contact.propertyChange", 2) + "]"
	var keys [][]string
	for _, body := range []string{first, retry, reordered} {
		q := &recordingQueue{}
		resp, _ := newReceiver(q).Handle(context.Background(), request{body: body}.build())
		if resp.StatusCode != 204 {
			t.Fatalf("status %d", resp.StatusCode)
		}
		keys = append(keys, dedupeKeys(q.triggers()))
	}
	// The contact's creation and property change coalesce into one.
	if len(keys[0]) != 2 || len(slices.Compact(slices.Clone(keys[0]))) != 2 {
		t.Fatalf("first delivery keys %v, want 2 distinct (the contact's events coalesced, the company's)", keys[0])
	}
	if !slices.Equal(keys[0], keys[1]) {
		t.Errorf("retry keys differ:\n%v\n%v", keys[0], keys[1])
	}
	if !slices.Equal(keys[0], keys[2]) {
		t.Errorf("reordered keys differ:\n%v\n%v", keys[0], keys[2])
	}
}

// BenchmarkReceiver100 measures verify + parse + enqueue of a delivery of
// 100 events (HubSpot's maximum) with an in-memory queue.
func BenchmarkReceiver100(b *testing.B) {
	evs := make([]string, 100)
	for i := range evs {
		evs[i] = event(int64(3816279340+i), int64(2147483648+i), "contact.propertyChange", 0)
	}
	req := request{body: "[" + strings.Join(evs, ",") + "]"}.build()
	q := &countingQueue{}
	r := newReceiver(q)
	ctx := context.Background()
	b.ReportAllocs()
	b.SetBytes(int64(len(req.Body)))
	for b.Loop() {
		resp, _ := r.Handle(ctx, req)
		if resp.StatusCode != 204 {
			b.Fatalf("status %d", resp.StatusCode)
		}
	}
	if q.n != 100*b.N {
		b.Fatalf("enqueued %d, want %d", q.n, 100*b.N)
	}
}

type countingQueue struct{ n int }

func (q *countingQueue) Send(_ context.Context, ts []crmsync.Trigger) error {
	q.n += len(ts)
	return nil
}

// A record's creation and property changes in one delivery coalesce into
// one trigger; a mix of change sources is not an echo; other kinds pass.
func TestCoalesce(t *testing.T) {
	c := crmsync.RecordRef{Side: crmsync.HubSpot, Object: crmsync.HSContact, ID: "1"}
	d := crmsync.RecordRef{Side: crmsync.HubSpot, Object: crmsync.HSContact, ID: "2"}
	t0 := time.Date(2026, 12, 1, 10, 0, 0, 0, time.UTC)
	in := []crmsync.Trigger{
		{Record: c, Kind: crmsync.KindCreated, OccurredAt: t0, DedupeKey: "a", ChangeSource: "INTEGRATION/1", Properties: []string{"email"}},
		{Record: c, Kind: crmsync.KindPropertyChanged, OccurredAt: t0.Add(time.Second), DedupeKey: "b", ChangeSource: "INTEGRATION/1", Properties: []string{"firstname"}},
		{Record: d, Kind: crmsync.KindPropertyChanged, OccurredAt: t0, DedupeKey: "c", ChangeSource: "INTEGRATION/1"},
		{Record: d, Kind: crmsync.KindPropertyChanged, OccurredAt: t0, DedupeKey: "d", ChangeSource: "CRM_UI"},
		{Record: c, Kind: crmsync.KindDeleted, OccurredAt: t0, DedupeKey: "e"},
	}
	out := Coalesce(in)
	if len(out) != 3 {
		t.Fatalf("%d triggers, want 3: %+v", len(out), out)
	}
	if m := out[0]; m.Kind != crmsync.KindCreated || !slices.Equal(m.Properties, []string{"email", "firstname"}) ||
		m.ChangeSource != "INTEGRATION/1" || !m.OccurredAt.Equal(t0.Add(time.Second)) || m.DedupeKey == "a" {
		t.Errorf("coalesced %+v", m)
	}
	if out[1].ChangeSource != "" {
		t.Errorf("mixed sources kept %q", out[1].ChangeSource)
	}
	if out[2].Kind != crmsync.KindDeleted {
		t.Errorf("the delete did not pass: %+v", out[2])
	}
	if again := Coalesce(in); again[0].DedupeKey != out[0].DedupeKey {
		t.Error("the coalesced dedupe key is not stable")
	}
}
