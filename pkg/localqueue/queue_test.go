package localqueue

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/crmsync/crmsync/pkg/crmsync"
	"github.com/crmsync/crmsync/pkg/crmsynctest"
)

func TestQueue(t *testing.T) {
	crmsynctest.TestQueue(t, func(t *testing.T, maxReceives int) (crmsync.Queue, crmsync.Queue) {
		q := New(Options{MaxReceives: maxReceives, ReceiveWait: 200 * time.Millisecond})
		return q, q.DeadLetters()
	})
}

// fakeClock is a settable clock for the time-dependent rules.
type fakeClock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *fakeClock) Add(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

func trigger(record string, seq int) crmsync.Trigger {
	return crmsync.Trigger{
		Record:     crmsync.RecordRef{Side: crmsync.HubSpot, Object: crmsync.HSContact, ID: record},
		Kind:       crmsync.KindPropertyChanged,
		OccurredAt: time.Date(2026, 1, 1, 0, 0, seq, 0, time.UTC),
		DeliveryID: fmt.Sprintf("%s/%d", record, seq),
		DedupeKey:  crmsync.DedupeKeyOf(record, fmt.Sprint(seq)),
	}
}

func TestDedupeWindowExpires(t *testing.T) {
	clock := &fakeClock{now: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)}
	q := New(Options{DedupeWindow: time.Minute, Clock: clock.Now, ReceiveWait: -1})
	ctx := t.Context()
	tr := trigger("1", 1)
	for range 2 {
		if err := q.Send(ctx, []crmsync.Trigger{tr}); err != nil {
			t.Fatal(err)
		}
		clock.Add(59 * time.Second)
	}
	// 118 s after the first send; the second was dropped and did not renew
	// the key, so this one is new.
	if err := q.Send(ctx, []crmsync.Trigger{tr}); err != nil {
		t.Fatal(err)
	}
	st, err := q.Stats(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if st.Visible != 2 {
		t.Errorf("Visible = %d, want 2 (one send dropped as duplicate, one after the window)", st.Visible)
	}
	if st.OldestAge != 118*time.Second {
		t.Errorf("OldestAge = %s, want 1m58s", st.OldestAge)
	}
}

func TestVisibilityWithFakeClock(t *testing.T) {
	clock := &fakeClock{now: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)}
	q := New(Options{Clock: clock.Now, ReceiveWait: -1})
	ctx := t.Context()
	if err := q.Send(ctx, []crmsync.Trigger{trigger("1", 1)}); err != nil {
		t.Fatal(err)
	}
	msgs, err := q.Receive(ctx, 10, time.Minute)
	if err != nil || len(msgs) != 1 {
		t.Fatalf("Receive = %v, %v; want 1 message", msgs, err)
	}
	clock.Add(time.Minute - time.Nanosecond)
	if msgs, _ := q.Receive(ctx, 10, time.Minute); len(msgs) != 0 {
		t.Fatalf("received again before the visibility timeout ran out")
	}
	clock.Add(time.Nanosecond)
	if err := q.Delete(ctx, msgs[0].Receipt); !errors.Is(err, crmsync.ErrNotFound) {
		t.Errorf("Delete after the timeout = %v, want ErrNotFound", err)
	}
	again, _ := q.Receive(ctx, 10, time.Minute)
	if len(again) != 1 || again[0].ReceiveCount != 2 {
		t.Fatalf("Receive after the timeout = %+v, want the message with ReceiveCount 2", again)
	}
}

func TestDefaultVisibility(t *testing.T) {
	clock := &fakeClock{now: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)}
	q := New(Options{Clock: clock.Now, ReceiveWait: -1, Visibility: time.Minute})
	ctx := t.Context()
	if err := q.Send(ctx, []crmsync.Trigger{trigger("1", 1)}); err != nil {
		t.Fatal(err)
	}
	if msgs, _ := q.Receive(ctx, 10, 0); len(msgs) != 1 {
		t.Fatalf("Receive got %d messages, want 1", len(msgs))
	}
	clock.Add(59 * time.Second)
	if msgs, _ := q.Receive(ctx, 10, 0); len(msgs) != 0 {
		t.Fatalf("received again within the default visibility")
	}
	clock.Add(time.Second)
	if msgs, _ := q.Receive(ctx, 10, 0); len(msgs) != 1 {
		t.Fatalf("not received again after the default visibility")
	}
}

func TestReceiveWaitsForSend(t *testing.T) {
	q := New(Options{ReceiveWait: time.Minute})
	ctx := t.Context()
	done := make(chan []crmsync.Message)
	go func() {
		msgs, err := q.Receive(ctx, 10, time.Minute)
		if err != nil {
			t.Error(err)
		}
		done <- msgs
	}()
	time.Sleep(50 * time.Millisecond)
	if err := q.Send(ctx, []crmsync.Trigger{trigger("1", 1)}); err != nil {
		t.Fatal(err)
	}
	if msgs := <-done; len(msgs) != 1 {
		t.Fatalf("waiting Receive returned %d messages, want 1", len(msgs))
	}
}

func TestReceiveCanceled(t *testing.T) {
	q := New(Options{ReceiveWait: time.Hour})
	ctx, cancel := context.WithCancel(t.Context())
	go func() {
		time.Sleep(50 * time.Millisecond)
		cancel()
	}()
	if _, err := q.Receive(ctx, 10, time.Minute); !errors.Is(err, context.Canceled) {
		t.Fatalf("Receive after cancel = %v, want context.Canceled", err)
	}
}

func TestSendCanceled(t *testing.T) {
	q := New(Options{})
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	err := q.Send(ctx, []crmsync.Trigger{trigger("1", 1), trigger("2", 1)})
	var se *crmsync.SendError
	if !errors.As(err, &se) || len(se.Failed) != 2 || !errors.Is(se.Failed[0], context.Canceled) {
		t.Fatalf("Send with a canceled context = %v, want a SendError for both, wrapping context.Canceled", err)
	}
	if st, _ := q.Stats(t.Context()); st.Visible != 0 {
		t.Errorf("Send with a canceled context enqueued %d", st.Visible)
	}
}

func TestInvalidArguments(t *testing.T) {
	q := New(Options{})
	ctx := t.Context()
	if _, err := q.Receive(ctx, 0, time.Second); !errors.Is(err, crmsync.ErrInvalid) {
		t.Errorf("Receive(max 0) = %v, want ErrInvalid", err)
	}
	if _, err := q.Receive(ctx, 1, -time.Second); !errors.Is(err, crmsync.ErrInvalid) {
		t.Errorf("Receive(negative visibility) = %v, want ErrInvalid", err)
	}
	if q.DeadLetters() != nil {
		t.Errorf("a queue without MaxReceives has a dead-letter queue")
	}
}

func TestSharedDeadLetterQueue(t *testing.T) {
	dlq := New(Options{ReceiveWait: -1})
	a := New(Options{MaxReceives: 1, DeadLetter: dlq, ReceiveWait: -1})
	b := New(Options{MaxReceives: 1, DeadLetter: dlq, ReceiveWait: -1})
	ctx := t.Context()
	for i, q := range []*Queue{a, b} {
		if q.DeadLetters() != dlq {
			t.Fatalf("DeadLetters() is not the queue given in Options")
		}
		if err := q.Send(ctx, []crmsync.Trigger{trigger(fmt.Sprint(i), 1)}); err != nil {
			t.Fatal(err)
		}
		// A visibility of 1 ns has run out by the next receive.
		if msgs, _ := q.Receive(ctx, 10, time.Nanosecond); len(msgs) != 1 {
			t.Fatalf("first receive got %d messages", len(msgs))
		}
		if msgs, _ := q.Receive(ctx, 10, time.Nanosecond); len(msgs) != 0 {
			t.Fatalf("second receive got %d messages, want 0 (dead-lettered)", len(msgs))
		}
	}
	msgs, _ := dlq.Receive(ctx, 10, time.Minute)
	if len(msgs) != 2 {
		t.Fatalf("dead-letter queue returned %d messages, want 2", len(msgs))
	}
	for _, m := range msgs {
		if m.ReceiveCount != 2 {
			t.Errorf("dead-lettered message ReceiveCount = %d, want 2 (one delivery before, plus this receive)", m.ReceiveCount)
		}
	}
}

// TestWorkerPool runs concurrent workers over many groups: every message is
// handled exactly once and, per group, in send order and never two at once.
func TestWorkerPool(t *testing.T) {
	q := New(Options{ReceiveWait: 50 * time.Millisecond})
	ctx := t.Context()
	const groups, per, workers = 20, 25, 8
	var ts []crmsync.Trigger
	for seq := range per {
		for g := range groups {
			ts = append(ts, trigger(fmt.Sprint(g), seq))
		}
	}
	if err := q.Send(ctx, ts); err != nil {
		t.Fatal(err)
	}
	var (
		mu     sync.Mutex
		next   = make(map[string]int)
		active = make(map[string]bool)
		done   int
	)
	var wg sync.WaitGroup
	for range workers {
		wg.Go(func() {
			for {
				mu.Lock()
				finished := done == groups*per
				mu.Unlock()
				if finished {
					return
				}
				msgs, err := q.Receive(ctx, 3, time.Minute)
				if err != nil {
					t.Error(err)
					return
				}
				for _, m := range msgs {
					g := m.Trigger.Record.ID
					_, s, _ := strings.Cut(m.Trigger.DeliveryID, "/")
					seq, _ := strconv.Atoi(s)
					mu.Lock()
					if active[g] {
						t.Errorf("group %s handled by two workers at once", g)
					}
					if seq != next[g] {
						t.Errorf("group %s: got seq %d, want %d", g, seq, next[g])
					}
					active[g] = true
					next[g]++
					mu.Unlock()
					time.Sleep(time.Millisecond)
					mu.Lock()
					active[g] = false
					done++
					mu.Unlock()
					if err := q.Delete(ctx, m.Receipt); err != nil {
						t.Error(err)
					}
				}
			}
		})
	}
	wg.Wait()
	st, _ := q.Stats(ctx)
	if st != (crmsync.QueueStats{}) {
		t.Errorf("Stats after all work = %+v, want empty", st)
	}
}

func BenchmarkQueue(b *testing.B) {
	crmsynctest.BenchmarkQueue(b, func(b *testing.B) crmsync.Queue { return New(Options{}) })
}

func TestRedrive(t *testing.T) {
	crmsynctest.TestRedrive(t, func(t *testing.T, maxReceives int) (crmsync.Queue, crmsync.Queue, crmsynctest.RedriveFunc) {
		q := New(Options{MaxReceives: maxReceives, ReceiveWait: 200 * time.Millisecond})
		return q, q.DeadLetters(), q.Redrive
	})
}
