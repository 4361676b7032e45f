package engine

import (
	"errors"
	"fmt"

	"github.com/crmsync/crmsync/pkg/crmsync"
	"github.com/crmsync/crmsync/pkg/geo"
	"github.com/crmsync/crmsync/pkg/mapping"
)

// States and countries (settings state_country; package geo). HubSpot
// keeps them as free text; Salesforce as text, or — with State and
// Country/Territory Picklists on — as CountryCode/StateCode picklists
// whose labels fill the text fields. With behaviour "match" both sides'
// values are compared as ISO 3166 names ("USA", "U.S.", "US" and "United
// States" are one value), writes to Salesforce are the org's codes where
// its picklists are on (checked against its values when it customised
// them, from the describe) and its standard names where they are off, and
// writes to HubSpot are the names. A HubSpot value that cannot be matched
// to exactly one value — a state without a country among them — is never
// guessed: it is not written, and the record gets a Property values error
// naming it while its other fields sync. With "as_is" HubSpot's text goes
// to the text fields as it is (an org with picklists then checks it).
// The org's situation is read from the describe of the Salesforce object;
// without field metadata (a CRM without SalesforceSchema) text is
// compared and written as it is.

// addressPrefix is the compound address of a Salesforce object crmsync
// maps HubSpot's country and state to.
func addressPrefix(o crmsync.ObjectType) (string, bool) {
	switch o {
	case crmsync.SFLead:
		return "", true
	case crmsync.SFContact:
		return "Mailing", true
	case crmsync.SFAccount:
		return "Billing", true
	}
	return "", false
}

// address is what the engine knows of the pair's address fields.
type address struct {
	prefix string
	match  bool
	pl     geo.Picklists
}

// readAddress takes the org's picklists of the pair's Salesforce object
// from its field metadata (nil: none, and addresses are text).
func (f *facts) readAddress(fields map[string]mapping.SalesforceField) {
	prefix, ok := addressPrefix(f.pair.sf)
	if !ok || fields == nil || !f.mapsAddress(prefix) {
		return
	}
	a := &address{prefix: prefix, match: f.settings.StateCountry.Behaviour != crmsync.StateCountryAsIs}
	if cf, ok := fields[prefix+"CountryCode"]; ok {
		a.pl.Enabled = true
		if len(cf.PicklistValues) > 0 && len(cf.PicklistValues) < geo.CountryCount() {
			a.pl.Countries = map[string]string{}
			for _, c := range cf.PicklistValues {
				a.pl.Countries[c] = geo.CountryName(c)
			}
		}
	}
	f.look.address = a
}

// mapsAddress reports whether the pair maps HubSpot's country and state
// to the address with prefix.
func (f *facts) mapsAddress(prefix string) bool {
	n := 0
	for _, m := range f.mappings() {
		if m.HubSpotProperty == "country" && m.SalesforceField == prefix+"Country" || m.HubSpotProperty == "state" && m.SalesforceField == prefix+"State" {
			n++
		}
	}
	return n == 2
}

// addressToMergeForm puts both records' countries and states in ISO names
// (behaviour match). A HubSpot value that cannot be matched is reported
// and taken as unchanged; a Salesforce one is compared as it is.
func (f *facts) addressToMergeForm(hs, sf crmsync.Record) {
	a := f.look.address
	if a == nil || !a.match {
		return
	}
	if hs.Ref.ID != "" {
		r, err := geo.ToSalesforce(hs.Properties["country"], hs.Properties["state"], geo.Picklists{}, geo.Match)
		if err != nil {
			f.found.unmapped = append(f.found.unmapped, addressProblem(err))
			hs.Properties["country"] = f.asLastSynced("country", a.prefix+"Country", sf)
			hs.Properties["state"] = f.asLastSynced("state", a.prefix+"State", sf)
		} else {
			hs.Properties["country"], hs.Properties["state"] = r.Country, r.State
		}
	}
	if sf.Ref.ID != "" {
		if r, err := geo.ToSalesforce(sf.Properties[a.prefix+"Country"], sf.Properties[a.prefix+"State"], geo.Picklists{}, geo.Match); err == nil {
			sf.Properties[a.prefix+"Country"], sf.Properties[a.prefix+"State"] = r.Country, r.State
		}
	}
}

// addressWrite turns country and state writes to Salesforce into the
// org's values: codes where its picklists are on (behaviour match).
func (f *facts) addressWrite(props map[string]string, p *Plan) {
	a := f.look.address
	if a == nil || !a.match || !a.pl.Enabled {
		return
	}
	ck, sk := a.prefix+"Country", a.prefix+"State"
	country, cw := props[ck]
	state, sw := props[sk]
	if !cw && !sw {
		return
	}
	if !cw {
		country = f.recs[crmsync.HubSpot].Properties["country"]
	}
	if !sw {
		state = f.recs[crmsync.HubSpot].Properties["state"]
	}
	r, err := geo.ToSalesforce(country, state, a.pl, geo.Match)
	delete(props, ck)
	delete(props, sk)
	if err != nil {
		f.found.unmapped = append(f.found.unmapped, addressProblem(err))
		p.Notes = append(p.Notes, "country/state not written")
		return
	}
	props[a.prefix+"CountryCode"], props[a.prefix+"StateCode"] = r.Country, r.State
}

// addressProblem words a value geo cannot match.
func addressProblem(err error) string {
	var ve *geo.ValueError
	if errors.As(err, &ve) {
		return fmt.Sprintf("HubSpot %s %q: %s (settings state_country; fix the value in HubSpot)", ve.Field, ve.Value, ve.Reason)
	}
	return err.Error()
}
