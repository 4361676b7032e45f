// Package worker runs the engine over queued triggers: as the sync-worker
// Lambda's SQS handler (HandleSQS) and as a local worker pool over any
// crmsync.Queue (Run), with the same per-message rules:
//
//   - a message whose body does not decode is a poison message: it is
//     reported as failed every time, so the queue dead-letters it after its
//     receive limit (nothing is dropped silently);
//   - a transient failure is reported as failed and its visibility is
//     extended with exponential back-off (5 s doubling, at most 15 min),
//     so the retry waits instead of spinning;
//   - a terminal failure was recorded by the engine as a sync error: the
//     message is acknowledged;
//   - FIFO order: once a message of a message group fails, the later
//     messages of that group in the same batch are not processed and are
//     reported as failed too, so a group never runs out of order. Other
//     groups go on (AWS's advice is to stop the whole batch; per group is
//     enough for order and keeps unrelated records moving).
//   - Batching past ten: SQS FIFO hands out at most 10 messages per
//     receive (and to a Lambda per invocation). With Drain above 10, a
//     full batch is followed by receives that do not wait, taking what
//     else is visible, up to Drain messages resolved together — so a
//     bulk change costs one batch read and one collection write per 100
//     (HubSpot) or 200 (Salesforce) records instead of per 10. A quiet
//     queue never waits for more. In Lambda the extra messages are the
//     worker's own receives (Worker.From): it deletes those it resolved
//     and backs off the others, as the event source mapping does for
//     the event's. FIFO order holds: a receive never returns a message of
//     a group with one in flight.
package worker

import (
	"context"
	"errors"
	"log/slog"
	"strconv"
	"sync"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/crmsync/crmsync/pkg/crmsync"
	"github.com/crmsync/crmsync/pkg/emf"
	"github.com/crmsync/crmsync/pkg/engine"
)

// Resolver resolves one trigger; *engine.Engine is one. A non-nil error
// means "retry later".
type Resolver interface {
	Resolve(ctx context.Context, t crmsync.Trigger) (engine.Outcome, error)
}

// Visibility changes a received message's visibility; crmsync.Queue is one.
type Visibility interface {
	ChangeVisibility(ctx context.Context, receipt string, d time.Duration) error
}

// Worker processes triggers.
type Worker struct {
	Resolver Resolver
	// Visibility, when set, is used to back off transient failures.
	Visibility Visibility
	Logger     *slog.Logger
	// OnOutcome, when set, is called for every resolved trigger (make run
	// prints them).
	OnOutcome func(engine.Outcome)
	// Metrics, when set, receives the worker's CloudWatch metrics;
	// HandleSQS flushes them after each batch.
	Metrics *emf.Logger
	// Drain is the most messages resolved together (see the package
	// doc); 10 or less: one receive's batch.
	Drain int
	// From is the queue HandleSQS drains (the event source's queue); nil:
	// HandleSQS resolves the event's messages only.
	From DrainQueue
	// Hints, when set, is given every batch before it is resolved: the
	// short poll runs when a trigger says a form submission or an email
	// event just happened (sweep.Sweeper.PollIfHinted). A failed poll is
	// logged only: the schedule polls again.
	Hints func(ctx context.Context, ts []crmsync.Trigger) (int, error)
}

func (w *Worker) count(name string, dim ...string) {
	if w.Metrics != nil {
		w.Metrics.Put(name, 1, emf.Count, dim...)
	}
}

// DrainQueue is what HandleSQS needs to take more than the event's
// batch: receives that do not wait, and deletes of what it resolved.
type DrainQueue interface {
	crmsync.Drainer
	Delete(ctx context.Context, receipt string) error
}

// DefaultDrain is the Drain of the local stack and the sync-worker Lambda
// (WORKER_DRAIN): a Salesforce collection's 200 records per batch.
const DefaultDrain = 200

// receiveBatch is the most messages one receive returns (SQS's limit).
const receiveBatch = 10

// drain follows a receive of have messages, when it was full, with
// receives that do not wait, while they come back full, up to w.Drain
// messages in all.
func (w *Worker) drain(ctx context.Context, d crmsync.Drainer, have int, visibility time.Duration) []crmsync.Message {
	var out []crmsync.Message
	for last := have; last >= receiveBatch && have+len(out) < w.Drain; {
		more, err := d.ReceiveNoWait(ctx, min(receiveBatch, w.Drain-have-len(out)), visibility)
		if err != nil {
			w.logger().WarnContext(ctx, "drain receive failed; resolving what was received", "error", err)
			break
		}
		out = append(out, more...)
		last = len(more)
	}
	return out
}

// Backoff is the visibility delay before retry number attempt (1-based).
func Backoff(attempt int) time.Duration {
	d := 5 * time.Second
	for i := 1; i < attempt && d < 15*time.Minute; i++ {
		d *= 2
	}
	return min(d, 15*time.Minute)
}

func (w *Worker) logger() *slog.Logger {
	if w.Logger != nil {
		return w.Logger
	}
	return slog.Default()
}

// BatchResolver is implemented by resolvers that resolve a queue batch
// together (*engine.Engine: batch reads and writes for bulk changes).
type BatchResolver interface {
	ResolveBatch(ctx context.Context, ts []crmsync.Trigger) ([]engine.Outcome, []error)
}

// errSkipped marks a trigger not resolved because an earlier one of its
// group failed in this batch.
var errSkipped = errors.New("an earlier trigger of the same record failed in this batch")

// resolve resolves a batch: together when the resolver can; else one by
// one, skipping the rest of a group after a failure (the group is retried
// in order).
func (w *Worker) resolve(ctx context.Context, ts []crmsync.Trigger) ([]engine.Outcome, []error) {
	if w.Hints != nil {
		if n, err := w.Hints(ctx, ts); err != nil {
			w.logger().WarnContext(ctx, "the poll a contact change hinted at failed; the schedule polls again", "error", err)
		} else if n > 0 {
			w.logger().InfoContext(ctx, "polled what a contact change hinted at", "enqueued", n)
		}
	}
	if b, ok := w.Resolver.(BatchResolver); ok && len(ts) > 1 {
		return b.ResolveBatch(ctx, ts)
	}
	outs := make([]engine.Outcome, len(ts))
	errs := make([]error, len(ts))
	failed := map[string]bool{}
	for i, t := range ts {
		if failed[t.GroupKey()] {
			outs[i], errs[i] = engine.Outcome{Trigger: t}, errSkipped
			continue
		}
		outs[i], errs[i] = w.Resolver.Resolve(ctx, t)
		if errs[i] != nil {
			failed[t.GroupKey()] = true
		}
	}
	return outs, errs
}

// settle reports one resolved trigger (log, metrics, visibility back-off)
// and whether its message may be deleted.
func (w *Worker) settle(ctx context.Context, t crmsync.Trigger, out engine.Outcome, err error, receipt string, receives int) bool {
	if err != nil && ctx.Err() != nil || errors.Is(err, errSkipped) {
		return false // visible again by itself (shutting down, or behind its group's failure)
	}
	if err != nil {
		delay := Backoff(receives)
		w.logger().WarnContext(ctx, "transient failure: retrying", "side", t.Record.Side, "object", t.Record.Object,
			"record_id", t.Record.ID, "trigger", t.Kind, "attempt", t.Attempt, "retry_in", delay.String(), "error", err)
		if w.Visibility != nil && receipt != "" {
			if verr := w.Visibility.ChangeVisibility(ctx, receipt, delay); verr != nil {
				w.logger().WarnContext(ctx, "could not extend visibility; the queue's timeout applies", "record_id", t.Record.ID, "error", verr)
			}
		}
		w.count(emf.TransientFailures)
		return false
	}
	w.count(emf.TriggersResolved, "Decision", string(out.Decision))
	if out.Category != "" {
		w.count(emf.SyncErrors, "Category", string(out.Category))
	}
	if w.OnOutcome != nil {
		w.OnOutcome(out)
	}
	return true
}

// HandleSQS is the sync-worker Lambda handler (SQS event source with
// ReportBatchItemFailures).
func (w *Worker) HandleSQS(ctx context.Context, ev events.SQSEvent) (events.SQSEventResponse, error) {
	var resp events.SQSEventResponse
	ok := make([]bool, len(ev.Records))
	var idx []int // messages that decoded, in order
	var ts []crmsync.Trigger
	for i, m := range ev.Records {
		receives, _ := strconv.Atoi(m.Attributes["ApproximateReceiveCount"])
		t, err := crmsync.DecodeTrigger([]byte(m.Body))
		if err != nil {
			w.logger().ErrorContext(ctx, "poison message: it will be dead-lettered after the receive limit",
				"message_id", m.MessageId, "attempt", receives, "error", err)
			w.count(emf.PoisonMessages)
			continue
		}
		t.Attempt = max(receives-1, 0)
		idx = append(idx, i)
		ts = append(ts, t)
	}
	var extra []crmsync.Message
	if w.From != nil {
		extra = w.drain(ctx, w.From, len(ev.Records), 0)
		for _, m := range extra {
			t := m.Trigger
			t.Attempt = max(m.ReceiveCount-1, 0)
			ts = append(ts, t)
		}
	}
	outs, errs := w.resolve(ctx, ts)
	for j, i := range idx {
		m := ev.Records[i]
		receives, _ := strconv.Atoi(m.Attributes["ApproximateReceiveCount"])
		ok[i] = w.settle(ctx, ts[j], outs[j], errs[j], m.ReceiptHandle, receives)
	}
	for k, m := range extra {
		j := len(idx) + k
		if w.settle(ctx, ts[j], outs[j], errs[j], m.Receipt, m.ReceiveCount) {
			w.ack(ctx, w.From, m)
		}
	}
	// FIFO: after a failure in a group, its later messages are handed back
	// too, so the group is retried in order.
	failedGroups := map[string]bool{}
	for i, m := range ev.Records {
		g := m.Attributes["MessageGroupId"]
		if !ok[i] || g != "" && failedGroups[g] {
			resp.BatchItemFailures = append(resp.BatchItemFailures, events.SQSBatchItemFailure{ItemIdentifier: m.MessageId})
			if g != "" {
				failedGroups[g] = true
			}
		}
	}
	if w.Metrics != nil {
		if err := w.Metrics.Flush(); err != nil {
			w.logger().WarnContext(ctx, "could not write metrics", "error", err)
		}
	}
	return resp, nil
}

// Run pulls from q with n concurrent workers until ctx ends: the local
// equivalent of the Lambda event source. Each batch is processed in order;
// succeeded messages are deleted.
func (w *Worker) Run(ctx context.Context, q crmsync.Queue, n int, visibility time.Duration) error {
	var wg sync.WaitGroup
	errc := make(chan error, n)
	for range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := w.loop(ctx, q, visibility); err != nil && !errors.Is(err, context.Canceled) {
				errc <- err
			}
		}()
	}
	wg.Wait()
	close(errc)
	return <-errc
}

func (w *Worker) loop(ctx context.Context, q crmsync.Queue, visibility time.Duration) error {
	for ctx.Err() == nil {
		msgs, err := q.Receive(ctx, 10, visibility)
		if err != nil {
			if ctx.Err() != nil {
				return ctx.Err()
			}
			w.logger().WarnContext(ctx, "receive failed", "error", err)
			select {
			case <-time.After(time.Second):
			case <-ctx.Done():
			}
			continue
		}
		if d, ok := q.(crmsync.Drainer); ok {
			msgs = append(msgs, w.drain(ctx, d, len(msgs), visibility)...)
		}
		ts := make([]crmsync.Trigger, len(msgs))
		for i, m := range msgs {
			ts[i] = m.Trigger
			ts[i].Attempt = max(m.ReceiveCount-1, 0)
		}
		outs, errs := w.resolve(ctx, ts)
		for i, m := range msgs {
			if w.settle(ctx, ts[i], outs[i], errs[i], m.Receipt, m.ReceiveCount) {
				w.ack(ctx, q, m)
			} // else visible again after its back-off; the queue keeps its group behind it
		}
	}
	return ctx.Err()
}

// ack deletes a resolved message from q.
func (w *Worker) ack(ctx context.Context, q interface {
	Delete(context.Context, string) error
}, m crmsync.Message) {
	if err := q.Delete(ctx, m.Receipt); err != nil && !errors.Is(err, crmsync.ErrNotFound) {
		w.logger().WarnContext(ctx, "delete failed; the trigger will be redelivered and dropped as a repeat", "message_id", m.ID, "error", err)
	}
}
