// Package localqueue is crmsync's trigger queue in process: the local
// default behind `make run` and the fast tier of tests. It keeps the
// semantics of an SQS FIFO queue so that code tested against it behaves the
// same on sqsqueue:
//
//   - FIFO per message group (Trigger.GroupKey). While a message of a group
//     is in flight, no later message of that group is returned.
//   - Receive returns at most one message per group per call (fauxqs does
//     the same; real SQS may return several of one group, in order, so
//     workers must not rely on this). Groups are served oldest head message
//     first, so no group starves; finding them scans the groups, which is
//     fine for local volumes.
//   - A visibility of 0 means Options.Visibility (30 s by default, SQS's
//     default VisibilityTimeout).
//   - Repeated sends with the same DedupeKey are dropped within DedupeWindow
//     (5 minutes, as in SQS), even when the first message was already
//     deleted.
//   - A receipt is valid only while its message is in flight under it: once
//     the visibility timeout passes, Delete and ChangeVisibility with it
//     report crmsync.ErrNotFound, as SQS FIFO does for an expired receipt.
//   - A message is dead-lettered on the receive that would exceed
//     MaxReceives (SQS's maxReceiveCount): it moves to the dead-letter queue
//     with its id, body and receive count, and the receive goes on with the
//     next message of the group. Its sent time there is the time it was
//     dead-lettered, as SQS FIFO resets the enqueue timestamp on the move.
//   - Redrive moves dead-lettered messages back (all, or those
//     dead-lettered in a time range), each as a new send of its trigger
//     with a dedupe key made from its own and its message id: it is not
//     dropped as a repeat of its first send, and a second redrive of the
//     same message is. sqsqueue.Redrive does the same on SQS.
//   - Messages are stored in the versioned queue encoding
//     (crmsync.EncodeTrigger), so what a receiver gets is a decoded copy,
//     exactly as from SQS.
//
// Everything is held in memory behind one mutex; nothing survives the
// process. Receive waits up to Options.ReceiveWait (or until ctx ends) for
// a message when none is visible, so a worker loop does not spin.
package localqueue

import (
	"cmp"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"slices"
	"sync"
	"time"

	"github.com/crmsync/crmsync/pkg/crmsync"
)

// DefaultDedupeWindow is SQS's deduplication interval.
const DefaultDedupeWindow = 5 * time.Minute

// DefaultVisibility is the visibility timeout Receive uses when asked for
// 0, as SQS's default VisibilityTimeout attribute.
const DefaultVisibility = 30 * time.Second

// DefaultReceiveWait is how long Receive waits for a message by default.
const DefaultReceiveWait = time.Second

// pollInterval bounds how late a waiting Receive notices a visibility
// timeout running out (sends, deletes and visibility changes wake it at
// once).
const pollInterval = 20 * time.Millisecond

// Options configure a Queue. The zero value is a queue that never
// dead-letters.
type Options struct {
	// MaxReceives is how many times a message may be received; the next
	// receive moves it to the dead-letter queue. 0 never dead-letters.
	MaxReceives int
	// DedupeWindow is how long a dedupe key suppresses repeated sends
	// (DefaultDedupeWindow when 0).
	DedupeWindow time.Duration
	// Visibility is the default visibility timeout, used by Receive when
	// asked for 0 (DefaultVisibility when 0).
	Visibility time.Duration
	// ReceiveWait is how long Receive waits when no message is visible
	// (DefaultReceiveWait when 0; negative does not wait).
	ReceiveWait time.Duration
	// Clock returns the current time (time.Now when nil). Waiting in
	// Receive always uses real time.
	Clock func() time.Time
	// DeadLetter receives dead-lettered messages. When nil and MaxReceives
	// is set, New makes one with the same options and no dead-lettering.
	DeadLetter *Queue
}

// Queue is an in-process crmsync.Queue, safe for concurrent use.
type Queue struct {
	opts Options
	dead *Queue

	mu       sync.Mutex
	seq      uint64
	groups   map[string][]*message // per group, in send order
	receipts map[string]*message   // current receipt → in-flight message
	dedupe   map[string]time.Time  // dedupe key → expiry
	dedupeQ  []dedupeEntry         // the same keys in expiry order
	wake     chan struct{}         // closed and replaced when something may have become visible
}

var _ crmsync.Queue = (*Queue)(nil)

type message struct {
	id       string
	seq      uint64
	group    string
	body     []byte
	sentAt   time.Time
	receives int
	// receipt and until are set while the message is in flight, that is
	// while receipt != "" and now < until.
	receipt string
	until   time.Time
}

type dedupeEntry struct {
	key     string
	expires time.Time
}

// New returns an empty queue.
func New(opts Options) *Queue {
	if opts.DedupeWindow == 0 {
		opts.DedupeWindow = DefaultDedupeWindow
	}
	if opts.Visibility <= 0 {
		opts.Visibility = DefaultVisibility
	}
	if opts.ReceiveWait == 0 {
		opts.ReceiveWait = DefaultReceiveWait
	}
	if opts.Clock == nil {
		opts.Clock = time.Now
	}
	q := &Queue{
		opts:     opts,
		dead:     opts.DeadLetter,
		groups:   make(map[string][]*message),
		receipts: make(map[string]*message),
		dedupe:   make(map[string]time.Time),
		wake:     make(chan struct{}),
	}
	if q.dead == nil && opts.MaxReceives > 0 {
		dopts := opts
		dopts.MaxReceives = 0
		dopts.DeadLetter = nil
		q.dead = New(dopts)
	}
	return q
}

// DeadLetters returns the dead-letter queue, or nil when the queue never
// dead-letters.
func (q *Queue) DeadLetters() *Queue { return q.dead }

// Send enqueues the valid triggers in order; invalid ones (or all, when ctx
// is done) are reported in a *crmsync.SendError by index. A trigger whose dedupe key was sent within
// the dedupe window is accepted and dropped.
func (q *Queue) Send(ctx context.Context, triggers []crmsync.Trigger) error {
	failed := make(map[int]error)
	if err := ctx.Err(); err != nil {
		for i := range triggers {
			failed[i] = fmt.Errorf("localqueue: send: %w", err)
		}
		return &crmsync.SendError{Failed: failed}
	}
	bodies := make([][]byte, len(triggers))
	for i, t := range triggers {
		if err := t.Validate(); err != nil {
			failed[i] = fmt.Errorf("localqueue: send: %w", err)
			continue
		}
		b, err := crmsync.EncodeTrigger(t)
		if err != nil {
			failed[i] = fmt.Errorf("localqueue: send: %w", err)
			continue
		}
		bodies[i] = b
	}

	q.mu.Lock()
	now := q.opts.Clock()
	q.expireDedupe(now)
	sent := false
	for i, t := range triggers {
		if bodies[i] == nil {
			continue
		}
		if _, dup := q.dedupe[t.DedupeKey]; dup {
			continue
		}
		exp := now.Add(q.opts.DedupeWindow)
		q.dedupe[t.DedupeKey] = exp
		q.dedupeQ = append(q.dedupeQ, dedupeEntry{t.DedupeKey, exp})
		q.seq++
		m := &message{id: newID(), seq: q.seq, group: t.GroupKey(), body: bodies[i], sentAt: now}
		q.groups[m.group] = append(q.groups[m.group], m)
		sent = true
	}
	if sent {
		q.wakeLocked()
	}
	q.mu.Unlock()

	if len(failed) > 0 {
		return &crmsync.SendError{Failed: failed}
	}
	return nil
}

// expireDedupe forgets dedupe keys whose window has passed. Keys expire in
// the order they were added because the window is fixed.
func (q *Queue) expireDedupe(now time.Time) {
	n := 0
	for _, e := range q.dedupeQ {
		if e.expires.After(now) {
			break
		}
		if q.dedupe[e.key].Equal(e.expires) {
			delete(q.dedupe, e.key)
		}
		n++
	}
	if n > 0 {
		q.dedupeQ = append(q.dedupeQ[:0:0], q.dedupeQ[n:]...)
	}
}

// Receive returns up to max messages, at most one per group, hiding each
// for visibility (0: Options.Visibility; negative is invalid). When none is
// visible it waits up to Options.ReceiveWait or until ctx ends, then
// returns an empty slice.
func (q *Queue) Receive(ctx context.Context, max int, visibility time.Duration) ([]crmsync.Message, error) {
	if max < 1 {
		return nil, fmt.Errorf("localqueue: receive: %w: max %d < 1", crmsync.ErrInvalid, max)
	}
	if visibility < 0 {
		return nil, fmt.Errorf("localqueue: receive: %w: negative visibility %s", crmsync.ErrInvalid, visibility)
	}
	if visibility == 0 {
		visibility = q.opts.Visibility
	}
	var deadline <-chan time.Time
	if q.opts.ReceiveWait > 0 {
		timer := time.NewTimer(q.opts.ReceiveWait)
		defer timer.Stop()
		deadline = timer.C
	}
	poll := time.NewTicker(pollInterval)
	defer poll.Stop()
	for {
		if err := ctx.Err(); err != nil {
			return nil, fmt.Errorf("localqueue: receive: %w", err)
		}
		msgs, wake := q.receiveOnce(max, visibility)
		if len(msgs) > 0 || deadline == nil {
			return msgs, nil
		}
		select {
		case <-ctx.Done():
			return nil, fmt.Errorf("localqueue: receive: %w", ctx.Err())
		case <-deadline:
			deadline = nil // one last look, then return
		case <-wake:
		case <-poll.C:
		}
	}
}

// ReceiveNoWait is Receive without waiting (crmsync.Drainer).
func (q *Queue) ReceiveNoWait(ctx context.Context, max int, visibility time.Duration) ([]crmsync.Message, error) {
	if max < 1 {
		return nil, fmt.Errorf("localqueue: receive: %w: max %d < 1", crmsync.ErrInvalid, max)
	}
	if visibility < 0 {
		return nil, fmt.Errorf("localqueue: receive: %w: negative visibility %s", crmsync.ErrInvalid, visibility)
	}
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("localqueue: receive: %w", err)
	}
	if visibility == 0 {
		visibility = q.opts.Visibility
	}
	msgs, _ := q.receiveOnce(max, visibility)
	return msgs, nil
}

var _ crmsync.Drainer = (*Queue)(nil)

// receiveOnce takes up to max visible group heads, oldest first, and
// returns them with the channel that is closed when more may be visible.
func (q *Queue) receiveOnce(max int, visibility time.Duration) ([]crmsync.Message, <-chan struct{}) {
	out, dead, wake := q.takeLocked(max, visibility)
	// Dead letters are put after q.mu is released, so that two queues
	// dead-lettering into each other cannot deadlock.
	for _, m := range dead {
		q.dead.put(m)
	}
	return out, wake
}

func (q *Queue) takeLocked(max int, visibility time.Duration) (out []crmsync.Message, dead []*message, wake <-chan struct{}) {
	q.mu.Lock()
	defer q.mu.Unlock()
	now := q.opts.Clock()
	taken := make(map[string]bool)
	for len(out) < max {
		m := q.oldestVisibleHead(now, taken)
		if m == nil {
			break
		}
		taken[m.group] = true
		for m != nil {
			if m.receipt != "" {
				delete(q.receipts, m.receipt)
				m.receipt = ""
			}
			if q.opts.MaxReceives > 0 && m.receives >= q.opts.MaxReceives {
				q.popHead(m.group)
				dead = append(dead, m)
				m = q.head(m.group) // go on with the group's next message
				continue
			}
			m.receives++
			m.receipt = newID()
			m.until = now.Add(visibility)
			q.receipts[m.receipt] = m
			t, err := crmsync.DecodeTrigger(m.body)
			if err != nil {
				// Bodies come from EncodeTrigger, so this does not happen;
				// if it did, the message would be handled as sqsqueue
				// handles one: left in flight until redrive takes it.
				break
			}
			out = append(out, crmsync.Message{
				Trigger:      t,
				ID:           m.id,
				Receipt:      m.receipt,
				ReceiveCount: m.receives,
				SentAt:       m.sentAt,
			})
			break
		}
	}
	return out, dead, q.wake
}

// oldestVisibleHead returns the visible group head with the lowest
// sequence number among groups not in skip.
func (q *Queue) oldestVisibleHead(now time.Time, skip map[string]bool) *message {
	var best *message
	for g, msgs := range q.groups {
		if skip[g] || len(msgs) == 0 {
			continue
		}
		h := msgs[0]
		if h.receipt != "" && now.Before(h.until) {
			continue // in flight: the group is blocked
		}
		if best == nil || h.seq < best.seq {
			best = h
		}
	}
	return best
}

func (q *Queue) head(group string) *message {
	if msgs := q.groups[group]; len(msgs) > 0 {
		return msgs[0]
	}
	return nil
}

func (q *Queue) popHead(group string) {
	msgs := q.groups[group]
	msgs[0] = nil
	if len(msgs) == 1 {
		delete(q.groups, group)
		return
	}
	q.groups[group] = msgs[1:]
}

// put appends a dead-lettered message, keeping its id, body and receive
// count; its sent time is now.
func (q *Queue) put(m *message) {
	q.mu.Lock()
	defer q.mu.Unlock()
	q.seq++
	dm := &message{id: m.id, seq: q.seq, group: m.group, body: m.body, sentAt: q.opts.Clock(), receives: m.receives}
	q.groups[dm.group] = append(q.groups[dm.group], dm)
	q.wakeLocked()
}

// Redrive moves the messages of q's dead-letter queue that were
// dead-lettered in [since, until) — a zero time is no bound — back onto q,
// oldest first, and returns how many it moved. Messages in flight in the
// dead-letter queue (someone received them) stay. Each goes back as a new
// send of its trigger, in its group, with the dedupe key RedriveKey gives,
// so q does not drop it as a repeat of its first send.
func (q *Queue) Redrive(ctx context.Context, since, until time.Time) (int, error) {
	if q.dead == nil {
		return 0, nil
	}
	if err := ctx.Err(); err != nil {
		return 0, fmt.Errorf("localqueue: redrive: %w", err)
	}
	taken := q.dead.take(func(m *message) bool {
		return (since.IsZero() || !m.sentAt.Before(since)) && (until.IsZero() || m.sentAt.Before(until))
	})
	triggers := make([]crmsync.Trigger, len(taken))
	for i, m := range taken {
		t, err := crmsync.DecodeTrigger(m.body)
		if err != nil {
			// Bodies come from EncodeTrigger; put it back rather than lose it.
			for _, m := range taken[i:] {
				q.dead.put(m)
			}
			return i, fmt.Errorf("localqueue: redrive message %s: %w", m.id, err)
		}
		t.DedupeKey = RedriveKey(t.DedupeKey, m.id)
		triggers[i] = t
	}
	err := q.Send(ctx, triggers)
	var se *crmsync.SendError
	if err != nil && !errors.As(err, &se) {
		return 0, fmt.Errorf("localqueue: redrive: %w", err)
	}
	moved := len(taken)
	if se != nil {
		for i := range taken {
			if se.Failed[i] != nil {
				q.dead.put(taken[i])
				moved--
			}
		}
		return moved, fmt.Errorf("localqueue: redrive: %w", se)
	}
	return moved, nil
}

// RedriveKey is the dedupe key of a redriven trigger: made from the
// trigger's dedupe key and the dead-lettered message's id.
func RedriveKey(dedupeKey, messageID string) string {
	return crmsync.DedupeKeyOf("redrive", dedupeKey, messageID)
}

// take removes and returns the messages that are not in flight and match,
// in the order they were put.
func (q *Queue) take(match func(*message) bool) []*message {
	q.mu.Lock()
	defer q.mu.Unlock()
	now := q.opts.Clock()
	var out []*message
	for g, msgs := range q.groups {
		keep := msgs[:0:0]
		for _, m := range msgs {
			if (m.receipt != "" && now.Before(m.until)) || !match(m) {
				keep = append(keep, m)
				continue
			}
			if m.receipt != "" {
				delete(q.receipts, m.receipt)
			}
			out = append(out, m)
		}
		if len(keep) == 0 {
			delete(q.groups, g)
		} else {
			q.groups[g] = keep
		}
	}
	slices.SortFunc(out, func(a, b *message) int { return cmp.Compare(a.seq, b.seq) })
	return out
}

// inFlight returns the message in flight under receipt, or nil.
func (q *Queue) inFlight(receipt string, now time.Time) *message {
	m := q.receipts[receipt]
	if m == nil {
		return nil
	}
	if !now.Before(m.until) {
		delete(q.receipts, receipt)
		m.receipt = ""
		return nil
	}
	return m
}

// Delete removes the message in flight under receipt; crmsync.ErrNotFound
// when the receipt is stale (visibility ran out, or already deleted).
func (q *Queue) Delete(ctx context.Context, receipt string) error {
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("localqueue: delete: %w", err)
	}
	q.mu.Lock()
	defer q.mu.Unlock()
	m := q.inFlight(receipt, q.opts.Clock())
	if m == nil {
		return fmt.Errorf("localqueue: delete: receipt %.12s…: %w", receipt, crmsync.ErrNotFound)
	}
	delete(q.receipts, receipt)
	// An in-flight message is always its group's head.
	q.popHead(m.group)
	q.wakeLocked()
	return nil
}

// ChangeVisibility hides the message in flight under receipt for d from
// now; 0 makes it visible at once (and the receipt stale).
// crmsync.ErrNotFound when the receipt is stale.
func (q *Queue) ChangeVisibility(ctx context.Context, receipt string, d time.Duration) error {
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("localqueue: change visibility: %w", err)
	}
	if d < 0 {
		return fmt.Errorf("localqueue: change visibility: %w: negative duration %s", crmsync.ErrInvalid, d)
	}
	q.mu.Lock()
	defer q.mu.Unlock()
	now := q.opts.Clock()
	m := q.inFlight(receipt, now)
	if m == nil {
		return fmt.Errorf("localqueue: change visibility: receipt %.12s…: %w", receipt, crmsync.ErrNotFound)
	}
	m.until = now.Add(d)
	if d == 0 {
		delete(q.receipts, receipt)
		m.receipt = ""
		q.wakeLocked()
	}
	return nil
}

// Stats counts visible and in-flight messages exactly and reports the age
// of the oldest message by its send time.
func (q *Queue) Stats(ctx context.Context) (crmsync.QueueStats, error) {
	if err := ctx.Err(); err != nil {
		return crmsync.QueueStats{}, fmt.Errorf("localqueue: stats: %w", err)
	}
	q.mu.Lock()
	defer q.mu.Unlock()
	now := q.opts.Clock()
	var s crmsync.QueueStats
	var oldest time.Time
	for _, msgs := range q.groups {
		for _, m := range msgs {
			if m.receipt != "" && now.Before(m.until) {
				s.InFlight++
			} else {
				s.Visible++
			}
			if oldest.IsZero() || m.sentAt.Before(oldest) {
				oldest = m.sentAt
			}
		}
	}
	if !oldest.IsZero() {
		s.OldestAge = max(now.Sub(oldest), 0)
	}
	return s, nil
}

func (q *Queue) wakeLocked() {
	close(q.wake)
	q.wake = make(chan struct{})
}

func newID() string {
	var b [16]byte
	_, _ = rand.Read(b[:]) // crypto/rand.Read never fails (Go 1.24+)
	return hex.EncodeToString(b[:])
}
