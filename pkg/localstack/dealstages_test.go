package localstack

import (
	"testing"

	"github.com/crmsync/crmsync/pkg/crmsync"
)

// A deal in each of HubSpot's default pipeline stages becomes an
// Opportunity in the standard Salesforce stage, and a Salesforce stage
// change comes back as HubSpot's stage — on the real simulators, which
// validate dealstage and StageName as the vendors do.
func TestDealStagesScenario(t *testing.T) {
	for _, b := range backends(t) {
		t.Run(b.name, func(t *testing.T) {
			t.Parallel()
			w := start(t, b)
			putSettings(t, w, func(s *crmsync.Settings) {
				s.Objects.Deals = true
				for i := range s.Mappings {
					if s.Mappings[i].HubSpotProperty == "dealstage" {
						s.Mappings[i].Rule = crmsync.RuleTwoWay
					}
				}
			})
			want := map[string]string{"appointmentscheduled": "Prospecting", "qualifiedtobuy": "Qualification",
				"presentationscheduled": "Value Proposition", "decisionmakerboughtin": "Id. Decision Makers",
				"contractsent": "Proposal/Price Quote", "closedwon": "Closed Won", "closedlost": "Closed Lost"}
			ids := map[string]string{}
			for stage := range want {
				d, err := w.HubSpot.CreateAsUser(crmsync.HSDeal, map[string]string{"dealname": "Deal " + stage, "dealstage": stage,
					"pipeline": "default", "closedate": "2026-12-31", "amount": "1000"})
				if err != nil {
					t.Fatal(err)
				}
				ids[stage] = d.ID
			}
			w.settle()
			opps := map[string]map[string]any{}
			for _, o := range w.Salesforce.Records("Opportunity") {
				opps[o["Name"].(string)] = o
			}
			for stage, sfStage := range want {
				o := opps["Deal "+stage]
				if o == nil || o["StageName"] != sfStage {
					_, outs := w.writesSince(0)
					t.Fatalf("deal in %s: opportunity %v, want StageName %q; outcomes %+v", stage, o, sfStage, outs)
				}
			}
			// Salesforce → HubSpot, including a stage HubSpot's pipeline has
			// no stage of its own for.
			opp := opps["Deal appointmentscheduled"]
			if err := w.Salesforce.UpdateAs("", opp["Id"].(string), map[string]any{"StageName": "Negotiation/Review"}); err != nil {
				t.Fatal(err)
			}
			w.settle()
			if d, _ := w.HubSpot.Object(crmsync.HSDeal, ids["appointmentscheduled"]); d.Properties["dealstage"] != "contractsent" {
				t.Errorf("HubSpot dealstage = %q, want contractsent", d.Properties["dealstage"])
			}
			if counts, _ := w.store.CountSyncErrors(t.Context()); len(counts) != 0 {
				errs, _, _ := w.store.ListSyncErrors(t.Context(), "", crmsync.PageRequest{})
				t.Errorf("sync errors: %+v", errs)
			}
		})
	}
}
