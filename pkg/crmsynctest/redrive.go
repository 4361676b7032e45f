package crmsynctest

import (
	"context"
	"testing"
	"time"

	"github.com/crmsync/crmsync/pkg/crmsync"
)

// RedriveFunc moves the messages dead-lettered in [since, until) (zero =
// no bound) from a queue's dead-letter queue back to the queue and
// returns how many it moved: localqueue's (*Queue).Redrive, or
// sqsqueue.Redrive bound to its queue URLs.
type RedriveFunc func(ctx context.Context, since, until time.Time) (int, error)

// TestRedrive is the contract of redrive, run against every queue that
// has one. newQueue returns an empty queue that dead-letters on the
// receive after maxReceives, its dead-letter queue, and its redrive.
func TestRedrive(t *testing.T, newQueue func(t *testing.T, maxReceives int) (q, dead crmsync.Queue, redrive RedriveFunc)) {
	const maxReceives = 1
	q, dead, redrive := newQueue(t, maxReceives)
	ctx := ctxFor(t)

	// Two triggers of two records are dead-lettered one after the other,
	// with a moment between.
	first, second := testTrigger(1, 1), testTrigger(2, 1)
	deadLetter(t, q, dead, first, 1)
	between := time.Now()
	time.Sleep(1100 * time.Millisecond) // SQS times are in milliseconds; clocks may differ a little
	deadLetter(t, q, dead, second, 2)

	if n, err := redrive(ctx, time.Time{}, between.Add(-time.Hour)); err != nil || n != 0 {
		t.Fatalf("redrive of an hour before = %d, %v; want 0, nil", n, err)
	}
	// Only the second one was dead-lettered after "between".
	if n, err := redrive(ctx, between.Add(500*time.Millisecond), time.Time{}); err != nil || n != 1 {
		t.Fatalf("redrive since the second dead-lettering = %d, %v; want 1, nil", n, err)
	}
	got := receiveOne(t, q, longVisibility)
	sameRecord(t, got.Trigger, second)
	if got.Trigger.DedupeKey == second.DedupeKey {
		t.Errorf("redriven trigger kept its dedupe key: the engine would drop it as a delivery it has seen")
	}
	if err := q.Delete(ctx, got.Receipt); err != nil {
		t.Fatal(err)
	}
	eventuallyStats(t, dead, "one message left in the dead-letter queue", func(s crmsync.QueueStats) bool {
		return s.Visible == 1 && s.InFlight == 0
	})

	// The rest.
	if n, err := redrive(ctx, time.Time{}, time.Time{}); err != nil || n != 1 {
		t.Fatalf("redrive of all = %d, %v; want 1, nil", n, err)
	}
	got = receiveOne(t, q, longVisibility)
	sameRecord(t, got.Trigger, first)
	if err := q.Delete(ctx, got.Receipt); err != nil {
		t.Fatal(err)
	}
	if n, err := redrive(ctx, time.Time{}, time.Time{}); err != nil || n != 0 {
		t.Fatalf("redrive of an empty dead-letter queue = %d, %v; want 0, nil", n, err)
	}
	expectNothing(t, q)
	eventuallyStats(t, dead, "an empty dead-letter queue", func(s crmsync.QueueStats) bool { return s.Visible == 0 && s.InFlight == 0 })
}

// deadLetter sends tr and receives it without deleting until the queue
// has moved it to dead, which then holds want messages.
func deadLetter(t *testing.T, q, dead crmsync.Queue, tr crmsync.Trigger, want int) {
	t.Helper()
	send(t, q, tr)
	deadline := time.Now().Add(patience)
	for {
		if time.Now().After(deadline) {
			t.Fatalf("trigger %s not dead-lettered within %s", tr.Record, patience)
		}
		receive(t, q, 10, shortVisibility)
		st, err := dead.Stats(ctxFor(t))
		if err != nil {
			t.Fatalf("Stats of the dead-letter queue: %v", err)
		}
		if st.Visible == want {
			return
		}
	}
}

func sameRecord(t *testing.T, got, want crmsync.Trigger) {
	t.Helper()
	if got.Record != want.Record || got.Kind != want.Kind || got.DeliveryID != want.DeliveryID || !got.OccurredAt.Equal(want.OccurredAt) {
		t.Errorf("redriven trigger = %+v, want the dead-lettered %+v", got, want)
	}
}
