package hubspot

import (
	"bytes"
	"errors"
	"os"
	"strconv"
	"testing"
	"time"
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
