package boltstore_test

import (
	"errors"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/crmsync/crmsync/pkg/boltstore"
	"github.com/crmsync/crmsync/pkg/crmsync"
	"github.com/crmsync/crmsync/pkg/crmsynctest"
)

func open(t testing.TB, opts ...boltstore.Option) *boltstore.Store {
	t.Helper()
	s, err := boltstore.Open(filepath.Join(t.TempDir(), "crmsync.db"), opts...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := s.Close(); err != nil {
			t.Error(err)
		}
	})
	return s
}

func TestStore(t *testing.T) {
	crmsynctest.TestStore(t, func(t *testing.T) crmsync.Store { return open(t) })
}

// clock is a settable clock for TTL tests without sleeping.
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

func TestSeenExpiryWithClock(t *testing.T) {
	c := &clock{now: time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)}
	s := open(t, boltstore.WithClock(c.Now))
	ctx := t.Context()
	for i, want := range []bool{false, true} {
		if got, err := s.Seen(ctx, "k", 25*time.Hour); err != nil || got != want {
			t.Fatalf("Seen #%d = %v, %v; want %v", i+1, got, err, want)
		}
	}
	c.Add(25*time.Hour - time.Nanosecond)
	if got, err := s.Seen(ctx, "k", 25*time.Hour); err != nil || !got {
		t.Fatalf("Seen just before expiry = %v, %v; want true", got, err)
	}
	c.Add(time.Nanosecond)
	if got, err := s.Seen(ctx, "k", 25*time.Hour); err != nil || got {
		t.Fatalf("Seen at expiry = %v, %v; want false", got, err)
	}
	if _, err := s.Seen(ctx, "k", 0); !errors.Is(err, crmsync.ErrInvalid) {
		t.Errorf("Seen with ttl 0: err = %v, want ErrInvalid", err)
	}
}

// TestSeenPrunesExpiredKeys checks that a re-seen key survives the pruning
// of its earlier, expired index entry.
func TestSeenPrunesExpiredKeys(t *testing.T) {
	c := &clock{now: time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)}
	s := open(t, boltstore.WithClock(c.Now))
	ctx := t.Context()
	for _, k := range []string{"a", "b", "c"} {
		if _, err := s.Seen(ctx, k, time.Hour); err != nil {
			t.Fatal(err)
		}
	}
	c.Add(2 * time.Hour)
	if seen, err := s.Seen(ctx, "a", time.Hour); err != nil || seen {
		t.Fatalf("Seen(a) after expiry = %v, %v; want false", seen, err)
	}
	// The next write prunes b, c and a's old entry; a stays seen.
	if _, err := s.Seen(ctx, "d", time.Hour); err != nil {
		t.Fatal(err)
	}
	if seen, err := s.Seen(ctx, "a", time.Hour); err != nil || !seen {
		t.Errorf("Seen(a) after pruning = %v, %v; want true", seen, err)
	}
	if seen, err := s.Seen(ctx, "b", time.Hour); err != nil || seen {
		t.Errorf("Seen(b) after pruning = %v, %v; want false", seen, err)
	}
}

func TestLedgerRetention(t *testing.T) {
	c := &clock{now: time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)}
	s := open(t, boltstore.WithClock(c.Now), boltstore.WithLedgerRetention(time.Hour))
	ctx := t.Context()
	e := crmsync.LedgerEntry{LinkID: "L", At: c.Now(), Result: "ok"}
	if err := s.AppendLedger(ctx, e); err != nil {
		t.Fatal(err)
	}
	c.Add(30 * time.Minute)
	e.At = c.Now()
	if err := s.AppendLedger(ctx, e); err != nil {
		t.Fatal(err)
	}
	count := func() int {
		got, _, err := s.ListLedger(ctx, "L", crmsync.PageRequest{})
		if err != nil {
			t.Fatal(err)
		}
		return len(got)
	}
	if n := count(); n != 2 {
		t.Fatalf("within retention: %d entries, want 2", n)
	}
	c.Add(45 * time.Minute)
	if n := count(); n != 1 {
		t.Errorf("after the first entry's retention: %d entries, want 1", n)
	}
	c.Add(time.Hour)
	if n := count(); n != 0 {
		t.Errorf("after both entries' retention: %d entries, want 0", n)
	}
	if err := s.AppendLedger(ctx, crmsync.LedgerEntry{Result: "ok"}); !errors.Is(err, crmsync.ErrInvalid) {
		t.Errorf("AppendLedger without link id: err = %v, want ErrInvalid", err)
	}
}

func TestReopenKeepsData(t *testing.T) {
	path := filepath.Join(t.TempDir(), "crmsync.db")
	s, err := boltstore.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	l, err := s.CreateLink(t.Context(), crmsync.Link{HubSpot: crmsync.RecordRef{Side: crmsync.HubSpot, Object: crmsync.HSContact, ID: "1"}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := boltstore.Open(path, boltstore.WithTimeout(50*time.Millisecond)); err == nil {
		t.Error("second Open of a file in use succeeded, want a timeout error")
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	s = open2(t, path)
	if got, err := s.GetLink(t.Context(), l.HubSpot); err != nil || got.ID != l.ID {
		t.Errorf("after reopening: GetLink = %v, %v; want link %s", got.ID, err, l.ID)
	}
}

func open2(t *testing.T, path string) *boltstore.Store {
	s, err := boltstore.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func BenchmarkStore(b *testing.B) {
	crmsynctest.BenchmarkStore(b, func(b *testing.B) crmsync.Store { return open(b) })
}
