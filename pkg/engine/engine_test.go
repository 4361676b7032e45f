package engine

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/crmsync/crmsync/pkg/boltstore"
	"github.com/crmsync/crmsync/pkg/crmsync"
	"github.com/crmsync/crmsync/pkg/crmsynctest"
	"github.com/crmsync/crmsync/pkg/mapping"
)

// clock is a fake clock that advances a millisecond per reading, so every
// modification has its own time.
type clock struct{ n atomic.Int64 }

func (c *clock) advance(d time.Duration) { c.n.Add(int64(d / time.Millisecond)) }

func (c *clock) now() time.Time {
	return time.Date(2026, 11, 1, 9, 0, 0, 0, time.UTC).Add(time.Duration(c.n.Add(1)) * time.Millisecond)
}

type harness struct {
	t      *testing.T
	clock  *clock
	store  crmsync.Store
	hs, sf *crmsynctest.CRM
	eng    *Engine
	seq    atomic.Int64
}

func newHarness(t *testing.T, settings func(*crmsync.Settings)) *harness {
	t.Helper()
	c := &clock{}
	st, err := boltstore.Open(filepath.Join(t.TempDir(), "state.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	h := &harness{t: t, clock: c, store: st, hs: crmsynctest.NewCRM(crmsync.HubSpot, c.now), sf: crmsynctest.NewCRM(crmsync.Salesforce, c.now)}
	h.eng = &Engine{Store: st, HubSpot: h.hs, Salesforce: h.sf, Now: c.now,
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil))}
	if settings != nil {
		s := crmsync.DefaultSettings()
		s.Mappings = mapping.DefaultMappings(s.DefaultRule)
		settings(&s)
		if _, err := st.PutSettings(context.Background(), s); err != nil {
			t.Fatal(err)
		}
	}
	return h
}

func (h *harness) trigger(ref crmsync.RecordRef, kind crmsync.TriggerKind) crmsync.Trigger {
	n := h.seq.Add(1)
	return crmsync.Trigger{Record: ref, Kind: kind, OccurredAt: time.Now(), DedupeKey: crmsync.DedupeKeyOf(ref.Key(), fmt.Sprint(n))}
}

func (h *harness) resolve(ref crmsync.RecordRef) Outcome {
	h.t.Helper()
	out, err := h.eng.Resolve(context.Background(), h.trigger(ref, crmsync.KindPropertyChanged))
	if err != nil {
		h.t.Fatalf("Resolve(%s): %v", ref, err)
	}
	return out
}

func hsContact(id string, props map[string]string) crmsync.Record {
	return crmsync.Record{Ref: crmsync.RecordRef{Side: crmsync.HubSpot, Object: crmsync.HSContact, ID: id}, Properties: props}
}

func sfRecord(o crmsync.ObjectType, id string, props map[string]string) crmsync.Record {
	return crmsync.Record{Ref: crmsync.RecordRef{Side: crmsync.Salesforce, Object: o, ID: id}, Properties: props}
}

func TestNewHubSpotContactBecomesLeadThenEchoesAreQuiet(t *testing.T) {
	h := newHarness(t, nil)
	c := h.hs.Put(hsContact("101", map[string]string{"email": "ada@example.com", "firstname": "Ada", "lastname": "Lovelace", "company": "Engines Ltd"}))

	out := h.resolve(c.Ref)
	if out.Decision != DecisionSynced || len(out.Writes) != 1 || out.Writes[0].Op != "create" {
		t.Fatalf("first sync: %+v", out)
	}
	leads := h.sf.Records(crmsync.SFLead)
	if len(leads) != 1 {
		t.Fatalf("%d leads, want 1", len(leads))
	}
	lead := leads[0]
	for k, want := range map[string]string{"Email": "ada@example.com", "FirstName": "Ada", "LastName": "Lovelace", "Company": "Engines Ltd"} {
		if lead.Properties[k] != want {
			t.Errorf("lead %s = %q, want %q", k, lead.Properties[k], want)
		}
	}
	link, err := h.store.GetLink(context.Background(), lead.Ref)
	if err != nil || link.HubSpot != c.Ref || link.Status != crmsync.LinkActive {
		t.Fatalf("link = %+v, %v", link, err)
	}

	// The Salesforce outbound message for our own create, and a HubSpot
	// re-delivery with a new id: both are echoes, nothing is written.
	writes := len(h.sf.Writes()) + len(h.hs.Writes())
	for _, ref := range []crmsync.RecordRef{lead.Ref, c.Ref, lead.Ref} {
		if out := h.resolve(ref); out.Decision != DecisionNoChange || len(out.Writes) != 0 {
			t.Errorf("echo from %s: %+v", ref, out)
		}
	}
	if got := len(h.sf.Writes()) + len(h.hs.Writes()); got != writes {
		t.Errorf("echoes wrote %d times", got-writes)
	}
	entries, _, err := h.store.ListLedger(context.Background(), link.ID, crmsync.PageRequest{})
	if err != nil || len(entries) != 4 {
		t.Fatalf("ledger: %d entries, %v", len(entries), err)
	}
	if last := entries[len(entries)-1]; last.Result != "created" || len(last.Changes) < 4 {
		t.Errorf("oldest ledger entry = %+v", last)
	}
}

func TestRepeatedDeliveryIsDropped(t *testing.T) {
	h := newHarness(t, nil)
	c := h.hs.Put(hsContact("1", map[string]string{"email": "a@example.com", "lastname": "A"}))
	tr := h.trigger(c.Ref, crmsync.KindCreated)
	if out, err := h.eng.Resolve(context.Background(), tr); err != nil || out.Decision != DecisionSynced {
		t.Fatalf("first: %+v %v", out, err)
	}
	if out, err := h.eng.Resolve(context.Background(), tr); err != nil || out.Decision != DecisionDuplicate {
		t.Fatalf("repeat: %+v %v", out, err)
	}
}

func TestFieldRulesOnLinkedPair(t *testing.T) {
	h := newHarness(t, nil) // default rule: prefer Salesforce unless blank
	c := h.hs.Put(hsContact("1", map[string]string{"email": "a@example.com", "lastname": "A", "phone": "111"}))
	h.resolve(c.Ref)
	lead := h.sf.Records(crmsync.SFLead)[0]

	// HubSpot changes a field Salesforce has a value for: refused by the
	// rule, and recorded as a refusal (not as "no change": the sides differ).
	h.hs.Edit(c.Ref, map[string]string{"phone": "222"})
	out := h.resolve(c.Ref)
	if out.Decision != DecisionRefused || !strings.Contains(out.Reason, "phone=Phone") {
		t.Fatalf("prefer SF, HubSpot edit: %+v", out)
	}
	entries, _, _ := h.store.ListLedger(context.Background(), out.LinkID, crmsync.PageRequest{Limit: 1})
	if len(entries) != 1 || entries[0].Result != string(DecisionRefused) || len(entries[0].Changes) != 1 ||
		entries[0].Changes[0].Refused == "" || entries[0].Changes[0].After != "222" || entries[0].Changes[0].Before != "111" {
		t.Errorf("ledger of the refusal: %+v", entries)
	}
	if got, _ := h.sf.Record(lead.Ref); got.Properties["Phone"] != "111" {
		t.Errorf("Salesforce phone overwritten: %q", got.Properties["Phone"])
	}
	// Salesforce changes it: goes to HubSpot.
	h.sf.Edit(lead.Ref, map[string]string{"Phone": "333"})
	if out := h.resolve(lead.Ref); out.Decision != DecisionSynced {
		t.Fatalf("SF edit: %+v", out)
	}
	if got, _ := h.hs.Record(c.Ref); got.Properties["phone"] != "333" {
		t.Errorf("HubSpot phone = %q, want 333", got.Properties["phone"])
	}
	// Salesforce clears it: the HubSpot value flows back (SF is blank).
	h.sf.Edit(lead.Ref, map[string]string{"Phone": ""})
	h.resolve(lead.Ref)
	if got, _ := h.sf.Record(lead.Ref); got.Properties["Phone"] != "333" {
		t.Errorf("after clearing in SF, SF phone = %q, want the HubSpot value 333", got.Properties["Phone"])
	}
}

func TestTwoWayConflictRecordedInLedger(t *testing.T) {
	h := newHarness(t, func(s *crmsync.Settings) {
		for i := range s.Mappings {
			s.Mappings[i].Rule = crmsync.RuleTwoWay
		}
	})
	c := h.hs.Put(hsContact("1", map[string]string{"email": "a@example.com", "lastname": "A", "jobtitle": "Dev"}))
	out := h.resolve(c.Ref)
	lead := h.sf.Records(crmsync.SFLead)[0]
	h.sf.Edit(lead.Ref, map[string]string{"Title": "CTO"})
	h.hs.Edit(c.Ref, map[string]string{"jobtitle": "CEO"}) // later
	out = h.resolve(lead.Ref)
	if out.Conflicts != 1 || out.Decision != DecisionSynced {
		t.Fatalf("conflict: %+v", out)
	}
	if got, _ := h.sf.Record(lead.Ref); got.Properties["Title"] != "CEO" {
		t.Errorf("later HubSpot change should win, SF Title = %q", got.Properties["Title"])
	}
	entries, _, _ := h.store.ListLedger(context.Background(), out.LinkID, crmsync.PageRequest{Limit: 1})
	if len(entries) != 1 || len(entries[0].Changes) != 1 || entries[0].Changes[0].Conflict == "" {
		t.Errorf("ledger does not record the conflict: %+v", entries)
	}
}

func TestMatchByEmailPicksMostRecentAndCreatesNothing(t *testing.T) {
	h := newHarness(t, nil)
	h.sf.Put(sfRecord(crmsync.SFContact, "003A", map[string]string{"Email": "b@example.com", "LastName": "Old"}))
	lead := h.sf.Put(sfRecord(crmsync.SFLead, "00QB", map[string]string{"Email": "B@example.com", "LastName": "New"}))
	c := h.hs.Put(hsContact("7", map[string]string{"email": "b@example.com"}))
	out := h.resolve(c.Ref)
	for _, w := range out.Writes {
		if w.Op == "create" {
			t.Fatalf("created %s although a record with the email exists", w.Ref)
		}
	}
	link, err := h.store.GetLink(context.Background(), c.Ref)
	if err != nil || link.Salesforce != lead.Ref {
		t.Fatalf("linked to %+v (%v), want the most recent %s", link.Salesforce, err, lead.Ref)
	}
	if got, _ := h.hs.Record(c.Ref); got.Properties["lastname"] != "New" {
		t.Errorf("HubSpot lastname = %q, want Salesforce's New", got.Properties["lastname"])
	}
}

func TestEmailOwnedByAnotherLinkIsFlaggedDuplicate(t *testing.T) {
	h := newHarness(t, nil)
	a := h.hs.Put(hsContact("1", map[string]string{"email": "dup@example.com", "lastname": "A"}))
	h.resolve(a.Ref)
	b := h.hs.Put(hsContact("2", map[string]string{"email": "dup@example.com", "lastname": "B"}))
	out := h.resolve(b.Ref)
	if out.Decision != DecisionNotEligible {
		t.Fatalf("second contact with the email: %+v", out)
	}
	se, err := h.store.GetSyncError(context.Background(), b.Ref)
	if err != nil || se.Reason != crmsync.ReasonFlaggedDuplicate || se.Category != crmsync.CategoryDuplicates {
		t.Fatalf("sync error = %+v, %v", se, err)
	}
	if n := len(h.sf.Records(crmsync.SFLead)); n != 1 {
		t.Errorf("%d leads, want 1", n)
	}
}

func TestEligibilityRefusalsAreVisible(t *testing.T) {
	ctx := context.Background()
	t.Run("no email", func(t *testing.T) {
		h := newHarness(t, nil)
		c := h.hs.Put(hsContact("1", map[string]string{"lastname": "NoMail"}))
		if out := h.resolve(c.Ref); out.Decision != DecisionNotEligible {
			t.Fatalf("%+v", out)
		}
		se, err := h.store.GetSyncError(ctx, c.Ref)
		if err != nil || se.Reason != crmsync.ReasonNoEmail || se.Hint == "" || se.NextRetry.IsZero() {
			t.Fatalf("sync error %+v %v", se, err)
		}
		// The same refusal again before its retry is due is not an attempt.
		h.resolve(c.Ref)
		if again, _ := h.store.GetSyncError(ctx, c.Ref); again.Attempts != 1 || !again.NextRetry.Equal(se.NextRetry) {
			t.Errorf("before the retry is due: attempts %d next %s, want 1 and %s", again.Attempts, again.NextRetry, se.NextRetry)
		}
		h.clock.advance(21 * time.Minute) // past the 20-minute retry interval
		h.resolve(c.Ref)
		if se, _ := h.store.GetSyncError(ctx, c.Ref); se.Attempts != 2 {
			t.Errorf("attempts = %d, want 2", se.Attempts)
		}
		// Fixed: syncs and the error is cleared.
		h.hs.Edit(c.Ref, map[string]string{"email": "fixed@example.com"})
		if out := h.resolve(c.Ref); out.Decision != DecisionSynced {
			t.Fatalf("after fix: %+v", out)
		}
		if _, err := h.store.GetSyncError(ctx, c.Ref); !errors.Is(err, crmsync.ErrNotFound) {
			t.Errorf("sync error not cleared: %v", err)
		}
	})
	t.Run("inclusion list", func(t *testing.T) {
		h := newHarness(t, func(s *crmsync.Settings) { s.InclusionListID = "42" })
		c := h.hs.Put(hsContact("5", map[string]string{"email": "x@example.com", "lastname": "X"}))
		if out := h.resolve(c.Ref); out.Decision != DecisionNotEligible {
			t.Fatalf("%+v", out)
		}
		if se, _ := h.store.GetSyncError(ctx, c.Ref); se.Reason != crmsync.ReasonNotInInclusionList {
			t.Fatalf("reason %q", se.Reason)
		}
		h.hs.AddToList("42", "5")
		if out := h.resolve(c.Ref); out.Decision != DecisionSynced {
			t.Fatalf("after joining the list: %+v", out)
		}
	})
	t.Run("leads do nothing", func(t *testing.T) {
		h := newHarness(t, func(s *crmsync.Settings) { s.LeadsToHubSpot = crmsync.InboundNothing })
		l := h.sf.Put(sfRecord(crmsync.SFLead, "00Q1", map[string]string{"Email": "l@example.com"}))
		if out := h.resolve(l.Ref); out.Decision != DecisionSkipped {
			t.Fatalf("%+v", out)
		}
		if len(h.hs.Records(crmsync.HSContact)) != 0 {
			t.Error("a HubSpot contact was created")
		}
		entries, _, _ := h.store.ListLedger(ctx, LedgerKey(l.Ref), crmsync.PageRequest{})
		if len(entries) != 1 {
			t.Errorf("the refusal is not in the ledger: %+v", entries)
		}
	})
	t.Run("companies off", func(t *testing.T) {
		h := newHarness(t, nil)
		co := h.hs.Put(crmsync.Record{Ref: crmsync.RecordRef{Side: crmsync.HubSpot, Object: crmsync.HSCompany, ID: "9"}, Properties: map[string]string{"name": "X"}})
		if out := h.resolve(co.Ref); out.Decision != DecisionSkipped {
			t.Fatalf("%+v", out)
		}
	})
}

func TestSalesforceContactCreatesHubSpotContact(t *testing.T) {
	h := newHarness(t, nil)
	sc := h.sf.Put(sfRecord(crmsync.SFContact, "003X", map[string]string{"Email": "s@example.com", "FirstName": "Sam", "LastName": "S", "MailingCity": "Oslo"}))
	if out := h.resolve(sc.Ref); out.Decision != DecisionSynced {
		t.Fatalf("%+v", out)
	}
	cs := h.hs.Records(crmsync.HSContact)
	if len(cs) != 1 || cs[0].Properties["city"] != "Oslo" || cs[0].Properties["firstname"] != "Sam" {
		t.Fatalf("HubSpot contacts = %+v", cs)
	}
}

// Two triggers for one new HubSpot contact at the same time create one
// Salesforce record; the loser is told to retry and then finds the link.
func TestConcurrentTriggersCreateOneRecord(t *testing.T) {
	h := newHarness(t, nil)
	c := h.hs.Put(hsContact("1", map[string]string{"email": "race@example.com", "lastname": "R"}))
	const n = 8
	var wg sync.WaitGroup
	var retries atomic.Int64
	for i := 0; i < n; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			tr := h.trigger(c.Ref, crmsync.KindCreated)
			for {
				_, err := h.eng.Resolve(context.Background(), tr)
				if err == nil {
					return
				}
				if !crmsync.IsTransient(err) {
					t.Errorf("non-transient error: %v", err)
					return
				}
				retries.Add(1)
				time.Sleep(time.Millisecond)
			}
		}()
	}
	wg.Wait()
	if got := len(h.sf.Records(crmsync.SFLead)) + len(h.sf.Records(crmsync.SFContact)); got != 1 {
		t.Fatalf("%d Salesforce records created, want 1", got)
	}
}

type vendorErr struct {
	code      string
	cat       crmsync.Category
	transient bool
	budget    bool
}

func (e vendorErr) Error() string              { return "vendor said " + e.code }
func (e vendorErr) Code() string               { return e.code }
func (e vendorErr) Category() crmsync.Category { return e.cat }
func (e vendorErr) Transient() bool            { return e.transient }
func (e vendorErr) Is(target error) bool       { return target == crmsync.ErrBudget && e.budget }

func TestTerminalFailureBecomesSyncError(t *testing.T) {
	ctx := context.Background()
	h := newHarness(t, nil)
	h.sf.Fail = func(op string, ref crmsync.RecordRef) error {
		if op == "create" {
			return vendorErr{code: "DUPLICATES_DETECTED", cat: crmsync.CategoryDuplicates}
		}
		return nil
	}
	c := h.hs.Put(hsContact("1", map[string]string{"email": "d@example.com", "lastname": "D"}))
	out := h.resolve(c.Ref)
	if out.Decision != DecisionFailed {
		t.Fatalf("%+v", out)
	}
	se, err := h.store.GetSyncError(ctx, c.Ref)
	if err != nil || se.Code != "DUPLICATES_DETECTED" || se.Category != crmsync.CategoryDuplicates || se.Hint == "" {
		t.Fatalf("sync error = %+v, %v", se, err)
	}
	if _, err := h.store.GetLink(ctx, c.Ref); !errors.Is(err, crmsync.ErrNotFound) {
		t.Errorf("reservation not released: %v", err)
	}
	// Fixed on the Salesforce side: the retry creates the lead.
	h.sf.Fail = nil
	if out := h.resolve(c.Ref); out.Decision != DecisionSynced {
		t.Fatalf("retry: %+v", out)
	}
}

func TestTransientFailureIsRetriedNotDropped(t *testing.T) {
	h := newHarness(t, nil)
	c := h.hs.Put(hsContact("1", map[string]string{"email": "t@example.com", "lastname": "T"}))
	h.sf.Fail = func(op string, ref crmsync.RecordRef) error {
		return vendorErr{code: "UNABLE_TO_LOCK_ROW", cat: crmsync.CategoryOther, transient: true}
	}
	tr := h.trigger(c.Ref, crmsync.KindCreated)
	if _, err := h.eng.Resolve(context.Background(), tr); err == nil || !crmsync.IsTransient(err) {
		t.Fatalf("want a transient error, got %v", err)
	}
	if _, err := h.store.GetSyncError(context.Background(), c.Ref); !errors.Is(err, crmsync.ErrNotFound) {
		t.Errorf("a transient failure was recorded as a sync error: %v", err)
	}
	h.sf.Fail = nil
	// The same delivery again (a queue redelivery) is not a duplicate.
	out, err := h.eng.Resolve(context.Background(), tr)
	if err != nil || out.Decision != DecisionSynced {
		t.Fatalf("redelivery: %+v %v", out, err)
	}
}

func TestDeletedSourceMarksLink(t *testing.T) {
	h := newHarness(t, nil)
	c := h.hs.Put(hsContact("1", map[string]string{"email": "g@example.com", "lastname": "G"}))
	h.resolve(c.Ref)
	r, _ := h.hs.Record(c.Ref)
	r.Archived = true
	h.hs.Put(r)
	if out := h.resolve(c.Ref); out.Decision != DecisionSourceGone {
		t.Fatalf("%+v", out)
	}
	link, _ := h.store.GetLink(context.Background(), c.Ref)
	if link.Status != crmsync.LinkDeletedHubSpot {
		t.Errorf("link status %s", link.Status)
	}
	if n := len(h.sf.Records(crmsync.SFLead)); n != 1 {
		t.Errorf("the Salesforce lead was touched: %d leads", n)
	}
}

func TestActivitiesOffAreSkippedWithReason(t *testing.T) {
	h := newHarness(t, nil)
	out := h.resolve(crmsync.RecordRef{Side: crmsync.HubSpot, Object: crmsync.HSCall, ID: "1"})
	if out.Decision != DecisionSkipped || out.Reason == "" {
		t.Fatalf("%+v", out)
	}
}

func BenchmarkResolveEcho(b *testing.B) {
	t := &testing.T{}
	_ = t
	c := &clock{}
	st, err := boltstore.Open(filepath.Join(b.TempDir(), "s.db"))
	if err != nil {
		b.Fatal(err)
	}
	defer st.Close()
	hs, sf := crmsynctest.NewCRM(crmsync.HubSpot, c.now), crmsynctest.NewCRM(crmsync.Salesforce, c.now)
	eng := &Engine{Store: st, HubSpot: hs, Salesforce: sf, Now: c.now, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))}
	rec := hs.Put(hsContact("1", map[string]string{"email": "b@example.com", "lastname": "B"}))
	ctx := context.Background()
	i := 0
	next := func() crmsync.Trigger {
		i++
		return crmsync.Trigger{Record: rec.Ref, Kind: crmsync.KindPropertyChanged, OccurredAt: time.Now(), DedupeKey: fmt.Sprint(i)}
	}
	if _, err := eng.Resolve(ctx, next()); err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := eng.Resolve(ctx, next()); err != nil {
			b.Fatal(err)
		}
	}
}

func TestReservationInProgressRetriesAndStaleOneIsClaimed(t *testing.T) {
	ctx := context.Background()
	h := newHarness(t, nil)
	c := h.hs.Put(hsContact("1", map[string]string{"email": "p@example.com", "lastname": "P"}))
	now := h.eng.now()
	res, err := h.store.CreateLink(ctx, crmsync.Link{HubSpot: c.Ref, Status: crmsync.LinkPending, CreatedAt: now, UpdatedAt: now})
	if err != nil {
		t.Fatal(err)
	}
	_, err = h.eng.Resolve(ctx, h.trigger(c.Ref, crmsync.KindCreated))
	if !crmsync.IsTransient(err) {
		t.Fatalf("fresh reservation: want a transient error, got %v", err)
	}
	if n := len(h.sf.Records(crmsync.SFLead)); n != 0 {
		t.Fatalf("created %d leads while another worker held the reservation", n)
	}
	// The reserving worker died: after the lease the reservation is claimed.
	res.UpdatedAt = now.Add(-PendingLease - time.Second)
	if _, err := h.store.UpdateLink(ctx, res); err != nil {
		t.Fatal(err)
	}
	out := h.resolve(c.Ref)
	if out.Decision != DecisionSynced || len(h.sf.Records(crmsync.SFLead)) != 1 || out.LinkID != res.ID {
		t.Fatalf("stale reservation: %+v", out)
	}
}

func TestInvalidValueIsAPropertyValuesError(t *testing.T) {
	h := newHarness(t, nil)
	h.sf.Fail = func(op string, ref crmsync.RecordRef) error {
		if op == "create" {
			return fmt.Errorf("salesforce: field NumberOfEmployees: %w: not a number", crmsync.ErrInvalid)
		}
		return nil
	}
	c := h.hs.Put(hsContact("1", map[string]string{"email": "v@example.com", "lastname": "V"}))
	if out := h.resolve(c.Ref); out.Decision != DecisionFailed || out.Category != crmsync.CategoryPropertyValues {
		t.Fatalf("%+v", out)
	}
	se, err := h.store.GetSyncError(context.Background(), c.Ref)
	if err != nil || se.Code != "INVALID_VALUE" {
		t.Fatalf("sync error %+v %v", se, err)
	}
}

func TestOwnerIsTwoWayByEmail(t *testing.T) {
	ctx := context.Background()
	h := newHarness(t, nil)
	h.hs.AddUser("ann@corp.example")
	h.sf.AddUser("ann@corp.example")
	h.sf.AddUser("bob@corp.example")
	c := hsContact("1", map[string]string{"email": "o@example.com", "lastname": "O"})
	c.OwnerEmail = "ann@corp.example"
	c = h.hs.Put(c)
	h.resolve(c.Ref)
	lead := h.sf.Records(crmsync.SFLead)[0]
	if lead.OwnerEmail != "ann@corp.example" {
		t.Fatalf("created lead owner = %q, want ann", lead.OwnerEmail)
	}
	// Salesforce reassigns to bob; HubSpot has no bob: nothing is written,
	// the ledger says why, and the HubSpot owner is not pushed back.
	h.sf.SetOwner(lead.Ref, "bob@corp.example")
	out := h.resolve(lead.Ref)
	if len(out.Writes) != 0 {
		t.Fatalf("owner without a HubSpot user wrote %+v", out.Writes)
	}
	entries, _, _ := h.store.ListLedger(ctx, out.LinkID, crmsync.PageRequest{Limit: 1})
	if len(entries) != 1 || !strings.Contains(entries[0].Note, "bob@corp.example has no user on hubspot") {
		t.Errorf("ledger note = %+v", entries)
	}
	for _, c := range entries[0].Changes {
		if c.Field == ownerKey+"="+ownerKey {
			t.Errorf("the ledger lists an owner change that was not written: %+v", c)
		}
	}
	if out := h.resolve(c.Ref); len(out.Writes) != 0 {
		t.Errorf("HubSpot trigger after the refused owner wrote %+v", out.Writes)
	}
	if got, _ := h.sf.Record(lead.Ref); got.OwnerEmail != "bob@corp.example" {
		t.Errorf("Salesforce owner reverted to %q", got.OwnerEmail)
	}
	// HubSpot gains bob: the next Salesforce change of owner goes through.
	h.hs.AddUser("bob@corp.example")
	h.sf.SetOwner(lead.Ref, "ann@corp.example")
	h.resolve(lead.Ref)
	h.sf.SetOwner(lead.Ref, "bob@corp.example")
	h.resolve(lead.Ref)
	if got, _ := h.hs.Record(c.Ref); got.OwnerEmail != "bob@corp.example" {
		t.Errorf("HubSpot owner = %q, want bob", got.OwnerEmail)
	}
}

// lostAnswer creates the record but loses the answer, once.
type lostAnswer struct {
	*crmsynctest.CRM
	lost bool
}

func (l *lostAnswer) Create(ctx context.Context, o crmsync.ObjectType, p map[string]string) (crmsync.Record, error) {
	rec, err := l.CRM.Create(ctx, o, p)
	if err == nil && !l.lost {
		l.lost = true
		return crmsync.Record{}, errRetry{"connection reset while reading the answer"}
	}
	return rec, err
}

// A create whose outcome is unknown keeps the reservation; the retry of
// that same delivery takes it over at once and, for a contact, finds the
// record the first attempt did create instead of creating another.
func TestRetryOfSameDeliveryTakesItsReservationOver(t *testing.T) {
	h := newHarness(t, nil)
	h.eng.Salesforce = &lostAnswer{CRM: h.sf}
	c := h.hs.Put(hsContact("1", map[string]string{"email": "u@example.com", "lastname": "U"}))
	tr := h.trigger(c.Ref, crmsync.KindCreated)
	if _, err := h.eng.Resolve(context.Background(), tr); !crmsync.IsTransient(err) {
		t.Fatalf("first attempt: %v", err)
	}
	// Another trigger for the record waits for the reservation...
	if _, err := h.eng.Resolve(context.Background(), h.trigger(c.Ref, crmsync.KindPropertyChanged)); !crmsync.IsTransient(err) {
		t.Fatalf("other trigger during the reservation: %v", err)
	}
	// ...but the retry of the same delivery proceeds and adopts the lead.
	out, err := h.eng.Resolve(context.Background(), tr)
	if err != nil || out.Decision == DecisionFailed {
		t.Fatalf("retry: %+v %v", out, err)
	}
	if n := len(h.sf.Records(crmsync.SFLead)); n != 1 {
		t.Errorf("%d leads, want 1", n)
	}
	if link, err := h.store.GetLink(context.Background(), c.Ref); err != nil || link.Status != crmsync.LinkActive || link.Salesforce.IsZero() {
		t.Errorf("link = %+v, %v", link, err)
	}
}

type schemaHS struct{ *crmsynctest.CRM }

func (schemaHS) MappingProperties(ctx context.Context, o crmsync.ObjectType) (map[string]mapping.HubSpotProperty, error) {
	return map[string]mapping.HubSpotProperty{
		"email":    {Name: "email", Type: "string", FieldType: "text"},
		"lastname": {Name: "lastname", Type: "string", FieldType: "text"},
		"score":    {Name: "score", Type: "number", FieldType: "number"},
	}, nil
}

type schemaSF struct{ *crmsynctest.CRM }

func (schemaSF) MappingFields(ctx context.Context, o crmsync.ObjectType) (map[string]mapping.SalesforceField, error) {
	return map[string]mapping.SalesforceField{
		"Email":    {Name: "Email", Type: "email", Updateable: true, Nillable: true, Length: 80},
		"LastName": {Name: "LastName", Type: "string", Updateable: true, Length: 80},
		"Score__c": {Name: "Score__c", Type: "double", Updateable: true, Nillable: true},
	}, nil
}

// With both CRMs' metadata, values are compared in one form: a number
// Salesforce writes back as "42.0" is the HubSpot "42", not a change.
func TestValuesAreComparedAfterConversion(t *testing.T) {
	h := newHarness(t, func(s *crmsync.Settings) {
		s.Mappings = []crmsync.FieldMapping{
			{HubSpotObject: crmsync.HSContact, SalesforceObject: crmsync.SFLead, HubSpotProperty: "email", SalesforceField: "Email", Rule: crmsync.RuleTwoWay},
			{HubSpotObject: crmsync.HSContact, SalesforceObject: crmsync.SFLead, HubSpotProperty: "lastname", SalesforceField: "LastName", Rule: crmsync.RuleTwoWay},
			{HubSpotObject: crmsync.HSContact, SalesforceObject: crmsync.SFLead, HubSpotProperty: "score", SalesforceField: "Score__c", Rule: crmsync.RuleTwoWay},
		}
	})
	h.eng.HubSpot, h.eng.Salesforce = schemaHS{h.hs}, schemaSF{h.sf}
	c := h.hs.Put(hsContact("1", map[string]string{"email": "n@example.com", "lastname": "N", "score": "42"}))
	h.resolve(c.Ref)
	lead := h.sf.Records(crmsync.SFLead)[0]
	h.sf.Edit(lead.Ref, map[string]string{"Score__c": "42.0"})
	if out := h.resolve(lead.Ref); len(out.Writes) != 0 {
		t.Fatalf("a number in another form was synced: %+v", out.Writes)
	}
	h.sf.Edit(lead.Ref, map[string]string{"Score__c": "43.50"})
	h.resolve(lead.Ref)
	if got, _ := h.hs.Record(c.Ref); got.Properties["score"] != "43.5" {
		t.Errorf("HubSpot score = %q, want 43.5", got.Properties["score"])
	}
	// A value HubSpot cannot hold in the Salesforce field is a Property
	// values sync error, not a retry.
	h.hs.Edit(c.Ref, map[string]string{"score": "lots"})
	if out := h.resolve(c.Ref); out.Decision != DecisionFailed || out.Category != crmsync.CategoryPropertyValues {
		t.Errorf("unreadable number: %+v", out)
	}
}

// A bulk change of linked records costs one batch read per side and one
// batch write, not three calls per record; per-record failures stay
// per record; two triggers for one link resolve once.
func TestResolveBatchUsesBatchCalls(t *testing.T) {
	ctx := context.Background()
	h := newHarness(t, nil)
	var leads []crmsync.Record
	for i := range 10 {
		c := h.hs.Put(hsContact(fmt.Sprint(i), map[string]string{"email": fmt.Sprintf("b%d@example.com", i), "lastname": "B"}))
		h.resolve(c.Ref)
		lead, _ := h.store.GetLink(ctx, c.Ref)
		leads = append(leads, crmsync.Record{Ref: lead.Salesforce})
	}
	var ts []crmsync.Trigger
	for i, l := range leads {
		h.sf.Edit(l.Ref, map[string]string{"Phone": fmt.Sprintf("+1 %d", i)})
		ts = append(ts, h.trigger(l.Ref, crmsync.KindPropertyChanged))
	}
	ts = append(ts, h.trigger(leads[0].Ref, crmsync.KindPropertyChanged)) // a second trigger for one link
	h.hs.Fail = func(op string, ref crmsync.RecordRef) error {
		if op == "update" && ref.ID == "3" {
			return vendorErr{code: "PROPERTY_DOESNT_EXIST", cat: crmsync.CategoryPropertyValues}
		}
		return nil
	}
	before := map[string]int{"sf get": h.sf.Calls("get"), "hs get": h.hs.Calls("get"), "hs update": h.hs.Calls("update")}
	outs, errs := h.eng.ResolveBatch(ctx, ts)
	for i, err := range errs {
		if err != nil {
			t.Fatalf("trigger %d: %v", i, err)
		}
	}
	for i, o := range outs[:10] {
		want := DecisionSynced
		if i == 3 {
			want = DecisionFailed
		}
		if o.Decision != want {
			t.Errorf("trigger %d: %s (%s), want %s", i, o.Decision, o.Reason, want)
		}
	}
	if outs[10].Decision != DecisionSynced || len(outs[10].Writes) != 0 || !strings.Contains(outs[10].Reason, "same batch") {
		t.Errorf("covered trigger: %+v", outs[10])
	}
	if got := h.sf.Calls("getmany") + h.hs.Calls("getmany"); got != 2 {
		t.Errorf("%d batch reads, want 2", got)
	}
	if got := h.hs.Calls("updatemany"); got != 1 {
		t.Errorf("%d batch writes, want 1", got)
	}
	if h.sf.Calls("get") != before["sf get"] || h.hs.Calls("get") != before["hs get"] || h.hs.Calls("update") != before["hs update"] {
		t.Errorf("single-record calls made in a batch: %v → sf get %d, hs get %d, hs update %d", before, h.sf.Calls("get"), h.hs.Calls("get"), h.hs.Calls("update"))
	}
	for i := range 10 {
		got, _ := h.hs.Record(crmsync.RecordRef{Side: crmsync.HubSpot, Object: crmsync.HSContact, ID: fmt.Sprint(i)})
		if want := fmt.Sprintf("+1 %d", i); (got.Properties["phone"] == want) != (i != 3) {
			t.Errorf("contact %d phone %q", i, got.Properties["phone"])
		}
	}
	if se, err := h.store.GetSyncError(ctx, leads[3].Ref); err != nil || se.Code != "PROPERTY_DOESNT_EXIST" {
		t.Errorf("per-record failure: %+v %v", se, err)
	}
}

func TestMergeRepointsOrRetiresLinks(t *testing.T) {
	ctx := context.Background()
	h := newHarness(t, nil)
	a := h.hs.Put(hsContact("A", map[string]string{"email": "a@example.com", "lastname": "A", "company": "X"}))
	b := h.hs.Put(hsContact("B", map[string]string{"email": "b@example.com", "lastname": "B", "company": "X"}))
	h.resolve(a.Ref)
	h.resolve(b.Ref)
	lb, _ := h.store.GetLink(ctx, b.Ref)

	// B merged into C, a survivor with no link: B's link moves to C, and
	// C syncs into B's lead instead of creating one.
	c := h.hs.Put(hsContact("C", map[string]string{"email": "b@example.com", "lastname": "Bee", "company": "X"}))
	r, _ := h.hs.Record(b.Ref)
	r.Archived = true
	h.hs.Put(r)
	tr := h.trigger(c.Ref, crmsync.KindMerged)
	tr.MergedIDs = []string{"B"}
	out, err := h.eng.Resolve(ctx, tr)
	if err != nil {
		t.Fatal(err)
	}
	if l, err := h.store.GetLink(ctx, c.Ref); err != nil || l.ID != lb.ID || l.Salesforce != lb.Salesforce {
		t.Fatalf("link of C = %+v, %v; want B's link re-pointed", l, err)
	}
	if _, err := h.store.GetLink(ctx, b.Ref); !errors.Is(err, crmsync.ErrNotFound) {
		t.Errorf("B still linked: %v", err)
	}
	if n := len(h.sf.Records(crmsync.SFLead)); n != 2 {
		t.Errorf("%d leads after the merge, want 2 (nothing created)", n)
	}
	if out.Decision != DecisionNoChange && out.Decision != DecisionSynced && out.Decision != DecisionRefused {
		t.Errorf("survivor's resolution: %+v", out)
	}

	// C merged into A, which is linked: C's link is retired, A's kept.
	tr = h.trigger(a.Ref, crmsync.KindMerged)
	tr.MergedIDs = []string{"C"}
	if _, err := h.eng.Resolve(ctx, tr); err != nil {
		t.Fatal(err)
	}
	retired, _ := h.store.GetLinkByID(ctx, lb.ID)
	if retired.Status != crmsync.LinkDeletedHubSpot {
		t.Errorf("merged-away link status = %s, want %s", retired.Status, crmsync.LinkDeletedHubSpot)
	}
	entries, _, _ := h.store.ListLedger(ctx, lb.ID, crmsync.PageRequest{Limit: 1})
	if len(entries) != 1 || !strings.Contains(entries[0].Note, "merged into") {
		t.Errorf("ledger of the retired link: %+v", entries)
	}
}

func TestMirrorDeletePolicy(t *testing.T) {
	ctx := context.Background()
	h := newHarness(t, func(s *crmsync.Settings) { s.Deletes = crmsync.DeleteMirror })
	c := h.hs.Put(hsContact("1", map[string]string{"email": "d@example.com", "lastname": "D", "company": "X"}))
	h.resolve(c.Ref)
	link, _ := h.store.GetLink(ctx, c.Ref)
	r, _ := h.hs.Record(c.Ref)
	r.Archived = true
	h.hs.Put(r)
	// Not found on a property-change trigger (could be sharing): no delete.
	h.resolve(c.Ref)
	if lead, _ := h.sf.Record(link.Salesforce); lead.Archived {
		t.Fatal("deleted the lead on a record merely not found")
	}
	// The vendor says it was deleted: mirrored.
	out, err := h.eng.Resolve(ctx, h.trigger(c.Ref, crmsync.KindDeleted))
	if err != nil {
		t.Fatal(err)
	}
	if lead, _ := h.sf.Record(link.Salesforce); !lead.Archived {
		t.Errorf("lead not deleted with the mirror policy: %+v", out)
	}
	if len(out.Writes) != 1 || out.Writes[0].Op != "delete" {
		t.Errorf("writes %+v", out.Writes)
	}
}

// The ledger's target is the record written, also when a Two-way change
// goes back to the trigger's own side.
func TestLedgerTargetIsTheRecordWritten(t *testing.T) {
	ctx := context.Background()
	h := newHarness(t, func(s *crmsync.Settings) {
		for i := range s.Mappings {
			s.Mappings[i].Rule = crmsync.RuleTwoWay
		}
	})
	c := h.hs.Put(hsContact("1", map[string]string{"email": "t@example.com", "lastname": "T", "jobtitle": "Dev"}))
	h.resolve(c.Ref)
	lead := h.sf.Records(crmsync.SFLead)[0]
	h.sf.Edit(lead.Ref, map[string]string{"Title": "CTO"})
	h.hs.Edit(c.Ref, map[string]string{"jobtitle": "CEO"}) // later: HubSpot wins, Salesforce is written
	out := h.resolve(lead.Ref)
	entries, _, _ := h.store.ListLedger(ctx, out.LinkID, crmsync.PageRequest{Limit: 1})
	if len(entries) != 1 || entries[0].Target != lead.Ref || !strings.Contains(entries[0].Call, lead.Ref.String()) {
		t.Fatalf("ledger entry %+v, want target %s", entries, lead.Ref)
	}
}

// orgUsage is a Salesforce CRM reporting the org's usage.
type orgUsage struct {
	*crmsynctest.CRM
	used int64
}

func (o *orgUsage) OrgAPIUsage() (int64, int64, bool) { return o.used, 100, true }

func TestBudgetPausesEachPriorityWithHysteresis(t *testing.T) {
	ctx := context.Background()
	h := newHarness(t, nil) // budget defaults: P3 75, P2 90, P1 97, P0 100, resume below 70
	org := &orgUsage{CRM: h.sf}
	h.eng.Salesforce = org
	c := h.hs.Put(hsContact("1", map[string]string{"email": "b@example.com", "lastname": "B", "company": "X"}))
	try := func(pct int64, kind crmsync.TriggerKind) error {
		t.Helper()
		org.used = pct
		h.eng.budget.computed = time.Time{} // drop the cached share
		_, err := h.eng.Resolve(ctx, h.trigger(c.Ref, kind))
		return err
	}
	budgetWait := func(err error) bool {
		return errors.Is(err, crmsync.ErrBudget) && crmsync.Classify(err).Class == crmsync.ClassBudget && strings.Contains(err.Error(), "budget")
	}
	if err := try(100, crmsync.KindCreated); !budgetWait(err) {
		t.Fatalf("at 100%% even a creation must wait: %v", err)
	}
	if n := len(h.sf.Writes()); n != 0 {
		t.Fatalf("wrote %d times over the budget", n)
	}
	if err := try(98, crmsync.KindPropertyChanged); !budgetWait(err) {
		t.Errorf("at 98%% an update (P1) must wait: %v", err)
	}
	if err := try(98, crmsync.KindCreated); err != nil {
		t.Errorf("at 98%% a creation (P0) goes on: %v", err)
	}
	if err := try(85, crmsync.KindSweep); !budgetWait(err) {
		t.Errorf("at 85%% sweep work (P3) must pause: %v", err)
	}
	if err := try(85, crmsync.KindPropertyChanged); !budgetWait(err) {
		t.Errorf("at 85%% updates paused at 98%% stay paused until below 70%%: %v", err)
	}
	if err := try(65, crmsync.KindPropertyChanged); err != nil {
		t.Errorf("below 70%% updates resume: %v", err)
	}
	if err := try(85, crmsync.KindPropertyChanged); err != nil {
		t.Errorf("at 85%% after resuming, updates go on: %v", err)
	}
	if err := try(72, crmsync.KindSweep); !budgetWait(err) {
		t.Errorf("at 72%% (between resume and pause) sweep work stays paused: %v", err)
	}
	if err := try(65, crmsync.KindSweep); err != nil {
		t.Errorf("below 70%% sweep work resumes: %v", err)
	}
	if st := h.eng.Budget(); len(st.Paused) != 0 || !st.Known {
		t.Errorf("budget state %+v", st)
	}
	// REQUEST_LIMIT_EXCEEDED from Salesforce suspends every call.
	h.sf.Fail = func(op string, ref crmsync.RecordRef) error {
		if op == "get" {
			return vendorErr{code: "REQUEST_LIMIT_EXCEEDED", cat: crmsync.CategoryOther, budget: true}
		}
		return nil
	}
	if err := try(10, crmsync.KindPropertyChanged); !errors.Is(err, crmsync.ErrBudget) {
		t.Fatalf("REQUEST_LIMIT_EXCEEDED: %v", err)
	}
	if se, err := h.store.GetSyncError(ctx, c.Ref); err == nil {
		t.Errorf("a spent allocation became the record's sync error: %+v", se)
	}
	h.sf.Fail = nil
	if err := try(10, crmsync.KindCreated); !budgetWait(err) || h.eng.Budget().SuspendedUntil.IsZero() {
		t.Errorf("after REQUEST_LIMIT_EXCEEDED every call waits: %v", err)
	}
	h.clock.advance(SuspendFor + time.Minute)
	if err := try(10, crmsync.KindPropertyChanged); err != nil {
		t.Errorf("after the suspension: %v", err)
	}
}

// countingStore counts GetLink and GetSettings calls.
type countingStore struct {
	crmsync.Store
	getLink     atomic.Int64
	getSettings atomic.Int64
}

func (c *countingStore) GetSettings(ctx context.Context) (crmsync.Settings, error) {
	c.getSettings.Add(1)
	return c.Store.GetSettings(ctx)
}

func (c *countingStore) GetLink(ctx context.Context, ref crmsync.RecordRef) (crmsync.Link, error) {
	c.getLink.Add(1)
	return c.Store.GetLink(ctx, ref)
}

// A batch reads each trigger's link once.
func TestResolveBatchReadsEachLinkOnce(t *testing.T) {
	ctx := context.Background()
	h := newHarness(t, nil)
	var ts []crmsync.Trigger
	for i := range 10 {
		c := h.hs.Put(hsContact(fmt.Sprint(i), map[string]string{"email": fmt.Sprintf("o%d@example.com", i), "lastname": "O"}))
		h.resolve(c.Ref)
		l, _ := h.store.GetLink(ctx, c.Ref)
		h.sf.Edit(l.Salesforce, map[string]string{"Phone": fmt.Sprint(i)})
		ts = append(ts, h.trigger(l.Salesforce, crmsync.KindPropertyChanged))
	}
	cs := &countingStore{Store: h.store}
	h.eng.Store = cs
	_, errs := h.eng.ResolveBatch(ctx, ts)
	for _, err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	if n := cs.getLink.Load(); n != 10 {
		t.Errorf("%d link reads for 10 triggers, want 10", n)
	}
}

// A batch reads the settings once, also for triggers resolved one by one
// (here: new records, which go through identity).
func TestResolveBatchReadsSettingsOnce(t *testing.T) {
	ctx := context.Background()
	h := newHarness(t, nil)
	var ts []crmsync.Trigger
	for i := range 5 {
		c := h.hs.Put(hsContact(fmt.Sprint(i), map[string]string{"email": fmt.Sprintf("s%d@example.com", i), "lastname": "S"}))
		ts = append(ts, h.trigger(c.Ref, crmsync.KindCreated))
	}
	cs := &countingStore{Store: h.store}
	h.eng.Store = cs
	outs, errs := h.eng.ResolveBatch(ctx, ts)
	for i, err := range errs {
		if err != nil || outs[i].Decision != DecisionSynced {
			t.Fatalf("trigger %d: %+v %v", i, outs[i], err)
		}
	}
	if n := cs.getSettings.Load(); n != 1 {
		t.Errorf("%d settings reads for one batch, want 1", n)
	}
}

// A resolution that writes one side and fails on the other keeps the
// shadow of what it wrote: its retry, after a newer change on the side
// that failed, must not take crmsync's own write for a change and win the
// Two-way conflict with it (make chaos found such lost updates).
func TestPartlyAppliedWriteKeepsItsShadow(t *testing.T) {
	h := newHarness(t, func(s *crmsync.Settings) {
		for i := range s.Mappings {
			s.Mappings[i].Rule = crmsync.RuleTwoWay
		}
	})
	c := h.hs.Put(hsContact("1", map[string]string{"email": "a@example.com", "lastname": "A", "jobtitle": "Dev", "phone": "1"}))
	h.resolve(c.Ref)
	lead := h.sf.Records(crmsync.SFLead)[0]
	// Salesforce changes the phone, HubSpot the title: one resolution
	// writes each side; the second side's write fails transiently.
	h.sf.Edit(lead.Ref, map[string]string{"Phone": "1222"})
	h.hs.Edit(c.Ref, map[string]string{"jobtitle": "CTO"})
	updates := 0
	fail := func(op string, ref crmsync.RecordRef) error {
		if op == "update" || op == "updatemany" {
			if updates++; updates == 2 {
				return vendorErr{code: "SERVER_UNAVAILABLE", transient: true}
			}
		}
		return nil
	}
	h.hs.Fail, h.sf.Fail = fail, fail
	if _, err := h.eng.Resolve(context.Background(), h.trigger(lead.Ref, crmsync.KindPropertyChanged)); err == nil {
		t.Fatal("the failed write was not retried")
	}
	h.hs.Fail, h.sf.Fail = nil, nil
	// Then a person changes the phone in Salesforce again, and the retry
	// runs: Salesforce's newer phone must reach HubSpot.
	// A later HubSpot edit of another field makes the HubSpot record the
	// later modified one (Two-way compares record modification times).
	h.sf.Edit(lead.Ref, map[string]string{"Phone": "2928"})
	h.hs.Edit(c.Ref, map[string]string{"firstname": "Ann"})
	h.resolve(lead.Ref)
	hs, _ := h.hs.Record(c.Ref)
	sf, _ := h.sf.Record(lead.Ref)
	if hs.Properties["phone"] != "2928" || sf.Properties["Phone"] != "2928" {
		t.Errorf("phone: HubSpot %q, Salesforce %q; want both 2928 (the newer Salesforce change)", hs.Properties["phone"], sf.Properties["Phone"])
	}
	if sf.Properties["Title"] != "CTO" {
		t.Errorf("Salesforce Title = %q, want CTO", sf.Properties["Title"])
	}
}

// A worker that dies mid-resolution leaves the trigger's dedupe key
// recorded; the queue's redelivery (Attempt > 0) is resolved, not dropped
// as a repeat, while a vendor's repeated delivery (Attempt 0) is.
func TestRedeliveryAfterACrashIsResolved(t *testing.T) {
	h := newHarness(t, nil)
	c := h.hs.Put(hsContact("1", map[string]string{"email": "a@example.com", "lastname": "A"}))
	tr := h.trigger(c.Ref, crmsync.KindCreated)
	if _, err := h.store.Seen(context.Background(), tr.DedupeKey, time.Hour); err != nil { // the dead worker's gate
		t.Fatal(err)
	}
	if out, err := h.eng.Resolve(context.Background(), tr); err != nil || out.Decision != DecisionDuplicate {
		t.Fatalf("vendor repeat: %+v, %v; want a duplicate", out, err)
	}
	tr.Attempt = 1
	if out, err := h.eng.Resolve(context.Background(), tr); err != nil || out.Decision != DecisionSynced {
		t.Fatalf("redelivery after a crash: %+v, %v; want it synced", out, err)
	}
	if n := len(h.sf.Records(crmsync.SFLead)); n != 1 {
		t.Errorf("%d leads, want 1", n)
	}
}

// lostUpdate applies an update but loses its answer, once.
type lostUpdate struct {
	*crmsynctest.CRM
	lost bool
}

func (l *lostUpdate) Update(ctx context.Context, ref crmsync.RecordRef, p map[string]string) error {
	err := l.CRM.Update(ctx, ref, p)
	if err == nil && !l.lost {
		l.lost = true
		return vendorErr{code: "GATEWAY_TIMEOUT", transient: true}
	}
	return err
}

// A write whose answer was lost but which landed counts as written: its
// value is in the shadow, so a newer change on the other side still wins
// (make chaos: a HubSpot timeout after the write landed became a lost
// update).
func TestWriteThatLandedDespiteAnErrorIsWritten(t *testing.T) {
	h := newHarness(t, func(s *crmsync.Settings) {
		for i := range s.Mappings {
			s.Mappings[i].Rule = crmsync.RuleTwoWay
		}
	})
	c := h.hs.Put(hsContact("1", map[string]string{"email": "a@example.com", "lastname": "A", "phone": "1"}))
	h.resolve(c.Ref)
	lead := h.sf.Records(crmsync.SFLead)[0]
	h.eng.HubSpot = &lostUpdate{CRM: h.hs}
	h.sf.Edit(lead.Ref, map[string]string{"Phone": "400"})
	if out := h.resolve(lead.Ref); out.Decision != DecisionSynced {
		t.Fatalf("the write that landed: %+v", out)
	}
	// A newer Salesforce change, then a later HubSpot edit of another
	// field: the phone must still come from Salesforce.
	h.sf.Edit(lead.Ref, map[string]string{"Phone": "3093"})
	h.hs.Edit(c.Ref, map[string]string{"firstname": "Ann"})
	h.resolve(lead.Ref)
	hs, _ := h.hs.Record(c.Ref)
	sf, _ := h.sf.Record(lead.Ref)
	if hs.Properties["phone"] != "3093" || sf.Properties["Phone"] != "3093" {
		t.Errorf("phone: HubSpot %q, Salesforce %q; want both 3093", hs.Properties["phone"], sf.Properties["Phone"])
	}
}
