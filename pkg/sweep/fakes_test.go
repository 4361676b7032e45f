package sweep_test

import (
	"cmp"
	"context"
	"fmt"
	"path/filepath"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/crmsync/crmsync/pkg/boltstore"
	"github.com/crmsync/crmsync/pkg/crmsync"
	"github.com/crmsync/crmsync/pkg/crmsynctest"
	"github.com/crmsync/crmsync/pkg/engine"
	"github.com/crmsync/crmsync/pkg/localqueue"
	"github.com/crmsync/crmsync/pkg/sweep"
)

// t0 is the fake clock's start.
var t0 = time.Date(2026, 5, 4, 12, 0, 0, 0, time.UTC)

// clock is a settable clock shared by the store, the queue, the CRMs and
// the sweeper.
type clock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *clock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.now }
func (c *clock) Add(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

// source is a fake change source over a fake CRM: it lists the CRM's
// records in (LastModified, id) order after the cursor, as the real
// sources do. onChange, when set, runs before each record is handed over.
type source struct {
	crm      *crmsynctest.CRM
	onChange func(sweep.Change)
}

func (s *source) Changes(ctx context.Context, o crmsync.ObjectType, from crmsync.Cursor, fn func(sweep.Change) error) error {
	recs := s.crm.Records(o)
	slices.SortStableFunc(recs, func(a, b crmsync.Record) int {
		return cmp.Or(a.LastModified.Compare(b.LastModified), cmp.Compare(a.Ref.ID, b.Ref.ID))
	})
	for _, r := range recs {
		if r.LastModified.Before(from.Timestamp) || r.LastModified.Equal(from.Timestamp) && r.Ref.ID <= from.LastID {
			continue
		}
		c := sweep.Change{Ref: r.Ref, Modified: r.LastModified}
		if s.onChange != nil {
			s.onChange(c)
		}
		if err := fn(c); err != nil {
			return fmt.Errorf("fake source: %w", err)
		}
	}
	return nil
}

// deletingSource is a source that also lists deletions, keeping them for
// window before now.
type deletingSource struct {
	*source
	now    func() time.Time
	window time.Duration

	mu      sync.Mutex
	deleted []sweep.Change
}

func (s *deletingSource) Delete(ref crmsync.RecordRef, at time.Time) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.deleted = append(s.deleted, sweep.Change{Ref: ref, Modified: at})
}

func (s *deletingSource) Deleted(ctx context.Context, o crmsync.ObjectType, from, until time.Time, fn func(sweep.Change) error) (time.Time, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	start := from
	if earliest := s.now().Add(-s.window); start.Before(earliest) {
		start = earliest
	}
	for _, d := range s.deleted {
		if d.Ref.Object == o && !d.Modified.Before(start) && !d.Modified.After(until) {
			if err := fn(d); err != nil {
				return start, err
			}
		}
	}
	return start, nil
}

// recorder is the sweeper's queue: it records every trigger of every
// successful Send and passes them to a local queue. fail, when set, may
// refuse a Send.
type recorder struct {
	q    *localqueue.Queue
	mu   sync.Mutex
	sent []crmsync.Trigger
	fail func(ts []crmsync.Trigger) error
}

func (r *recorder) Send(ctx context.Context, ts []crmsync.Trigger) error {
	r.mu.Lock()
	if r.fail != nil {
		if err := r.fail(ts); err != nil {
			r.mu.Unlock()
			return err
		}
	}
	r.sent = append(r.sent, ts...)
	r.mu.Unlock()
	return r.q.Send(ctx, ts)
}

// take returns and forgets what was sent so far.
func (r *recorder) take() []crmsync.Trigger {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := r.sent
	r.sent = nil
	return out
}

type harness struct {
	clk    *clock
	store  crmsync.Store
	bolt   *boltstore.Store // the store, unless newHarnessOn chose another
	queue  *localqueue.Queue
	rec    *recorder
	hs, sf *crmsynctest.CRM
	hsSrc  *source
	sfSrc  *deletingSource
	sw     *sweep.Sweeper
}

// newHarness returns a harness on a bbolt store.
func newHarness(tb testing.TB) *harness {
	tb.Helper()
	return newHarnessOn(tb, func(now func() time.Time) crmsync.Store {
		s, err := boltstore.Open(filepath.Join(tb.TempDir(), "crmsync.db"), boltstore.WithClock(now))
		if err != nil {
			tb.Fatal(err)
		}
		tb.Cleanup(func() { s.Close() })
		return s
	})
}

// newHarnessOn returns a harness on the store newStore returns for the
// harness's clock.
func newHarnessOn(tb testing.TB, newStore func(now func() time.Time) crmsync.Store) *harness {
	tb.Helper()
	h := &harness{clk: &clock{now: t0}}
	h.store = newStore(h.clk.Now)
	h.bolt, _ = h.store.(*boltstore.Store)
	h.queue = localqueue.New(localqueue.Options{Clock: h.clk.Now, ReceiveWait: -1})
	h.rec = &recorder{q: h.queue}
	h.hs = crmsynctest.NewCRM(crmsync.HubSpot, h.clk.Now)
	h.sf = crmsynctest.NewCRM(crmsync.Salesforce, h.clk.Now)
	h.hsSrc = &source{crm: h.hs}
	h.sfSrc = &deletingSource{source: &source{crm: h.sf}, now: h.clk.Now, window: 15 * 24 * time.Hour}
	h.sw = &sweep.Sweeper{
		Store:   h.store,
		Queue:   h.rec,
		Sources: map[crmsync.Side]sweep.Source{crmsync.HubSpot: h.hsSrc, crmsync.Salesforce: h.sfSrc},
		Drift:   &engine.Engine{Store: h.store, HubSpot: h.hs, Salesforce: h.sf, Now: h.clk.Now, Logger: discardLogger},
		Now:     h.clk.Now,
		Logger:  discardLogger,
	}
	return h
}

func (h *harness) run(tb testing.TB) sweep.Report {
	tb.Helper()
	rep, err := h.sw.Run(tb.Context())
	if err != nil {
		tb.Fatalf("Run: %v (report %+v)", err, rep)
	}
	return rep
}

func hsContact(id string) crmsync.RecordRef {
	return crmsync.RecordRef{Side: crmsync.HubSpot, Object: crmsync.HSContact, ID: id}
}

func sfContact(id string) crmsync.RecordRef {
	return crmsync.RecordRef{Side: crmsync.Salesforce, Object: crmsync.SFContact, ID: id}
}

func put(c *crmsynctest.CRM, ref crmsync.RecordRef, at time.Time, props map[string]string) {
	c.Put(crmsync.Record{Ref: ref, LastModified: at, Properties: props})
}

// counts returns how many triggers each record got, by "kind record".
func counts(ts []crmsync.Trigger) map[string]int {
	out := map[string]int{}
	for _, t := range ts {
		out[string(t.Kind)+" "+t.Record.Key()]++
	}
	return out
}

// wantSent checks that exactly the given records got one trigger of kind
// each and nothing else was sent.
func wantSent(tb testing.TB, what string, got []crmsync.Trigger, kind crmsync.TriggerKind, refs ...crmsync.RecordRef) {
	tb.Helper()
	want := map[string]int{}
	for _, r := range refs {
		want[string(kind)+" "+r.Key()]++
	}
	c := counts(got)
	for k, n := range c {
		if want[k] != n {
			tb.Errorf("%s: %q sent %d times, want %d", what, k, n, want[k])
		}
	}
	for k, n := range want {
		if c[k] == 0 {
			tb.Errorf("%s: %q sent 0 times, want %d", what, k, n)
		}
	}
	for _, t := range got {
		if err := t.Validate(); err != nil {
			tb.Errorf("%s: invalid trigger: %v", what, err)
		}
	}
}
