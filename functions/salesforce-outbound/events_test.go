package main

import (
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/aws/aws-lambda-go/events"

	"github.com/crmsync/crmsync/pkg/crmsync"
	"github.com/crmsync/crmsync/pkg/salesforce"
)

// eventsWant is the expected outcome of every events/salesforce-outbound-
// <scenario>.json file, keyed by scenario: the HTTP status, the SOAP fault
// code ("" = Ack true) and the number of triggers queued. The expectation
// lives here rather than in the files so that they stay exactly what API
// Gateway delivers (sam local invoke -e works on them unchanged). A file
// without an entry, or an entry without a file, fails the test. The files
// are for org eventsOrg with endpoint token eventsToken.
var eventsWant = map[string]struct {
	status   int
	fault    salesforce.FaultCode
	triggers int
}{
	"lead-updated":             {200, "", 1},
	"mixed-objects-bom":        {200, "", 4},
	"base64-body":              {200, "", 1},
	"redelivered-duplicate-id": {200, "", 1},
	"wrong-org":                {403, salesforce.FaultClient, 0},
	"bad-token":                {401, salesforce.FaultClient, 0},
	"no-token":                 {401, salesforce.FaultClient, 0},
	"malformed-xml":            {400, salesforce.FaultClient, 0},
	"empty-notifications":      {400, salesforce.FaultClient, 0},
}

const (
	eventsOrg   = "00D5e000000AbCd" // the files carry the 18-character form
	eventsToken = "sample-token-0123"
)

// recordingQueue records what it is sent, dropping repeated dedupe keys
// as the FIFO queue does.
type recordingQueue struct {
	mu   sync.Mutex
	sent []crmsync.Trigger
	keys map[string]bool
}

func (q *recordingQueue) Send(_ context.Context, triggers []crmsync.Trigger) error {
	q.mu.Lock()
	defer q.mu.Unlock()
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

func TestEventFiles(t *testing.T) {
	const prefix = "salesforce-outbound-"
	files, err := filepath.Glob(filepath.Join("..", "..", "events", prefix+"*.json"))
	if err != nil {
		t.Fatal(err)
	}
	cfg, err := loadConfig(env(map[string]string{"SALESFORCE_ORG_ID": eventsOrg, "TRIGGER_QUEUE_URL": "https://sqs.example/triggers.fifo"}))
	if err != nil {
		t.Fatal(err)
	}
	seen := map[string]bool{}
	for _, file := range files {
		scenario := strings.TrimSuffix(strings.TrimPrefix(filepath.Base(file), prefix), ".json")
		seen[scenario] = true
		t.Run(scenario, func(t *testing.T) {
			want, ok := eventsWant[scenario]
			if !ok {
				t.Fatalf("%s has no expectation in eventsWant", file)
			}
			b, err := os.ReadFile(file)
			if err != nil {
				t.Fatal(err)
			}
			var req events.APIGatewayV2HTTPRequest
			if err := json.Unmarshal(b, &req); err != nil {
				t.Fatalf("%s: %v", file, err)
			}
			q := &recordingQueue{}
			r := newReceiver(cfg, []string{eventsToken}, q, slog.New(slog.DiscardHandler))
			resp, err := r.Handle(context.Background(), req)
			if err != nil {
				t.Fatal(err)
			}
			if resp.StatusCode != want.status {
				t.Errorf("status = %d, want %d: %s", resp.StatusCode, want.status, resp.Body)
			}
			ack, err := salesforce.ParseAck([]byte(resp.Body))
			var fe *salesforce.FaultError
			if want.fault == "" && !ack || want.fault != "" && (!errors.As(err, &fe) || fe.Code != string(want.fault)) {
				t.Errorf("answer = ack %v, err %v; want fault %q", ack, err, want.fault)
			}
			if len(q.sent) != want.triggers {
				t.Errorf("%d triggers queued, want %d", len(q.sent), want.triggers)
			}
		})
	}
	for scenario := range eventsWant {
		if !seen[scenario] {
			t.Errorf("eventsWant has %q but events/%s%s.json does not exist", scenario, prefix, scenario)
		}
	}
}
