package crmsynctest

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/crmsync/crmsync/pkg/crmsync"
)

// newLink returns an unstored active link between HubSpot contact hsID and
// Salesforce contact sfID ("" leaves that side empty).
func newLink(hsID, sfID string) crmsync.Link {
	l := crmsync.Link{
		Shadow: map[string]crmsync.FieldShadow{
			"email=Email": crmsync.NewFieldShadow("ada@example.com", t0),
		},
		HubSpotSeen:    t0,
		SalesforceSeen: t0.Add(time.Minute),
		Status:         crmsync.LinkActive,
		CreatedAt:      t0,
		UpdatedAt:      t0,
	}
	if hsID != "" {
		l.HubSpot = hsContact(hsID)
	}
	if sfID != "" {
		l.Salesforce = sfContact(sfID)
	}
	if hsID == "" || sfID == "" {
		l.Status = crmsync.LinkPending
	}
	return l
}

// linkedTo checks that ref resolves to want (compared whole).
func linkedTo(t *testing.T, s crmsync.Store, ref crmsync.RecordRef, want crmsync.Link) {
	t.Helper()
	got, err := s.GetLink(t.Context(), ref)
	if err != nil {
		t.Errorf("GetLink(%s): %v, want link %s", ref, err, want.ID)
		return
	}
	sameJSON(t, fmt.Sprintf("GetLink(%s)", ref), got, want)
}

// notLinked checks that ref is free.
func notLinked(t *testing.T, s crmsync.Store, ref crmsync.RecordRef) {
	t.Helper()
	l, err := s.GetLink(t.Context(), ref)
	if err == nil {
		t.Errorf("GetLink(%s) = link %s (version %d), want ErrNotFound", ref, l.ID, l.Version)
		return
	}
	wantErr(t, fmt.Sprintf("GetLink(%s)", ref), err, crmsync.ErrNotFound)
}

// storedAs checks that the link with want's id is stored exactly as want.
func storedAs(t *testing.T, s crmsync.Store, want crmsync.Link) {
	t.Helper()
	got, err := s.GetLinkByID(t.Context(), want.ID)
	if err != nil {
		t.Errorf("GetLinkByID(%s): %v", want.ID, err)
		return
	}
	sameJSON(t, fmt.Sprintf("GetLinkByID(%s)", want.ID), got, want)
}

// allLinks pages through every link with page size limit.
func allLinks(t *testing.T, s crmsync.Store, limit int) (links []crmsync.Link, pages []int) {
	t.Helper()
	var token string
	for range 10_000 {
		page, next, err := s.ListLinks(t.Context(), crmsync.PageRequest{Limit: limit, Token: token})
		if err != nil {
			t.Fatalf("ListLinks page %d: %v", len(pages)+1, err)
		}
		if len(page) > limit {
			t.Fatalf("ListLinks page %d: %d links, more than the limit %d", len(pages)+1, len(page), limit)
		}
		links = append(links, page...)
		pages = append(pages, len(page))
		if next == "" {
			return links, pages
		}
		token = next
	}
	t.Fatalf("ListLinks: no last page after 10000 pages")
	return nil, nil
}

func testLinkCreateAndGet(t *testing.T, s crmsync.Store) {
	ctx := t.Context()
	in := newLink("101", "003A00000000101")
	in.Version = 7 // ignored: a created link is version 1
	got, err := s.CreateLink(ctx, in)
	must(t, "CreateLink", err)
	if got.ID == "" || got.Version != 1 {
		t.Fatalf("CreateLink: id %q version %d, want an id and version 1", got.ID, got.Version)
	}
	want := in
	want.ID, want.Version = got.ID, 1
	sameJSON(t, "CreateLink result", got, want)
	linkedTo(t, s, in.HubSpot, want)
	linkedTo(t, s, in.Salesforce, want)
	storedAs(t, s, want)

	notLinked(t, s, hsContact("102"))
	notLinked(t, s, sfContact("003A00000000102"))
	_, err = s.GetLinkByID(ctx, "no-such-link")
	wantErr(t, "GetLinkByID of an unknown id", err, crmsync.ErrNotFound)

	// A HubSpot id is unique per object type only: company 101 is not
	// contact 101.
	company := crmsync.Link{
		HubSpot:    crmsync.RecordRef{Side: crmsync.HubSpot, Object: crmsync.HSCompany, ID: "101"},
		Salesforce: crmsync.RecordRef{Side: crmsync.Salesforce, Object: crmsync.SFAccount, ID: "001A00000000101"},
		Status:     crmsync.LinkActive,
	}
	c, err := s.CreateLink(ctx, company)
	must(t, "CreateLink of company 101 beside contact 101", err)
	if c.ID == got.ID {
		t.Errorf("two creates were assigned the same id %q", c.ID)
	}
	linkedTo(t, s, in.HubSpot, want)

	explicit := newLink("103", "003A00000000103")
	explicit.ID = "link-explicit"
	e, err := s.CreateLink(ctx, explicit)
	must(t, "CreateLink with an explicit id", err)
	if e.ID != "link-explicit" {
		t.Errorf("CreateLink with id %q: stored as %q", explicit.ID, e.ID)
	}
	again := newLink("104", "003A00000000104")
	again.ID = "link-explicit"
	_, err = s.CreateLink(ctx, again)
	wantErr(t, "CreateLink with an id already in use", err, crmsync.ErrConflict)
	notLinked(t, s, again.HubSpot)
	notLinked(t, s, again.Salesforce)

	_, err = s.CreateLink(ctx, crmsync.Link{Status: crmsync.LinkPending})
	wantErr(t, "CreateLink with both sides empty", err, crmsync.ErrInvalid)
	wrongSide := newLink("105", "")
	wrongSide.HubSpot.Side = crmsync.Salesforce
	_, err = s.CreateLink(ctx, wrongSide)
	wantErr(t, "CreateLink with a HubSpot object on the Salesforce side", err, crmsync.ErrInvalid)
}

func testLinkCreateConflict(t *testing.T, s crmsync.Store) {
	ctx := t.Context()
	a, err := s.CreateLink(ctx, newLink("201", "003A00000000201"))
	must(t, "CreateLink", err)

	for _, l := range []crmsync.Link{
		newLink("201", "003A00000000202"), // HubSpot side taken
		newLink("202", "003A00000000201"), // Salesforce side taken
		newLink("201", ""),                // reservation of a taken id
		newLink("", "003A00000000201"),
	} {
		_, err := s.CreateLink(ctx, l)
		wantErr(t, fmt.Sprintf("CreateLink(%s, %s) when one is linked", l.HubSpot, l.Salesforce), err, crmsync.ErrConflict)
		for _, r := range l.Refs() {
			if r != a.HubSpot && r != a.Salesforce {
				notLinked(t, s, r)
			}
		}
	}
	storedAs(t, s, a)
	linkedTo(t, s, a.HubSpot, a)
	linkedTo(t, s, a.Salesforce, a)
}

// testLinkCreateRace is the guard against duplicates: 100 concurrent
// creates for one id, each with a different id on the other side. Exactly
// one wins, and no losing id is left claimed.
func testLinkCreateRace(t *testing.T, s crmsync.Store) {
	const n = 100
	for _, side := range crmsync.Sides {
		t.Run(string(side), func(t *testing.T) {
			ctx := t.Context()
			shared := "300"
			other := func(i int) string { return fmt.Sprintf("3%02d%s", i, side) }
			build := func(i int) crmsync.Link {
				if side == crmsync.HubSpot {
					return newLink(shared+"-hs", "003R"+other(i))
				}
				return newLink("hs"+other(i), "003R"+shared)
			}
			links := make([]crmsync.Link, n)
			errs := race(n, func(i int) error {
				var err error
				links[i], err = s.CreateLink(ctx, build(i))
				return err
			})
			w := oneWinner(t, errs, crmsync.ErrConflict)
			if w < 0 {
				return
			}
			winner := links[w]
			if winner.Version != 1 {
				t.Errorf("winner: version %d, want 1", winner.Version)
			}
			for _, r := range build(w).Refs() {
				linkedTo(t, s, r, winner)
			}
			for i := range n {
				if i == w {
					continue
				}
				loser := build(i)
				if side == crmsync.HubSpot {
					notLinked(t, s, loser.Salesforce)
				} else {
					notLinked(t, s, loser.HubSpot)
				}
			}
		})
	}
	all, _ := allLinks(t, s, 100)
	if len(all) != 2 {
		t.Errorf("after both races: %d links stored, want 2", len(all))
	}
}

func testLinkReservation(t *testing.T, s crmsync.Store) {
	ctx := t.Context()
	r, err := s.CreateLink(ctx, newLink("401", ""))
	must(t, "CreateLink reservation", err)
	if !r.Salesforce.IsZero() || r.Version != 1 {
		t.Fatalf("reservation: %+v, want an empty Salesforce side and version 1", r)
	}
	linkedTo(t, s, r.HubSpot, r)

	filled := r
	filled.Salesforce = sfContact("003F00000000401")
	filled.Status = crmsync.LinkActive
	u, err := s.UpdateLink(ctx, filled)
	must(t, "UpdateLink filling the Salesforce side", err)
	want := filled
	want.Version = 2
	sameJSON(t, "UpdateLink result", u, want)
	linkedTo(t, s, filled.Salesforce, want)
	linkedTo(t, s, filled.HubSpot, want)

	// Twenty reservations race to claim one Salesforce id: the duplicate
	// guard holds for updates as it does for creates.
	const n = 20
	target := sfContact("003F00000000499")
	res := make([]crmsync.Link, n)
	for i := range res {
		res[i], err = s.CreateLink(ctx, newLink(fmt.Sprintf("41%02d", i), ""))
		must(t, "CreateLink reservation", err)
	}
	errs := race(n, func(i int) error {
		l := res[i]
		l.Salesforce = target
		_, err := s.UpdateLink(ctx, l)
		return err
	})
	w := oneWinner(t, errs, crmsync.ErrConflict)
	if w < 0 {
		return
	}
	got, err := s.GetLink(ctx, target)
	must(t, "GetLink of the raced id", err)
	if got.ID != res[w].ID || got.Version != 2 {
		t.Errorf("raced id belongs to %s version %d, want the winner %s version 2", got.ID, got.Version, res[w].ID)
	}
	for i, l := range res {
		if i != w {
			storedAs(t, s, l) // unchanged, still version 1 with an empty side
		}
	}
}

func testLinkUpdate(t *testing.T, s crmsync.Store) {
	ctx := t.Context()
	a, err := s.CreateLink(ctx, newLink("501", "003A00000000501"))
	must(t, "CreateLink", err)

	next := a
	next.Shadow = map[string]crmsync.FieldShadow{
		"email=Email":         crmsync.NewFieldShadow("ada@example.org", t0.Add(time.Hour)),
		"firstname=FirstName": crmsync.NewFieldShadow("Ada", t0.Add(time.Hour)),
	}
	next.HubSpotSeen = t0.Add(time.Hour)
	next.UpdatedAt = t0.Add(time.Hour)
	v2, err := s.UpdateLink(ctx, next)
	must(t, "UpdateLink", err)
	want := next
	want.Version = 2
	sameJSON(t, "UpdateLink result", v2, want)
	storedAs(t, s, want)
	linkedTo(t, s, a.HubSpot, want)

	stale := a
	stale.Status = crmsync.LinkDeletedHubSpot
	_, err = s.UpdateLink(ctx, stale)
	wantErr(t, "UpdateLink with stale version 1", err, crmsync.ErrVersionConflict)
	ahead := v2
	ahead.Version = 9
	_, err = s.UpdateLink(ctx, ahead)
	wantErr(t, "UpdateLink with a version never stored", err, crmsync.ErrVersionConflict)
	storedAs(t, s, want)

	unknown := newLink("502", "003A00000000502")
	unknown.ID, unknown.Version = "no-such-link", 1
	_, err = s.UpdateLink(ctx, unknown)
	wantErr(t, "UpdateLink of an unknown link", err, crmsync.ErrNotFound)
	notLinked(t, s, unknown.HubSpot)

	empty := v2
	empty.HubSpot, empty.Salesforce = crmsync.RecordRef{}, crmsync.RecordRef{}
	_, err = s.UpdateLink(ctx, empty)
	wantErr(t, "UpdateLink with both sides empty", err, crmsync.ErrInvalid)
	storedAs(t, s, want)
}

func testLinkUpdateRace(t *testing.T, s crmsync.Store) {
	ctx := t.Context()
	a, err := s.CreateLink(ctx, newLink("601", "003A00000000601"))
	must(t, "CreateLink", err)
	const n = 50
	errs := race(n, func(i int) error {
		l := a
		l.Shadow = map[string]crmsync.FieldShadow{"email=Email": crmsync.NewFieldShadow(fmt.Sprintf("writer-%d@example.com", i), t0)}
		_, err := s.UpdateLink(ctx, l)
		return err
	})
	w := oneWinner(t, errs, crmsync.ErrVersionConflict)
	got, err := s.GetLinkByID(ctx, a.ID)
	must(t, "GetLinkByID", err)
	if got.Version != 2 {
		t.Errorf("after %d concurrent updates of version 1: version %d, want 2", n, got.Version)
	}
	if w >= 0 && got.Shadow["email=Email"].Value != fmt.Sprintf("writer-%d@example.com", w) {
		t.Errorf("stored shadow %q is not the winner's (writer %d)", got.Shadow["email=Email"].Value, w)
	}
}

// testLinkRepoint covers merges: a link moves from one record to another,
// releasing the old id and claiming the new one atomically.
func testLinkRepoint(t *testing.T, s crmsync.Store) {
	ctx := t.Context()
	a, err := s.CreateLink(ctx, newLink("701", "003A00000000701"))
	must(t, "CreateLink", err)

	moved := a
	moved.HubSpot = hsContact("702") // 701 was merged into 702
	a2, err := s.UpdateLink(ctx, moved)
	must(t, "UpdateLink re-pointing the HubSpot side", err)
	notLinked(t, s, hsContact("701"))
	linkedTo(t, s, hsContact("702"), a2)
	linkedTo(t, s, a.Salesforce, a2)

	moved = a2
	moved.Salesforce = sfContact("003A00000000702")
	a3, err := s.UpdateLink(ctx, moved)
	must(t, "UpdateLink re-pointing the Salesforce side", err)
	if a3.Version != 3 {
		t.Errorf("after two re-points: version %d, want 3", a3.Version)
	}
	notLinked(t, s, sfContact("003A00000000701"))
	linkedTo(t, s, sfContact("003A00000000702"), a3)

	b, err := s.CreateLink(ctx, newLink("703", "003A00000000703"))
	must(t, "CreateLink b", err)
	onto := a3
	onto.HubSpot = b.HubSpot
	_, err = s.UpdateLink(ctx, onto)
	wantErr(t, "UpdateLink re-pointing onto an id linked elsewhere", err, crmsync.ErrConflict)
	both := a3
	both.HubSpot, both.Salesforce = hsContact("704"), b.Salesforce
	_, err = s.UpdateLink(ctx, both)
	wantErr(t, "UpdateLink re-pointing both sides, one onto an id linked elsewhere", err, crmsync.ErrConflict)
	// Nothing changed: a keeps its ids and version, b keeps its ids, and
	// the free id of the refused update was not claimed.
	storedAs(t, s, a3)
	storedAs(t, s, b)
	linkedTo(t, s, a3.HubSpot, a3)
	linkedTo(t, s, a3.Salesforce, a3)
	linkedTo(t, s, b.HubSpot, b)
	linkedTo(t, s, b.Salesforce, b)
	notLinked(t, s, hsContact("704"))

	// Emptying a side releases its id too.
	cleared := a3
	cleared.Salesforce = crmsync.RecordRef{}
	cleared.Status = crmsync.LinkPending
	a4, err := s.UpdateLink(ctx, cleared)
	must(t, "UpdateLink emptying the Salesforce side", err)
	notLinked(t, s, sfContact("003A00000000702"))
	linkedTo(t, s, a4.HubSpot, a4)

	// Released ids can be linked again.
	_, err = s.CreateLink(ctx, newLink("701", "003A00000000701"))
	must(t, "CreateLink with ids released by re-pointing", err)
	_, err = s.CreateLink(ctx, newLink("", "003A00000000702"))
	must(t, "CreateLink with an id released by emptying a side", err)
}

func testLinkDelete(t *testing.T, s crmsync.Store) {
	ctx := t.Context()
	a, err := s.CreateLink(ctx, newLink("801", "003A00000000801"))
	must(t, "CreateLink", err)
	wantErr(t, "DeleteLink with a wrong version", s.DeleteLink(ctx, a.ID, 2), crmsync.ErrVersionConflict)
	storedAs(t, s, a)
	linkedTo(t, s, a.HubSpot, a)

	must(t, "DeleteLink", s.DeleteLink(ctx, a.ID, 1))
	_, err = s.GetLinkByID(ctx, a.ID)
	wantErr(t, "GetLinkByID after delete", err, crmsync.ErrNotFound)
	notLinked(t, s, a.HubSpot)
	notLinked(t, s, a.Salesforce)
	wantErr(t, "DeleteLink again", s.DeleteLink(ctx, a.ID, 1), crmsync.ErrNotFound)
	wantErr(t, "DeleteLink of an unknown id", s.DeleteLink(ctx, "no-such-link", 1), crmsync.ErrNotFound)

	_, err = s.CreateLink(ctx, newLink("801", "003A00000000801"))
	must(t, "CreateLink with the ids of a deleted link", err)
}

func testLinkList(t *testing.T, s crmsync.Store) {
	ctx := t.Context()
	page, next, err := s.ListLinks(ctx, crmsync.PageRequest{})
	must(t, "ListLinks on an empty store", err)
	if len(page) != 0 || next != "" {
		t.Errorf("ListLinks on an empty store: %d links, token %q; want none and no token", len(page), next)
	}

	const n = 250
	created := make(map[string]crmsync.Link, n)
	var mu sync.Mutex
	work := make(chan int)
	var wg sync.WaitGroup
	var firstErr error
	for range 10 {
		wg.Go(func() {
			for i := range work {
				l, err := s.CreateLink(context.WithoutCancel(ctx), newLink(fmt.Sprintf("9%03d", i), fmt.Sprintf("003L%011d", i)))
				mu.Lock()
				if err != nil && firstErr == nil {
					firstErr = err
				}
				created[l.ID] = l
				mu.Unlock()
			}
		})
	}
	for i := range n {
		work <- i
	}
	close(work)
	wg.Wait()
	must(t, "CreateLink", firstErr)

	links, pages := allLinks(t, s, 100)
	if fmt.Sprint(pages) != "[100 100 50]" {
		t.Errorf("%d links in pages of 100: page sizes %v, want [100 100 50]", n, pages)
	}
	seen := map[string]int{}
	for _, l := range links {
		seen[l.ID]++
		if want, ok := created[l.ID]; !ok {
			t.Errorf("ListLinks returned unknown link %s", l.ID)
		} else {
			sameJSON(t, "listed link "+l.ID, l, want)
		}
	}
	for id := range created {
		if seen[id] != 1 {
			t.Errorf("link %s listed %d times, want once", id, seen[id])
		}
	}

	again, _ := allLinks(t, s, 7)
	if len(again) != len(links) {
		t.Fatalf("listing in pages of 7: %d links, want %d", len(again), len(links))
	}
	for i := range again {
		if again[i].ID != links[i].ID {
			t.Fatalf("order is not stable: link %d is %s in pages of 7, %s in pages of 100", i, again[i].ID, links[i].ID)
		}
	}

	page, next, err = s.ListLinks(ctx, crmsync.PageRequest{})
	must(t, "ListLinks with the default page size", err)
	if len(page) != crmsync.DefaultPageSize || next == "" {
		t.Errorf("ListLinks with Limit 0: %d links, token %q; want %d and a token", len(page), next, crmsync.DefaultPageSize)
	}
	_, _, err = s.ListLinks(ctx, crmsync.PageRequest{Token: "%%% not a token"})
	wantErr(t, "ListLinks with a malformed token", err, crmsync.ErrInvalid)
}
