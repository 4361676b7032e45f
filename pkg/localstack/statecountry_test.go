package localstack

import (
	"fmt"
	"strings"
	"testing"

	"github.com/crmsync/crmsync/pkg/crmsync"
	"github.com/crmsync/crmsync/pkg/sandbox/salesforcesim"
)

// States and countries for each of the three org situations × the two
// behaviours, on the real simulators (the org enforces its picklists as
// Salesforce does), plus a state without a country and Salesforce →
// HubSpot.
func TestStateCountryScenario(t *testing.T) {
	orgs := map[string]salesforcesim.Picklists{"standard": salesforcesim.PicklistsStandard,
		"customized": salesforcesim.PicklistsCustomized, "disabled": salesforcesim.PicklistsDisabled}
	for _, b := range backends(t) {
		for org, pl := range orgs {
			for _, behaviour := range []string{crmsync.StateCountryMatch, crmsync.StateCountryAsIs} {
				t.Run(fmt.Sprintf("%s/%s/%s", b.name, org, behaviour), func(t *testing.T) {
					t.Parallel()
					stateCountry(t, b, pl, behaviour)
				})
			}
		}
	}
}

func stateCountry(t *testing.T, b backend, pl salesforcesim.Picklists, behaviour string) {
	w := startWith(t, b, Config{SalesforcePicklists: pl})
	putSettings(t, w, func(s *crmsync.Settings) { s.StateCountry.Behaviour = behaviour })
	c, err := w.HubSpot.CreateAsUser(crmsync.HSContact, map[string]string{"email": "sc@example.com", "lastname": "Sc", "company": "C",
		"country": "USA", "state": "CA"})
	if err != nil {
		t.Fatal(err)
	}
	noCountry, err := w.HubSpot.CreateAsUser(crmsync.HSContact, map[string]string{"email": "nc@example.com", "lastname": "Nc", "company": "C", "state": "CA"})
	if err != nil {
		t.Fatal(err)
	}
	w.settle()
	lead := w.leadByEmail("sc@example.com")
	se, seErr := w.store.GetSyncError(t.Context(), crmsync.RecordRef{Side: crmsync.HubSpot, Object: crmsync.HSContact, ID: c.ID})
	match := behaviour == crmsync.StateCountryMatch
	switch {
	case match && pl != salesforcesim.PicklistsDisabled:
		if lead == nil || lead["CountryCode"] != "US" || lead["StateCode"] != "CA" || lead["Country"] != "United States" || lead["State"] != "California" {
			t.Fatalf("lead %v, want US/CA codes with their labels", lead)
		}
	case match:
		if lead == nil || lead["Country"] != "United States" || lead["State"] != "California" {
			t.Fatalf("lead %v, want the standard names", lead)
		}
	case pl == salesforcesim.PicklistsDisabled:
		if lead == nil || lead["Country"] != "USA" || lead["State"] != "CA" {
			t.Fatalf("lead %v, want the text as it is", lead)
		}
	default: // as is, into picklists: Salesforce refuses text that is no label
		if seErr != nil || se.Code != "FIELD_INTEGRITY_EXCEPTION" || se.Category != crmsync.CategoryPropertyValues {
			t.Fatalf("as-is text into picklists: lead %v, sync error %+v %v; want FIELD_INTEGRITY_EXCEPTION", lead, se, seErr)
		}
		return
	}
	if seErr == nil {
		t.Errorf("a matched address left a sync error: %+v", se)
	}
	// A state without a country: never guessed (match); the rest syncs.
	if match {
		se, err := w.store.GetSyncError(t.Context(), crmsync.RecordRef{Side: crmsync.HubSpot, Object: crmsync.HSContact, ID: noCountry.ID})
		if err != nil || se.Category != crmsync.CategoryPropertyValues || !strings.Contains(se.Message, `"CA"`) {
			t.Errorf("state without a country: %+v %v", se, err)
		}
		if l := w.leadByEmail("nc@example.com"); l == nil || l["LastName"] != "Nc" || l["State"] != nil && l["State"] != "" {
			t.Errorf("state without a country: lead %v, want created without the state", l)
		}
	}
	// A customised org refuses a country it does not have: crmsync names it
	// instead of sending it.
	if match && pl == salesforcesim.PicklistsCustomized {
		fr, err := w.HubSpot.CreateAsUser(crmsync.HSContact, map[string]string{"email": "fr@example.com", "lastname": "Fr", "company": "C", "country": "France"})
		if err != nil {
			t.Fatal(err)
		}
		w.settle()
		se, err := w.store.GetSyncError(t.Context(), crmsync.RecordRef{Side: crmsync.HubSpot, Object: crmsync.HSContact, ID: fr.ID})
		if err != nil || se.Code != "UNMAPPED_VALUE" || !strings.Contains(se.Message, "France") {
			t.Errorf("a country the org lacks: %+v %v", se, err)
		}
	}
	// Salesforce → HubSpot writes HubSpot's values (names).
	if match && pl != salesforcesim.PicklistsDisabled {
		if err := w.Salesforce.UpdateAs("", lead["Id"].(string), map[string]any{"CountryCode": "CA", "StateCode": "ON"}); err != nil {
			t.Fatal(err)
		}
		w.settle()
		if got, _ := w.HubSpot.Object(crmsync.HSContact, c.ID); got.Properties["country"] != "Canada" || got.Properties["state"] != "Ontario" {
			t.Errorf("HubSpot country/state %q/%q, want Canada/Ontario", got.Properties["country"], got.Properties["state"])
		}
	}
}
