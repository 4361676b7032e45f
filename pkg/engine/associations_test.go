package engine

import (
	"context"
	"slices"
	"strings"
	"testing"

	"github.com/crmsync/crmsync/pkg/crmsync"
)

func companiesOn(s *crmsync.Settings) {
	s.Objects.Companies = true
	s.Objects.Deals = true
	s.NewContactsAs = crmsync.CreateAsContact
}

func (h *harness) resolveKind(ref crmsync.RecordRef, kind crmsync.TriggerKind) Outcome {
	h.t.Helper()
	tr := h.trigger(ref, kind)
	if kind == crmsync.KindAssociationChanged {
		tr.Association = &crmsync.AssociationChange{To: crmsync.RecordRef{Side: crmsync.HubSpot, Object: crmsync.HSCompany, ID: "?"}}
	}
	out, err := h.eng.Resolve(context.Background(), tr)
	if err != nil {
		h.t.Fatalf("Resolve(%s %s): %v", kind, ref, err)
	}
	return out
}

// syncedAccount puts an Account in Salesforce, syncs it and returns it
// with the HubSpot company it created.
func (h *harness) syncedAccount(id, name string) (account, company crmsync.RecordRef) {
	h.t.Helper()
	a := h.sf.Put(sfRecord(crmsync.SFAccount, id, map[string]string{"Name": name}))
	out := h.resolve(a.Ref)
	if out.Decision != DecisionSynced {
		h.t.Fatalf("sync account %s: %+v", id, out)
	}
	l, err := h.store.GetLink(context.Background(), a.Ref)
	if err != nil {
		h.t.Fatal(err)
	}
	return a.Ref, l.HubSpot
}

func (h *harness) primary(ref crmsync.RecordRef) string {
	h.t.Helper()
	_, p, err := h.hs.Associated(context.Background(), ref, crmsync.HSCompany)
	if err != nil {
		h.t.Fatal(err)
	}
	return p
}

func (h *harness) linked(ref crmsync.RecordRef) crmsync.RecordRef {
	h.t.Helper()
	l, err := h.store.GetLink(context.Background(), ref)
	if err != nil {
		h.t.Fatalf("link of %s: %v", ref, err)
	}
	return l.Ref(ref.Side.Other())
}

func (h *harness) lastNote(linkID string) string {
	h.t.Helper()
	entries, _, err := h.store.ListLedger(context.Background(), linkID, crmsync.PageRequest{Limit: 1})
	if err != nil || len(entries) != 1 {
		h.t.Fatalf("ledger of %s: %d entries, %v", linkID, len(entries), err)
	}
	return entries[0].Note
}

func TestContactAccountBothWays(t *testing.T) {
	h := newHarness(t, companiesOn)
	acme, acmeCo := h.syncedAccount("001A", "Acme")
	globex, globexCo := h.syncedAccount("001B", "Globex")

	// Salesforce → HubSpot: the new contact's primary company is Acme's.
	c := h.sf.Put(sfRecord(crmsync.SFContact, "003A", map[string]string{"Email": "c@example.com", "LastName": "C", "AccountId": acme.ID}))
	h.resolve(c.Ref)
	hsc := h.linked(c.Ref)
	if got := h.primary(hsc); got != acmeCo.ID {
		t.Fatalf("HubSpot primary company = %q, want %s", got, acmeCo.ID)
	}

	// HubSpot → Salesforce: the user makes Globex primary.
	h.hs.Associate(hsc, crmsync.HSCompany, globexCo.ID, true)
	out := h.resolveKind(hsc, crmsync.KindAssociationChanged)
	if out.Decision != DecisionSynced {
		t.Fatalf("association change: %+v", out)
	}
	if got, _ := h.sf.Record(c.Ref); got.Properties["AccountId"] != globex.ID {
		t.Fatalf("Contact.AccountId = %q, want %s", got.Properties["AccountId"], globex.ID)
	}

	// Echoes are quiet and read no associations.
	reads, writes := h.hs.Calls("associated"), len(h.hs.Writes())+len(h.sf.Writes())
	for _, ref := range []crmsync.RecordRef{c.Ref, hsc} {
		if out := h.resolve(ref); out.Decision != DecisionNoChange {
			t.Errorf("echo from %s: %+v", ref, out)
		}
	}
	if got := h.hs.Calls("associated"); got != reads {
		t.Errorf("echoes read associations %d times", got-reads)
	}
	if got := len(h.hs.Writes()) + len(h.sf.Writes()); got != writes {
		t.Errorf("echoes wrote %d times", got-writes)
	}

	// Salesforce moves the contact back to Acme: the primary company
	// follows and the Globex association is replaced.
	h.sf.Edit(c.Ref, map[string]string{"AccountId": acme.ID})
	if out := h.resolve(c.Ref); out.Decision != DecisionSynced {
		t.Fatalf("AccountId change: %+v", out)
	}
	if got := h.primary(hsc); got != acmeCo.ID {
		t.Errorf("HubSpot primary company = %q, want %s", got, acmeCo.ID)
	}
	// Salesforce clears it: the primary association goes.
	h.sf.Edit(c.Ref, map[string]string{"AccountId": ""})
	h.resolve(c.Ref)
	if got := h.primary(hsc); got != "" {
		t.Errorf("HubSpot primary company after clearing AccountId = %q, want none", got)
	}
}

func TestLeadsHaveNoAccount(t *testing.T) {
	h := newHarness(t, func(s *crmsync.Settings) { s.Objects.Companies = true })
	_, co := h.syncedAccount("001A", "Acme")
	c := h.hs.Put(hsContact("1", map[string]string{"email": "l@example.com", "lastname": "L", "company": "Acme"}))
	h.hs.Associate(c.Ref, crmsync.HSCompany, co.ID, true)
	h.resolve(c.Ref)
	lead, _ := h.sf.Record(h.linked(c.Ref))
	if lead.Ref.Object != crmsync.SFLead || lead.Properties["AccountId"] != "" {
		t.Errorf("lead = %+v, want a Lead without AccountId", lead)
	}
	if n := h.hs.Calls("associated"); n != 0 {
		t.Errorf("a contact⇄lead pair read associations %d times", n)
	}
}

func TestCompanyNotSyncedYetIsWrittenOnceItIs(t *testing.T) {
	h := newHarness(t, companiesOn)
	co := h.hs.Put(crmsync.Record{Ref: crmsync.RecordRef{Side: crmsync.HubSpot, Object: crmsync.HSCompany, ID: "900"},
		Properties: map[string]string{"name": "Initech"}})
	c := h.hs.Put(hsContact("1", map[string]string{"email": "p@example.com", "lastname": "P"}))
	h.hs.Associate(c.Ref, crmsync.HSCompany, co.Ref.ID, true)

	out := h.resolve(c.Ref)
	sfc := h.linked(c.Ref)
	if got, _ := h.sf.Record(sfc); got.Properties["AccountId"] != "" {
		t.Fatalf("AccountId = %q before the company synced", got.Properties["AccountId"])
	}
	if note := h.lastNote(out.LinkID); !strings.Contains(note, "company 900 is not synced") {
		t.Errorf("ledger note = %q", note)
	}
	// Triggers before the company syncs write nothing, and the pending
	// write does not look like a change.
	for _, ref := range []crmsync.RecordRef{c.Ref, sfc} {
		if out := h.resolve(ref); len(out.Writes) != 0 {
			t.Errorf("trigger of %s before the company synced wrote %+v", ref, out.Writes)
		}
	}
	// The company syncs (its contact has no account: a new Account); the
	// next trigger of the contact writes AccountId.
	h.resolve(co.Ref)
	account := h.linked(co.Ref)
	if out := h.resolve(c.Ref); out.Decision != DecisionSynced {
		t.Fatalf("contact after the company synced: %+v", out)
	}
	if got, _ := h.sf.Record(sfc); got.Properties["AccountId"] != account.ID {
		t.Errorf("AccountId = %q, want %s", got.Properties["AccountId"], account.ID)
	}
	// Written once: the pending mark is gone, echoes read nothing.
	reads := h.hs.Calls("associated")
	if out := h.resolve(sfc); out.Decision != DecisionNoChange {
		t.Errorf("echo: %+v", out)
	}
	if h.hs.Calls("associated") != reads {
		t.Errorf("the pending mark was not cleared: the echo read associations")
	}
}

func TestAccountNotSyncedYetIsWrittenOnceItIs(t *testing.T) {
	h := newHarness(t, companiesOn)
	a := h.sf.Put(sfRecord(crmsync.SFAccount, "001Z", map[string]string{"Name": "Umbrella"}))
	c := h.sf.Put(sfRecord(crmsync.SFContact, "003Z", map[string]string{"Email": "u@example.com", "LastName": "U", "AccountId": a.Ref.ID}))
	h.resolve(c.Ref)
	hsc := h.linked(c.Ref)
	if got := h.primary(hsc); got != "" {
		t.Fatalf("primary company %q before the account synced", got)
	}
	if out := h.resolve(hsc); len(out.Writes) != 0 {
		t.Errorf("HubSpot trigger cleared the unsynced AccountId: %+v", out.Writes)
	}
	if got, _ := h.sf.Record(c.Ref); got.Properties["AccountId"] != a.Ref.ID {
		t.Fatalf("AccountId = %q, want %s kept", got.Properties["AccountId"], a.Ref.ID)
	}
	h.resolve(a.Ref)
	co := h.linked(a.Ref)
	h.resolve(c.Ref)
	if got := h.primary(hsc); got != co.ID {
		t.Errorf("primary company = %q, want %s", got, co.ID)
	}
}

func TestDealCompanyIsOpportunityAccount(t *testing.T) {
	h := newHarness(t, companiesOn)
	acme, acmeCo := h.syncedAccount("001A", "Acme")
	globex, globexCo := h.syncedAccount("001B", "Globex")
	d := h.hs.Put(crmsync.Record{Ref: crmsync.RecordRef{Side: crmsync.HubSpot, Object: crmsync.HSDeal, ID: "50"},
		Properties: map[string]string{"dealname": "Big one", "amount": "100"}})
	h.hs.Associate(d.Ref, crmsync.HSCompany, acmeCo.ID, true)
	h.resolve(d.Ref)
	opp, _ := h.sf.Record(h.linked(d.Ref))
	if opp.Ref.Object != crmsync.SFOpportunity || opp.Properties["AccountId"] != acme.ID {
		t.Fatalf("opportunity = %+v, want AccountId %s", opp, acme.ID)
	}
	h.sf.Edit(opp.Ref, map[string]string{"AccountId": globex.ID})
	h.resolve(opp.Ref)
	if got := h.primary(d.Ref); got != globexCo.ID {
		t.Errorf("deal's company = %q, want %s", got, globexCo.ID)
	}
}

func TestNewCompanyTakesTheAccountOfItsContacts(t *testing.T) {
	h := newHarness(t, companiesOn)
	a := h.sf.Put(sfRecord(crmsync.SFAccount, "001A", map[string]string{"Name": "Acme Corp"}))
	other := h.sf.Put(sfRecord(crmsync.SFAccount, "001O", map[string]string{"Name": "Other"}))
	var contacts []crmsync.RecordRef
	for i, acct := range []string{a.Ref.ID, a.Ref.ID, other.Ref.ID} {
		c := h.sf.Put(sfRecord(crmsync.SFContact, "003"+string(rune('A'+i)), map[string]string{
			"Email": string(rune('a'+i)) + "@acme.example", "LastName": "X", "AccountId": acct}))
		h.resolve(c.Ref)
		contacts = append(contacts, h.linked(c.Ref))
	}
	// A HubSpot company (another name, same contacts) appears.
	co := h.hs.Put(crmsync.Record{Ref: crmsync.RecordRef{Side: crmsync.HubSpot, Object: crmsync.HSCompany, ID: "700"},
		Properties: map[string]string{"name": "ACME"}})
	for _, c := range contacts {
		h.hs.Associate(co.Ref, crmsync.HSContact, c.ID, false)
	}
	out := h.resolve(co.Ref)
	for _, w := range out.Writes {
		if w.Op == "create" {
			t.Fatalf("created %s although the contacts' account exists", w.Ref)
		}
	}
	if got := h.linked(co.Ref); got != a.Ref {
		t.Fatalf("company linked to %s, want %s (the account of 2 of its 3 contacts)", got, a.Ref)
	}
	if n := len(h.sf.Records(crmsync.SFAccount)); n != 2 {
		t.Errorf("%d accounts, want 2", n)
	}
	// A second company of the same contacts does not take the account
	// already linked: the other account is free, so it takes that one.
	co2 := h.hs.Put(crmsync.Record{Ref: crmsync.RecordRef{Side: crmsync.HubSpot, Object: crmsync.HSCompany, ID: "701"},
		Properties: map[string]string{"name": "Acme again"}})
	for _, c := range contacts {
		h.hs.Associate(co2.Ref, crmsync.HSContact, c.ID, false)
	}
	h.resolve(co2.Ref)
	if got := h.linked(co2.Ref); got != other.Ref {
		t.Errorf("second company linked to %s, want %s", got, other.Ref)
	}
}

func TestNewCompanyWithoutSyncedContactsCreatesAccount(t *testing.T) {
	h := newHarness(t, companiesOn)
	co := h.hs.Put(crmsync.Record{Ref: crmsync.RecordRef{Side: crmsync.HubSpot, Object: crmsync.HSCompany, ID: "800"},
		Properties: map[string]string{"name": "Solo"}})
	c := h.hs.Put(hsContact("1", map[string]string{"email": "s@example.com", "lastname": "S"}))
	h.hs.Associate(co.Ref, crmsync.HSContact, c.Ref.ID, false) // contact not synced
	// An Account with the company's name exists: never matched by name.
	h.sf.Put(sfRecord(crmsync.SFAccount, "001S", map[string]string{"Name": "Solo"}))
	out := h.resolve(co.Ref)
	if len(out.Writes) != 1 || out.Writes[0].Op != "create" {
		t.Fatalf("outcome %+v, want one create", out)
	}
	if n := len(h.sf.Records(crmsync.SFAccount)); n != 2 {
		t.Errorf("%d accounts, want 2", n)
	}
}

func TestBatchWritesAccounts(t *testing.T) {
	ctx := context.Background()
	h := newHarness(t, companiesOn)
	_, acmeCo := h.syncedAccount("001A", "Acme")
	globex, _ := h.syncedAccount("001B", "Globex")
	var ts []crmsync.Trigger
	var hsRefs []crmsync.RecordRef
	for i := range 2 {
		c := h.sf.Put(sfRecord(crmsync.SFContact, "003"+string(rune('A'+i)), map[string]string{
			"Email": string(rune('a'+i)) + "@b.example", "LastName": "B", "AccountId": globex.ID}))
		h.resolve(c.Ref)
		hsRefs = append(hsRefs, h.linked(c.Ref))
		h.hs.Associate(h.linked(c.Ref), crmsync.HSCompany, acmeCo.ID, true)
		ts = append(ts, h.trigger(h.linked(c.Ref), crmsync.KindSweep))
	}
	outs, errs := h.eng.ResolveBatch(ctx, ts)
	for i := range ts {
		if errs[i] != nil || outs[i].Decision != DecisionSynced {
			t.Fatalf("trigger %d: %+v %v", i, outs[i], errs[i])
		}
		sfc := h.linked(hsRefs[i])
		if got, _ := h.sf.Record(sfc); got.Properties["AccountId"] != "001A" {
			t.Errorf("%s AccountId = %q, want 001A", sfc, got.Properties["AccountId"])
		}
	}
}

func TestSeveralCompaniesNonePrimaryKeepTheSyncedOne(t *testing.T) {
	h := newHarness(t, companiesOn)
	acme, acmeCo := h.syncedAccount("001A", "Acme")
	_, globexCo := h.syncedAccount("001B", "Globex")
	c := h.hs.Put(hsContact("1", map[string]string{"email": "k@example.com", "lastname": "K"}))
	h.hs.Associate(c.Ref, crmsync.HSCompany, acmeCo.ID, true)
	h.resolve(c.Ref)
	sfc := h.linked(c.Ref)

	// Globex is added and no company is primary any more: the one synced
	// last (Acme) is still there, so nothing changes.
	h.hs.Dissociate(c.Ref, crmsync.HSCompany, acmeCo.ID)
	h.hs.Associate(c.Ref, crmsync.HSCompany, globexCo.ID, false)
	h.hs.Associate(c.Ref, crmsync.HSCompany, acmeCo.ID, false)
	if out := h.resolveKind(c.Ref, crmsync.KindAssociationChanged); len(out.Writes) != 0 {
		t.Errorf("ambiguous companies wrote %+v", out.Writes)
	}
	if got, _ := h.sf.Record(sfc); got.Properties["AccountId"] != acme.ID {
		t.Errorf("AccountId = %q, want %s kept", got.Properties["AccountId"], acme.ID)
	}
	// Acme goes: with several others and none primary, there is none.
	h.hs.Dissociate(c.Ref, crmsync.HSCompany, acmeCo.ID)
	h.hs.Associate(c.Ref, crmsync.HSCompany, "999", false)
	h.resolveKind(c.Ref, crmsync.KindAssociationChanged)
	if got, _ := h.sf.Record(sfc); got.Properties["AccountId"] != "" {
		t.Errorf("AccountId = %q, want cleared", got.Properties["AccountId"])
	}
}

// An association change batched behind a property change of the same
// record is not lost: the run reads the association for both.
func TestBatchCoveredAssociationChangeIsRead(t *testing.T) {
	ctx := context.Background()
	h := newHarness(t, companiesOn)
	_, acmeCo := h.syncedAccount("001A", "Acme")
	globex, globexCo := h.syncedAccount("001B", "Globex")
	c := h.hs.Put(hsContact("1", map[string]string{"email": "q@example.com", "lastname": "Q"}))
	h.hs.Associate(c.Ref, crmsync.HSCompany, acmeCo.ID, true)
	h.resolve(c.Ref)
	sfc := h.linked(c.Ref)
	h.hs.Edit(c.Ref, map[string]string{"phone": "1"})
	h.hs.Associate(c.Ref, crmsync.HSCompany, globexCo.ID, true)
	assoc := h.trigger(c.Ref, crmsync.KindAssociationChanged)
	assoc.Association = &crmsync.AssociationChange{To: globexCo}
	_, errs := h.eng.ResolveBatch(ctx, []crmsync.Trigger{h.trigger(c.Ref, crmsync.KindPropertyChanged), assoc})
	if errs[0] != nil || errs[1] != nil {
		t.Fatal(errs)
	}
	if got, _ := h.sf.Record(sfc); got.Properties["AccountId"] != globex.ID {
		t.Errorf("AccountId = %q, want %s", got.Properties["AccountId"], globex.ID)
	}
}

// Both sides changed: the later (Salesforce) wins, and the company the
// resolution read as HubSpot's primary is the one replaced.
func TestAccountConflictLaterSalesforceWins(t *testing.T) {
	h := newHarness(t, companiesOn)
	_, acmeCo := h.syncedAccount("001A", "Acme")
	_, globexCo := h.syncedAccount("001B", "Globex")
	initech, initechCo := h.syncedAccount("001C", "Initech")
	c := h.hs.Put(hsContact("1", map[string]string{"email": "w@example.com", "lastname": "W"}))
	h.hs.Associate(c.Ref, crmsync.HSCompany, acmeCo.ID, true)
	h.resolve(c.Ref)
	sfc := h.linked(c.Ref)

	h.hs.Associate(c.Ref, crmsync.HSCompany, globexCo.ID, true)
	h.hs.Edit(c.Ref, map[string]string{}) // the association change's time
	h.sf.Edit(sfc, map[string]string{"AccountId": initech.ID})
	out := h.resolveKind(c.Ref, crmsync.KindAssociationChanged)
	if out.Conflicts != 1 {
		t.Errorf("conflicts = %d, want 1", out.Conflicts)
	}
	ids, primary, _ := h.hs.Associated(context.Background(), c.Ref, crmsync.HSCompany)
	if primary != initechCo.ID || slices.Contains(ids, globexCo.ID) {
		t.Errorf("companies %v, primary %q; want Initech %s primary and Globex replaced", ids, primary, initechCo.ID)
	}
	if got, _ := h.sf.Record(sfc); got.Properties["AccountId"] != initech.ID {
		t.Errorf("AccountId = %q, want %s", got.Properties["AccountId"], initech.ID)
	}
}

// A record created on HubSpot whose association then fails: the failure
// is a visible sync error, the link is complete (no second record), and
// the association is written by the next resolution once it can be.
func TestFailedAssociationAfterCreateIsWrittenLater(t *testing.T) {
	ctx := context.Background()
	h := newHarness(t, companiesOn)
	acme, acmeCo := h.syncedAccount("001A", "Acme")
	fail := true
	h.hs.Fail = func(op string, ref crmsync.RecordRef) error {
		if op == "setprimary" && fail {
			return vendorErr{code: "INVALID_OBJECT_IDS", cat: crmsync.CategoryAssociations}
		}
		return nil
	}
	c := h.sf.Put(sfRecord(crmsync.SFContact, "003F", map[string]string{"Email": "f@example.com", "LastName": "F", "AccountId": acme.ID}))
	out := h.resolve(c.Ref)
	if out.Decision != DecisionFailed || out.Category != crmsync.CategoryAssociations {
		t.Fatalf("outcome %+v, want an Associations failure", out)
	}
	if _, err := h.store.GetSyncError(ctx, c.Ref); err != nil {
		t.Errorf("no sync error recorded: %v", err)
	}
	hsc := h.linked(c.Ref)
	fail = false
	h.resolve(c.Ref)
	if got := h.primary(hsc); got != acmeCo.ID {
		t.Errorf("primary company = %q, want %s", got, acmeCo.ID)
	}
	if n := len(h.hs.Records(crmsync.HSContact)); n != 1 {
		t.Errorf("%d HubSpot contacts, want 1", n)
	}
	if _, err := h.store.GetSyncError(ctx, c.Ref); err == nil {
		t.Error("sync error not cleared")
	}
}
