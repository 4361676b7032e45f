package salesforce

import (
	"context"
	"encoding/base64"
	"log/slog"
	"os"
	"reflect"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/crmsync/crmsync/pkg/crmsync"
)

// The fuzz targets of the Outbound Message path (SOAP anyone can POST to
// the receiver) and of the small parsers of what the API answers.
// `make fuzz` runs them for a bounded time; `go test` runs the seeds.

func FuzzParseOutboundMessage(f *testing.F) {
	for _, name := range []string{"testdata/outbound-aspnet-contacts.xml", "testdata/ack-aspnet.xml", "testdata/fault-aspnet.xml"} {
		b, err := os.ReadFile(name)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Add(testMessage(3).MarshalSOAP())
	f.Add([]byte("\xEF\xBB\xBF" + envelope(`<notifications xmlns="http://soap.sforce.com/2005/09/outbound">`+header+
		`<Notification><Id>04l5e00000AbCdEAAV</Id><sObject xsi:type="sf:Lead" xmlns:sf="urn:sobject.enterprise.soap.sforce.com">`+
		`<sf:Id>00Q5e00000Ab1CdEAF</sf:Id><sf:Phone xsi:nil="true"/></sObject></Notification></notifications>`)))
	f.Add([]byte(`<?xml version="1.0"?><!DOCTYPE x [<!ENTITY a "aaaa"><!ENTITY b "&a;&a;&a;&a;">]><x>&b;</x>`))
	f.Fuzz(func(t *testing.T, body []byte) {
		m, err := ParseOutboundMessage(body)
		if err != nil {
			return
		}
		if len(m.Notifications) > len(body)/16+1 {
			t.Fatalf("%d notifications from %d bytes", len(m.Notifications), len(body))
		}
		received := time.Date(2026, 11, 23, 12, 0, 0, 0, time.UTC)
		triggers, skipped := m.Triggers(received)
		if len(triggers)+len(skipped) > len(m.Notifications) {
			t.Fatalf("%d triggers and %d skipped from %d notifications", len(triggers), len(skipped), len(m.Notifications))
		}
		for _, tr := range triggers {
			if err := tr.Validate(); err != nil {
				t.Fatalf("a trigger that does not validate: %+v: %v", tr, err)
			}
			if tr.Record.Side != crmsync.Salesforce {
				t.Fatalf("a Salesforce message made a %s trigger", tr.Record.Side)
			}
		}
		// What we send (the simulator's sender) parses back the same.
		again, err := ParseOutboundMessage(m.MarshalSOAP())
		if err != nil {
			t.Fatalf("own SOAP does not parse: %v\n%s", err, m.MarshalSOAP())
		}
		if !reflect.DeepEqual(again, m) {
			t.Fatalf("SOAP round trip changed the message:\n %+v\n %+v", m, again)
		}
	})
}

func FuzzParseAck(f *testing.F) {
	for _, name := range []string{"testdata/ack-aspnet.xml", "testdata/fault-aspnet.xml"} {
		b, err := os.ReadFile(name)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		_, _ = ParseAck(body)
	})
}

func FuzzParseSmall(f *testing.F) {
	f.Add("2026-11-23T12:00:00.000+0000", "api-usage=25/15000", `{"login_url":"https://login.salesforce.com","client_id":"c","username":"u","private_key":"k"}`)
	f.Add("2026-11-23T12:00:00Z", "api-usage=0/0, per-app-api-usage=1/2(appName=x)", `{}`)
	f.Fuzz(func(t *testing.T, ts, limitInfo, secret string) {
		if tm, err := ParseTime(ts); err == nil {
			if back, err := ParseTime(tm.Format(time.RFC3339Nano)); err != nil || !back.Equal(tm) {
				t.Fatalf("ParseTime(%q) = %v does not round-trip: %v %v", ts, tm, back, err)
			}
		}
		if info, ok := ParseLimitInfo(limitInfo); ok && (info.Used < 0 || info.Max < 0) {
			t.Fatalf("negative usage from %q: %+v", limitInfo, info)
		}
		_, _ = ParseCredentials(secret)
	})
}

// queueRecorder is an Enqueuer that keeps what it was sent.
type queueRecorder struct{ got []crmsync.Trigger }

func (q *queueRecorder) Send(_ context.Context, ts []crmsync.Trigger) error {
	q.got = append(q.got, ts...)
	return nil
}

// FuzzOutboundReceiver runs whole Outbound Message deliveries through the
// receiver: every outcome is a documented status with a SOAP body (an ack
// only on 200, which Salesforce reads as delivered), nothing is enqueued
// without the ack, a message of another org is refused, and what is
// enqueued validates.
func FuzzOutboundReceiver(f *testing.F) {
	b, err := os.ReadFile("testdata/outbound-aspnet-contacts.xml")
	if err != nil {
		f.Fatal(err)
	}
	f.Add(b, false, "tok")
	f.Add(b, true, "tok")
	f.Add(testMessage(3).MarshalSOAP(), false, "wrong")
	f.Fuzz(func(t *testing.T, body []byte, b64 bool, token string) {
		q := &queueRecorder{}
		r := OutboundReceiver{OrgID: "012345678901234", Token: "tok", Queue: q, MaxBody: 256 << 10, Logger: slog.New(slog.DiscardHandler)}
		req := events.APIGatewayV2HTTPRequest{Body: string(body), QueryStringParameters: map[string]string{"token": token}}
		req.RequestContext.HTTP.Method = "POST"
		if b64 {
			req.Body, req.IsBase64Encoded = base64.StdEncoding.EncodeToString(body), true
		}
		resp, err := r.Handle(context.Background(), req)
		if err != nil {
			t.Fatalf("Handle returned an error: %v", err)
		}
		switch resp.StatusCode {
		case 200, 400, 401, 403, 413:
		default:
			t.Fatalf("status %d: %s", resp.StatusCode, resp.Body)
		}
		acked, err := ParseAck([]byte(resp.Body))
		if resp.StatusCode == 200 && (err != nil || !acked) || resp.StatusCode != 200 && acked {
			t.Fatalf("status %d with ack %v (%v): %s", resp.StatusCode, acked, err, resp.Body)
		}
		if resp.StatusCode != 200 && len(q.got) > 0 {
			t.Fatalf("%d triggers enqueued on a %d", len(q.got), resp.StatusCode)
		}
		if token != "tok" && resp.StatusCode != 401 {
			t.Fatalf("a wrong token got %d", resp.StatusCode)
		}
		for _, tr := range q.got {
			if err := tr.Validate(); err != nil {
				t.Fatalf("enqueued %+v: %v", tr, err)
			}
		}
	})
}
