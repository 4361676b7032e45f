package salesforcesim_test

import (
	"testing"

	"github.com/crmsync/crmsync/pkg/sandbox/salesforcesim"
)

// With the picklists on, the code and the text are one value, whichever
// is written (in any case, as API names are case-insensitive); text that
// is no label is refused.
func TestAddressPicklists(t *testing.T) {
	o := salesforcesim.New(salesforcesim.Config{Picklists: salesforcesim.PicklistsStandard, IntegrationUserModifyAll: true})
	id, err := o.CreateAs("", "Lead", map[string]any{"LastName": "A", "Company": "C", "countrycode": "US", "StateCode": "CA"})
	if err != nil {
		t.Fatal(err)
	}
	r, _ := o.Get(id)
	if r["Country"] != "United States" || r["State"] != "California" {
		t.Errorf("text from codes: %v / %v", r["Country"], r["State"])
	}
	if err := o.UpdateAs("", id, map[string]any{"country": "Canada", "State": "Ontario"}); err != nil {
		t.Fatal(err)
	}
	r, _ = o.Get(id)
	if r["CountryCode"] != "CA" || r["StateCode"] != "ON" {
		t.Errorf("codes from text: %v / %v", r["CountryCode"], r["StateCode"])
	}
	if err := o.UpdateAs("", id, map[string]any{"Country": "USA"}); err == nil {
		t.Error("text that is no label was accepted")
	}
	d := salesforcesim.New(salesforcesim.Config{Picklists: salesforcesim.PicklistsDisabled, IntegrationUserModifyAll: true})
	if _, err := d.CreateAs("", "Lead", map[string]any{"LastName": "A", "Company": "C", "Country": "USA", "CountryCode": "US"}); err == nil {
		t.Error("picklists disabled: CountryCode exists")
	}
}
