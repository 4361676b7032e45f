package worker

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/crmsync/crmsync/pkg/crmsync"
	"github.com/crmsync/crmsync/pkg/emf"
	"github.com/crmsync/crmsync/pkg/engine"
	"github.com/crmsync/crmsync/pkg/localqueue"
)

type transient struct{}

func (transient) Error() string   { return "try later" }
func (transient) Transient() bool { return true }

// resolver fails the records whose id is in fail, and records the order.
type resolver struct {
	mu   sync.Mutex
	fail map[string]int // id → failures left
	seen []string
}

func (r *resolver) Resolve(ctx context.Context, t crmsync.Trigger) (engine.Outcome, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.seen = append(r.seen, t.Record.ID+"#"+t.DedupeKey)
	if r.fail[t.Record.ID] > 0 {
		r.fail[t.Record.ID]--
		return engine.Outcome{}, transient{}
	}
	return engine.Outcome{Trigger: t, Decision: engine.DecisionSynced}, nil
}

type visibility struct {
	mu    sync.Mutex
	calls map[string]time.Duration
}

func (v *visibility) ChangeVisibility(ctx context.Context, receipt string, d time.Duration) error {
	v.mu.Lock()
	defer v.mu.Unlock()
	v.calls[receipt] = d
	return nil
}

func trig(id, key string) crmsync.Trigger {
	return crmsync.Trigger{Record: crmsync.RecordRef{Side: crmsync.HubSpot, Object: crmsync.HSContact, ID: id},
		Kind: crmsync.KindPropertyChanged, OccurredAt: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC), DedupeKey: key}
}

func sqsRecord(t *testing.T, msgID string, tr crmsync.Trigger, receives int) events.SQSMessage {
	t.Helper()
	body, err := crmsync.EncodeTrigger(tr)
	if err != nil {
		t.Fatal(err)
	}
	return events.SQSMessage{MessageId: msgID, ReceiptHandle: "rh-" + msgID, Body: string(body),
		Attributes: map[string]string{"MessageGroupId": tr.GroupKey(), "ApproximateReceiveCount": fmt.Sprint(receives)}}
}

func quiet() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

func TestHandleSQS(t *testing.T) {
	res := &resolver{fail: map[string]int{"A": 1}}
	vis := &visibility{calls: map[string]time.Duration{}}
	var metrics bytes.Buffer
	w := &Worker{Resolver: res, Visibility: vis, Logger: quiet(), Metrics: emf.New(&metrics)}
	ev := events.SQSEvent{Records: []events.SQSMessage{
		sqsRecord(t, "m1", trig("A", "a1"), 3), // transient failure
		sqsRecord(t, "m2", trig("B", "b1"), 1), // other group: processed
		sqsRecord(t, "m3", trig("A", "a2"), 1), // same group after a failure: not processed
		{MessageId: "m4", Body: `{"v":9}`, Attributes: map[string]string{"MessageGroupId": "poison"}},
		sqsRecord(t, "m5", trig("C", "c1"), 1),
	}}
	resp, err := w.HandleSQS(context.Background(), ev)
	if err != nil {
		t.Fatal(err)
	}
	var failed []string
	for _, f := range resp.BatchItemFailures {
		failed = append(failed, f.ItemIdentifier)
	}
	if want := []string{"m1", "m3", "m4"}; !slices.Equal(failed, want) {
		t.Errorf("batch item failures = %v, want %v", failed, want)
	}
	if want := []string{"A#a1", "B#b1", "C#c1"}; !slices.Equal(res.seen, want) {
		t.Errorf("resolved %v, want %v (A#a2 must wait for A#a1)", res.seen, want)
	}
	if got := vis.calls["rh-m1"]; got != Backoff(3) {
		t.Errorf("visibility of the failed message = %v, want %v", got, Backoff(3))
	}
	for _, want := range []string{`"TransientFailures":1`, `"PoisonMessages":1`, `"TriggersResolved":2`, `"Decision":"synced"`} {
		if !strings.Contains(metrics.String(), want) {
			t.Errorf("metrics lack %s:\n%s", want, metrics.String())
		}
	}
}

func TestBackoff(t *testing.T) {
	if Backoff(1) != 5*time.Second || Backoff(2) != 10*time.Second || Backoff(100) != 15*time.Minute {
		t.Errorf("Backoff: %v %v %v", Backoff(1), Backoff(2), Backoff(100))
	}
}

func TestRunOverLocalQueue(t *testing.T) {
	q := localqueue.New(localqueue.Options{MaxReceives: 5})
	res := &resolver{fail: map[string]int{"A": 1}}
	var mu sync.Mutex
	var outcomes []engine.Outcome
	w := &Worker{Resolver: res, Visibility: q, Logger: quiet(), OnOutcome: func(o engine.Outcome) {
		mu.Lock()
		defer mu.Unlock()
		outcomes = append(outcomes, o)
	}}
	// A transient failure waits Backoff(1) = 5 s in production; make the
	// local queue's visibility changes immediate for the test by using a
	// Visibility that makes the message visible at once.
	w.Visibility = immediate{q}
	if err := q.Send(context.Background(), []crmsync.Trigger{trig("A", "a1"), trig("A", "a2"), trig("B", "b1")}); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	done := make(chan error, 1)
	go func() { done <- w.Run(ctx, q, 2, time.Minute) }()
	for {
		mu.Lock()
		n := len(outcomes)
		mu.Unlock()
		if n == 3 {
			break
		}
		if ctx.Err() != nil {
			t.Fatalf("only %d of 3 triggers resolved", n)
		}
		time.Sleep(5 * time.Millisecond)
	}
	cancel()
	if err := <-done; err != nil && !errors.Is(err, context.Canceled) && !errors.Is(err, context.DeadlineExceeded) {
		t.Fatal(err)
	}
	// A's order held: a1 failed once, then a1, then a2.
	var aOrder []string
	for _, s := range res.seen {
		if s[0] == 'A' {
			aOrder = append(aOrder, s)
		}
	}
	if want := []string{"A#a1", "A#a1", "A#a2"}; !slices.Equal(aOrder, want) {
		t.Errorf("group A resolved in order %v, want %v", aOrder, want)
	}
	st, _ := q.Stats(context.Background())
	if st.Visible != 0 || st.InFlight != 0 {
		t.Errorf("queue not drained: %+v", st)
	}
}

type immediate struct{ q *localqueue.Queue }

func (i immediate) ChangeVisibility(ctx context.Context, receipt string, d time.Duration) error {
	return i.q.ChangeVisibility(ctx, receipt, 0)
}

// batches is a BatchResolver that records the size of each batch.
type batches struct {
	mu    sync.Mutex
	sizes []int
}

func (b *batches) Resolve(ctx context.Context, t crmsync.Trigger) (engine.Outcome, error) {
	outs, errs := b.ResolveBatch(ctx, []crmsync.Trigger{t})
	return outs[0], errs[0]
}

func (b *batches) ResolveBatch(ctx context.Context, ts []crmsync.Trigger) ([]engine.Outcome, []error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.sizes = append(b.sizes, len(ts))
	outs := make([]engine.Outcome, len(ts))
	for i, t := range ts {
		outs[i] = engine.Outcome{Trigger: t, Decision: engine.DecisionSynced}
	}
	return outs, make([]error, len(ts))
}

func sendGroups(t *testing.T, q crmsync.Queue, from, n int) {
	t.Helper()
	var ts []crmsync.Trigger
	for i := range n {
		ts = append(ts, trig(fmt.Sprint(from+i), fmt.Sprint("k", from+i)))
	}
	if err := q.Send(context.Background(), ts); err != nil {
		t.Fatal(err)
	}
}

// Batching past ten: the local loop resolves up to Drain messages
// together, and HandleSQS takes what is visible beyond the event's ten,
// deleting what it resolved; a quiet queue is not waited for.
func TestDrainResolvesPastTen(t *testing.T) {
	q := localqueue.New(localqueue.Options{MaxReceives: 5})
	sendGroups(t, q, 0, 45)
	res := &batches{}
	w := &Worker{Resolver: res, Visibility: q, Logger: quiet(), Drain: 30}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	done := make(chan error, 1)
	go func() { done <- w.Run(ctx, q, 1, time.Minute) }()
	for {
		st, _ := q.Stats(ctx)
		if st.Visible == 0 && st.InFlight == 0 {
			break
		}
		if ctx.Err() != nil {
			t.Fatalf("queue not drained: %+v", st)
		}
		time.Sleep(5 * time.Millisecond)
	}
	cancel()
	<-done
	if res.sizes[0] != 30 || res.sizes[1] != 15 {
		t.Errorf("batch sizes %v, want 30 then 15", res.sizes)
	}

	// Lambda: the event's 10 plus 25 more received by the worker.
	q2 := localqueue.New(localqueue.Options{MaxReceives: 5})
	sendGroups(t, q2, 100, 25)
	res2 := &batches{}
	w2 := &Worker{Resolver: res2, Visibility: q2, Logger: quiet(), Drain: 200, From: q2}
	var ev events.SQSEvent
	for i := range 10 {
		ev.Records = append(ev.Records, sqsRecord(t, fmt.Sprint("m", i), trig(fmt.Sprint(i), fmt.Sprint("e", i)), 1))
	}
	resp, err := w2.HandleSQS(context.Background(), ev)
	if err != nil || len(resp.BatchItemFailures) != 0 {
		t.Fatalf("HandleSQS: %+v, %v", resp, err)
	}
	if len(res2.sizes) != 1 || res2.sizes[0] != 35 {
		t.Errorf("batch sizes %v, want one of 35", res2.sizes)
	}
	if st, _ := q2.Stats(context.Background()); st.Visible != 0 || st.InFlight != 0 {
		t.Errorf("the drained messages were not deleted: %+v", st)
	}
	// A short event batch takes nothing more.
	sendGroups(t, q2, 200, 5)
	res3 := &batches{}
	w2.Resolver = res3
	if _, err := w2.HandleSQS(context.Background(), events.SQSEvent{Records: ev.Records[:3]}); err != nil {
		t.Fatal(err)
	}
	if res3.sizes[0] != 3 {
		t.Errorf("a short batch resolved %v, want 3 (no drain)", res3.sizes)
	}
}
