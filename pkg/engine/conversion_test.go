package engine

import (
	"context"
	"strings"
	"testing"

	"github.com/crmsync/crmsync/pkg/crmsync"
)

// convert makes the fake Salesforce do what a lead conversion does: a new
// Contact with the lead's values, the lead marked converted.
func (h *harness) convert(lead crmsync.RecordRef, contactID string) crmsync.RecordRef {
	l, _ := h.sf.Record(lead)
	c := h.sf.Put(sfRecord(crmsync.SFContact, contactID, map[string]string{"Email": l.Properties["Email"],
		"LastName": l.Properties["LastName"], "FirstName": l.Properties["FirstName"], "Phone": l.Properties["Phone"]}))
	h.sf.Edit(lead, map[string]string{"IsConverted": "true", "ConvertedContactId": contactID, "ConvertedAccountId": "001A"})
	return c.Ref
}

func TestConvertedLeadRepointsTheLink(t *testing.T) {
	for _, first := range []string{"lead", "hubspot", "contact"} {
		t.Run(first+" first", func(t *testing.T) {
			ctx := context.Background()
			h := newHarness(t, nil)
			c := h.hs.Put(hsContact("1", map[string]string{"email": "cv@example.com", "lastname": "Conv", "company": "Co", "phone": "1"}))
			h.resolve(c.Ref)
			lead := h.sf.Records(crmsync.SFLead)[0].Ref
			contact := h.convert(lead, "003C000000000001AAA")
			writesBefore := len(h.sf.Writes())

			var out Outcome
			switch first {
			case "lead":
				out = h.resolve(lead)
			case "hubspot":
				out = h.resolve(c.Ref)
			case "contact":
				out = h.resolve(contact)
			}
			if out.Decision != DecisionConverted || len(out.Writes) != 0 {
				t.Fatalf("%+v", out)
			}
			l, err := h.store.GetLink(ctx, c.Ref)
			if err != nil || l.Salesforce != contact {
				t.Fatalf("link %+v %v, want re-pointed to %s", l, err, contact)
			}
			// An edit in HubSpot reaches the contact; nothing is written to the lead.
			h.hs.Edit(c.Ref, map[string]string{"phone": ""}) // a clear is refused by the default rule: edit a blank field instead
			h.hs.Edit(c.Ref, map[string]string{"jobtitle": "CFO"})
			if out := h.resolve(c.Ref); out.Decision != DecisionSynced || out.Writes[0].Ref != contact {
				t.Fatalf("edit after conversion: %+v", out)
			}
			for _, w := range h.sf.Writes()[writesBefore:] {
				if w.Ref == lead {
					t.Errorf("wrote the converted lead: %+v", w)
				}
			}
			for _, ref := range []crmsync.RecordRef{c.Ref, lead, contact} {
				if se, err := h.store.GetSyncError(ctx, ref); err == nil {
					t.Errorf("sync error on %s: %+v", ref, se)
				}
			}
		})
	}
}

// A lead converted into an existing Contact that is linked to another
// HubSpot contact is a Duplicates error that names both.
func TestConversionIntoALinkedContactIsADuplicate(t *testing.T) {
	h := newHarness(t, func(s *crmsync.Settings) { s.NewContactsAs = crmsync.CreateAsContact })
	other := h.hs.Put(hsContact("2", map[string]string{"email": "other@example.com", "lastname": "Other"}))
	h.resolve(other.Ref)
	existing := h.sf.Records(crmsync.SFContact)[0].Ref
	h.eng.Store.PutSettings(context.Background(), func() crmsync.Settings {
		s, _ := h.eng.Settings(context.Background())
		s.NewContactsAs = crmsync.CreateAsLead
		return s
	}())
	c := h.hs.Put(hsContact("1", map[string]string{"email": "cv@example.com", "lastname": "Conv", "company": "Co"}))
	h.resolve(c.Ref)
	lead := h.sf.Records(crmsync.SFLead)[0].Ref
	h.sf.Edit(lead, map[string]string{"IsConverted": "true", "ConvertedContactId": existing.ID})
	out := h.resolve(lead)
	if out.Decision != DecisionFailed || out.Category != crmsync.CategoryDuplicates ||
		!strings.Contains(out.Reason, existing.String()) || !strings.Contains(out.Reason, other.Ref.String()) || !strings.Contains(out.Reason, c.Ref.String()) {
		t.Fatalf("%+v", out)
	}
}
