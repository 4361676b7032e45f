package localstack

import (
	"context"
	"testing"

	"github.com/crmsync/crmsync/pkg/crmsync"
)

// Lifecycle stages on the real simulators: a contact role on an open
// opportunity (found by the sweep: contact roles have no outbound
// message) makes the HubSpot contact an "opportunity"; Closing the
// opportunity as won (its outbound message) makes it a "customer".
func TestLifecycleStagesScenario(t *testing.T) {
	for _, b := range backends(t) {
		t.Run(b.name, func(t *testing.T) {
			t.Parallel()
			ctx := context.Background()
			w := start(t, b)
			putSettings(t, w, func(s *crmsync.Settings) {
				s.Lifecycle = crmsync.LifecycleSettings{OpenOpportunityToOpportunity: true, ClosedWonToCustomer: true, PropagateToCompanyContacts: true}
			})
			acct, err := w.Salesforce.CreateAs("", "Account", map[string]any{"Name": "Vandelay"})
			if err != nil {
				t.Fatal(err)
			}
			art, err := w.Salesforce.CreateAs("", "Contact", map[string]any{"LastName": "Vandelay", "Email": "art@vandelay.example", "AccountId": acct})
			if err != nil {
				t.Fatal(err)
			}
			w.settle()
			l, err := w.store.GetLink(ctx, crmsync.RecordRef{Side: crmsync.Salesforce, Object: crmsync.SFContact, ID: art})
			if err != nil {
				t.Fatalf("the contact did not sync: %v", err)
			}
			stage := func() string {
				o, _ := w.HubSpot.Object(crmsync.HSContact, l.HubSpot.ID)
				return o.Properties["lifecyclestage"]
			}
			// Propagation: Bea is only in HubSpot, a contact of Art's company.
			// Never backwards: Cal, an evangelist, also has a role.
			company, err := w.HubSpot.CreateAsUser(crmsync.HSCompany, map[string]string{"name": "Vandelay"})
			if err != nil {
				t.Fatal(err)
			}
			bea, err := w.HubSpot.CreateAsUser(crmsync.HSContact, map[string]string{"email": "bea@vandelay.example", "lastname": "Bea", "lifecyclestage": "lead"})
			if err != nil {
				t.Fatal(err)
			}
			for _, id := range []string{l.HubSpot.ID, bea.ID} {
				if err := w.HubSpot.Associate(crmsync.HSContact, id, crmsync.HSCompany, company.ID); err != nil {
					t.Fatal(err)
				}
			}
			cal, err := w.Salesforce.CreateAs("", "Contact", map[string]any{"LastName": "Cal", "Email": "cal@vandelay.example", "AccountId": acct})
			if err != nil {
				t.Fatal(err)
			}
			w.settle()
			calLink, err := w.store.GetLink(ctx, crmsync.RecordRef{Side: crmsync.Salesforce, Object: crmsync.SFContact, ID: cal})
			if err != nil {
				t.Fatal(err)
			}
			if _, err := w.HubSpot.UpdateAsUser(crmsync.HSContact, calLink.HubSpot.ID, map[string]string{"lifecyclestage": "evangelist"}); err != nil {
				t.Fatal(err)
			}
			w.settle()
			opp, err := w.Salesforce.CreateAs("", "Opportunity", map[string]any{"Name": "Latex", "StageName": "Prospecting",
				"CloseDate": "2026-12-31", "AccountId": acct})
			if err != nil {
				t.Fatal(err)
			}
			for _, c := range []string{art, cal} {
				if _, err := w.Salesforce.CreateAs("", "OpportunityContactRole", map[string]any{"OpportunityId": opp, "ContactId": c, "Role": "Decision Maker"}); err != nil {
					t.Fatal(err)
				}
			}
			if _, err := w.Sweeper.Run(ctx); err != nil {
				t.Fatal(err)
			}
			w.settle()
			if got := stage(); got != "opportunity" {
				t.Fatalf("stage after a role on an open opportunity = %q, want opportunity", got)
			}
			stageOf := func(id string) string {
				o, _ := w.HubSpot.Object(crmsync.HSContact, id)
				return o.Properties["lifecyclestage"]
			}
			if got := stageOf(bea.ID); got != "opportunity" {
				t.Errorf("Bea (same company) = %q, want opportunity (propagated)", got)
			}
			if got := stageOf(calLink.HubSpot.ID); got != "evangelist" {
				t.Errorf("Cal = %q, want evangelist kept (never backwards)", got)
			}
			if err := w.Salesforce.UpdateAs("", opp, map[string]any{"StageName": "Closed Won"}); err != nil {
				t.Fatal(err)
			}
			w.settle()
			if got := stage(); got != "customer" {
				t.Fatalf("stage after Closed Won = %q, want customer", got)
			}
			if counts, _ := w.store.CountSyncErrors(ctx); len(counts) != 0 {
				errs, _, _ := w.store.ListSyncErrors(ctx, "", crmsync.PageRequest{})
				t.Errorf("sync errors: %+v", errs)
			}
		})
	}
}
