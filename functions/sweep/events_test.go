package main

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/crmsync/crmsync/pkg/crmsync"
	"github.com/crmsync/crmsync/pkg/emf"
	"github.com/crmsync/crmsync/pkg/sweep"
)

// changes is a Source over a fixed list of changes, in (time, id) order.
type changes []sweep.Change

func (cs changes) Changes(ctx context.Context, o crmsync.ObjectType, from crmsync.Cursor, fn func(sweep.Change) error) error {
	for _, c := range cs {
		if c.Ref.Object != o {
			continue
		}
		if c.Modified.Before(from.Timestamp) || c.Modified.Equal(from.Timestamp) && c.Ref.ID <= from.LastID {
			continue
		}
		if err := fn(c); err != nil {
			return err
		}
	}
	return nil
}

// sentQueue records what the sweep enqueues.
type sentQueue struct {
	mu   sync.Mutex
	sent []crmsync.Trigger
}

func (q *sentQueue) Send(_ context.Context, ts []crmsync.Trigger) error {
	q.mu.Lock()
	defer q.mu.Unlock()
	for _, t := range ts {
		if err := t.Validate(); err != nil {
			return err
		}
	}
	q.sent = append(q.sent, ts...)
	return nil
}

// eventsWant is the outcome of each events/sweep-<scenario>.json file run
// twice through the handler over a real Sweeper, a bbolt store and the
// sources of TestEventFiles: the triggers enqueued by each run.
var eventsWant = map[string][2]int{
	"scheduled": {3, 0}, // the second run resumes from the cursors
}

func TestEventFiles(t *testing.T) {
	const prefix = "sweep-"
	files, err := filepath.Glob(filepath.Join("..", "..", "events", prefix+"*.json"))
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
				t.Fatalf("%s has no entry in eventsWant", file)
			}
			b, err := os.ReadFile(file)
			if err != nil {
				t.Fatal(err)
			}
			var ev events.CloudWatchEvent
			if err := json.Unmarshal(b, &ev); err != nil {
				t.Fatalf("%s: %v", file, err)
			}
			if ev.DetailType != "Scheduled Event" || ev.Time.IsZero() || len(ev.Resources) != 1 {
				t.Errorf("%s is not a scheduled event: %+v", file, ev)
			}

			now := ev.Time.Add(5 * time.Second)
			clock := func() time.Time { return now }
			store := newStore(t)
			if err := store.AddAPIUsage(context.Background(), crmsync.Salesforce, now.Add(-time.Hour), 450); err != nil {
				t.Fatal(err)
			}
			hsContact := func(id string, at time.Time) sweep.Change {
				return sweep.Change{Ref: crmsync.RecordRef{Side: crmsync.HubSpot, Object: crmsync.HSContact, ID: id}, Modified: at}
			}
			q := &sentQueue{}
			sw := &sweep.Sweeper{
				Store: store, Queue: q, Now: clock, Logger: quiet(),
				Sources: map[crmsync.Side]sweep.Source{
					crmsync.HubSpot: changes{hsContact("101", now.Add(-time.Hour)), hsContact("102", now.Add(-time.Hour)),
						hsContact("103", now.Add(-30*time.Minute))},
					crmsync.Salesforce: changes{},
				},
			}
			var metrics bytes.Buffer
			h := &handler{run: runSweeper(sw), store: store, allocation: 15000, margin: 30 * time.Second,
				metrics: emf.New(&metrics), logger: quiet(), now: clock}

			for i, wantSent := range want {
				before := len(q.sent)
				metrics.Reset()
				ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute) // the Lambda's deadline
				err := h.Handle(ctx, ev)
				cancel()
				if err != nil {
					t.Fatalf("run %d: %v", i+1, err)
				}
				got := q.sent[before:]
				if len(got) != wantSent || slices.ContainsFunc(got, func(tr crmsync.Trigger) bool { return tr.Kind != crmsync.KindSweep }) {
					t.Errorf("run %d enqueued %+v, want %d sweep triggers", i+1, got, wantSent)
				}
				m := metricValues(t, metrics.String())
				wantMetrics := map[string]float64{
					emf.SweepEnqueued:             float64(wantSent),
					emf.SweepBehindDeletedWindow:  0,
					emf.SweepLagSeconds:           sweep.DefaultLag.Seconds(), // every object caught up to now − lag
					emf.SalesforceAPIUsagePercent: 3,                          // 450 of 15 000
				}
				for name, v := range wantMetrics {
					if got, ok := m[name]; !ok || got != v {
						t.Errorf("run %d: %s = %v (emitted %v), want %v\n%s", i+1, name, got, ok, v, metrics.String())
					}
				}
			}
		})
	}
	for scenario := range eventsWant {
		if !seen[scenario] {
			t.Errorf("eventsWant has %q but events/%s%s.json does not exist", scenario, prefix, scenario)
		}
	}
}
