package main

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/crmsync/crmsync/pkg/crmsync"
	"github.com/crmsync/crmsync/pkg/hubspot"
)

// The samples in events/ are named hubspot-webhook-<scenario>-<status>.json:
// the last part of the name is the HTTP status the handler must answer.
// They are signed (v3) with eventsSecret at eventsTime; the test's clock is
// eventsTime + 30 s. Regenerate them with
//
//	go test ./functions/hubspot-webhook -run TestEvents -update
const eventsSecret = "crmsync-events-test-secret"

var (
	eventsTime = time.Date(2026, 11, 23, 12, 0, 0, 0, time.UTC)
	update     = flag.Bool("update", false, "rewrite events/hubspot-webhook-*.json")
	eventName  = regexp.MustCompile(`^hubspot-webhook-([a-z0-9-]+)-([1-5][0-9][0-9])\.json$`)
)

type recordingQueue struct {
	mu   sync.Mutex
	sent []crmsync.Trigger
}

func (q *recordingQueue) Send(_ context.Context, ts []crmsync.Trigger) error {
	q.mu.Lock()
	defer q.mu.Unlock()
	q.sent = append(q.sent, ts...)
	return nil
}

func TestEvents(t *testing.T) {
	if *update {
		writeEvents(t)
	}
	files, err := filepath.Glob("../../events/hubspot-webhook-*.json")
	if err != nil {
		t.Fatal(err)
	}
	if len(files) < 5 {
		t.Fatalf("found %d events/hubspot-webhook-*.json files, want the 8 scenarios", len(files))
	}
	for _, f := range files {
		name := filepath.Base(f)
		t.Run(name, func(t *testing.T) {
			m := eventName.FindStringSubmatch(name)
			if m == nil {
				t.Fatalf("name does not match hubspot-webhook-<scenario>-<status>.json")
			}
			want, _ := strconv.Atoi(m[2])
			b, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			var req events.APIGatewayV2HTTPRequest
			if err := json.Unmarshal(b, &req); err != nil {
				t.Fatalf("decode: %v", err)
			}
			q := &recordingQueue{}
			r := &hubspot.WebhookReceiver{
				Secrets: []string{eventsSecret},
				Queue:   q,
				Now:     func() time.Time { return eventsTime.Add(30 * time.Second) },
				Logger:  slog.New(slog.NewTextHandler(io.Discard, nil)),
			}
			resp, err := r.Handle(context.Background(), req)
			if err != nil {
				t.Fatal(err)
			}
			if resp.StatusCode != want {
				t.Fatalf("status = %d, want %d", resp.StatusCode, want)
			}
			switch {
			case want >= 400 && len(q.sent) > 0:
				t.Fatalf("%d triggers enqueued on a %d", len(q.sent), want)
			case want < 300 && len(q.sent) == 0:
				t.Fatalf("nothing enqueued on a %d", want)
			}
			for _, tr := range q.sent {
				if err := tr.Validate(); err != nil {
					t.Errorf("invalid trigger: %v", err)
				}
			}
		})
	}
}

// scenario is one sample request.
type scenario struct {
	name   string // <scenario>-<status>
	url    bool   // Lambda Function URL envelope (else HTTP API)
	body   string
	base64 bool
	ts     time.Time
	secret string
	sign   bool
}

func ev(id int64, typ string, attempt int, extra string) string {
	return fmt.Sprintf(`{"eventId":%d,"subscriptionId":25,"portalId":62515,"appId":1160452,"occurredAt":%d,"subscriptionType":%q,"attemptNumber":%d,%s}`,
		id, eventsTime.Add(-3*time.Second).UnixMilli(), typ, attempt, extra)
}

func scenarios() []scenario {
	forms := "[" + strings.Join([]string{
		ev(101, "contact.creation", 0, `"objectId":2147483649,"changeSource":"CRM_UI","changeFlag":"NEW"`),
		ev(102, "contact.propertyChange", 0, `"objectId":2147483649,"propertyName":"email","propertyValue":"ada@example.com","changeSource":"INTEGRATION","sourceId":"1160452"`),
		ev(103, "company.deletion", 0, `"objectId":4711,"changeSource":"CRM_UI"`),
		ev(104, "deal.restore", 0, `"objectId":81234567890,"changeSource":"CRM_UI"`),
		ev(105, "contact.privacyDeletion", 0, `"objectId":512,"changeSource":"GDPR"`),
		ev(106, "contact.merge", 0, `"objectId":900,"primaryObjectId":900,"mergedObjectIds":[901,902],"newObjectId":900,"numberOfPropertiesMoved":7,"changeSource":"CRM_UI"`),
		ev(107, "contact.associationChange", 0, `"associationType":"CONTACT_TO_COMPANY","fromObjectId":900,"toObjectId":4711,"associationRemoved":false,"isPrimaryAssociation":true,"changeSource":"USER"`),
		ev(108, "object.creation", 0, `"objectTypeId":"0-48","objectId":30001,"changeSource":"CRM_UI"`),
		ev(109, "object.propertyChange", 0, `"objectTypeId":"0-46","objectId":30002,"propertyName":"hs_note_body","propertyValue":"called back","changeSource":"CRM_UI"`),
		ev(110, "ticket.creation", 0, `"objectId":77,"changeSource":"CRM_UI"`),
	}, ",") + "]"
	retry := "[" + ev(102, "contact.propertyChange", 3, `"objectId":2147483649,"propertyName":"email","propertyValue":"ada@example.com","changeSource":"INTEGRATION","sourceId":"1160452"`) + "]"
	docs, _ := os.ReadFile("../../pkg/hubspot/testdata/webhook-batch-docs-subscriptionType.json")
	signed := eventsTime.Add(-time.Second)
	return []scenario{
		{name: "docs-batch-204", url: true, body: string(docs), ts: signed, sign: true},
		{name: "all-event-forms-204", body: forms, ts: signed, sign: true},
		{name: "retry-attempt-3-204", body: retry, ts: signed, sign: true},
		{name: "base64-body-204", url: true, body: string(docs), base64: true, ts: signed, sign: true},
		{name: "wrong-secret-401", body: string(docs), ts: signed, secret: "not-the-app-secret", sign: true},
		{name: "expired-timestamp-401", body: string(docs), ts: eventsTime.Add(-10 * time.Minute), sign: true},
		{name: "unsigned-401", url: true, body: string(docs), ts: signed},
		{name: "malformed-json-400", body: `[{"eventId":1,"subscriptionType":"contact.creation",`, ts: signed, sign: true},
	}
}

// writeEvents rewrites the samples from scenarios().
func writeEvents(t *testing.T) {
	old, _ := filepath.Glob("../../events/hubspot-webhook-*.json")
	for _, f := range old {
		os.Remove(f)
	}
	for _, s := range scenarios() {
		// Through a map, to drop the empty "authentication" block the
		// struct always marshals (HubSpot presents no client certificate).
		raw, err := json.Marshal(envelope(s))
		if err != nil {
			t.Fatal(err)
		}
		var m map[string]any
		if err := json.Unmarshal(raw, &m); err != nil {
			t.Fatal(err)
		}
		delete(m["requestContext"].(map[string]any), "authentication")
		b, err := json.MarshalIndent(m, "", "    ")
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile("../../events/hubspot-webhook-"+s.name+".json", append(b, '\n'), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

func envelope(s scenario) events.APIGatewayV2HTTPRequest {
	// The HTTP API route is template.yaml's (POST /webhooks/hubspot on the
	// receivers' API, $default stage); a Function URL takes any path.
	domain, path, route, prefix := "a1b2c3d4e5.execute-api.eu-west-1.amazonaws.com", "/webhooks/hubspot", "POST /webhooks/hubspot", "a1b2c3d4e5"
	if s.url {
		domain, path, route, prefix = "abcdefghijklmnopqrstuvwxyz012345.lambda-url.eu-west-1.on.aws", "/", "$default", "abcdefghijklmnopqrstuvwxyz012345"
	}
	ts := strconv.FormatInt(s.ts.UnixMilli(), 10)
	headers := map[string]string{
		"accept":                      "*/*",
		"content-type":                "application/json",
		"host":                        domain,
		"user-agent":                  "HubSpot Connect 2.0 (http://dev.hubspot.com/) - WebhooksExecutorDaemon-executor",
		"x-amzn-trace-id":             "Root=1-6922f8c0-0d6e2b7c1f1a4e2b3c4d5e6f",
		"x-forwarded-for":             "54.174.60.1",
		"x-forwarded-port":            "443",
		"x-forwarded-proto":           "https",
		"x-hubspot-request-timestamp": ts,
		"content-length":              strconv.Itoa(len(s.body)),
	}
	if s.sign {
		secret := s.secret
		if secret == "" {
			secret = eventsSecret
		}
		headers["x-hubspot-signature-v3"] = hubspot.SignV3(secret, "POST", hubspot.SignedURI(domain, path, ""), []byte(s.body), ts)
	}
	body := s.body
	if s.base64 {
		body = base64.StdEncoding.EncodeToString([]byte(s.body))
	}
	return events.APIGatewayV2HTTPRequest{
		Version: "2.0", RouteKey: route, RawPath: path, RawQueryString: "", Headers: headers,
		RequestContext: events.APIGatewayV2HTTPRequestContext{
			RouteKey: route, AccountID: "123456789012", Stage: "$default", RequestID: "Vh3kLj2YDoEEMcQ=",
			APIID: prefix, DomainName: domain, DomainPrefix: prefix, Time: "23/Nov/2026:11:59:59 +0000",
			TimeEpoch: s.ts.UnixMilli(),
			HTTP: events.APIGatewayV2HTTPRequestContextHTTPDescription{
				Method: "POST", Path: path, Protocol: "HTTP/1.1", SourceIP: "54.174.60.1",
				UserAgent: headers["user-agent"],
			},
		},
		Body: body, IsBase64Encoded: s.base64,
	}
}
