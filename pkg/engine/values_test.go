package engine

import (
	"context"
	"strings"
	"testing"

	"github.com/crmsync/crmsync/pkg/crmsync"
	"github.com/crmsync/crmsync/pkg/mapping"
)

func hsDeal(id string, props map[string]string) crmsync.Record {
	return crmsync.Record{Ref: crmsync.RecordRef{Side: crmsync.HubSpot, Object: crmsync.HSDeal, ID: id}, Properties: props}
}

// Deal stages go through the value map both ways: each of HubSpot's
// default pipeline stages becomes its standard Salesforce stage and back;
// a stage the map lacks is a Property values error naming it, while the
// deal's other fields still sync.
func TestDealStagesMapBothWays(t *testing.T) {
	ctx := context.Background()
	h := newHarness(t, func(s *crmsync.Settings) {
		s.Objects.Deals = true
		s.Mappings = mapping.DefaultMappings(crmsync.RuleTwoWay)
	})
	want := map[string]string{"appointmentscheduled": "Prospecting", "qualifiedtobuy": "Qualification",
		"presentationscheduled": "Value Proposition", "decisionmakerboughtin": "Id. Decision Makers",
		"contractsent": "Proposal/Price Quote", "closedwon": "Closed Won", "closedlost": "Closed Lost"}
	i := 0
	for stage, sfStage := range want {
		i++
		d := h.hs.Put(hsDeal(string(rune('a'+i)), map[string]string{"dealname": "D " + stage, "dealstage": stage, "closedate": "2026-12-31"}))
		out := h.resolve(d.Ref)
		if out.Decision != DecisionSynced || out.Writes[0].Properties["StageName"] != sfStage {
			t.Fatalf("deal in %s: %+v, want StageName %q", stage, out, sfStage)
		}
		opp := out.Writes[0].Ref
		if again := h.resolve(opp); again.Decision != DecisionNoChange {
			t.Errorf("the opportunity's echo for %s: %+v", stage, again)
		}
	}
	// Salesforce → HubSpot, including a stage HubSpot's pipeline has no
	// stage of its own for.
	d := h.hs.Put(hsDeal("z", map[string]string{"dealname": "Zed", "dealstage": "appointmentscheduled", "closedate": "2026-12-31"}))
	opp := h.resolve(d.Ref).Writes[0].Ref
	h.sf.Edit(opp, map[string]string{"StageName": "Negotiation/Review"})
	h.resolve(opp)
	if got, _ := h.hs.Record(d.Ref); got.Properties["dealstage"] != "contractsent" {
		t.Errorf("HubSpot dealstage = %q, want contractsent", got.Properties["dealstage"])
	}
	// An unmapped HubSpot stage: an error naming it; the name still syncs.
	h.hs.Edit(d.Ref, map[string]string{"dealstage": "customstage7", "dealname": "Zed 2"})
	out := h.resolve(d.Ref)
	if got, _ := h.sf.Record(opp); got.Properties["Name"] != "Zed 2" || got.Properties["StageName"] != "Negotiation/Review" {
		t.Errorf("opportunity after an unmapped stage: %v (want the name synced, the stage kept)", got.Properties)
	}
	se, err := h.store.GetSyncError(ctx, d.Ref)
	if err != nil || se.Category != crmsync.CategoryPropertyValues || !strings.Contains(se.Message, `"customstage7"`) ||
		!strings.Contains(se.Message, "value_maps") || out.Category != crmsync.CategoryPropertyValues {
		t.Errorf("sync error %+v %v; outcome %+v", se, err, out)
	}
	// Mapped again: the error clears.
	h.hs.Edit(d.Ref, map[string]string{"dealstage": "closedwon"})
	h.resolve(d.Ref)
	if got, _ := h.sf.Record(opp); got.Properties["StageName"] != "Closed Won" {
		t.Errorf("StageName = %q, want Closed Won", got.Properties["StageName"])
	}
	if _, err := h.store.GetSyncError(ctx, d.Ref); err == nil {
		t.Error("the unmapped-value error was not cleared")
	}
}
