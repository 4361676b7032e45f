package salesforce

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/netip"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/crmsync/crmsync/pkg/crmsync"
)

// fakeQueue is an Enqueuer that, like the real FIFO queue, drops a
// trigger whose dedupe key it has already accepted.
type fakeQueue struct {
	mu    sync.Mutex
	err   error
	calls int
	sent  []crmsync.Trigger
	keys  map[string]bool
}

func (q *fakeQueue) Send(_ context.Context, triggers []crmsync.Trigger) error {
	q.mu.Lock()
	defer q.mu.Unlock()
	q.calls++
	if q.err != nil {
		return q.err
	}
	if q.keys == nil {
		q.keys = map[string]bool{}
	}
	for _, t := range triggers {
		if err := t.Validate(); err != nil {
			return err
		}
		if !q.keys[t.DedupeKey] {
			q.keys[t.DedupeKey] = true
			q.sent = append(q.sent, t)
		}
	}
	return nil
}

// apiRequest wraps body in the aws-lambda-go API Gateway v2 fixture, POSTed.
func apiRequest(t testing.TB, body string) events.APIGatewayV2HTTPRequest {
	t.Helper()
	var req events.APIGatewayV2HTTPRequest
	if err := json.Unmarshal(readTestdata(t, "apigw-v2-request-no-authorizer.json"), &req); err != nil {
		t.Fatal(err)
	}
	req.RequestContext.HTTP.Method = http.MethodPost
	req.Headers["content-type"] = "text/xml; charset=utf-8"
	req.Headers["soapaction"] = `""`
	req.Body = body
	return req
}

const testOrg = "00D5e000000AbCdEAK"

func TestOutboundReceiver(t *testing.T) {
	fixture := string(readTestdata(t, "outbound-aspnet-contacts.xml"))
	hundred := string(testMessage(100).MarshalSOAP())
	withToken := func(req events.APIGatewayV2HTTPRequest, where, token string) events.APIGatewayV2HTTPRequest {
		if where == "path" {
			req.PathParameters = map[string]string{"token": token}
			req.RawPath = "/webhooks/salesforce/" + token
		} else {
			req.QueryStringParameters = map[string]string{"token": token}
			req.RawQueryString = "token=" + token
		}
		return req
	}
	unknownOnly := testMessage(1)
	unknownOnly.Notifications[0].SObject.Type = "Invoice__c"
	tests := []struct {
		name      string
		orgID     string
		token     string
		tokens    []string // besides token
		require   bool     // RequireToken
		sources   []string // AllowedSources
		queueErr  error
		req       func(t *testing.T) events.APIGatewayV2HTTPRequest
		status    int
		fault     FaultCode // "" = Ack true expected
		triggers  int
		sendCalls int
	}{
		{name: "fixture envelope", orgID: "012345678901234",
			req: func(t *testing.T) events.APIGatewayV2HTTPRequest { return apiRequest(t, fixture) }, status: 200, triggers: 2, sendCalls: 1},
		{name: "fixture, org configured in 18-character form", orgID: ID18("012345678901234"),
			req: func(t *testing.T) events.APIGatewayV2HTTPRequest { return apiRequest(t, fixture) }, status: 200, triggers: 2, sendCalls: 1},
		{name: "100 notifications", orgID: testOrg,
			req: func(t *testing.T) events.APIGatewayV2HTTPRequest { return apiRequest(t, hundred) }, status: 200, triggers: 100, sendCalls: 1},
		{name: "base64 body", orgID: testOrg,
			req: func(t *testing.T) events.APIGatewayV2HTTPRequest {
				r := apiRequest(t, base64.StdEncoding.EncodeToString([]byte(hundred)))
				r.IsBase64Encoded = true
				return r
			}, status: 200, triggers: 100, sendCalls: 1},
		{name: "token in path", orgID: testOrg, token: "s3cret-token",
			req: func(t *testing.T) events.APIGatewayV2HTTPRequest {
				return withToken(apiRequest(t, hundred), "path", "s3cret-token")
			}, status: 200, triggers: 100, sendCalls: 1},
		{name: "token in query", orgID: testOrg, token: "s3cret-token",
			req: func(t *testing.T) events.APIGatewayV2HTTPRequest {
				return withToken(apiRequest(t, hundred), "query", "s3cret-token")
			}, status: 200, triggers: 100, sendCalls: 1},
		{name: "only object types crmsync does not sync", orgID: testOrg,
			req: func(t *testing.T) events.APIGatewayV2HTTPRequest {
				return apiRequest(t, string(unknownOnly.MarshalSOAP()))
			}, status: 200},
		{name: "token missing", orgID: testOrg, token: "s3cret-token",
			req: func(t *testing.T) events.APIGatewayV2HTTPRequest { return apiRequest(t, hundred) }, status: 401, fault: FaultClient},
		{name: "token wrong", orgID: testOrg, token: "s3cret-token",
			req: func(t *testing.T) events.APIGatewayV2HTTPRequest {
				return withToken(apiRequest(t, hundred), "path", "s3cret-tokeN")
			}, status: 401, fault: FaultClient},
		{name: "wrong organization", orgID: "00D5e000000ZzZzEAK",
			req: func(t *testing.T) events.APIGatewayV2HTTPRequest { return apiRequest(t, hundred) }, status: 403, fault: FaultClient},
		{name: "malformed xml", orgID: testOrg,
			req: func(t *testing.T) events.APIGatewayV2HTTPRequest { return apiRequest(t, hundred[:len(hundred)/2]) }, status: 400, fault: FaultClient},
		{name: "empty notifications", orgID: testOrg,
			req: func(t *testing.T) events.APIGatewayV2HTTPRequest {
				return apiRequest(t, string((&OutboundMessage{OrganizationID: testOrg}).MarshalSOAP()))
			}, status: 400, fault: FaultClient},
		{name: "empty body", orgID: testOrg,
			req: func(t *testing.T) events.APIGatewayV2HTTPRequest { return apiRequest(t, "") }, status: 400, fault: FaultClient},
		{name: "bad base64", orgID: testOrg,
			req: func(t *testing.T) events.APIGatewayV2HTTPRequest {
				r := apiRequest(t, "%%%not base64")
				r.IsBase64Encoded = true
				return r
			}, status: 400, fault: FaultClient},
		{name: "body too large", orgID: testOrg,
			req: func(t *testing.T) events.APIGatewayV2HTTPRequest {
				return apiRequest(t, hundred+strings.Repeat(" ", DefaultMaxBody))
			}, status: 413, fault: FaultClient},
		{name: "GET", orgID: testOrg,
			req: func(t *testing.T) events.APIGatewayV2HTTPRequest {
				r := apiRequest(t, hundred)
				r.RequestContext.HTTP.Method = http.MethodGet
				return r
			}, status: 405, fault: FaultClient},
		{name: "queue fails", orgID: testOrg, queueErr: errors.New("sqs: throttled"),
			req: func(t *testing.T) events.APIGatewayV2HTTPRequest { return apiRequest(t, hundred) }, status: 500, fault: FaultServer, sendCalls: 1},
		{name: "queue fails partly", orgID: testOrg,
			queueErr: &crmsync.SendError{Failed: map[int]error{7: errors.New("sqs: internal error")}},
			req:      func(t *testing.T) events.APIGatewayV2HTTPRequest { return apiRequest(t, hundred) }, status: 500, fault: FaultServer, sendCalls: 1},
		// The deployed receiver requires a token (RequireToken): without one
		// configured it refuses everything with a Server fault (Salesforce
		// retries, nothing is lost); without one in the request, 401.
		{name: "token required, none configured", orgID: testOrg, require: true,
			req: func(t *testing.T) events.APIGatewayV2HTTPRequest { return apiRequest(t, hundred) }, status: 500, fault: FaultServer},
		{name: "token required, none configured, one sent", orgID: testOrg, require: true,
			req: func(t *testing.T) events.APIGatewayV2HTTPRequest {
				return withToken(apiRequest(t, hundred), "path", "s3cret-token")
			}, status: 500, fault: FaultServer},
		{name: "token required, none sent", orgID: testOrg, require: true, token: "s3cret-token",
			req: func(t *testing.T) events.APIGatewayV2HTTPRequest { return apiRequest(t, hundred) }, status: 401, fault: FaultClient},
		{name: "token required and sent", orgID: testOrg, require: true, token: "s3cret-token",
			req: func(t *testing.T) events.APIGatewayV2HTTPRequest {
				return withToken(apiRequest(t, hundred), "path", "s3cret-token")
			}, status: 200, triggers: 100, sendCalls: 1},
		// A rotation: both the new and the previous token are accepted.
		{name: "rotation, previous token", orgID: testOrg, require: true, tokens: []string{"n3w-token-value"}, token: "s3cret-token",
			req: func(t *testing.T) events.APIGatewayV2HTTPRequest {
				return withToken(apiRequest(t, hundred), "path", "s3cret-token")
			}, status: 200, triggers: 100, sendCalls: 1},
		{name: "rotation, new token", orgID: testOrg, require: true, tokens: []string{"n3w-token-value"}, token: "s3cret-token",
			req: func(t *testing.T) events.APIGatewayV2HTTPRequest {
				return withToken(apiRequest(t, hundred), "path", "n3w-token-value")
			}, status: 200, triggers: 100, sendCalls: 1},
		{name: "rotation, token prefix", orgID: testOrg, require: true, tokens: []string{"n3w-token-value"}, token: "s3cret-token",
			req: func(t *testing.T) events.APIGatewayV2HTTPRequest {
				return withToken(apiRequest(t, hundred), "path", "s3cret")
			}, status: 401, fault: FaultClient},
		// The fixture request comes from 1.2.3.4 (requestContext.http.sourceIp).
		{name: "source in an allowed range", orgID: testOrg, sources: []string{"13.108.0.0/14", "1.2.3.0/24"},
			req: func(t *testing.T) events.APIGatewayV2HTTPRequest { return apiRequest(t, hundred) }, status: 200, triggers: 100, sendCalls: 1},
		{name: "source outside the allowed ranges", orgID: testOrg, token: "s3cret-token", sources: []string{"13.108.0.0/14", "2a01:111::/32"},
			req: func(t *testing.T) events.APIGatewayV2HTTPRequest {
				return withToken(apiRequest(t, hundred), "path", "s3cret-token")
			}, status: 403, fault: FaultClient},
		{name: "no source address, ranges set", orgID: testOrg, sources: []string{"0.0.0.0/0"},
			req: func(t *testing.T) events.APIGatewayV2HTTPRequest {
				r := apiRequest(t, hundred)
				r.RequestContext.HTTP.SourceIP = ""
				return r
			}, status: 403, fault: FaultClient},
		{name: "no organization configured",
			req: func(t *testing.T) events.APIGatewayV2HTTPRequest { return apiRequest(t, hundred) }, status: 500, fault: FaultServer},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			q := &fakeQueue{err: tt.queueErr}
			var logs bytes.Buffer
			tokens := tt.tokens
			if tt.token != "" {
				tokens = append(tokens, tt.token)
			}
			var sources []netip.Prefix
			for _, c := range tt.sources {
				sources = append(sources, netip.MustParsePrefix(c))
			}
			r := &OutboundReceiver{OrgID: tt.orgID, Tokens: tokens, RequireToken: tt.require, AllowedSources: sources, Queue: q,
				Logger: slog.New(slog.NewJSONHandler(&logs, nil)),
				Now:    func() time.Time { return time.Date(2026, 11, 23, 17, 0, 0, 0, time.UTC) }}
			resp, err := r.Handle(context.Background(), tt.req(t))
			if err != nil {
				t.Fatalf("Handle returned error %v; it must answer with SOAP", err)
			}
			if resp.StatusCode != tt.status {
				t.Errorf("status = %d, want %d; body %s", resp.StatusCode, tt.status, resp.Body)
			}
			if ct := resp.Headers["Content-Type"]; ct != "text/xml; charset=utf-8" {
				t.Errorf("content type = %q", ct)
			}
			ack, err := ParseAck([]byte(resp.Body))
			var fe *FaultError
			switch {
			case tt.fault == "" && (!ack || err != nil):
				t.Errorf("want Ack true, got %v, %v", ack, err)
			case tt.fault != "" && (!errors.As(err, &fe) || fe.Code != string(tt.fault)):
				t.Errorf("want fault %s, got ack %v, err %v", tt.fault, ack, err)
			}
			if len(q.sent) != tt.triggers || q.calls != tt.sendCalls {
				t.Errorf("queued %d triggers in %d calls, want %d in %d", len(q.sent), q.calls, tt.triggers, tt.sendCalls)
			}
			for _, secret := range []string{"AQsAQOjGFnFJzGPA", "FakeSessionForTests", "s3cret-token", "n3w-token-value"} {
				if strings.Contains(logs.String(), secret) || strings.Contains(resp.Body, secret) {
					t.Errorf("secret %q leaked into logs or response", secret)
				}
			}
		})
	}
}

func TestOutboundReceiverRedelivery(t *testing.T) {
	q := &fakeQueue{}
	r := &OutboundReceiver{OrgID: testOrg, Queue: q, Logger: slog.New(slog.DiscardHandler)}
	m := testMessage(5)
	body := string(m.MarshalSOAP())
	for i := range 2 {
		resp, _ := r.Handle(context.Background(), apiRequest(t, body))
		if resp.StatusCode != 200 {
			t.Fatalf("delivery %d: status %d", i, resp.StatusCode)
		}
	}
	// A later message repeats notification 2 and has one new notification.
	m2 := testMessage(6)
	m2.Notifications = m2.Notifications[2:]
	m2.Notifications = append(m2.Notifications, m2.Notifications[0]) // repeated within the message too
	if resp, _ := r.Handle(context.Background(), apiRequest(t, string(m2.MarshalSOAP()))); resp.StatusCode != 200 {
		t.Fatalf("third delivery: status %d", resp.StatusCode)
	}
	if len(q.sent) != 6 || q.calls != 3 {
		t.Errorf("queue holds %d triggers after %d sends, want 6 after 3: redeliveries must carry the same dedupe keys", len(q.sent), q.calls)
	}
	for i, tr := range q.sent {
		if want := DedupeKey(testMessage(6).Notifications[i].ID); tr.DedupeKey != want {
			t.Errorf("trigger %d dedupe key %s, want %s", i, tr.DedupeKey, want)
		}
	}
}

// BenchmarkOutboundReceiver100 parses and enqueues one 100-notification
// message (6 fields each) through the handler.
func BenchmarkOutboundReceiver100(b *testing.B) {
	req := apiRequest(b, string(testMessage(100).MarshalSOAP()))
	r := &OutboundReceiver{OrgID: testOrg, Queue: discardQueue{}, Logger: slog.New(slog.DiscardHandler)}
	ctx := context.Background()
	b.SetBytes(int64(len(req.Body)))
	b.ReportAllocs()
	for b.Loop() {
		resp, _ := r.Handle(ctx, req)
		if resp.StatusCode != 200 {
			b.Fatal(resp.Body)
		}
	}
}

type discardQueue struct{}

func (discardQueue) Send(context.Context, []crmsync.Trigger) error { return nil }

func ExampleOutboundReceiver() {
	r := &OutboundReceiver{OrgID: "012345678901234", Queue: discardQueue{}, Logger: slog.New(slog.DiscardHandler)}
	body := `<soapenv:Envelope xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"><soapenv:Body>
<notifications xmlns="http://soap.sforce.com/2005/09/outbound"><OrganizationId>012345678901234AAA</OrganizationId>
<Notification><Id>04l1I000000fztEQAQ</Id><sObject xsi:type="sf:Lead" xmlns:sf="urn:sobject.enterprise.soap.sforce.com"><sf:Id>00Q1I000004AbCdUAK</sf:Id></sObject></Notification>
</notifications></soapenv:Body></soapenv:Envelope>`
	resp, _ := r.Handle(context.Background(), events.APIGatewayV2HTTPRequest{Body: body})
	fmt.Println(resp.StatusCode, strings.Contains(resp.Body, "<Ack>true</Ack>"))
	// Output: 200 true
}
