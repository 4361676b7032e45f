package localstack

import (
	"testing"

	"github.com/crmsync/crmsync/pkg/crmsync"
)

// Selective sync by rule on the real simulators: a lead outside the rule
// does not sync and says why; it syncs once it meets the rule and stops
// (nothing deleted) when it no longer does; the integration user's
// records always sync; crmsync's own creations with the exemption on.
func TestSelectiveSyncScenario(t *testing.T) {
	for _, b := range backends(t) {
		t.Run(b.name, func(t *testing.T) {
			t.Parallel()
			ctx := t.Context()
			w := start(t, b)
			putSettings(t, w, func(s *crmsync.Settings) {
				s.SelectiveSync = crmsync.SelectiveSync{IntegrationUserID: w.Salesforce.IntegrationUserID, ExemptCreatedByCrmsync: true,
					Rules: map[crmsync.ObjectType]string{crmsync.SFLead: "Status != 'Closed - Not Converted' AND LeadSource IN ('Web', 'Partner Referral')"}}
			})
			rep := w.Salesforce.AddUser("rep@example.com", "Rep")
			hsByEmail := func(email string) string {
				for _, o := range w.HubSpot.Objects(crmsync.HSContact) {
					if o.Properties["email"] == email {
						return o.ID
					}
				}
				return ""
			}
			lead, err := w.Salesforce.CreateAs(rep, "Lead", map[string]any{"LastName": "Sel", "Company": "S", "Email": "sel@example.com",
				"LeadSource": "Phone Inquiry"})
			if err != nil {
				t.Fatal(err)
			}
			w.settle()
			ref := crmsync.RecordRef{Side: crmsync.Salesforce, Object: crmsync.SFLead, ID: lead}
			if se, err := w.store.GetSyncError(ctx, ref); err != nil || se.Reason != crmsync.ReasonNotSelected {
				t.Fatalf("lead outside the rule: %+v %v", se, err)
			}
			if hsByEmail("sel@example.com") != "" {
				t.Fatal("a lead outside the rule reached HubSpot")
			}
			// Meets the rule later: syncs.
			if err := w.Salesforce.UpdateAs(rep, lead, map[string]any{"LeadSource": "Web"}); err != nil {
				t.Fatal(err)
			}
			w.settle()
			id := hsByEmail("sel@example.com")
			if id == "" {
				t.Fatal("the lead did not sync once it met the rule")
			}
			// No longer meets it: stops syncing, nothing deleted, the card says why.
			if err := w.Salesforce.UpdateAs(rep, lead, map[string]any{"Status": "Closed - Not Converted", "Phone": "+1 5"}); err != nil {
				t.Fatal(err)
			}
			w.settle()
			if o, ok := w.HubSpot.Object(crmsync.HSContact, id); !ok || o.Properties["phone"] == "+1 5" {
				t.Errorf("HubSpot contact after the lead left the rule: %+v", o)
			}
			if se, err := w.store.GetSyncError(ctx, ref); err != nil || se.Reason != crmsync.ReasonNotSelected {
				t.Errorf("lead that left the rule: %+v %v", se, err)
			}
			// The integration user's lead syncs whatever the rule says.
			if _, err := w.Salesforce.CreateAs("", "Lead", map[string]any{"LastName": "Own", "Company": "S", "Email": "own@example.com",
				"LeadSource": "Other"}); err != nil {
				t.Fatal(err)
			}
			// A lead crmsync created from a form contact, then handed to a rep
			// outside the rule, keeps syncing (exemption on).
			form, err := w.HubSpot.CreateAsUser(crmsync.HSContact, map[string]string{"email": "form@example.com", "lastname": "Form", "company": "F"})
			if err != nil {
				t.Fatal(err)
			}
			w.settle()
			if hsByEmail("own@example.com") == "" {
				t.Error("the integration user's lead did not sync")
			}
			fl := w.leadByEmail("form@example.com")
			if fl == nil {
				t.Fatal("the form contact did not become a lead")
			}
			if err := w.Salesforce.UpdateAs("", fl["Id"].(string), map[string]any{"OwnerId": rep}); err != nil {
				t.Fatal(err)
			}
			w.settle()
			if _, err := w.HubSpot.UpdateAsUser(crmsync.HSContact, form.ID, map[string]string{"jobtitle": "Buyer"}); err != nil {
				t.Fatal(err)
			}
			w.settle()
			if l := w.leadByEmail("form@example.com"); l["Title"] != "Buyer" {
				t.Errorf("crmsync's own lead stopped syncing: Title %v", l["Title"])
			}
		})
	}
}
