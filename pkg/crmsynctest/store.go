package crmsynctest

import (
	"encoding/json"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/crmsync/crmsync/pkg/crmsync"
)

// TestStore runs the contract suite of crmsync.Store, like fstest.TestFS:
// every implementation calls it from its own tests. newStore is called once
// per subtest and must return an empty store that its own t.Cleanup closes
// or removes.
//
// The suite checks behaviour only, never timing: races are judged by their
// outcome (exactly one winner, every loser with the documented error, and
// no trace of a loser left behind). The TTL and lease-expiry subtests
// sleep for a few seconds of real time, because they must also hold for
// stores whose clock is the server's.
func TestStore(t *testing.T, newStore func(t *testing.T) crmsync.Store) {
	t.Run("Settings", func(t *testing.T) { testSettings(t, newStore(t)) })
	t.Run("Links", func(t *testing.T) {
		t.Run("CreateAndGet", func(t *testing.T) { testLinkCreateAndGet(t, newStore(t)) })
		t.Run("CreateConflict", func(t *testing.T) { testLinkCreateConflict(t, newStore(t)) })
		t.Run("CreateRace", func(t *testing.T) { testLinkCreateRace(t, newStore(t)) })
		t.Run("Reservation", func(t *testing.T) { testLinkReservation(t, newStore(t)) })
		t.Run("Update", func(t *testing.T) { testLinkUpdate(t, newStore(t)) })
		t.Run("UpdateRace", func(t *testing.T) { testLinkUpdateRace(t, newStore(t)) })
		t.Run("Repoint", func(t *testing.T) { testLinkRepoint(t, newStore(t)) })
		t.Run("Delete", func(t *testing.T) { testLinkDelete(t, newStore(t)) })
		t.Run("List", func(t *testing.T) { testLinkList(t, newStore(t)) })
	})
	t.Run("Seen", func(t *testing.T) {
		t.Run("Basic", func(t *testing.T) { testSeenBasic(t, newStore(t)) })
		t.Run("Race", func(t *testing.T) { testSeenRace(t, newStore(t)) })
		t.Run("Forget", func(t *testing.T) { testSeenForget(t, newStore(t)) })
		t.Run("TTL", func(t *testing.T) { testSeenTTL(t, newStore(t)) })
	})
	t.Run("Cursors", func(t *testing.T) { testCursors(t, newStore(t)) })
	t.Run("SyncErrors", func(t *testing.T) { testSyncErrors(t, newStore(t)) })
	t.Run("SyncErrorsDue", func(t *testing.T) { testSyncErrorsDue(t, newStore(t)) })
	t.Run("Leases", func(t *testing.T) {
		t.Run("Race", func(t *testing.T) { testLeaseRace(t, newStore(t)) })
		t.Run("Holder", func(t *testing.T) { testLeaseHolder(t, newStore(t)) })
		t.Run("Expiry", func(t *testing.T) { testLeaseExpiry(t, newStore(t)) })
	})
	t.Run("APIUsage", func(t *testing.T) { testAPIUsage(t, newStore(t)) })
	t.Run("Ledger", func(t *testing.T) { testLedger(t, newStore(t)) })
}

// t0 is a fixed instant the suite builds values from; stores must keep
// whatever times they are given, however far in the past.
var t0 = time.Date(2026, 1, 2, 3, 4, 5, 600_000_000, time.UTC)

func hsContact(id string) crmsync.RecordRef {
	return crmsync.RecordRef{Side: crmsync.HubSpot, Object: crmsync.HSContact, ID: id}
}

func sfContact(id string) crmsync.RecordRef {
	return crmsync.RecordRef{Side: crmsync.Salesforce, Object: crmsync.SFContact, ID: id}
}

// race runs fn(0) … fn(n-1) on n goroutines released together and returns
// each call's error.
func race(n int, fn func(i int) error) []error {
	errs := make([]error, n)
	start := make(chan struct{})
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			<-start
			errs[i] = fn(i)
		})
	}
	close(start)
	wg.Wait()
	return errs
}

// oneWinner checks that exactly one of errs is nil and that every other
// wraps want, and returns the winner's index (-1 when there is none).
func oneWinner(t *testing.T, errs []error, want error) int {
	t.Helper()
	winner := -1
	var winners, others int
	for i, err := range errs {
		switch {
		case err == nil:
			winners++
			winner = i
		case !errors.Is(err, want):
			others++
			if others <= 3 {
				t.Errorf("call %d: err = %v, want nil or %v", i, err, want)
			}
		}
	}
	if others > 3 {
		t.Errorf("… and %d more calls failed with an unexpected error", others-3)
	}
	if winners != 1 {
		t.Errorf("%d of %d concurrent calls succeeded, want exactly 1", winners, len(errs))
	}
	return winner
}

// sameJSON reports whether got and want have the same JSON encoding, which
// is how the suite compares stored values: it ignores time zones' pointer
// identity and monotonic readings, and nil against empty maps and slices
// the domain types omit.
func sameJSON(t *testing.T, what string, got, want any) {
	t.Helper()
	g, err := json.Marshal(got)
	if err != nil {
		t.Fatalf("%s: encode got: %v", what, err)
	}
	w, err := json.Marshal(want)
	if err != nil {
		t.Fatalf("%s: encode want: %v", what, err)
	}
	if string(g) != string(w) {
		t.Errorf("%s:\n got  %s\n want %s", what, g, w)
	}
}

func wantErr(t *testing.T, what string, err, want error) {
	t.Helper()
	if !errors.Is(err, want) {
		t.Errorf("%s: err = %v, want %v", what, err, want)
	}
}

func must(t *testing.T, what string, err error) {
	t.Helper()
	if err != nil {
		t.Fatalf("%s: %v", what, err)
	}
}

func testSettings(t *testing.T, s crmsync.Store) {
	ctx := t.Context()
	_, err := s.GetSettings(ctx)
	wantErr(t, "GetSettings on an empty store", err, crmsync.ErrNotFound)

	in := crmsync.DefaultSettings()
	in.Mappings = []crmsync.FieldMapping{{HubSpotObject: crmsync.HSContact, SalesforceObject: crmsync.SFContact,
		HubSpotProperty: "email", SalesforceField: "Email", Rule: crmsync.RuleTwoWay}}
	in.UpdatedAt, in.UpdatedBy = t0, "suite"
	v1, err := s.PutSettings(ctx, in)
	must(t, "PutSettings version 0", err)
	if v1.Version != 1 {
		t.Errorf("first PutSettings: version %d, want 1", v1.Version)
	}
	want := in
	want.Version = 1
	sameJSON(t, "PutSettings result", v1, want)
	got, err := s.GetSettings(ctx)
	must(t, "GetSettings", err)
	sameJSON(t, "GetSettings after put", got, want)

	_, err = s.PutSettings(ctx, in)
	wantErr(t, "PutSettings version 0 when version 1 is stored", err, crmsync.ErrVersionConflict)

	next := v1
	next.Objects.Companies = true
	v2, err := s.PutSettings(ctx, next)
	must(t, "PutSettings version 1", err)
	if v2.Version != 2 {
		t.Errorf("second PutSettings: version %d, want 2", v2.Version)
	}
	_, err = s.PutSettings(ctx, v1)
	wantErr(t, "PutSettings with stale version 1", err, crmsync.ErrVersionConflict)
	future := v2
	future.Version = 7
	_, err = s.PutSettings(ctx, future)
	wantErr(t, "PutSettings with a version never stored", err, crmsync.ErrVersionConflict)

	bad := v2
	bad.DefaultRule = "sometimes"
	_, err = s.PutSettings(ctx, bad)
	wantErr(t, "PutSettings with invalid settings", err, crmsync.ErrInvalid)
	got, err = s.GetSettings(ctx)
	must(t, "GetSettings", err)
	sameJSON(t, "settings after refused puts", got, v2)

	errs := race(20, func(i int) error {
		c := v2
		c.UpdatedBy = fmt.Sprintf("writer-%d", i)
		_, err := s.PutSettings(ctx, c)
		return err
	})
	w := oneWinner(t, errs, crmsync.ErrVersionConflict)
	got, err = s.GetSettings(ctx)
	must(t, "GetSettings after race", err)
	if got.Version != 3 || (w >= 0 && got.UpdatedBy != fmt.Sprintf("writer-%d", w)) {
		t.Errorf("after the race: version %d by %q, want 3 by writer-%d", got.Version, got.UpdatedBy, w)
	}
}

func testCursors(t *testing.T, s crmsync.Store) {
	ctx := t.Context()
	_, err := s.GetCursor(ctx, crmsync.HubSpot, crmsync.HSContact)
	wantErr(t, "GetCursor on an empty store", err, crmsync.ErrNotFound)

	c := crmsync.Cursor{Side: crmsync.HubSpot, Object: crmsync.HSContact, Timestamp: t0, LastID: "501", UpdatedAt: t0.Add(time.Second)}
	must(t, "PutCursor", s.PutCursor(ctx, c))
	got, err := s.GetCursor(ctx, crmsync.HubSpot, crmsync.HSContact)
	must(t, "GetCursor", err)
	sameJSON(t, "cursor", got, c)

	c2 := c
	c2.Timestamp, c2.LastID = t0.Add(time.Hour), "777"
	must(t, "PutCursor again", s.PutCursor(ctx, c2))
	got, err = s.GetCursor(ctx, crmsync.HubSpot, crmsync.HSContact)
	must(t, "GetCursor", err)
	sameJSON(t, "replaced cursor", got, c2)

	sf := crmsync.Cursor{Side: crmsync.Salesforce, Object: crmsync.SFLead, Timestamp: t0}
	must(t, "PutCursor Salesforce", s.PutCursor(ctx, sf))
	got, err = s.GetCursor(ctx, crmsync.Salesforce, crmsync.SFLead)
	must(t, "GetCursor Salesforce", err)
	sameJSON(t, "Salesforce cursor", got, sf)
	_, err = s.GetCursor(ctx, crmsync.HubSpot, crmsync.HSCompany)
	wantErr(t, "GetCursor of another object", err, crmsync.ErrNotFound)
	_, err = s.GetCursor(ctx, crmsync.Salesforce, crmsync.SFContact)
	wantErr(t, "GetCursor of another object", err, crmsync.ErrNotFound)
	bad := crmsync.Cursor{Side: crmsync.Salesforce, Object: crmsync.HSContact, Timestamp: t0}
	wantErr(t, "PutCursor of a HubSpot object on the Salesforce side", s.PutCursor(ctx, bad), crmsync.ErrInvalid)
}
