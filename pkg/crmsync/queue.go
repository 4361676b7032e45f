package crmsync

import (
	"context"
	"fmt"
	"time"
)

// Queue is the trigger queue: FIFO per message group (Trigger.GroupKey),
// repeated sends with the same dedupe key dropped within the queue's
// deduplication window, at-least-once delivery with a visibility timeout,
// and dead-lettering after a configured number of receives.
// Implementations: sqsqueue (SQS FIFO) and localqueue (in process). Every
// implementation passes crmsynctest.TestQueue.
type Queue interface {
	// Send enqueues triggers (any number; implementations batch). Each must
	// validate. When some fail, the error is a *SendError listing which;
	// the others were enqueued.
	Send(ctx context.Context, triggers []Trigger) error
	// Receive returns up to max messages, hiding each for visibility. It
	// may return fewer than max even when more are queued (and waits at
	// most briefly when none are). Within one group, a message is not
	// returned while an earlier one of the group is in flight; one batch may
	// hold several messages of a group (SQS FIFO does), in order, and they
	// must be handled in that order. A visibility of 0 means the queue's
	// default visibility timeout.
	Receive(ctx context.Context, max int, visibility time.Duration) ([]Message, error)
	// Delete acknowledges a received message. ErrNotFound when the receipt
	// is no longer valid (the message became visible again and was
	// received by someone else, or was deleted).
	Delete(ctx context.Context, receipt string) error
	// ChangeVisibility hides a received message for d from now (0 makes it
	// visible at once). ErrNotFound as for Delete.
	ChangeVisibility(ctx context.Context, receipt string, d time.Duration) error
	// Stats returns the approximate depth and the age of the oldest message.
	Stats(ctx context.Context) (QueueStats, error)
}

// Drainer is implemented by queues that can receive without waiting, for
// a worker that resolves more than one receive's batch together (SQS FIFO
// hands out at most 10 messages per receive).
type Drainer interface {
	// ReceiveNoWait is Receive that returns at once with what is visible
	// now, possibly nothing.
	ReceiveNoWait(ctx context.Context, max int, visibility time.Duration) ([]Message, error)
}

// Message is one received trigger.
type Message struct {
	Trigger Trigger
	// ID is the queue's message id.
	ID string
	// Receipt is the handle for Delete and ChangeVisibility.
	Receipt string
	// ReceiveCount is how many times the message has been received,
	// including this time.
	ReceiveCount int
	SentAt       time.Time
}

// QueueStats are approximate counts.
type QueueStats struct {
	// Visible messages waiting, and InFlight messages received but neither
	// deleted nor visible again.
	Visible  int
	InFlight int
	// OldestAge is the age of the oldest message (0 when empty). It is
	// negative when the implementation cannot tell (SQS has no attribute
	// for it; CloudWatch's ApproximateAgeOfOldestMessage is the source):
	// show it as unknown, never as 0.
	OldestAge time.Duration
}

// SendError reports the triggers a Send could not enqueue.
type SendError struct {
	// Failed maps the index into the sent slice to its error.
	Failed map[int]error
}

func (e *SendError) Error() string {
	if len(e.Failed) == 0 {
		return "queue: triggers not sent"
	}
	first := -1
	for i := range e.Failed {
		if first < 0 || i < first {
			first = i
		}
	}
	return fmt.Sprintf("queue: %d of the triggers not sent (first #%d: %v)", len(e.Failed), first, e.Failed[first])
}

// Transient reports whether every failure is transient.
func (e *SendError) Transient() bool {
	for _, err := range e.Failed {
		if !IsTransient(err) {
			return false
		}
	}
	return len(e.Failed) > 0
}
