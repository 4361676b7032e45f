package salesforcesim

import (
	"slices"
	"sort"
	"strings"

	"github.com/crmsync/crmsync/pkg/geo"
	"github.com/crmsync/crmsync/pkg/salesforce"
)

// Picklists is the org's State and Country/Territory Picklists setting.
type Picklists int

// The three situations of an org.
const (
	// PicklistsCustomized: the picklists are on with an admin's reduced
	// set (countries CA, DE, PT and US; a few states of US and CA). The
	// default, as before the setting existed.
	PicklistsCustomized Picklists = iota
	// PicklistsStandard: on, with Salesforce's standard values (ISO 3166
	// codes and names).
	PicklistsStandard
	// PicklistsDisabled: off: Country and State are free text and the
	// CountryCode and StateCode fields do not exist.
	PicklistsDisabled
)

// addressPrefixes are the compound addresses of the schema's objects.
var addressPrefixes = []string{"", "Mailing", "Billing", "Shipping", "Other"}

// applyPicklists adapts the schema to the org's picklists setting.
func applyPicklists(schema map[string]*Object, p Picklists) {
	for _, obj := range schema {
		for _, prefix := range addressPrefixes {
			cf, ok := obj.Field(prefix + "CountryCode")
			if !ok {
				continue
			}
			sf, _ := obj.Field(prefix + "StateCode")
			switch p {
			case PicklistsDisabled:
				obj.Fields = slices.DeleteFunc(obj.Fields, func(f *Field) bool { return f == cf || f == sf })
				obj.index()
			case PicklistsStandard:
				codes := make([]string, 0, 250)
				states := map[string][]string{}
				for code := range geo.Countries() {
					codes = append(codes, code)
					for s := range geo.Subdivisions(code) {
						states[code] = append(states[code], s)
					}
				}
				sort.Strings(codes)
				cf.Picklist, sf.ValidFor = codes, states
			}
		}
	}
}

// syncAddress keeps each address's text and code fields one value, as an
// org with the picklists on does: writing a code sets the text to its
// label; writing text sets the code whose label it is — text that is no
// label is FIELD_INTEGRITY_EXCEPTION.
func syncAddress(obj *Object, rec, in map[string]any) *apiError {
	// The fields written, by their schema names (API names are
	// case-insensitive).
	written := make(map[string]any, len(in))
	for name, v := range in {
		if f, ok := obj.Field(name); ok {
			written[f.Name] = v
		}
	}
	in = written
	for _, prefix := range addressPrefixes {
		cf, ok := obj.Field(prefix + "CountryCode")
		if !ok {
			continue
		}
		if err := syncPair(rec, in, prefix+"Country", cf, geo.CountryName, cf.Picklist,
			"There's a problem with this country, even though it may appear correct. Please select a country/territory from the list of valid countries."); err != nil {
			return err
		}
		sf, _ := obj.Field(prefix + "StateCode")
		country, _ := rec[cf.Name].(string)
		if err := syncPair(rec, in, prefix+"State", sf, func(code string) string { return geo.SubdivisionName(country, code) }, sf.ValidFor[country],
			"There's a problem with this state, even though it may appear correct. Please select a state from the list of valid states."); err != nil {
			return err
		}
	}
	return nil
}

// syncPair syncs one text field with its code picklist.
func syncPair(rec, in map[string]any, text string, code *Field, label func(string) string, codes []string, bad string) *apiError {
	_, codeIn := in[code.Name]
	_, textIn := in[text]
	switch {
	case codeIn:
		c, _ := rec[code.Name].(string)
		if c == "" {
			rec[text] = nil
		} else if l := label(c); l != "" {
			rec[text] = l
		}
	case textIn:
		t, _ := rec[text].(string)
		if t == "" {
			rec[code.Name] = nil
			return nil
		}
		for _, c := range codes {
			if strings.EqualFold(label(c), t) {
				rec[code.Name], rec[text] = c, label(c)
				return nil
			}
		}
		return errf(400, salesforce.CodeFieldIntegrity, []string{text}, "%s", bad)
	}
	return nil
}
