package crmsynctest

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"slices"
	"testing"
	"time"

	"github.com/crmsync/crmsync/pkg/crmsync"
)

// Timings of the queue suite. Visibility timeouts are whole seconds because
// SQS counts in seconds; deadlines are generous because the suite checks
// what happens, never how fast.
const (
	shortVisibility = time.Second
	// mediumVisibility outlasts one Receive's brief wait, so a receive
	// right after another cannot see its message come back.
	mediumVisibility = 5 * time.Second
	longVisibility   = 60 * time.Second
	// patience bounds every wait for something that must happen.
	patience = 30 * time.Second
	// quiet is how long the suite keeps receiving to show that nothing
	// (more) is delivered.
	quiet = 2 * time.Second
)

// QueueDeviations lists where an implementation, or the server a suite run
// uses, is known to fall short of the crmsync.Queue contract. Set a field
// only with a comment saying why; the suite then checks what happens
// instead, so the deviation stays pinned down.
type QueueDeviations struct {
	// StaleDeleteSucceeds: Delete with a receipt that is no longer valid
	// returns nil instead of crmsync.ErrNotFound (fauxqs 1.9.2, like SQS
	// standard queues). The suite still checks that such a Delete does not
	// delete the message.
	StaleDeleteSucceeds bool
	// OldestAgeUnknown: Stats cannot measure the oldest message's age and
	// reports a negative OldestAge while the queue is not empty (sqsqueue:
	// SQS has no such attribute outside CloudWatch).
	OldestAgeUnknown bool
}

// TestQueue runs the crmsync.Queue contract suite. newQueue returns a fresh,
// empty queue that dead-letters on the receive after maxReceives, and its
// dead-letter queue as a Queue to receive from. The queue's default
// visibility timeout (Receive with 0) must be at least 5 s. It is called once per
// subtest, with the subtest's t (register cleanup there); subtests run in
// parallel.
func TestQueue(t *testing.T, newQueue func(t *testing.T, maxReceives int) (q crmsync.Queue, dead crmsync.Queue)) {
	TestQueueWith(t, newQueue, QueueDeviations{})
}

// TestQueueWith is TestQueue for an implementation with known deviations.
func TestQueueWith(t *testing.T, newQueue func(t *testing.T, maxReceives int) (q crmsync.Queue, dead crmsync.Queue), dev QueueDeviations) {
	s := queueSuite{newQueue: newQueue, dev: dev}
	for _, tc := range []struct {
		name string
		fn   func(*testing.T)
	}{
		{"RoundTrip", s.roundTrip},
		{"GroupOrder", s.groupOrder},
		{"Redelivery", s.redelivery},
		{"ChangeVisibility", s.changeVisibility},
		{"DefaultVisibility", s.defaultVisibility},
		{"StaleReceipt", s.staleReceipt},
		{"DeadLetter", s.deadLetter},
		{"Dedupe", s.dedupe},
		{"Batching", s.batching},
		{"InvalidTrigger", s.invalidTrigger},
		{"Stats", s.stats},
		{"ReceiveNoWait", s.receiveNoWait},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			tc.fn(t)
		})
	}
}

type queueSuite struct {
	newQueue func(t *testing.T, maxReceives int) (crmsync.Queue, crmsync.Queue)
	dev      QueueDeviations
}

// defaultMaxReceives is high enough that no subtest but DeadLetter
// dead-letters.
const defaultMaxReceives = 10

var suiteEpoch = time.Date(2026, 11, 23, 17, 0, 0, 0, time.UTC)

// testTrigger is trigger number seq of group (record) g. Its DeliveryID
// "g/seq" identifies it in assertions.
func testTrigger(g, seq int) crmsync.Trigger {
	return crmsync.Trigger{
		Record:     crmsync.RecordRef{Side: crmsync.HubSpot, Object: crmsync.HSContact, ID: fmt.Sprint(1000 + g)},
		Kind:       crmsync.KindPropertyChanged,
		Properties: []string{"email"},
		OccurredAt: suiteEpoch.Add(time.Duration(seq) * time.Second),
		DeliveryID: fmt.Sprintf("%d/%d", g, seq),
		DedupeKey:  crmsync.DedupeKeyOf("crmsynctest", fmt.Sprint(g), fmt.Sprint(seq)),
	}
}

func groupSeq(t *testing.T, m crmsync.Message) (g, seq int) {
	t.Helper()
	if _, err := fmt.Sscanf(m.Trigger.DeliveryID, "%d/%d", &g, &seq); err != nil {
		t.Fatalf("message %s: delivery id %q is not one the suite sent", m.ID, m.Trigger.DeliveryID)
	}
	return g, seq
}

func ctxFor(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(t.Context(), 5*patience)
	t.Cleanup(cancel)
	return ctx
}

func send(t *testing.T, q crmsync.Queue, ts ...crmsync.Trigger) {
	t.Helper()
	if err := q.Send(ctxFor(t), ts); err != nil {
		t.Fatalf("Send(%d triggers): %v", len(ts), err)
	}
}

func receive(t *testing.T, q crmsync.Queue, max int, vis time.Duration) []crmsync.Message {
	t.Helper()
	msgs, err := q.Receive(ctxFor(t), max, vis)
	if err != nil {
		t.Fatalf("Receive(%d, %s): %v", max, vis, err)
	}
	if len(msgs) > max {
		t.Fatalf("Receive(%d, %s) returned %d messages", max, vis, len(msgs))
	}
	for _, m := range msgs {
		if m.ID == "" || m.Receipt == "" {
			t.Fatalf("Receive returned a message without id or receipt: %+v", m)
		}
		if m.ReceiveCount < 1 {
			t.Fatalf("message %s: ReceiveCount %d < 1", m.ID, m.ReceiveCount)
		}
	}
	return msgs
}

// receiveOne receives until exactly one message arrives (the queue must
// hold only one visible message).
func receiveOne(t *testing.T, q crmsync.Queue, vis time.Duration) crmsync.Message {
	t.Helper()
	deadline := time.Now().Add(patience)
	for time.Now().Before(deadline) {
		switch msgs := receive(t, q, 10, vis); len(msgs) {
		case 0:
			continue
		case 1:
			return msgs[0]
		default:
			t.Fatalf("received %d messages, want 1: %+v", len(msgs), msgs)
		}
	}
	t.Fatalf("no message received within %s", patience)
	return crmsync.Message{}
}

// drain receives and deletes until want messages arrived, and returns them.
func drain(t *testing.T, q crmsync.Queue, want int) []crmsync.Message {
	t.Helper()
	var got []crmsync.Message
	deadline := time.Now().Add(patience) // for progress, not for the whole
	for len(got) < want && time.Now().Before(deadline) {
		for _, m := range receive(t, q, 10, longVisibility) {
			got = append(got, m)
			if err := q.Delete(ctxFor(t), m.Receipt); err != nil {
				t.Fatalf("Delete(message %s): %v", m.ID, err)
			}
			deadline = time.Now().Add(patience)
		}
	}
	if len(got) != want {
		t.Fatalf("drained %d messages, want %d; none more within %s", len(got), want, patience)
	}
	return got
}

// expectNothing keeps receiving for a while and fails on any message.
func expectNothing(t *testing.T, q crmsync.Queue) {
	t.Helper()
	end := time.Now().Add(quiet)
	for time.Now().Before(end) {
		if msgs := receive(t, q, 10, longVisibility); len(msgs) > 0 {
			t.Fatalf("received %d unexpected message(s), first %s (%+v)", len(msgs), msgs[0].ID, msgs[0].Trigger)
		}
	}
}

// eventuallyStats polls Stats until ok accepts them (counts are
// approximate and may lag).
func eventuallyStats(t *testing.T, q crmsync.Queue, what string, ok func(crmsync.QueueStats) bool) crmsync.QueueStats {
	t.Helper()
	var s crmsync.QueueStats
	var err error
	deadline := time.Now().Add(patience)
	for {
		s, err = q.Stats(ctxFor(t))
		if err != nil {
			t.Fatalf("Stats: %v", err)
		}
		if ok(s) {
			return s
		}
		if time.Now().After(deadline) {
			t.Fatalf("Stats = %+v, want %s", s, what)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

func sameTrigger(t *testing.T, got, want crmsync.Trigger) {
	t.Helper()
	if !got.OccurredAt.Equal(want.OccurredAt) {
		t.Errorf("OccurredAt = %s, want %s", got.OccurredAt, want.OccurredAt)
	}
	got.OccurredAt = want.OccurredAt
	if !reflect.DeepEqual(got, want) {
		t.Errorf("trigger changed in the queue:\n got %+v\nwant %+v", got, want)
	}
}

func (s queueSuite) roundTrip(t *testing.T) {
	q, _ := s.newQueue(t, defaultMaxReceives)
	want := crmsync.Trigger{
		Record:       crmsync.RecordRef{Side: crmsync.Salesforce, Object: crmsync.SFContact, ID: "0035g00000AbCdEAAZ"},
		Kind:         crmsync.KindAssociationChanged,
		Properties:   []string{"AccountId", "Email"},
		OccurredAt:   time.Date(2026, 11, 23, 17, 1, 2, 345678900, time.UTC),
		DeliveryID:   "04l5g00000XyZaBAAV",
		DedupeKey:    crmsync.DedupeKeyOf("salesforce", "04l5g00000XyZaBAAV"),
		Attempt:      2,
		ChangeSource: "CRM_UI",
		AppID:        "1234567",
		MergedIDs:    []string{"0035g00000AbCdFAAZ"},
		Association: &crmsync.AssociationChange{
			To:      crmsync.RecordRef{Side: crmsync.Salesforce, Object: crmsync.SFAccount, ID: "0015g00000QwErTAAZ"},
			Type:    "AccountId",
			Removed: true,
		},
	}
	before := time.Now()
	send(t, q, want)
	m := receiveOne(t, q, longVisibility)
	sameTrigger(t, m.Trigger, want)
	if m.ReceiveCount != 1 {
		t.Errorf("first receive: ReceiveCount = %d, want 1", m.ReceiveCount)
	}
	// Generous: the server's clock may differ a little from ours.
	if m.SentAt.Before(before.Add(-time.Minute)) || m.SentAt.After(time.Now().Add(time.Minute)) {
		t.Errorf("SentAt = %s, want about %s", m.SentAt, before)
	}
	if err := q.Delete(ctxFor(t), m.Receipt); err != nil {
		t.Fatalf("Delete: %v", err)
	}
	expectNothing(t, q)
	eventuallyStats(t, q, "an empty queue", func(s crmsync.QueueStats) bool { return s.Visible == 0 && s.InFlight == 0 })
}

// groupOrder sends 20 triggers in each of 3 groups, interleaved, and
// receives a batch at a time: each group's triggers arrive in send order,
// and no message of a group arrives while one of it is in flight.
func (s queueSuite) groupOrder(t *testing.T) {
	q, _ := s.newQueue(t, defaultMaxReceives)
	const groups, per = 3, 20
	var ts []crmsync.Trigger
	for seq := range per {
		for g := range groups {
			ts = append(ts, testTrigger(g, seq))
		}
	}
	send(t, q, ts...)

	next := make(map[int]int) // group → next seq expected
	check := func(batch []crmsync.Message, held map[int]bool) {
		t.Helper()
		for _, m := range batch {
			g, seq := groupSeq(t, m)
			if held[g] {
				t.Fatalf("received %d/%d while an earlier message of group %d is in flight", g, seq, g)
			}
			if seq != next[g] {
				t.Fatalf("group %d: received seq %d, want %d (order within a group broken)", g, seq, next[g])
			}
			next[g]++
		}
	}
	got := 0
	deadline := time.Now().Add(patience) // for progress, not for the whole
	for got < groups*per {
		if time.Now().After(deadline) {
			t.Fatalf("received %d of %d messages; none more within %s", got, groups*per, patience)
		}
		first := receive(t, q, 10, longVisibility)
		check(first, nil)
		held := make(map[int]bool)
		for _, m := range first {
			g, _ := groupSeq(t, m)
			held[g] = true
		}
		// While the first batch is in flight its groups are blocked; the
		// others are not.
		second := receive(t, q, 10, longVisibility)
		check(second, held)
		for _, m := range slices.Concat(first, second) {
			if err := q.Delete(ctxFor(t), m.Receipt); err != nil {
				t.Fatalf("Delete(%s): %v", m.Trigger.DeliveryID, err)
			}
			got++
			deadline = time.Now().Add(patience)
		}
	}
	expectNothing(t, q)
}

func (s queueSuite) redelivery(t *testing.T) {
	q, _ := s.newQueue(t, defaultMaxReceives)
	want := testTrigger(1, 1)
	send(t, q, want)
	m1 := receiveOne(t, q, mediumVisibility)
	if msgs := receive(t, q, 10, longVisibility); len(msgs) > 0 {
		// The only message is in flight, so the next receive must not
		// see it.
		t.Fatalf("received %s again within its visibility timeout", msgs[0].ID)
	}
	m2 := receiveOne(t, q, longVisibility) // after the timeout
	if m2.ID != m1.ID {
		t.Errorf("redelivered message id %q, want %q", m2.ID, m1.ID)
	}
	if m1.ReceiveCount != 1 || m2.ReceiveCount != 2 {
		t.Errorf("ReceiveCount = %d then %d, want 1 then 2", m1.ReceiveCount, m2.ReceiveCount)
	}
	if m2.Receipt == m1.Receipt {
		t.Errorf("redelivery reused receipt %q", m1.Receipt)
	}
	sameTrigger(t, m2.Trigger, want)
	if err := q.Delete(ctxFor(t), m2.Receipt); err != nil {
		t.Fatalf("Delete: %v", err)
	}
	expectNothing(t, q)
}

func (s queueSuite) changeVisibility(t *testing.T) {
	q, _ := s.newQueue(t, defaultMaxReceives)
	send(t, q, testTrigger(1, 1))
	m1 := receiveOne(t, q, mediumVisibility)
	if err := q.ChangeVisibility(ctxFor(t), m1.Receipt, longVisibility); err != nil {
		t.Fatalf("ChangeVisibility(extend): %v", err)
	}
	// Past the original timeout, the extended message stays hidden.
	time.Sleep(mediumVisibility + 1500*time.Millisecond)
	if msgs := receive(t, q, 10, longVisibility); len(msgs) > 0 {
		t.Fatalf("received %s although its visibility was extended", msgs[0].ID)
	}
	if err := q.ChangeVisibility(ctxFor(t), m1.Receipt, 0); err != nil {
		t.Fatalf("ChangeVisibility(0): %v", err)
	}
	m2 := receiveOne(t, q, longVisibility)
	if m2.ID != m1.ID || m2.ReceiveCount != 2 {
		t.Errorf("after ChangeVisibility(0): got %s (ReceiveCount %d), want %s (2)", m2.ID, m2.ReceiveCount, m1.ID)
	}
	if err := q.ChangeVisibility(ctxFor(t), m1.Receipt, longVisibility); !errors.Is(err, crmsync.ErrNotFound) {
		t.Errorf("ChangeVisibility(stale receipt) = %v, want ErrNotFound", err)
	}
	if err := q.Delete(ctxFor(t), m2.Receipt); err != nil {
		t.Fatalf("Delete: %v", err)
	}
	if err := q.ChangeVisibility(ctxFor(t), m2.Receipt, longVisibility); !errors.Is(err, crmsync.ErrNotFound) {
		t.Errorf("ChangeVisibility(deleted message) = %v, want ErrNotFound", err)
	}
	expectNothing(t, q)
}

// defaultVisibility: Receive with visibility 0 hides the message for the
// queue's default, not for no time at all.
func (s queueSuite) defaultVisibility(t *testing.T) {
	q, _ := s.newQueue(t, defaultMaxReceives)
	send(t, q, testTrigger(1, 1))
	m1 := receiveOne(t, q, 0)
	if msgs := receive(t, q, 10, longVisibility); len(msgs) > 0 {
		t.Fatalf("received %s again right after a receive with the default visibility", msgs[0].ID)
	}
	if err := q.ChangeVisibility(ctxFor(t), m1.Receipt, 0); err != nil {
		t.Fatalf("ChangeVisibility(0): %v", err)
	}
	m2 := receiveOne(t, q, longVisibility)
	if err := q.Delete(ctxFor(t), m2.Receipt); err != nil {
		t.Fatalf("Delete: %v", err)
	}
	expectNothing(t, q)
}

// staleReceipt: a receipt from before a redelivery must not delete the
// message now held by someone else.
func (s queueSuite) staleReceipt(t *testing.T) {
	q, _ := s.newQueue(t, defaultMaxReceives)
	send(t, q, testTrigger(1, 1))
	m1 := receiveOne(t, q, shortVisibility)
	m2 := receiveOne(t, q, longVisibility)
	err := q.Delete(ctxFor(t), m1.Receipt)
	switch {
	case s.dev.StaleDeleteSucceeds && err != nil:
		t.Errorf("Delete(stale receipt) = %v, want nil (declared deviation StaleDeleteSucceeds)", err)
	case !s.dev.StaleDeleteSucceeds && !errors.Is(err, crmsync.ErrNotFound):
		t.Errorf("Delete(stale receipt) = %v, want ErrNotFound", err)
	}
	// The current holder still holds the message.
	if err := q.ChangeVisibility(ctxFor(t), m2.Receipt, longVisibility); err != nil {
		t.Fatalf("ChangeVisibility(current receipt) after a stale Delete: %v (did the stale receipt delete the message?)", err)
	}
	if err := q.Delete(ctxFor(t), m2.Receipt); err != nil {
		t.Fatalf("Delete(current receipt): %v", err)
	}
	err = q.Delete(ctxFor(t), m2.Receipt)
	switch {
	case s.dev.StaleDeleteSucceeds && err != nil:
		t.Errorf("second Delete = %v, want nil (declared deviation StaleDeleteSucceeds)", err)
	case !s.dev.StaleDeleteSucceeds && !errors.Is(err, crmsync.ErrNotFound):
		t.Errorf("second Delete = %v, want ErrNotFound", err)
	}
	expectNothing(t, q)
}

func (s queueSuite) deadLetter(t *testing.T) {
	const maxReceives = 2
	q, dead := s.newQueue(t, maxReceives)
	want := testTrigger(1, 1)
	send(t, q, want)
	receives := 0
	deadline := time.Now().Add(patience)
	for {
		if time.Now().After(deadline) {
			t.Fatalf("message not dead-lettered within %s (received %d times)", patience, receives)
		}
		for _, m := range receive(t, q, 10, shortVisibility) {
			receives++
			if m.ReceiveCount > maxReceives {
				t.Fatalf("received with ReceiveCount %d > maxReceives %d", m.ReceiveCount, maxReceives)
			}
			sameTrigger(t, m.Trigger, want)
		}
		if msgs := receive(t, dead, 10, longVisibility); len(msgs) > 0 {
			if len(msgs) != 1 {
				t.Fatalf("dead-letter queue holds %d messages, want 1", len(msgs))
			}
			sameTrigger(t, msgs[0].Trigger, want)
			if err := dead.Delete(ctxFor(t), msgs[0].Receipt); err != nil {
				t.Fatalf("Delete from the dead-letter queue: %v", err)
			}
			break
		}
	}
	if receives != maxReceives {
		t.Errorf("received %d times before dead-lettering, want %d", receives, maxReceives)
	}
	expectNothing(t, q)
	expectNothing(t, dead)
	eventuallyStats(t, q, "an empty queue", func(s crmsync.QueueStats) bool { return s.Visible == 0 && s.InFlight == 0 })
}

func (s queueSuite) dedupe(t *testing.T) {
	q, _ := s.newQueue(t, defaultMaxReceives)
	a := testTrigger(1, 1)
	b := testTrigger(1, 2) // same record, another change: not a duplicate
	send(t, q, a, a)       // repeated within one Send
	send(t, q, a)          // and in a later Send
	send(t, q, b)
	got := drain(t, q, 2)
	if got[0].Trigger.DeliveryID != a.DeliveryID || got[1].Trigger.DeliveryID != b.DeliveryID {
		t.Errorf("received %s then %s, want %s then %s", got[0].Trigger.DeliveryID, got[1].Trigger.DeliveryID, a.DeliveryID, b.DeliveryID)
	}
	// Within the window a key stays seen even after its message was
	// deleted.
	send(t, q, a)
	expectNothing(t, q)
}

func (s queueSuite) batching(t *testing.T) {
	q, _ := s.newQueue(t, defaultMaxReceives)
	const n = 25 // three SQS batches
	var ts []crmsync.Trigger
	for i := range n {
		ts = append(ts, testTrigger(i, 0))
	}
	send(t, q, ts...)
	seen := make(map[string]int)
	for _, m := range drain(t, q, n) {
		seen[m.Trigger.DeliveryID]++
	}
	for _, tr := range ts {
		if seen[tr.DeliveryID] != 1 {
			t.Errorf("trigger %s received %d times, want 1", tr.DeliveryID, seen[tr.DeliveryID])
		}
	}
	expectNothing(t, q)
}

func (s queueSuite) invalidTrigger(t *testing.T) {
	q, _ := s.newQueue(t, defaultMaxReceives)
	const n = 12 // two SQS batches, an invalid trigger in each
	var ts []crmsync.Trigger
	for i := range n {
		ts = append(ts, testTrigger(i, 0))
	}
	ts[1].Kind = "bogus"
	ts[11].DedupeKey = ""
	err := q.Send(ctxFor(t), ts)
	var se *crmsync.SendError
	if !errors.As(err, &se) {
		t.Fatalf("Send with invalid triggers = %v, want a *crmsync.SendError", err)
	}
	if len(se.Failed) != 2 || se.Failed[1] == nil || se.Failed[11] == nil {
		t.Fatalf("SendError.Failed = %v, want indexes 1 and 11", se.Failed)
	}
	for i, err := range se.Failed {
		if !errors.Is(err, crmsync.ErrInvalid) {
			t.Errorf("Failed[%d] = %v, want ErrInvalid", i, err)
		}
	}
	if se.Transient() {
		t.Errorf("SendError of invalid triggers says it is transient")
	}
	seen := make(map[string]bool)
	for _, m := range drain(t, q, n-2) {
		seen[m.Trigger.DeliveryID] = true
	}
	for i, tr := range ts {
		if valid := i != 1 && i != 11; seen[tr.DeliveryID] != valid {
			t.Errorf("trigger #%d received = %v, want %v", i, seen[tr.DeliveryID], valid)
		}
	}
	expectNothing(t, q)
}

func (s queueSuite) stats(t *testing.T) {
	q, _ := s.newQueue(t, defaultMaxReceives)
	st, err := q.Stats(ctxFor(t))
	if err != nil {
		t.Fatalf("Stats: %v", err)
	}
	if st != (crmsync.QueueStats{}) {
		t.Errorf("Stats of an empty queue = %+v, want zero", st)
	}
	send(t, q, testTrigger(1, 1), testTrigger(2, 1), testTrigger(3, 1))
	sentBy := time.Now()
	time.Sleep(1500 * time.Millisecond)
	st = eventuallyStats(t, q, "3 visible", func(s crmsync.QueueStats) bool { return s.Visible == 3 && s.InFlight == 0 })
	age := time.Since(sentBy)
	switch {
	case s.dev.OldestAgeUnknown:
		if st.OldestAge >= 0 {
			t.Errorf("OldestAge = %s, want negative (declared deviation OldestAgeUnknown)", st.OldestAge)
		}
	case st.OldestAge < time.Second || st.OldestAge > age+time.Minute:
		t.Errorf("OldestAge = %s, want about %s", st.OldestAge, age)
	}
	var held []crmsync.Message
	deadline := time.Now().Add(patience)
	for len(held) == 0 && time.Now().Before(deadline) {
		held = receive(t, q, 1, longVisibility)
	}
	if len(held) != 1 {
		t.Fatalf("received %d messages with max 1, want 1", len(held))
	}
	eventuallyStats(t, q, "2 visible, 1 in flight", func(s crmsync.QueueStats) bool { return s.Visible == 2 && s.InFlight == 1 })
	if err := q.Delete(ctxFor(t), held[0].Receipt); err != nil {
		t.Fatalf("Delete: %v", err)
	}
	drain(t, q, 2)
	eventuallyStats(t, q, "an empty queue", func(s crmsync.QueueStats) bool { return s == (crmsync.QueueStats{}) })
}

// receiveNoWait: a queue that is a crmsync.Drainer returns at once from an
// empty queue, and returns what is visible — in group order, never a
// message of a group whose earlier message is in flight.
func (s queueSuite) receiveNoWait(t *testing.T) {
	q, _ := s.newQueue(t, defaultMaxReceives)
	d, ok := q.(crmsync.Drainer)
	if !ok {
		t.Skip("not a crmsync.Drainer")
	}
	msgs, err := d.ReceiveNoWait(ctxFor(t), 10, time.Minute)
	if err != nil || len(msgs) != 0 {
		t.Fatalf("ReceiveNoWait on an empty queue = %d messages, %v", len(msgs), err)
	}
	send(t, q, testTrigger(1, 1), testTrigger(1, 2), testTrigger(2, 1))
	var got []crmsync.Message
	for deadline := time.Now().Add(patience); len(got) == 0 && time.Now().Before(deadline); {
		if got, err = d.ReceiveNoWait(ctxFor(t), 10, time.Minute); err != nil {
			t.Fatal(err)
		}
	}
	firsts := map[int]int{}
	for _, m := range got {
		g, seq := groupSeq(t, m)
		if prev, ok := firsts[g]; ok && seq < prev || !ok && seq != 1 {
			t.Fatalf("ReceiveNoWait returned %d/%d out of its group's order", g, seq)
		}
		firsts[g] = seq
	}
	if len(got) == 0 {
		t.Fatal("ReceiveNoWait never returned the messages sent")
	}
	more, err := d.ReceiveNoWait(ctxFor(t), 10, time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range more {
		if g, _ := groupSeq(t, m); firsts[g] != 0 {
			t.Fatalf("ReceiveNoWait returned %s while its group's earlier message is in flight", m.Trigger.DeliveryID)
		}
	}
}
