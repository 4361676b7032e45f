package geo

import (
	"encoding/base64"
	"fmt"
)

// PicklistValue is one entry of a field's picklistValues in Salesforce's
// describe (sObject describe, fields[].picklistValues[]).
type PicklistValue struct {
	Value    string `json:"value"`
	Label    string `json:"label"`
	Active   bool   `json:"active"`
	ValidFor string `json:"validFor,omitempty"` // base64 bitmap over the controlling field's values
}

// FromDescribe builds the org's Picklists from the describe of an object's
// CountryCode and StateCode fields (for example Contact's MailingCountryCode
// and MailingStateCode). Only active values count. StateCode is a dependent
// picklist of CountryCode: bit i of a state's validFor (most significant
// bit of the first byte first) says it belongs to countryCodes[i], so
// countryCodes must be the describe's list in its order, inactive values
// included.
func FromDescribe(countryCodes, stateCodes []PicklistValue) (Picklists, error) {
	pl := Picklists{Enabled: true, Countries: map[string]string{}, States: map[string]map[string]string{}}
	for _, c := range countryCodes {
		if c.Active {
			pl.Countries[c.Value] = c.Label
		}
	}
	for _, s := range stateCodes {
		if !s.Active {
			continue
		}
		bits, err := base64.StdEncoding.DecodeString(s.ValidFor)
		if err != nil {
			return Picklists{}, fmt.Errorf("geo: state code %s: validFor: %w", s.Value, err)
		}
		for i, c := range countryCodes {
			if i/8 >= len(bits) || bits[i/8]&(0x80>>(i%8)) == 0 || !c.Active {
				continue
			}
			if pl.States[c.Value] == nil {
				pl.States[c.Value] = map[string]string{}
			}
			pl.States[c.Value][s.Value] = s.Label
		}
	}
	return pl, nil
}
