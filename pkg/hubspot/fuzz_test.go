package hubspot

import (
	"bytes"
	"context"
	"encoding/base64"
	"errors"
	"log/slog"
	"os"
	"strconv"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/crmsync/crmsync/pkg/crmsync"
)

// The fuzz targets of the webhook path: what a receiver does with bytes
// and headers anyone on the internet can send. `make fuzz` runs them for
// a bounded time; `go test` runs the seeds.

func FuzzParseEvents(f *testing.F) {
	for _, name := range []string{"testdata/webhook-batch-docs-subscriptionType.json", "testdata/webhook-contact-creation-docs-v1-validation-body.json"} {
		b, err := os.ReadFile(name)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Add([]byte(`[{"eventId":1,"occurredAt":1700000000123,"subscriptionType":"contact.merge","objectId":1,"primaryObjectId":1,"mergedObjectIds":[2,3]}]`))
	f.Add([]byte(`[{"eventId":"42","portalId":"3","occurredAt":"1700000000123","subscriptionType":"object.propertyChange","objectTypeId":"0-48","objectId":"2147483648","propertyName":"hs_call_title","propertyValue":"x"}]`))
	f.Add([]byte(`[{"eventId":1,"occurredAt":1700000000123,"subscriptionType":"contact.associationChange","associationType":"CONTACT_TO_COMPANY","fromObjectId":1,"toObjectId":2,"associationRemoved":true}]`))
	f.Fuzz(func(t *testing.T, body []byte) {
		evs, err := ParseEvents(body)
		if err != nil {
			return
		}
		// A body of n bytes cannot hold more than n/2 events ("{}" each).
		if len(evs) > len(body)/2+1 {
			t.Fatalf("%d events from %d bytes", len(evs), len(body))
		}
		for _, e := range evs {
			tr, err := e.Trigger()
			if err != nil {
				if !errors.Is(err, ErrUnsupportedEvent) && !errors.Is(err, ErrInvalidEvent) {
					t.Fatalf("Trigger error of an unknown kind: %v", err)
				}
				continue
			}
			if err := tr.Validate(); err != nil {
				t.Fatalf("a trigger that does not validate: %+v: %v", tr, err)
			}
		}
	})
}

func FuzzVerifySignature(f *testing.F) {
	f.Add("secret", "POST", "https://example.com/webhooks/hubspot?x=1", []byte(`[{"eventId":1}]`), "1700000000000", "dGVzdA==", 3)
	f.Add("yyyyyyyy-yyyy-yyyy-yyyy-yyyyyyyyyyyy", "GET", "https://www.example.com/webhook_uri?param=%20a", []byte(``), "", "232db2615f3d666fe21a8ec971ac7b5402d33b9a925784df3ca654d05f4817de", 2)
	f.Add("", "", "", []byte{0xff}, "-1", "", 1)
	f.Fuzz(func(t *testing.T, secret, method, uri string, body []byte, ts, value string, version int) {
		now := time.UnixMilli(1700000000000)
		vers := []SignatureVersion{SignatureV1, SignatureV2, SignatureV3}
		v := Verifier{Secrets: []string{secret}, Versions: vers}
		sig := Signature{Version: vers[(version%3+3)%3], Value: value, Timestamp: ts}
		_ = v.Verify(sig, method, uri, body, now)
		_ = DecodeSignedURI(uri)
		_ = SignaturesFromHeaders(func(string) string { return value })

		// What HubSpot signs verifies; the same with another body does not;
		// an empty secret never verifies anything.
		good := strconv.FormatInt(now.UnixMilli(), 10)
		signed := Signature{Version: SignatureV3, Value: SignV3(secret, method, uri, body, good), Timestamp: good}
		if secret == "" {
			if err := v.Verify(signed, method, uri, body, now); !errors.Is(err, ErrSignatureMismatch) {
				t.Fatalf("a signature made with the empty secret: %v", err)
			}
			return
		}
		if err := v.Verify(signed, method, uri, body, now); err != nil {
			t.Fatalf("own v3 signature refused: %v", err)
		}
		other := append(bytes.Clone(body), 'x')
		if err := v.Verify(signed, method, uri, other, now); !errors.Is(err, ErrSignatureMismatch) {
			t.Fatalf("v3 signature of another body: %v", err)
		}
	})
}

func FuzzParseCredentials(f *testing.F) {
	f.Add(`{"private_app_token":"pat-na1-x","client_secret":"s"}`)
	f.Add(`pat-na1-00000000-0000-0000-0000-000000000000`)
	f.Add(``)
	f.Fuzz(func(t *testing.T, secret string) {
		_, _ = ParseCredentials(secret)
	})
}

// recorder is an Enqueuer that keeps what it was sent.
type recorder struct{ got []crmsync.Trigger }

func (q *recorder) Send(_ context.Context, ts []crmsync.Trigger) error {
	q.got = append(q.got, ts...)
	return nil
}

// FuzzWebhookReceiver runs whole deliveries through the receiver: a body
// (raw or base64) signed with the app secret, with another secret, or not
// at all. Every outcome is one of the documented statuses, nothing is
// enqueued on a 4xx, an unsigned or wrongly signed body never gets past
// the signature, and what is enqueued validates and is deduplicated.
func FuzzWebhookReceiver(f *testing.F) {
	b, err := os.ReadFile("testdata/webhook-batch-docs-subscriptionType.json")
	if err != nil {
		f.Fatal(err)
	}
	f.Add(b, false, uint8(0), "/webhooks/hubspot", "a=1")
	f.Add(b, true, uint8(1), "/webhooks/hubspot", "")
	f.Add([]byte(`[{"eventId":1,"occurredAt":1700000000123,"subscriptionType":"contact.creation","objectId":1},{"eventId":1,"occurredAt":1700000000123,"subscriptionType":"contact.creation","objectId":1}]`), false, uint8(0), "/h", "")
	f.Add([]byte(`not json`), false, uint8(2), "/h", "")
	const secret = "app-secret"
	now := time.UnixMilli(1700000000000)
	f.Fuzz(func(t *testing.T, body []byte, b64 bool, signing uint8, path, query string) {
		q := &recorder{}
		r := WebhookReceiver{Secrets: []string{secret}, Queue: q, Now: func() time.Time { return now }, MaxBody: 64 << 10,
			Logger: slog.New(slog.DiscardHandler)}
		req := events.APIGatewayV2HTTPRequest{RawPath: path, RawQueryString: query, Headers: map[string]string{}}
		req.RequestContext.HTTP.Method = "POST"
		req.RequestContext.DomainName = "hooks.example.com"
		req.Body = string(body)
		if b64 {
			req.Body, req.IsBase64Encoded = base64.StdEncoding.EncodeToString(body), true
		}
		ts := strconv.FormatInt(now.UnixMilli(), 10)
		uri := SignedURI(req.RequestContext.DomainName, path, query)
		switch signing % 3 {
		case 0:
			req.Headers["X-HubSpot-Signature-v3"] = SignV3(secret, "POST", uri, body, ts)
		case 1:
			req.Headers["X-HubSpot-Signature-v3"] = SignV3("another-secret", "POST", uri, body, ts)
		}
		req.Headers["X-HubSpot-Request-Timestamp"] = ts
		resp, err := r.Handle(context.Background(), req)
		if err != nil {
			t.Fatalf("Handle returned an error: %v", err)
		}
		switch resp.StatusCode {
		case 204, 400, 401, 413:
		default:
			t.Fatalf("status %d", resp.StatusCode)
		}
		if resp.StatusCode != 204 && len(q.got) > 0 {
			t.Fatalf("%d triggers enqueued on a %d", len(q.got), resp.StatusCode)
		}
		if signing%3 != 0 && resp.StatusCode == 204 {
			t.Fatalf("a delivery not signed with the secret was accepted")
		}
		seen := map[string]bool{}
		for _, tr := range q.got {
			if err := tr.Validate(); err != nil || seen[tr.DedupeKey] {
				t.Fatalf("enqueued %+v (%v, duplicate %v)", tr, err, seen[tr.DedupeKey])
			}
			seen[tr.DedupeKey] = true
		}
	})
}
