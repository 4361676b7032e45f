package engine

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/crmsync/crmsync/pkg/crmsync"
)

// Lead conversion. When a synced Lead is converted in Salesforce, its
// link follows the new Contact: the shadow is kept (so nothing is written
// back and forth), nothing is ever written to the converted Lead (which
// Salesforce refuses with CANNOT_UPDATE_CONVERTED_LEAD), and no duplicate
// card appears. The conversion is found whichever record's trigger comes
// first — the Lead's (outbound message or sweep), the HubSpot contact's
// (its linked Lead reads as converted), or the new Contact's (identity by
// email finds the HubSpot contact linked to the Lead that became it).
//
// The contact's company: when company sync is on and the new Account is
// not linked yet, the HubSpot contact's primary company, if it has one
// that is not linked either, is linked to the Account — HubSpot's own
// connector creates a second company here; crmsync does not. Without a
// company the Account's own sync creates one. The converted Opportunity
// syncs through its own trigger when deals sync.
//
// A conversion into an existing Contact that is linked to another HubSpot
// contact is a Duplicates error naming both records.

// conversionFields are the Lead fields that say it was converted.
var conversionFields = []string{"IsConverted", "ConvertedContactId", "ConvertedAccountId", "ConvertedOpportunityId"}

// convertedInto returns the Contact a converted Lead became ("" when rec
// is not a converted lead).
func convertedInto(rec crmsync.Record) string {
	if rec.Ref.Object != crmsync.SFLead || !strings.EqualFold(rec.Properties["IsConverted"], "true") {
		return ""
	}
	return rec.Properties["ConvertedContactId"]
}

// sameID compares Salesforce ids, 15- or 18-character.
func sameID(a, b string) bool { return len(a) >= 15 && len(b) >= 15 && a[:15] == b[:15] }

// readConversion reads the Contact a linked, converted lead became and
// puts it in the lead's place.
func (e *Engine) readConversion(ctx context.Context, f *facts, lead crmsync.Record) error {
	c := &conversion{lead: lead.Ref, account: lead.Properties["ConvertedAccountId"], opportunity: lead.Properties["ConvertedOpportunityId"],
		contact: crmsync.RecordRef{Side: crmsync.Salesforce, Object: crmsync.SFContact, ID: convertedInto(lead)}}
	l, err := e.Store.GetLink(ctx, c.contact)
	switch {
	case err == nil && (f.link == nil || l.ID != f.link.ID):
		c.contactLink = &l
	case err != nil && !errors.Is(err, crmsync.ErrNotFound):
		return fmt.Errorf("get link of %s: %w", c.contact, err)
	}
	f.found.converted, f.pair.sf = c, crmsync.SFContact
	if c.contactLink != nil {
		return nil // refused: no need to read the contact
	}
	contact, err := e.crm(crmsync.Salesforce).Get(ctx, c.contact, readProperties(f.settings, crmsync.Salesforce, crmsync.SFContact))
	if err != nil {
		return opError{"read " + c.contact.String() + ", the contact of converted " + lead.Ref.String(), err}
	}
	f.recs[crmsync.Salesforce] = contact
	return nil
}

// readConvertedFrom finds, for a Salesforce Contact whose email matched a
// HubSpot contact linked to a Lead, whether that Lead was converted into
// this Contact; if so the pair is the lead's link, re-pointed.
func (e *Engine) readConvertedFrom(ctx context.Context, f *facts) error {
	src, ml := f.src(), f.found.matchLink
	if src.Object != crmsync.SFContact || ml == nil || ml.Salesforce.Object != crmsync.SFLead {
		return nil
	}
	lead, err := e.crm(crmsync.Salesforce).Get(ctx, ml.Salesforce, readProperties(f.settings, crmsync.Salesforce, crmsync.SFLead))
	if errors.Is(err, crmsync.ErrNotFound) {
		return nil
	}
	if err != nil {
		return opError{"read " + ml.Salesforce.String(), err}
	}
	if !sameID(convertedInto(lead), src.ID) {
		return nil
	}
	f.link, f.found.matchLink, f.found.match = ml, nil, nil
	f.found.converted = &conversion{lead: lead.Ref, contact: src, account: lead.Properties["ConvertedAccountId"],
		opportunity: lead.Properties["ConvertedOpportunityId"]}
	return nil
}

// conversionPlan adjusts a merge plan of a converted pair: the link's
// Salesforce record is the Contact, the Account is linked to the
// contact's unlinked company. It returns a refusal plan instead when the
// Contact is linked to another HubSpot contact.
func conversionRefusal(f *facts) *Plan {
	c := f.found.converted
	if c == nil || c.contactLink == nil {
		return nil
	}
	se := crmsync.SyncError{Category: crmsync.CategoryDuplicates, Code: "CONVERTED_INTO_LINKED_CONTACT",
		Message: fmt.Sprintf("%s was converted into %s, which is already linked to %s; %s is linked to the lead",
			c.lead, c.contact, c.contactLink.HubSpot, f.link.HubSpot),
		Hint: "merge the two HubSpot contacts (the survivor keeps one link), then resync"}
	p := errorPlan(f, se, DecisionFailed)
	return &p
}

// companyOfConversion returns the link to make between the contact's
// unlinked primary company and the conversion's unlinked Account (nil:
// none), and sets the lookups as they will be once it is made.
func (f *facts) companyOfConversion() *crmsync.Link {
	c := f.found.converted
	if c == nil || c.account == "" || !f.accountsOn() || f.look.hsAccount == nil || f.look.hsPrimary == nil {
		return nil
	}
	company := *f.look.hsPrimary
	if company == "" || *f.look.hsAccount != unlinkedPrefix+company {
		return nil
	}
	if linked, ok := f.look.companyOf[c.account]; !ok || linked != "" {
		return nil
	}
	account := c.account
	f.look.hsAccount = &account
	f.look.companyOf[account] = company
	return &crmsync.Link{HubSpot: crmsync.RecordRef{Side: crmsync.HubSpot, Object: crmsync.HSCompany, ID: company},
		Salesforce: crmsync.RecordRef{Side: crmsync.Salesforce, Object: crmsync.SFAccount, ID: account},
		Status:     crmsync.LinkActive, CreatedAt: f.now, UpdatedAt: f.now}
}
