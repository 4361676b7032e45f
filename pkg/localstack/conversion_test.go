package localstack

import (
	"context"
	"errors"
	"fmt"
	"testing"

	"github.com/crmsync/crmsync/pkg/crmsync"
	"github.com/crmsync/crmsync/pkg/sandbox/salesforcesim"
)

// A synced lead converted in Salesforce — into the Account of the
// contact's synced company, and into a new Account with an opportunity —
// then edited on both sides: the edits reach the new Contact, exactly one
// company exists per account, nothing is written to the converted lead
// and no sync errors are left.
func TestLeadConversion(t *testing.T) {
	for _, b := range backends(t) {
		t.Run(b.name, func(t *testing.T) {
			t.Parallel()
			leadConversion(t, b)
		})
	}
}

func leadConversion(t *testing.T, b backend) {
	ctx := context.Background()
	w := start(t, b)
	putSettings(t, w, func(s *crmsync.Settings) {
		s.Objects.Companies = true
		for i, m := range s.Mappings {
			if m.HubSpotProperty == "dealstage" { // stage value maps are not this scenario's subject
				s.Mappings[i].Rule = crmsync.RuleDontSync
			}
		}
	})
	globex, err := w.HubSpot.CreateAsUser(crmsync.HSCompany, map[string]string{"name": "Globex"})
	if err != nil {
		t.Fatal(err)
	}
	hank, err := w.HubSpot.CreateAsUser(crmsync.HSContact, map[string]string{"email": "hank@globex.example",
		"lastname": "Scorpio", "company": "Globex"})
	if err != nil {
		t.Fatal(err)
	}
	if err := w.HubSpot.Associate(crmsync.HSContact, hank.ID, crmsync.HSCompany, globex.ID); err != nil {
		t.Fatal(err)
	}
	bill, err := w.HubSpot.CreateAsUser(crmsync.HSContact, map[string]string{"email": "bill@initrode.example",
		"lastname": "Lumbergh", "company": "Initrode"})
	if err != nil {
		t.Fatal(err)
	}
	w.settle()
	hankLead, billLead := w.leadByEmail("hank@globex.example"), w.leadByEmail("bill@initrode.example")
	if hankLead == nil || billLead == nil {
		t.Fatal("the contacts did not become leads")
	}
	globexLink, err := w.store.GetLink(ctx, crmsync.RecordRef{Side: crmsync.HubSpot, Object: crmsync.HSCompany, ID: globex.ID})
	if err != nil {
		t.Fatalf("Globex not synced: %v", err)
	}
	// Hank converts into Globex's synced Account; Bill into a new Account
	// with an opportunity.
	hankConv, err := w.Salesforce.ConvertLead("", hankLead["Id"].(string), salesforcesim.ConvertOptions{AccountID: globexLink.Salesforce.ID})
	if err != nil {
		t.Fatal(err)
	}
	billConv, err := w.Salesforce.ConvertLead("", billLead["Id"].(string), salesforcesim.ConvertOptions{CreateOpportunity: true})
	if err != nil {
		t.Fatal(err)
	}
	w.settle()
	for _, c := range []struct {
		hs      string
		contact string
	}{{hank.ID, hankConv.ContactID}, {bill.ID, billConv.ContactID}} {
		l, err := w.store.GetLink(ctx, crmsync.RecordRef{Side: crmsync.HubSpot, Object: crmsync.HSContact, ID: c.hs})
		if err != nil || l.Salesforce.Object != crmsync.SFContact || !sameID(l.Salesforce.ID, c.contact) {
			t.Fatalf("link of hubspot contact %s = %+v, %v; want the converted contact %s", c.hs, l, err, c.contact)
		}
	}
	// Edits both ways reach the new contacts.
	m := w.mark()
	if _, err := w.HubSpot.UpdateAsUser(crmsync.HSContact, hank.ID, map[string]string{"jobtitle": "CEO"}); err != nil {
		t.Fatal(err)
	}
	if err := w.Salesforce.UpdateAs("", billConv.ContactID, map[string]any{"Phone": "+1 555 0199"}); err != nil {
		t.Fatal(err)
	}
	w.settle()
	if got := sfRecordByID(w, "Contact", hankConv.ContactID); got["Title"] != "CEO" {
		_, outs := w.writesSince(m)
		t.Errorf("Hank's contact Title = %v, want CEO; outcomes %+v", got["Title"], outs)
	}
	if got, _ := w.HubSpot.Object(crmsync.HSContact, bill.ID); got.Properties["phone"] != "+1 555 0199" {
		t.Errorf("Bill's HubSpot phone = %q", got.Properties["phone"])
	}
	_, outs := w.writesSince(0)
	for _, o := range outs {
		for _, wr := range o.Writes {
			if wr.Op == "update" && (sameID(wr.Ref.ID, hankLead["Id"].(string)) || sameID(wr.Ref.ID, billLead["Id"].(string))) {
				t.Errorf("wrote a converted lead: %+v", o)
			}
		}
	}
	// One company per account: Globex stays the only one for its
	// account; Initrode's new account makes one company.
	names := map[string]int{}
	for _, c := range w.HubSpot.Objects(crmsync.HSCompany) {
		names[c.Properties["name"]]++
	}
	if names["Globex"] != 1 || names["Initrode"] > 1 {
		t.Errorf("HubSpot companies by name: %v, want one Globex and at most one Initrode", names)
	}
	counts, err := w.store.CountSyncErrors(ctx)
	if err != nil || len(counts) != 0 {
		errs, _, _ := w.store.ListSyncErrors(ctx, "", crmsync.PageRequest{})
		t.Errorf("sync errors after the conversions: %v %v %+v", counts, err, errs)
	}
	if _, err := w.store.GetLink(ctx, crmsync.RecordRef{Side: crmsync.Salesforce, Object: crmsync.SFLead, ID: hankLead["Id"].(string)}); !errors.Is(err, crmsync.ErrNotFound) {
		t.Errorf("the converted lead is still linked: %v", err)
	}
}

func sfRecordByID(w *world, object, id string) map[string]any {
	for _, r := range w.Salesforce.Records(object) {
		if sameID(fmt.Sprint(r["Id"]), id) {
			return r
		}
	}
	return nil
}

// sameID compares Salesforce ids, 15- or 18-character.
func sameID(a, b string) bool { return len(a) >= 15 && len(b) >= 15 && a[:15] == b[:15] }
