package engine

import (
	"context"
	"strings"
	"testing"

	"github.com/crmsync/crmsync/pkg/crmsync"
)

func TestSelectiveSync(t *testing.T) {
	ctx := context.Background()
	const integration = "005000000000001AAA"
	rules := func(exempt bool) func(*crmsync.Settings) {
		return func(s *crmsync.Settings) {
			s.SelectiveSync = crmsync.SelectiveSync{IntegrationUserID: integration, ExemptCreatedByCrmsync: exempt,
				Rules: map[crmsync.ObjectType]string{crmsync.SFLead: "Sync__c = true AND Email LIKE '%@%'"}}
		}
	}
	t.Run("matched, not matched, matched later, no longer matched", func(t *testing.T) {
		h := newHarness(t, rules(false))
		lead := h.sf.Put(sfRecord(crmsync.SFLead, "00Q1", map[string]string{"Email": "s@example.com", "LastName": "S", "Company": "C", "Sync__c": "false"})).Ref
		out := h.resolve(lead)
		if out.Decision != DecisionNotEligible || !strings.Contains(out.Reason, "Sync__c = true") {
			t.Fatalf("not matched: %+v", out)
		}
		if se, _ := h.store.GetSyncError(ctx, lead); se.Reason != crmsync.ReasonNotSelected || se.Category != crmsync.CategoryPermissions {
			t.Errorf("sync error %+v", se)
		}
		if n := len(h.hs.Records(crmsync.HSContact)); n != 0 {
			t.Fatalf("%d HubSpot contacts for a lead outside the rule", n)
		}
		h.sf.Edit(lead, map[string]string{"Sync__c": "true"})
		if out := h.resolve(lead); out.Decision != DecisionSynced {
			t.Fatalf("matched later: %+v", out)
		}
		if _, err := h.store.GetSyncError(ctx, lead); err == nil {
			t.Error("the refusal was not cleared once the lead met the rule")
		}
		c := h.hs.Records(crmsync.HSContact)[0].Ref
		h.sf.Edit(lead, map[string]string{"Sync__c": "false", "Phone": "1"})
		if out := h.resolve(lead); out.Decision != DecisionNotEligible {
			t.Fatalf("no longer matched: %+v", out)
		}
		if got, _ := h.hs.Record(c); got.Properties["phone"] != "" || got.Archived {
			t.Errorf("HubSpot contact changed or deleted after the lead left the rule: %+v", got)
		}
		if _, err := h.store.GetLink(ctx, lead); err != nil {
			t.Errorf("the link was dropped: %v", err)
		}
		// A HubSpot change does not reach a lead outside the rule either.
		h.hs.Edit(c, map[string]string{"jobtitle": "X"})
		if out := h.resolve(c); out.Decision != DecisionNotEligible {
			t.Errorf("HubSpot change to a pair outside the rule: %+v", out)
		}
	})
	t.Run("owned by the integration user", func(t *testing.T) {
		h := newHarness(t, rules(false))
		lead := h.sf.Put(sfRecord(crmsync.SFLead, "00Q2", map[string]string{"Email": "o@example.com", "LastName": "O", "Company": "C",
			"Sync__c": "false", "OwnerId": integration})).Ref
		if out := h.resolve(lead); out.Decision != DecisionSynced {
			t.Fatalf("%+v", out)
		}
	})
	for _, exempt := range []bool{false, true} {
		t.Run("created by crmsync, exempt "+map[bool]string{false: "off", true: "on"}[exempt], func(t *testing.T) {
			h := newHarness(t, rules(exempt))
			c := h.hs.Put(hsContact("1", map[string]string{"email": "form@example.com", "lastname": "Form", "company": "C"}))
			h.resolve(c.Ref)
			lead := h.sf.Records(crmsync.SFLead)[0].Ref
			h.sf.Edit(lead, map[string]string{"CreatedById": integration, "OwnerId": "005OTHER00000000AAA"}) // reassigned to a rep
			h.hs.Edit(c.Ref, map[string]string{"jobtitle": "Buyer"})
			out := h.resolve(c.Ref)
			if exempt && out.Decision != DecisionSynced || !exempt && out.Decision != DecisionNotEligible {
				t.Errorf("%+v", out)
			}
		})
	}
}
