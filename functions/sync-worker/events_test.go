package main

import (
	"bytes"
	"context"
	"crypto/md5"
	"encoding/hex"
	"encoding/json"
	"flag"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/crmsync/crmsync/pkg/boltstore"
	"github.com/crmsync/crmsync/pkg/crmsync"
	"github.com/crmsync/crmsync/pkg/crmsynctest"
)

var writeEvents = flag.Bool("write-events", false, "rewrite events/sync-worker-*.json from eventScenarios")

// eventMessage is one SQS message of a sample event: a trigger, or a raw
// body that is not one (poison).
type eventMessage struct {
	id       string
	trigger  *crmsync.Trigger
	raw      string
	receives int
}

// eventScenarios are the events/sync-worker-<scenario>.json files: the
// messages each holds (used by -write-events) and what the worker must
// answer when the file is run through it over the real engine, a bbolt
// store and the fake CRMs of fakeCRMs. A file without a scenario, or a
// scenario without a file, fails the test.
var eventScenarios = map[string]struct {
	messages []eventMessage
	// failures are the batchItemFailures, in order.
	failures []string
	// created is how many records the engine creates in Salesforce.
	created int
	// metrics must all appear in the EMF output.
	metrics []string
}{
	// One HubSpot contact changed: re-read, created in Salesforce as a
	// lead (the default settings), message deleted.
	"hubspot-contact-changed": {
		messages: []eventMessage{{id: "5b1b2f1c-4b0c-4a4e-9d1f-0b5e4c1a7e01", trigger: hsContact("101", "evt-1"), receives: 1}},
		created:  1,
		metrics:  []string{`"TriggersResolved":1`, `"Decision":"synced"`},
	},
	// A body that is not a trigger of this build's encoding is reported
	// failed on every receive (the redrive policy dead-letters it); the
	// next group's message is handled.
	"poison": {
		messages: []eventMessage{
			{id: "5b1b2f1c-4b0c-4a4e-9d1f-0b5e4c1a7e02", raw: `{"v":9,"trigger":{"record":"from a future build"}}`, receives: 4},
			{id: "5b1b2f1c-4b0c-4a4e-9d1f-0b5e4c1a7e03", trigger: hsContact("202", "evt-2"), receives: 1},
		},
		failures: []string{"5b1b2f1c-4b0c-4a4e-9d1f-0b5e4c1a7e02"},
		created:  1,
		metrics:  []string{`"PoisonMessages":1`, `"TriggersResolved":1`},
	},
	// HubSpot answers 503 for contact 909: its two messages (resolved once,
	// together) are reported failed and retried with back-off, and another
	// group goes on.
	"transient": {
		messages: []eventMessage{
			{id: "5b1b2f1c-4b0c-4a4e-9d1f-0b5e4c1a7e04", trigger: hsContact("909", "evt-3"), receives: 2},
			{id: "5b1b2f1c-4b0c-4a4e-9d1f-0b5e4c1a7e05", trigger: hsContact("909", "evt-4"), receives: 1},
			{id: "5b1b2f1c-4b0c-4a4e-9d1f-0b5e4c1a7e06", trigger: hsContact("101", "evt-5"), receives: 1},
		},
		failures: []string{"5b1b2f1c-4b0c-4a4e-9d1f-0b5e4c1a7e04", "5b1b2f1c-4b0c-4a4e-9d1f-0b5e4c1a7e05"},
		created:  1,
		metrics:  []string{`"TransientFailures":2`, `"TriggersResolved":1`},
	},
}

var eventTime = time.Date(2026, 11, 23, 12, 0, 0, 0, time.UTC)

func hsContact(id, eventID string) *crmsync.Trigger {
	return &crmsync.Trigger{Record: crmsync.RecordRef{Side: crmsync.HubSpot, Object: crmsync.HSContact, ID: id},
		Kind: crmsync.KindPropertyChanged, Properties: []string{"firstname"}, OccurredAt: eventTime,
		DeliveryID: eventID, DedupeKey: crmsync.DedupeKeyOf("hubspot", "62515", eventID), AppID: "1160452",
		ChangeSource: "CRM_UI"}
}

// unavailable is HubSpot's 503 as the engine sees it.
type unavailable struct{}

func (unavailable) Error() string   { return "hubspot: 503 service unavailable" }
func (unavailable) Transient() bool { return true }

// fakeCRMs returns the portal and org the sample events are run against:
// HubSpot contacts 101, 202 and 909 (909 answers 503) and an empty org.
func fakeCRMs() (hs, sf *crmsynctest.CRM) {
	hs = crmsynctest.NewCRM(crmsync.HubSpot, nil)
	sf = crmsynctest.NewCRM(crmsync.Salesforce, nil)
	for id, email := range map[string]string{"101": "ada@example.com", "202": "grace@example.com", "909": "alan@example.com"} {
		hs.Put(crmsync.Record{Ref: crmsync.RecordRef{Side: crmsync.HubSpot, Object: crmsync.HSContact, ID: id},
			Properties: map[string]string{"email": email, "firstname": "First" + id, "lastname": "Last" + id, "company": "Acme"}})
	}
	hs.Fail = func(op string, ref crmsync.RecordRef) error {
		if ref.ID == "909" {
			return unavailable{}
		}
		return nil
	}
	return hs, sf
}

func eventsDir() string { return filepath.Join("..", "..", "events") }

func TestEventFiles(t *testing.T) {
	const prefix = "sync-worker-"
	if *writeEvents {
		for name, sc := range eventScenarios {
			writeEventFile(t, filepath.Join(eventsDir(), prefix+name+".json"), sc.messages)
		}
	}
	files, err := filepath.Glob(filepath.Join(eventsDir(), prefix+"*.json"))
	if err != nil {
		t.Fatal(err)
	}
	seen := map[string]bool{}
	for _, file := range files {
		scenario := strings.TrimSuffix(strings.TrimPrefix(filepath.Base(file), prefix), ".json")
		seen[scenario] = true
		t.Run(scenario, func(t *testing.T) {
			want, ok := eventScenarios[scenario]
			if !ok {
				t.Fatalf("%s has no entry in eventScenarios", file)
			}
			b, err := os.ReadFile(file)
			if err != nil {
				t.Fatal(err)
			}
			var ev events.SQSEvent
			if err := json.Unmarshal(b, &ev); err != nil {
				t.Fatalf("%s: %v", file, err)
			}
			checkEnvelope(t, ev)

			store, err := boltstore.Open(filepath.Join(t.TempDir(), "crmsync.db"))
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { store.Close() })
			hs, sf := fakeCRMs()
			vis := &visibility{}
			var metrics bytes.Buffer
			w := newWorker(store, hs, sf, "", vis, slog.New(slog.DiscardHandler), &metrics)

			resp, err := w.HandleSQS(context.Background(), ev)
			if err != nil {
				t.Fatal(err)
			}
			var failed []string
			for _, f := range resp.BatchItemFailures {
				failed = append(failed, f.ItemIdentifier)
			}
			if !slices.Equal(failed, want.failures) {
				t.Errorf("batchItemFailures = %v, want %v", failed, want.failures)
			}
			created := 0
			for _, wr := range sf.Writes() {
				if wr.Op == "create" {
					created++
				}
			}
			if created != want.created {
				t.Errorf("%d Salesforce records created, want %d (writes %+v)", created, want.created, sf.Writes())
			}
			for _, m := range want.metrics {
				if !strings.Contains(metrics.String(), m) {
					t.Errorf("metrics lack %s:\n%s", m, metrics.String())
				}
			}
			// A transient failure is backed off through the queue.
			if n := len(vis.receipts); (n > 0) != slices.ContainsFunc(want.metrics, func(s string) bool { return strings.Contains(s, "TransientFailures") }) {
				t.Errorf("visibility changed for %v", vis.receipts)
			}
		})
	}
	for scenario := range eventScenarios {
		if !seen[scenario] {
			t.Errorf("eventScenarios has %q but events/%s%s.json does not exist (go test -run TestEventFiles -write-events)", scenario, prefix, scenario)
		}
	}
}

// checkEnvelope checks the file is what a FIFO event source delivers: a
// group id per message, a receive count, the body's MD5, and that each
// trigger body round-trips through the queue encoding unchanged.
func checkEnvelope(t *testing.T, ev events.SQSEvent) {
	t.Helper()
	if len(ev.Records) == 0 {
		t.Fatal("no records")
	}
	for _, m := range ev.Records {
		if m.EventSource != "aws:sqs" || !strings.HasSuffix(m.EventSourceARN, ".fifo") {
			t.Errorf("%s: not from a FIFO queue: %s %s", m.MessageId, m.EventSource, m.EventSourceARN)
		}
		if m.Attributes["MessageGroupId"] == "" || m.Attributes["ApproximateReceiveCount"] == "" || m.Attributes["MessageDeduplicationId"] == "" {
			t.Errorf("%s: FIFO attributes missing: %v", m.MessageId, m.Attributes)
		}
		sum := md5.Sum([]byte(m.Body))
		if m.Md5OfBody != hex.EncodeToString(sum[:]) {
			t.Errorf("%s: md5OfBody does not match the body", m.MessageId)
		}
		tr, err := crmsync.DecodeTrigger([]byte(m.Body))
		if err != nil {
			continue // poison, on purpose
		}
		again, err := crmsync.EncodeTrigger(tr)
		if err != nil || string(again) != m.Body {
			t.Errorf("%s: body is not EncodeTrigger's output:\n got %s\nwant %s", m.MessageId, m.Body, again)
		}
		if m.Attributes["MessageGroupId"] != tr.GroupKey() || m.Attributes["MessageDeduplicationId"] != tr.DedupeKey {
			t.Errorf("%s: group/dedupe ids are not the trigger's", m.MessageId)
		}
	}
}

type visibility struct{ receipts []string }

func (v *visibility) ChangeVisibility(_ context.Context, receipt string, _ time.Duration) error {
	v.receipts = append(v.receipts, receipt)
	return nil
}

// writeEventFile writes an SQS FIFO event as the Lambda event source
// delivers it (aws-lambda-go's sqs-event.json shape).
func writeEventFile(t *testing.T, path string, msgs []eventMessage) {
	t.Helper()
	type record struct {
		MessageID         string            `json:"messageId"`
		ReceiptHandle     string            `json:"receiptHandle"`
		Body              string            `json:"body"`
		Attributes        map[string]string `json:"attributes"`
		MessageAttributes map[string]any    `json:"messageAttributes"`
		MD5OfBody         string            `json:"md5OfBody"`
		EventSource       string            `json:"eventSource"`
		EventSourceARN    string            `json:"eventSourceARN"`
		AWSRegion         string            `json:"awsRegion"`
	}
	var out struct {
		Records []record `json:"Records"`
	}
	sent := eventTime.Add(2 * time.Second)
	for i, m := range msgs {
		body, group, dedupe := m.raw, "hubspot/contact/unknown", fmt.Sprintf("poison-%d", i)
		if m.trigger != nil {
			b, err := crmsync.EncodeTrigger(*m.trigger)
			if err != nil {
				t.Fatal(err)
			}
			body, group, dedupe = string(b), m.trigger.GroupKey(), m.trigger.DedupeKey
		}
		sum := md5.Sum([]byte(body))
		at := sent.Add(time.Duration(i) * 100 * time.Millisecond)
		out.Records = append(out.Records, record{
			MessageID:     m.id,
			ReceiptHandle: fmt.Sprintf("AQEB%032x", md5.Sum([]byte(m.id+"receipt"))),
			Body:          body,
			Attributes: map[string]string{
				"ApproximateReceiveCount":          fmt.Sprint(m.receives),
				"SentTimestamp":                    fmt.Sprint(at.UnixMilli()),
				"SenderId":                         "AROAIWPX5BD2BHG722MW4:crmsync-dev-HubSpotWebhookFunction",
				"ApproximateFirstReceiveTimestamp": fmt.Sprint(at.Add(150 * time.Millisecond).UnixMilli()),
				"SequenceNumber":                   fmt.Sprintf("1883%016d", 1000+i),
				"MessageGroupId":                   group,
				"MessageDeduplicationId":           dedupe,
			},
			MessageAttributes: map[string]any{},
			MD5OfBody:         hex.EncodeToString(sum[:]),
			EventSource:       "aws:sqs",
			EventSourceARN:    "arn:aws:sqs:eu-west-1:123456789012:crmsync-dev-triggers.fifo",
			AWSRegion:         "eu-west-1",
		})
	}
	b, err := json.MarshalIndent(out, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, append(b, '\n'), 0o644); err != nil {
		t.Fatal(err)
	}
}
