package crmsynctest

import (
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/crmsync/crmsync/pkg/crmsync"
)

func testSyncErrorsDue(t *testing.T, s crmsync.Store) {
	ctx := t.Context()
	now := t0.Add(24 * time.Hour)
	// Record ids say whether each error is due at now.
	for i, c := range []struct {
		id   string
		next time.Time
	}{
		{"due-past", now.Add(-time.Hour)},
		{"due-at-now", now},
		{"later", now.Add(time.Nanosecond)},
		{"never", time.Time{}},
		{"due-long-ago", t0},
		{"later-far", now.Add(30 * 24 * time.Hour)},
		{"due-a", now.Add(-time.Minute)},
		{"due-b", now.Add(-time.Second)},
	} {
		e := crmsync.SyncError{Record: hsContact(c.id), Category: crmsync.Categories[i%len(crmsync.Categories)],
			Message: "failed", FirstSeen: t0, LastSeen: t0, Attempts: i + 1, NextRetry: c.next}
		must(t, "PutSyncError", s.PutSyncError(ctx, e))
	}
	sf := crmsync.SyncError{Record: sfContact("003due"), Category: crmsync.CategoryDuplicates,
		Message: "duplicate", FirstSeen: t0, LastSeen: t0, Attempts: 3, NextRetry: now.Add(-time.Hour)}
	must(t, "PutSyncError", s.PutSyncError(ctx, sf))

	list := func(what string, at time.Time, limit int) []string {
		t.Helper()
		var keys []string
		var token string
		for pages := 1; ; pages++ {
			page, next, err := s.ListSyncErrorsDue(ctx, at, crmsync.PageRequest{Limit: limit, Token: token})
			must(t, fmt.Sprintf("%s: ListSyncErrorsDue page %d", what, pages), err)
			if len(page) > limit {
				t.Fatalf("%s: page of %d, limit %d", what, len(page), limit)
			}
			for _, e := range page {
				if e.NextRetry.IsZero() || e.NextRetry.After(at) {
					t.Errorf("%s: listed %s, next retry %v, not due at %v", what, e.Record, e.NextRetry, at)
				}
				keys = append(keys, e.Record.Key())
			}
			if next == "" {
				return keys
			}
			if pages > 10 {
				t.Fatalf("%s: more pages than errors", what)
			}
			token = next
		}
	}
	want := []string{hsContact("due-a").Key(), hsContact("due-at-now").Key(), hsContact("due-b").Key(),
		hsContact("due-long-ago").Key(), hsContact("due-past").Key(), sf.Record.Key()}
	for _, limit := range []int{2, 3, 100} {
		if got := list(fmt.Sprintf("in pages of %d", limit), now, limit); !slices.Equal(got, want) {
			t.Errorf("ListSyncErrorsDue(now) in pages of %d:\n got  %v\n want %v (every due error once, by record key)", limit, got, want)
		}
	}
	if got := list("an hour earlier", now.Add(-time.Hour), 100); !slices.Equal(got, []string{hsContact("due-long-ago").Key(), hsContact("due-past").Key(), sf.Record.Key()}) {
		t.Errorf("ListSyncErrorsDue(now-1h) = %v, want due-long-ago, due-past and the Salesforce error", got)
	}

	// A retry that failed again moves the error out; a cleared one is gone.
	e, err := s.GetSyncError(ctx, hsContact("due-a"))
	must(t, "GetSyncError", err)
	e.Attempts++
	e.NextRetry = now.Add(20 * time.Minute)
	must(t, "PutSyncError rescheduling", s.PutSyncError(ctx, e))
	e, err = s.GetSyncError(ctx, hsContact("due-b"))
	must(t, "GetSyncError", err)
	e.NextRetry = time.Time{}
	must(t, "PutSyncError without a retry", s.PutSyncError(ctx, e))
	must(t, "ClearSyncError", s.ClearSyncError(ctx, hsContact("due-past")))
	want = []string{hsContact("due-at-now").Key(), hsContact("due-long-ago").Key(), sf.Record.Key()}
	if got := list("after rescheduling and clearing", now, 2); !slices.Equal(got, want) {
		t.Errorf("ListSyncErrorsDue after rescheduling and clearing:\n got  %v\n want %v", got, want)
	}
	none, next, err := s.ListSyncErrorsDue(ctx, t0.Add(-time.Hour), crmsync.PageRequest{})
	must(t, "ListSyncErrorsDue before any is due", err)
	if len(none) != 0 || next != "" {
		t.Errorf("ListSyncErrorsDue before any is due = %d errors, token %q; want none", len(none), next)
	}
	_, _, err = s.ListSyncErrorsDue(ctx, now, crmsync.PageRequest{Token: "%%% not a token"})
	wantErr(t, "ListSyncErrorsDue with a malformed token", err, crmsync.ErrInvalid)
}

func testLeaseRace(t *testing.T, s crmsync.Store) {
	ctx := t.Context()
	const n = 100
	held := make([]bool, n)
	leases := make([]crmsync.Lease, n)
	errs := race(n, func(i int) error {
		var err error
		leases[i], held[i], err = s.AcquireLease(ctx, "sweep", fmt.Sprintf("owner-%d", i), time.Hour)
		return err
	})
	winner := -1
	var holders int
	for i, err := range errs {
		if err != nil {
			t.Errorf("AcquireLease call %d: %v", i, err)
			continue
		}
		if held[i] {
			holders++
			winner = i
		}
	}
	if holders != 1 {
		t.Fatalf("%d of %d concurrent AcquireLease calls on a free lease acquired it, want exactly 1", holders, n)
	}
	owner := fmt.Sprintf("owner-%d", winner)
	for i := range n {
		if leases[i].Name != "sweep" || (!held[i] && leases[i].Owner != owner) || (held[i] && leases[i].Owner != owner) {
			t.Errorf("call %d: lease %+v (held %v), want lease sweep held by %s", i, leases[i], held[i], owner)
		}
	}
	// Another name is another lease.
	if _, ok, err := s.AcquireLease(ctx, "other", "owner-0", time.Hour); err != nil || !ok {
		t.Errorf("AcquireLease of another name = %v, %v; want acquired", ok, err)
	}
}

func testLeaseHolder(t *testing.T, s crmsync.Store) {
	ctx := t.Context()
	for _, c := range []struct {
		name, owner string
		ttl         time.Duration
	}{{"", "a", time.Minute}, {"l", "", time.Minute}, {"l", "a", 0}, {"l", "a", -time.Second}} {
		_, _, err := s.AcquireLease(ctx, c.name, c.owner, c.ttl)
		wantErr(t, fmt.Sprintf("AcquireLease(%q, %q, %v)", c.name, c.owner, c.ttl), err, crmsync.ErrInvalid)
	}
	acquire := func(what, owner string, want bool) crmsync.Lease {
		t.Helper()
		l, ok, err := s.AcquireLease(ctx, "l", owner, time.Hour)
		must(t, what, err)
		if ok != want {
			t.Errorf("%s: acquired = %v, want %v (lease %+v)", what, ok, want, l)
		}
		return l
	}
	first := acquire("first AcquireLease by a", "a", true)
	if first.Owner != "a" || first.Checkpoint != "" || first.Until.IsZero() {
		t.Errorf("first lease = %+v, want owner a, no checkpoint, an expiry", first)
	}
	if l := acquire("AcquireLease by b while a holds it", "b", false); l.Owner != "a" || !l.Until.Equal(first.Until) {
		t.Errorf("lease seen by b = %+v, want a's, until %v", l, first.Until)
	}
	renewed := acquire("AcquireLease by a again (renewal)", "a", true)
	if renewed.Until.Before(first.Until) {
		t.Errorf("renewal moved the expiry back from %v to %v", first.Until, renewed.Until)
	}
	must(t, "ReleaseLease by b, who does not hold it", s.ReleaseLease(ctx, "l", "b", "b's checkpoint"))
	must(t, "ReleaseLease of a lease never taken", s.ReleaseLease(ctx, "never", "a", "x"))
	acquire("AcquireLease by b after b's release", "b", false)
	must(t, "ReleaseLease by a", s.ReleaseLease(ctx, "l", "a", "links-after-42"))
	got := acquire("AcquireLease by b after a released it", "b", true)
	if got.Owner != "b" || got.Checkpoint != "links-after-42" {
		t.Errorf("lease after a's release = %+v, want owner b and a's checkpoint links-after-42", got)
	}
	acquire("AcquireLease by a while b holds it", "a", false)
	must(t, "ReleaseLease by a, who no longer holds it", s.ReleaseLease(ctx, "l", "a", "stale"))
	if l := acquire("AcquireLease by b again", "b", true); l.Checkpoint != "links-after-42" {
		t.Errorf("checkpoint after a stale release = %q, want links-after-42 kept", l.Checkpoint)
	}
	must(t, "ReleaseLease by b with an empty checkpoint", s.ReleaseLease(ctx, "l", "b", ""))
	if l := acquire("AcquireLease by a after b released", "a", true); l.Checkpoint != "" {
		t.Errorf("checkpoint after release with \"\" = %q, want empty", l.Checkpoint)
	}
}

// testLeaseExpiry waits out short leases in real time: an expired lease is
// free for anyone, and a renewal extends it past its first expiry. Only
// lower bounds on time matter (a slow store makes waits longer, never a
// check wrong): what must still be held is held for an hour.
func testLeaseExpiry(t *testing.T, s crmsync.Store) {
	t.Parallel()
	ctx := t.Context()
	const short = 2 * time.Second
	for _, name := range []string{"short", "renewed"} {
		if _, ok, err := s.AcquireLease(ctx, name, "a", short); err != nil || !ok {
			t.Fatalf("AcquireLease(%s, a) = %v, %v; want acquired", name, ok, err)
		}
	}
	time.Sleep(time.Second)
	if _, ok, err := s.AcquireLease(ctx, "renewed", "a", time.Hour); err != nil || !ok {
		t.Fatalf("renewing AcquireLease(renewed, a) = %v, %v; want acquired", ok, err)
	}
	time.Sleep(short) // both first leases have expired now
	if l, ok, err := s.AcquireLease(ctx, "short", "b", time.Hour); err != nil || !ok || l.Owner != "b" {
		t.Errorf("AcquireLease(short, b) after a's lease expired = %+v, %v, %v; want acquired by b", l, ok, err)
	}
	if l, ok, err := s.AcquireLease(ctx, "renewed", "b", time.Hour); err != nil || ok || l.Owner != "a" {
		t.Errorf("AcquireLease(renewed, b) after the first expiry, within the renewal = %+v, %v, %v; want held by a", l, ok, err)
	}
	if _, ok, err := s.AcquireLease(ctx, "short", "a", time.Hour); err != nil || ok {
		t.Errorf("AcquireLease(short, a) while b holds it = %v, %v; want not acquired", ok, err)
	}
}
