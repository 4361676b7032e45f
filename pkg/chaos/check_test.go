package chaos

import (
	"testing"

	"github.com/crmsync/crmsync/pkg/crmsync"
)

func TestCheck(t *testing.T) {
	contacts := Pair{HubSpot: crmsync.HSContact, Salesforce: []crmsync.ObjectType{crmsync.SFLead, crmsync.SFContact},
		HubSpotKey: "email", SalesforceKey: "Email"}
	mappings := []crmsync.FieldMapping{
		{HubSpotObject: crmsync.HSContact, SalesforceObject: crmsync.SFLead, HubSpotProperty: "phone", SalesforceField: "Phone", Rule: crmsync.RuleTwoWay},
		{HubSpotObject: crmsync.HSContact, SalesforceObject: crmsync.SFLead, HubSpotProperty: "jobtitle", SalesforceField: "Title", Rule: crmsync.RuleAlwaysSalesforce},
	}
	hs := func(id, email, phone, title string) Record {
		return Record{Ref: crmsync.RecordRef{Side: crmsync.HubSpot, Object: crmsync.HSContact, ID: id},
			Values: map[string]string{"email": email, "phone": phone, "jobtitle": title}}
	}
	sf := func(o crmsync.ObjectType, id, email, phone, title string) Record {
		return Record{Ref: crmsync.RecordRef{Side: crmsync.Salesforce, Object: o, ID: id},
			Values: map[string]string{"Email": email, "Phone": phone, "Title": title}}
	}
	link := func(h, s Record) crmsync.Link {
		return crmsync.Link{HubSpot: h.Ref, Salesforce: s.Ref, Status: crmsync.LinkActive}
	}
	a, aLead := hs("1", "a@x", "2", "hs title"), sf(crmsync.SFLead, "00Qa", "a@x", "2", "sf title")
	b, bLead := hs("2", "b@x", "1", ""), sf(crmsync.SFLead, "00Qb", "b@x", "2", "")
	c, cLead, cContact := hs("3", "c@x", "", ""), sf(crmsync.SFLead, "00Qc", "c@x", "", ""), sf(crmsync.SFContact, "003c", "c@x", "", "")
	d, dLead := hs("4", "d@x", "", ""), sf(crmsync.SFLead, "00Qd", "d@x", "", "")
	e := hs("5", "e@x", "", "")
	snap := Snapshot{
		Records: []Record{a, aLead, b, bLead, c, cLead, cContact, d, dLead, e},
		Links:   []crmsync.Link{link(a, aLead), link(b, bLead), link(c, cLead), link(d, bLead)},
	}
	want := []Expected{
		// Converged: two-way phone on both sides; a HubSpot title held
		// back by "always use Salesforce" is a refusal, not a loss.
		{Pair: contacts, Key: "a@x", Fields: map[string]Value{"phone": {"2", crmsync.Salesforce}, "jobtitle": {"hs title", crmsync.HubSpot}}},
		// Salesforce's phone never reached HubSpot.
		{Pair: contacts, Key: "b@x", Fields: map[string]Value{"phone": {"2", crmsync.Salesforce}}},
		// A lead and a contact of one email.
		{Pair: contacts, Key: "c@x"},
		// Linked to another record's lead (which is then linked twice).
		{Pair: contacts, Key: "d@x"},
		// Never reached Salesforce.
		{Pair: contacts, Key: "e@x"},
	}
	res := Check(snap, mappings, want)
	if res.Expected != 5 || res.Converged != 1 {
		t.Errorf("converged %d of %d, want 1 of 5; findings %+v", res.Converged, res.Expected, res.Findings)
	}
	got := map[string][]string{}
	for _, f := range res.Findings {
		got[f.Key] = append(got[f.Key], f.Kind)
	}
	wantKinds := map[string][]string{
		"b@x": {FindingDuplicate, FindingLost}, // bLead is linked to b and d
		"c@x": {FindingDuplicate},
		"d@x": {FindingUnlinked}, // its link goes to b's lead
		"e@x": {FindingUnlinked},
	}
	for key, kinds := range wantKinds {
		if !sameSet(got[key], kinds) {
			t.Errorf("%s: findings %v, want %v", key, got[key], kinds)
		}
	}
	if len(got["a@x"]) != 0 {
		t.Errorf("a@x converged but has findings %v", got["a@x"])
	}
	if res.OK() {
		t.Error("OK with findings")
	}
	if n := res.Count(FindingLost); n != 1 {
		t.Errorf("%d lost updates, want 1", n)
	}
}

func sameSet(a, b []string) bool {
	m := map[string]int{}
	for _, s := range a {
		m[s]++
	}
	for _, s := range b {
		m[s]--
	}
	for _, n := range m {
		if n != 0 {
			return false
		}
	}
	return true
}
