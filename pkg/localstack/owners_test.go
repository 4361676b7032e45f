package localstack

import (
	"testing"

	"github.com/crmsync/crmsync/pkg/crmsync"
	"github.com/crmsync/crmsync/pkg/hubspot"
)

// HubSpot's documented owner rules on the real simulators.
func TestOwnerRulesScenario(t *testing.T) {
	for _, b := range backends(t) {
		t.Run(b.name, func(t *testing.T) {
			t.Parallel()
			w := start(t, b)
			putSettings(t, w, func(s *crmsync.Settings) { s.NewContactsAs = crmsync.CreateAsContact })
			w.HubSpot.AddOwner(hubspot.Owner{ID: "501", Email: "ann@corp.example", FirstName: "Ann"})
			w.HubSpot.AddOwner(hubspot.Owner{ID: "502", Email: "bob@corp.example", FirstName: "Bob"})
			w.HubSpot.AddOwner(hubspot.Owner{ID: "509", Email: "zed@corp.example", FirstName: "Zed"}) // no Salesforce user
			w.Salesforce.AddUser("ann@corp.example", "Ann")
			bob := w.Salesforce.AddUser("bob@corp.example", "Bob")
			inactive := w.Salesforce.AddUser("old@corp.example", "Old")
			w.HubSpot.AddOwner(hubspot.Owner{ID: "510", Email: "old@corp.example", FirstName: "Old"})
			w.Salesforce.SetUserActive(inactive, false)

			// An existing Salesforce contact keeps its owner (bob) on its first
			// sync, though HubSpot's contact (ann) was changed later.
			if _, err := w.Salesforce.CreateAs("", "Contact", map[string]any{"LastName": "Existing", "Email": "ex@example.com", "OwnerId": bob}); err != nil {
				t.Fatal(err)
			}
			c, err := w.HubSpot.CreateAsUser(crmsync.HSContact, map[string]string{"email": "ex@example.com", "lastname": "Existing", "hubspot_owner_id": "501"})
			if err != nil {
				t.Fatal(err)
			}
			w.settle()
			l, err := w.store.GetLink(t.Context(), crmsync.RecordRef{Side: crmsync.HubSpot, Object: crmsync.HSContact, ID: c.ID})
			if err != nil {
				t.Fatal(err)
			}
			sfOwner := func() string {
				rec := sfRecordByID(w, "Contact", l.Salesforce.ID)
				u, _ := w.Salesforce.Get(rec["OwnerId"].(string))
				return u["Email"].(string)
			}
			hsOwner := func() string {
				o, _ := w.HubSpot.Object(crmsync.HSContact, c.ID)
				return o.Properties["hubspot_owner_id"]
			}
			if sfOwner() != "bob@corp.example" || hsOwner() != "502" {
				t.Fatalf("first sync: Salesforce owner %s, HubSpot owner %s; want bob kept, HubSpot 502", sfOwner(), hsOwner())
			}
			// After it, the most recent change wins.
			if _, err := w.HubSpot.UpdateAsUser(crmsync.HSContact, c.ID, map[string]string{"hubspot_owner_id": "501"}); err != nil {
				t.Fatal(err)
			}
			w.settle()
			if sfOwner() != "ann@corp.example" {
				t.Fatalf("Salesforce owner %s after a HubSpot change, want ann", sfOwner())
			}
			// An owner set in HubSpot without a Salesforce user is reset to the
			// Salesforce owner; an inactive user is not matched either.
			for _, id := range []string{"509", "510"} {
				if _, err := w.HubSpot.UpdateAsUser(crmsync.HSContact, c.ID, map[string]string{"hubspot_owner_id": id}); err != nil {
					t.Fatal(err)
				}
				w.settle()
				if hsOwner() != "501" || sfOwner() != "ann@corp.example" {
					t.Errorf("owner %s without an active Salesforce user: HubSpot %s, Salesforce %s; want reset to 501 / ann", id, hsOwner(), sfOwner())
				}
			}
		})
	}
}
