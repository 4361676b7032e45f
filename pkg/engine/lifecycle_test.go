package engine

import (
	"context"
	"strings"
	"testing"

	"github.com/crmsync/crmsync/pkg/crmsync"
)

func TestLifecycleStages(t *testing.T) {
	ctx := context.Background()
	h := newHarness(t, func(s *crmsync.Settings) {
		s.NewContactsAs = crmsync.CreateAsContact
		s.Lifecycle = crmsync.LifecycleSettings{OpenOpportunityToOpportunity: true, ClosedWonToCustomer: true, PropagateToCompanyContacts: true}
	})
	stage := func(ref crmsync.RecordRef) string {
		r, _ := h.hs.Record(ref)
		return r.Properties["lifecyclestage"]
	}
	synced := func(id, email, st string) (crmsync.RecordRef, string) {
		c := h.hs.Put(hsContact(id, map[string]string{"email": email, "lastname": id, "lifecyclestage": st}))
		out := h.resolve(c.Ref)
		if out.Decision != DecisionSynced {
			t.Fatalf("sync %s: %+v", id, out)
		}
		return c.Ref, out.Writes[0].Ref.ID
	}
	a, aSF := synced("a", "a@x", "lead")
	b, bSF := synced("b", "b@x", "customer")
	c, cSF := synced("c", "c@x", "partner") // a custom stage
	d, _ := synced("d", "d@x", "subscriber")
	h.hs.Associate(a, crmsync.HSCompany, "co1", true)
	h.hs.Associate(d, crmsync.HSCompany, "co1", true)
	h.hs.Associate(crmsync.RecordRef{Side: crmsync.HubSpot, Object: crmsync.HSCompany, ID: "co1"}, crmsync.HSContact, a.ID, false)
	h.hs.Associate(crmsync.RecordRef{Side: crmsync.HubSpot, Object: crmsync.HSCompany, ID: "co1"}, crmsync.HSContact, d.ID, false)
	sfWrites := len(h.sf.Writes())

	opp := h.sf.Put(sfRecord(crmsync.SFOpportunity, "006A", map[string]string{"Name": "Big", "IsClosed": "false", "IsWon": "false"})).Ref
	for _, id := range []string{aSF, bSF, cSF} {
		h.sf.AddRole(opp.ID, id)
	}
	out := h.resolve(opp) // deals do not sync: lifecycle only
	if out.Decision != DecisionSynced || len(out.Writes) != 2 {
		t.Fatalf("open opportunity: %+v", out)
	}
	for ref, want := range map[crmsync.RecordRef]string{a: "opportunity", b: "customer", c: "partner", d: "opportunity"} {
		if got := stage(ref); got != want {
			t.Errorf("%s stage %q, want %q", ref, got, want)
		}
	}
	// The moved contact's own ledger names the opportunity.
	la, _ := h.store.GetLink(ctx, a)
	entries, _, _ := h.store.ListLedger(ctx, la.ID, crmsync.PageRequest{Limit: 1})
	if len(entries) != 1 || entries[0].Result != "lifecycle" || !strings.Contains(entries[0].Note, opp.String()) {
		t.Errorf("ledger of %s: %+v", a, entries)
	}

	// Closed Won: customer.
	h.sf.Edit(opp, map[string]string{"IsClosed": "true", "IsWon": "true"})
	h.resolve(opp)
	if stage(a) != "customer" || stage(d) != "customer" || stage(c) != "partner" {
		t.Errorf("after Closed Won: a %q d %q c %q", stage(a), stage(d), stage(c))
	}
	// A role added to the already Closed Won opportunity applies (found as
	// the role's own trigger by the sweep).
	f, fSF := synced("f", "f@x", "lead")
	role := h.sf.AddRole(opp.ID, fSF)
	if out := h.resolve(crmsync.RecordRef{Side: crmsync.Salesforce, Object: crmsync.SFContactRole, ID: role}); out.Decision != DecisionSynced || stage(f) != "customer" {
		t.Errorf("role on a Closed Won opportunity: %+v, stage %q", out, stage(f))
	}
	// No contact roles: nothing.
	lone := h.sf.Put(sfRecord(crmsync.SFOpportunity, "006B", map[string]string{"Name": "Lone", "IsClosed": "false", "IsWon": "false"})).Ref
	if out := h.resolve(lone); out.Decision != DecisionNoChange || len(out.Writes) != 0 {
		t.Errorf("opportunity without roles: %+v", out)
	}
	// The HubSpot stage never changes Salesforce.
	h.resolve(a)
	for _, w := range h.sf.Writes()[sfWrites:] {
		if w.Op != "create" {
			t.Errorf("a lifecycle change wrote Salesforce: %+v", w)
		}
	}
}
