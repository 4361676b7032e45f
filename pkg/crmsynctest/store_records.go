package crmsynctest

import (
	"fmt"
	"maps"
	"slices"
	"testing"
	"time"

	"github.com/crmsync/crmsync/pkg/crmsync"
)

func testSeenBasic(t *testing.T, s crmsync.Store) {
	ctx := t.Context()
	seen, err := s.Seen(ctx, "delivery-1", time.Hour)
	must(t, "Seen", err)
	if seen {
		t.Errorf("first Seen(delivery-1) = true, want false")
	}
	seen, err = s.Seen(ctx, "delivery-1", time.Hour)
	must(t, "Seen", err)
	if !seen {
		t.Errorf("second Seen(delivery-1) = false, want true")
	}
	seen, err = s.Seen(ctx, "delivery-2", time.Hour)
	must(t, "Seen", err)
	if seen {
		t.Errorf("first Seen(delivery-2) after delivery-1 = true, want false")
	}
	for _, ttl := range []time.Duration{0, -time.Second} {
		_, err := s.Seen(ctx, "delivery-3", ttl)
		wantErr(t, fmt.Sprintf("Seen with ttl %v", ttl), err, crmsync.ErrInvalid)
	}
	seen, err = s.Seen(ctx, "delivery-3", time.Hour)
	must(t, "Seen", err)
	if seen {
		t.Errorf("Seen(delivery-3) after refused calls = true, want false")
	}
}

func testSeenRace(t *testing.T, s crmsync.Store) {
	ctx := t.Context()
	const n = 100
	results := make([]bool, n)
	errs := race(n, func(i int) error {
		var err error
		results[i], err = s.Seen(ctx, "raced-delivery", time.Hour)
		return err
	})
	var fresh int
	for i, err := range errs {
		if err != nil {
			t.Errorf("Seen call %d: %v", i, err)
		} else if !results[i] {
			fresh++
		}
	}
	if fresh != 1 {
		t.Errorf("%d of %d concurrent Seen calls on one new key got false, want exactly 1", fresh, n)
	}
}

func testSeenForget(t *testing.T, s crmsync.Store) {
	ctx := t.Context()
	if seen, err := s.Seen(ctx, "failed-delivery", time.Hour); err != nil || seen {
		t.Fatalf("first Seen = %v, %v; want false, nil", seen, err)
	}
	must(t, "Forget", s.Forget(ctx, "failed-delivery"))
	if seen, err := s.Seen(ctx, "failed-delivery", time.Hour); err != nil || seen {
		t.Errorf("Seen after Forget = %v, %v; want false, nil", seen, err)
	}
	if seen, err := s.Seen(ctx, "failed-delivery", time.Hour); err != nil || !seen {
		t.Errorf("Seen after Forget and Seen = %v, %v; want true, nil", seen, err)
	}
	must(t, "Forget of a key never seen", s.Forget(ctx, "never-seen"))
}

// testSeenTTL waits out a short TTL in real time. Stores may keep expired
// keys (DynamoDB deletes them up to days late) but must not count them.
func testSeenTTL(t *testing.T, s crmsync.Store) {
	t.Parallel()
	ctx := t.Context()
	const ttl = 2 * time.Second
	if seen, err := s.Seen(ctx, "short-lived", ttl); err != nil || seen {
		t.Fatalf("first Seen = %v, %v; want false, nil", seen, err)
	}
	if seen, err := s.Seen(ctx, "short-lived", ttl); err != nil || !seen {
		t.Fatalf("Seen within the TTL = %v, %v; want true, nil", seen, err)
	}
	if seen, err := s.Seen(ctx, "long-lived", time.Hour); err != nil || seen {
		t.Fatalf("first Seen(long-lived) = %v, %v; want false, nil", seen, err)
	}
	time.Sleep(ttl + 1500*time.Millisecond)
	if seen, err := s.Seen(ctx, "short-lived", ttl); err != nil || seen {
		t.Errorf("Seen after the TTL = %v, %v; want false (expired), nil", seen, err)
	}
	if seen, err := s.Seen(ctx, "short-lived", ttl); err != nil || !seen {
		t.Errorf("Seen again after re-recording = %v, %v; want true, nil", seen, err)
	}
	if seen, err := s.Seen(ctx, "long-lived", time.Hour); err != nil || !seen {
		t.Errorf("Seen(long-lived) = %v, %v; want true, nil", seen, err)
	}
}

func testSyncErrors(t *testing.T, s crmsync.Store) {
	ctx := t.Context()
	_, err := s.GetSyncError(ctx, hsContact("1"))
	wantErr(t, "GetSyncError on an empty store", err, crmsync.ErrNotFound)
	counts, err := s.CountSyncErrors(ctx)
	must(t, "CountSyncErrors on an empty store", err)
	if len(counts) != 0 {
		t.Errorf("CountSyncErrors on an empty store = %v, want empty", counts)
	}

	bad := []crmsync.SyncError{
		{Record: hsContact("1"), Category: "Nope", Message: "x"},
		{Record: hsContact("1"), Category: crmsync.CategoryDuplicates, Reason: crmsync.ReasonNoEmail, Message: "x"},
		{Record: crmsync.RecordRef{Side: crmsync.HubSpot, Object: crmsync.SFLead, ID: "1"}, Category: crmsync.CategoryOther, Message: "x"},
	}
	for _, e := range bad {
		wantErr(t, fmt.Sprintf("PutSyncError(%s, %q, %q)", e.Record, e.Category, e.Reason), s.PutSyncError(ctx, e), crmsync.ErrInvalid)
	}
	_, err = s.GetSyncError(ctx, hsContact("1"))
	wantErr(t, "GetSyncError after refused puts", err, crmsync.ErrNotFound)

	// 23 errors over every category, on both sides, put out of key order.
	const n = 23
	stored := map[string]crmsync.SyncError{}
	for i := range n {
		j := (i * 7) % n
		var ref crmsync.RecordRef
		if j%2 == 0 {
			ref = hsContact(fmt.Sprintf("e%02d", j))
		} else {
			ref = crmsync.RecordRef{Side: crmsync.Salesforce, Object: crmsync.SFLead, ID: fmt.Sprintf("00Q%02d", j)}
		}
		e := crmsync.SyncError{Record: ref, LinkID: fmt.Sprintf("link-%d", j),
			Category: crmsync.Categories[j%len(crmsync.Categories)], Code: "FIELD_CUSTOM_VALIDATION_EXCEPTION",
			Message: fmt.Sprintf("error %d", j), Hint: "fix it", FirstSeen: t0, LastSeen: t0.Add(time.Duration(j) * time.Minute),
			Attempts: j + 1, NextRetry: t0.Add(time.Hour)}
		if j == 4 {
			e = crmsync.NotEligible(ref, crmsync.ReasonNoEmail, "contact has no email", t0)
		}
		must(t, "PutSyncError", s.PutSyncError(ctx, e))
		stored[ref.Key()] = e
	}
	check := func(what string) {
		t.Helper()
		for _, e := range stored {
			got, err := s.GetSyncError(ctx, e.Record)
			if err != nil {
				t.Errorf("%s: GetSyncError(%s): %v", what, e.Record, err)
				continue
			}
			sameJSON(t, what+": GetSyncError", got, e)
		}
		want := map[crmsync.Category]int{}
		for _, e := range stored {
			want[e.Category]++
		}
		counts, err := s.CountSyncErrors(ctx)
		must(t, what+": CountSyncErrors", err)
		if !maps.Equal(counts, want) {
			t.Errorf("%s: CountSyncErrors = %v, want %v", what, counts, want)
		}
		for _, c := range append([]crmsync.Category{""}, crmsync.Categories...) {
			var wantKeys []string
			for k, e := range stored {
				if c == "" || e.Category == c {
					wantKeys = append(wantKeys, k)
				}
			}
			slices.Sort(wantKeys)
			var gotKeys []string
			var token string
			for pages := 1; ; pages++ {
				page, next, err := s.ListSyncErrors(ctx, c, crmsync.PageRequest{Limit: 4, Token: token})
				must(t, fmt.Sprintf("%s: ListSyncErrors(%q) page %d", what, c, pages), err)
				if len(page) > 4 {
					t.Fatalf("%s: ListSyncErrors(%q): page of %d, limit 4", what, c, len(page))
				}
				for _, e := range page {
					gotKeys = append(gotKeys, e.Record.Key())
					if e.Category != c && c != "" {
						t.Errorf("%s: ListSyncErrors(%q) returned an error of category %q", what, c, e.Category)
					}
					sameJSON(t, what+": listed sync error", e, stored[e.Record.Key()])
				}
				if next == "" {
					break
				}
				if pages > n {
					t.Fatalf("%s: ListSyncErrors(%q): more pages than errors", what, c)
				}
				token = next
			}
			if !slices.Equal(gotKeys, wantKeys) {
				t.Errorf("%s: ListSyncErrors(%q) in pages of 4:\n got  %v\n want %v (every error once, by record key)", what, c, gotKeys, wantKeys)
			}
		}
	}
	check("after 23 puts")

	// Replacing moves an error to its new category; clearing removes it and
	// a category left empty disappears from the counts.
	moved := stored[hsContact("e00").Key()]
	moved.Category, moved.Code, moved.Attempts = crmsync.CategoryPermissions, "INSUFFICIENT_ACCESS", 2
	must(t, "PutSyncError replacing", s.PutSyncError(ctx, moved))
	stored[moved.Record.Key()] = moved
	for k, e := range stored {
		if e.Category == crmsync.CategoryCustomCode {
			must(t, "ClearSyncError", s.ClearSyncError(ctx, e.Record))
			delete(stored, k)
		}
	}
	check("after replacing and clearing")
	for _, e := range stored {
		if e.Category == crmsync.CategoryCustomCode {
			t.Fatalf("test bug: %s still in the cleared category", e.Record)
		}
	}
	must(t, "ClearSyncError of a record without error", s.ClearSyncError(ctx, hsContact("no-error")))
	_, _, err = s.ListSyncErrors(ctx, "Nope", crmsync.PageRequest{})
	wantErr(t, "ListSyncErrors of an unknown category", err, crmsync.ErrInvalid)
	for _, c := range []crmsync.Category{"", crmsync.CategoryDuplicates} {
		_, _, err = s.ListSyncErrors(ctx, c, crmsync.PageRequest{Token: "%%% not a token"})
		wantErr(t, fmt.Sprintf("ListSyncErrors(%q) with a malformed token", c), err, crmsync.ErrInvalid)
	}
}

func testAPIUsage(t *testing.T, s crmsync.Store) {
	ctx := t.Context()
	now := time.Now().UTC()
	for _, a := range []struct {
		side crmsync.Side
		at   time.Time
		n    int
	}{
		{crmsync.Salesforce, now.Add(-25 * time.Hour), 1000}, // out of the window
		{crmsync.Salesforce, now.Add(-23 * time.Hour), 5},
		{crmsync.Salesforce, now.Add(-time.Hour), 7},
		{crmsync.Salesforce, now.Add(-time.Hour), 3}, // same bucket
		{crmsync.HubSpot, now.Add(-2 * time.Hour), 40},
	} {
		must(t, "AddAPIUsage", s.AddAPIUsage(ctx, a.side, a.at, a.n))
	}
	wantErr(t, "AddAPIUsage with a negative count", s.AddAPIUsage(ctx, crmsync.HubSpot, now, -5), crmsync.ErrInvalid)
	wantErr(t, "AddAPIUsage of an unknown side", s.AddAPIUsage(ctx, "zendesk", now, 5), crmsync.ErrInvalid)
	must(t, "AddAPIUsage of nothing", s.AddAPIUsage(ctx, crmsync.HubSpot, now, 0))
	errs := race(20, func(int) error { return s.AddAPIUsage(ctx, crmsync.HubSpot, now, 1) })
	for _, err := range errs {
		must(t, "concurrent AddAPIUsage", err)
	}
	for _, c := range []struct {
		side crmsync.Side
		now  time.Time
		want int64
		why  string
	}{
		{crmsync.Salesforce, now, 15, "25 h old usage falls out"},
		{crmsync.HubSpot, now, 60, "20 concurrent adds all count"},
		{crmsync.Salesforce, now.Add(2 * time.Hour), 10, "the window rolls: 23 h old usage falls out 2 h later"},
		{crmsync.Salesforce, now.Add(30 * time.Hour), 0, "everything falls out"},
		{crmsync.Salesforce, now.Add(-24*time.Hour - 30*time.Minute), 1000, "a window in the past"},
	} {
		got, err := s.APIUsage(ctx, c.side, c.now)
		must(t, "APIUsage", err)
		if got != c.want {
			t.Errorf("APIUsage(%s, now%+v) = %d, want %d (%s)", c.side, c.now.Sub(now), got, c.want, c.why)
		}
	}
}

func testLedger(t *testing.T, s crmsync.Store) {
	ctx := t.Context()
	entry := func(link string, i int) crmsync.LedgerEntry {
		ref := hsContact(fmt.Sprintf("%s-%d", link, i))
		return crmsync.LedgerEntry{
			LinkID: link,
			At:     t0.Add(time.Duration(i) * time.Minute),
			Trigger: crmsync.Trigger{Record: ref, Kind: crmsync.KindPropertyChanged, Properties: []string{"email"},
				OccurredAt: t0, DedupeKey: fmt.Sprintf("dk-%s-%d", link, i)},
			Target:  sfContact("003A00000000001"),
			Changes: []crmsync.FieldChange{{Field: "Email", Rule: string(crmsync.RuleTwoWay), Before: "a@x", After: "b@x"}},
			Call:    "PATCH /sobjects/Contact/003A00000000001",
			Result:  "ok",
			Note:    fmt.Sprintf("entry %d", i),
		}
	}
	const n = 25
	appended := map[string]crmsync.LedgerEntry{} // by note
	for i := range n {
		e := entry("L1", i)
		if i == 3 {
			e.ID = "explicit-id"
		}
		if i == 5 {
			e.At = entry("L1", 4).At // two entries at one instant are both kept
		}
		must(t, "AppendLedger", s.AppendLedger(ctx, e))
		appended[e.Note] = e
	}
	for i := range 3 {
		must(t, "AppendLedger", s.AppendLedger(ctx, entry("L2", i)))
	}

	var got []crmsync.LedgerEntry
	var sizes []int
	var token string
	for range n + 1 {
		page, next, err := s.ListLedger(ctx, "L1", crmsync.PageRequest{Limit: 10, Token: token})
		must(t, "ListLedger", err)
		got = append(got, page...)
		sizes = append(sizes, len(page))
		if next == "" {
			break
		}
		token = next
	}
	if fmt.Sprint(sizes) != "[10 10 5]" {
		t.Errorf("ListLedger of %d entries in pages of 10: page sizes %v, want [10 10 5]", n, sizes)
	}
	ids := map[string]bool{}
	for i, e := range got {
		if i > 0 && e.At.After(got[i-1].At) {
			t.Errorf("ListLedger: entry %d (%s) is newer than entry %d (%s); want newest first", i, e.At, i-1, got[i-1].At)
		}
		if e.ID == "" || ids[e.ID] {
			t.Errorf("ListLedger: entry %q has an empty or repeated id %q", e.Note, e.ID)
		}
		ids[e.ID] = true
		want, ok := appended[e.Note]
		if !ok {
			t.Errorf("ListLedger: unknown entry %q", e.Note)
			continue
		}
		delete(appended, e.Note)
		if want.ID == "" {
			want.ID = e.ID
		}
		sameJSON(t, "listed ledger entry", e, want)
	}
	for note := range appended {
		t.Errorf("ListLedger: entry %q missing", note)
	}

	l2, next, err := s.ListLedger(ctx, "L2", crmsync.PageRequest{})
	must(t, "ListLedger L2", err)
	if len(l2) != 3 || next != "" || l2[0].Note != "entry 2" || l2[2].Note != "entry 0" {
		t.Errorf("ListLedger(L2) = %d entries (first %v), token %q; want entries 2, 1, 0 and no token", len(l2), l2, next)
	}
	noLink := entry("", 1)
	wantErr(t, "AppendLedger without a link id", s.AppendLedger(ctx, noLink), crmsync.ErrInvalid)
	_, _, err = s.ListLedger(ctx, "L1", crmsync.PageRequest{Token: "%%% not a token"})
	wantErr(t, "ListLedger with a malformed token", err, crmsync.ErrInvalid)
	none, next, err := s.ListLedger(ctx, "L3", crmsync.PageRequest{})
	must(t, "ListLedger of a link without entries", err)
	if len(none) != 0 || next != "" {
		t.Errorf("ListLedger(L3) = %d entries, token %q; want none", len(none), next)
	}
}
