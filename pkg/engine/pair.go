package engine

import (
	"slices"
	"strings"

	"github.com/crmsync/crmsync/pkg/crmsync"
)

// pair is the object pair a trigger concerns.
type pair struct {
	hs crmsync.ObjectType
	// sf is the Salesforce type when known (the source's, or the linked
	// record's); for a HubSpot contact not linked yet it is "" and
	// candidates lists the types to match against.
	sf         crmsync.ObjectType
	candidates []crmsync.ObjectType
	enabled    bool
	name       string
}

func pairFor(src crmsync.RecordRef, s crmsync.Settings) (pair, bool) {
	switch src.Object {
	case crmsync.HSContact:
		return pair{hs: crmsync.HSContact, candidates: []crmsync.ObjectType{crmsync.SFContact, crmsync.SFLead}, enabled: s.Objects.Contacts, name: "contacts"}, true
	case crmsync.SFLead, crmsync.SFContact:
		return pair{hs: crmsync.HSContact, sf: src.Object, enabled: s.Objects.Contacts, name: "contacts"}, true
	case crmsync.HSCompany, crmsync.SFAccount:
		return pair{hs: crmsync.HSCompany, sf: crmsync.SFAccount, enabled: s.Objects.Companies, name: "companies"}, true
	case crmsync.HSDeal, crmsync.SFOpportunity:
		return pair{hs: crmsync.HSDeal, sf: crmsync.SFOpportunity, enabled: s.Objects.Deals, name: "deals"}, true
	}
	return pair{}, false
}

func (p pair) isContact() bool { return p.hs == crmsync.HSContact }

// withLink returns p with the Salesforce type of l's Salesforce record.
func (p pair) withLink(l *crmsync.Link) pair {
	if l != nil && !l.Salesforce.IsZero() {
		p.sf = l.Salesforce.Object
	}
	return p
}

// createType is the type a record created on side s gets.
func (p pair) createType(s crmsync.Side, settings crmsync.Settings) crmsync.ObjectType {
	switch {
	case s == crmsync.HubSpot:
		return p.hs
	case p.sf != "":
		return p.sf
	case settings.NewContactsAs == crmsync.CreateAsContact:
		return crmsync.SFContact
	}
	return crmsync.SFLead
}

// matchTypes are the object types on side s a contact is matched against.
func (p pair) matchTypes(s crmsync.Side) []crmsync.ObjectType {
	switch {
	case s == crmsync.HubSpot:
		return []crmsync.ObjectType{crmsync.HSContact}
	case p.sf != "":
		return []crmsync.ObjectType{p.sf}
	}
	return p.candidates
}

// readProperties lists what to read of a record of object o on side s
// under settings: the mapped fields, the email of contacts, and the
// association field where associations are merged.
func readProperties(settings crmsync.Settings, s crmsync.Side, o crmsync.ObjectType) []string {
	var out []string
	add := func(p string) {
		if p != "" && !slices.Contains(out, p) {
			out = append(out, p)
		}
	}
	for _, m := range settings.Mappings {
		if s == crmsync.HubSpot && m.HubSpotObject == o {
			add(m.HubSpotProperty)
		}
		if s == crmsync.Salesforce && m.SalesforceObject == o {
			add(m.SalesforceField)
		}
	}
	switch o {
	case crmsync.HSContact:
		add("email")
	case crmsync.SFLead:
		add("Email")
		for _, f := range conversionFields {
			add(f)
		}
	case crmsync.SFContact:
		add("Email")
	}
	if accountsFor(settings, o) {
		add(accountField)
	}
	for _, f := range ruleFields(settings, o) {
		add(f)
	}
	return out
}

func emailOf(r crmsync.Record) string {
	if r.Ref.Side == crmsync.HubSpot {
		return strings.TrimSpace(r.Properties["email"])
	}
	return strings.TrimSpace(r.Properties["Email"])
}

// linkWith returns l with ref set on its side.
func linkWith(l crmsync.Link, ref crmsync.RecordRef) crmsync.Link {
	if ref.Side == crmsync.HubSpot {
		l.HubSpot = ref
	} else {
		l.Salesforce = ref
	}
	return l
}

// LedgerKey is the ledger key of a record that has no link yet.
func LedgerKey(ref crmsync.RecordRef) string { return "record/" + ref.Key() }
