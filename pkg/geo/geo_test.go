package geo

import (
	"errors"
	"strings"
	"testing"
	"unicode"
)

// customised is an org that deactivated most countries, renamed Quebec and
// added a non-ISO state (Salesforce's US picklist has the armed-forces
// codes) and a country ISO does not list.
var customised = Picklists{
	Enabled:   true,
	Countries: map[string]string{"US": "United States", "CA": "Canada", "GB": "United Kingdom", "XK": "Kosovo"},
	States: map[string]map[string]string{
		"US": {"CA": "California", "NY": "New York", "AA": "Armed Forces Americas"},
		"CA": {"QC": "Québec", "ON": "Ontario"},
	},
}

func TestToSalesforce(t *testing.T) {
	disabled := Picklists{}
	standard := Picklists{Enabled: true}
	tests := []struct {
		name           string
		country, state string
		pl             Picklists
		b              Behaviour
		want           Result
		errField       string // "" = no error
		errReason      string
	}{
		// Picklists disabled, Match: Salesforce's standard names.
		{"disabled/match names", "usa", "calIFornia", disabled, Match, Result{Country: "United States", State: "California"}, "", ""},
		{"disabled/match codes", "US", "CA", disabled, Match, Result{Country: "United States", State: "California"}, "", ""},
		{"disabled/match dotted", "U.S.A.", "US-NY", disabled, Match, Result{Country: "United States", State: "New York"}, "", ""},
		{"disabled/match spaced initials", "U. S.", "ny", disabled, Match, Result{Country: "United States", State: "New York"}, "", ""},
		{"disabled/match official name", "United States of America", "", disabled, Match, Result{Country: "United States"}, "", ""},
		{"disabled/match diacritics", "COTE D’IVOIRE", "", disabled, Match, Result{Country: "Côte d'Ivoire"}, "", ""},
		{"disabled/match alpha-3", "deu", "Bayern", disabled, Match, Result{Country: "Germany", State: "Bayern"}, "", ""},
		{"disabled/match UK", "UK", "England", disabled, Match, Result{Country: "United Kingdom", State: "England"}, "", ""},
		{"disabled/match Great Britain", "Great Britain", "", disabled, Match, Result{Country: "United Kingdom"}, "", ""},
		{"disabled/match inverted", "Republic of Korea", "", disabled, Match, Result{Country: "Korea, Republic of"}, "", ""},
		{"disabled/match common name", "South Korea", "", disabled, Match, Result{Country: "Korea, Republic of"}, "", ""},
		{"disabled/match second language", "Spain", "Gerona", disabled, Match, Result{Country: "Spain", State: "Girona"}, "", ""},
		{"disabled/match accent-free state", "Canada", "Quebec", disabled, Match, Result{Country: "Canada", State: "Quebec"}, "", ""},
		{"disabled/match empty", "", "", disabled, Match, Result{}, "", ""},
		{"disabled/match state without country", "", "CA", disabled, Match, Result{}, "state", "a state needs a country"},
		{"disabled/match unknown country", "Narnia", "", disabled, Match, Result{}, "country", "no country has that name or code"},
		{"disabled/match other language", "Deutschland", "", disabled, Match, Result{}, "country", "no country has that name"},
		{"disabled/match abbreviation", "USA", "Calif.", disabled, Match, Result{}, "state", "United States has no state or province"},
		{"disabled/match same-name states", "Bangladesh", "Dhaka", disabled, Match, Result{Country: "Bangladesh", State: "Dhaka"}, "", ""},
		{"standard/match ambiguous state", "Bangladesh", "Dhaka", Picklists{Enabled: true}, Match, Result{}, "state", "could be Dhaka (13) or Dhaka (C)"},
		{"disabled/match state of another country", "Canada", "US-CA", disabled, Match, Result{}, "state", "a subdivision of United States, not of Canada"},
		{"disabled/match no subdivisions", "Antarctica", "Ross", disabled, Match, Result{}, "state", "ISO 3166-2 lists no states for Antarctica"},
		// Picklists disabled, AsIs: the text as it is.
		{"disabled/as-is", " Calif ", "USA ", disabled, AsIs, Result{Country: "Calif", State: "USA"}, "", ""},
		{"disabled/as-is state alone", "", "CA", disabled, AsIs, Result{State: "CA"}, "", ""},

		// Picklists enabled with the standard values, Match: ISO codes.
		{"standard/match", "United States", "California", standard, Match, Result{Codes: true, Country: "US", State: "CA"}, "", ""},
		{"standard/match codes", "ca", "qc", standard, Match, Result{Codes: true, Country: "CA", State: "QC"}, "", ""},
		{"standard/match Ireland", "Ireland", "Dublin", standard, Match, Result{Codes: true, Country: "IE", State: "D"}, "", ""},
		{"standard/match no state", "Germany", "", standard, Match, Result{Codes: true, Country: "DE"}, "", ""},
		{"standard/match clear", "", "", standard, Match, Result{Codes: true}, "", ""},
		{"standard/match state without country", " ", "Texas", standard, Match, Result{}, "state", "a state needs a country"},
		{"standard/match unknown state", "US", "Narnia", standard, Match, Result{}, "state", "United States has no state or province"},
		{"standard/match ambiguous state", "Spain", "Illes Balears", standard, Match, Result{}, "state", "could be Illes Balears (IB) or Illes Balears (PM)"},
		// Enabled, AsIs: text fields, Salesforce checks them.
		{"standard/as-is", "U.S.", "Calif.", standard, AsIs, Result{Country: "U.S.", State: "Calif."}, "", ""},

		// Enabled and customised, Match: the org's values.
		{"customised/match", "usa", "California", customised, Match, Result{Codes: true, Country: "US", State: "CA"}, "", ""},
		{"customised/match org label", "United States", "Armed Forces Americas", customised, Match, Result{Codes: true, Country: "US", State: "AA"}, "", ""},
		{"customised/match org code", "United States", "aa", customised, Match, Result{Codes: true, Country: "US", State: "AA"}, "", ""},
		{"customised/match org-only country", "Kosovo", "", customised, Match, Result{Codes: true, Country: "XK"}, "", ""},
		{"customised/match renamed label", "Canada", "québec", customised, Match, Result{Codes: true, Country: "CA", State: "QC"}, "", ""},
		{"customised/match inactive country", "Germany", "", customised, Match, Result{}, "country", "it is Germany (DE), which the org's country picklist does not have"},
		{"customised/match inactive state", "US", "Texas", customised, Match, Result{}, "state", "it is Texas (US-TX), which the org's state picklist does not have"},
		{"customised/match country without states", "GB", "England", customised, Match, Result{}, "state", "the org's state picklist has no states for United Kingdom"},
		{"customised/match state without country", "", "Ontario", customised, Match, Result{}, "state", "a state needs a country"},
		{"customised/match unknown", "Atlantis", "", customised, Match, Result{}, "country", "no country has that name or code"},
		{"customised/as-is", "Deutschland", "Bayern", customised, AsIs, Result{Country: "Deutschland", State: "Bayern"}, "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ToSalesforce(tt.country, tt.state, tt.pl, tt.b)
			if tt.errField == "" {
				if err != nil || got != tt.want {
					t.Errorf("ToSalesforce(%q, %q) = %+v, %v; want %+v", tt.country, tt.state, got, err, tt.want)
				}
				return
			}
			var ve *ValueError
			if !errors.As(err, &ve) {
				t.Fatalf("ToSalesforce(%q, %q) = %+v, %v; want a *ValueError", tt.country, tt.state, got, err)
			}
			value := strings.TrimSpace(tt.country)
			if tt.errField == "state" {
				value = strings.TrimSpace(tt.state)
			}
			if ve.Field != tt.errField || ve.Value != value || !strings.Contains(ve.Reason, tt.errReason) {
				t.Errorf("ToSalesforce(%q, %q) error = %+v; want field %s, value %q, reason with %q", tt.country, tt.state, ve, tt.errField, value, tt.errReason)
			}
			if got != (Result{}) {
				t.Errorf("ToSalesforce(%q, %q) returned %+v with its error", tt.country, tt.state, got)
			}
		})
	}
}

func TestToHubSpot(t *testing.T) {
	tests := []struct {
		countryCode, country, stateCode, state string
		b                                      Behaviour
		wantCountry, wantState                 string
	}{
		{"US", "United States", "CA", "California", Match, "United States", "California"},
		{"us", "", "ca", "", Match, "United States", "California"},
		{"", "USA", "", "NY", Match, "United States", "New York"},
		{"", "U.S.", "", "Calif.", Match, "United States", "Calif."},
		{"", "Narnia", "", "Cair Paravel", Match, "Narnia", "Cair Paravel"},
		{"XK", "Kosovo", "", "", Match, "Kosovo", ""},
		{"CA", "Canada", "QC", "Québec", Match, "Canada", "Quebec"},
		{"KR", "", "", "", Match, "Korea, Republic of", ""},
		{"", "", "", "", Match, "", ""},
		{"US", "United States", "AA", "Armed Forces Americas", Match, "United States", "Armed Forces Americas"},
		{"", "usa", "", "ca", AsIs, "usa", "ca"},
		{"US", "", "CA", "", AsIs, "US", "CA"},
	}
	for _, tt := range tests {
		gotCountry, gotState := ToHubSpot(tt.countryCode, tt.country, tt.stateCode, tt.state, tt.b)
		if gotCountry != tt.wantCountry || gotState != tt.wantState {
			t.Errorf("ToHubSpot(%q, %q, %q, %q, %v) = %q, %q; want %q, %q", tt.countryCode, tt.country, tt.stateCode, tt.state, tt.b,
				gotCountry, gotState, tt.wantCountry, tt.wantState)
		}
	}
}

// TestRoundTrip checks that every ISO country goes there and back: its
// name matches its own code, and the code comes back as the name. Applying
// the mapping twice changes nothing.
func TestRoundTrip(t *testing.T) {
	for cc, name := range Countries() {
		r, err := ToSalesforce(name, "", Picklists{Enabled: true}, Match)
		if err != nil || r.Country != cc {
			t.Errorf("ToSalesforce(%q) = %+v, %v; want %s", name, r, err, cc)
			continue
		}
		if back, _ := ToHubSpot(cc, "", "", "", Match); back != name {
			t.Errorf("ToHubSpot(%s) = %q, want %q", cc, back, name)
		}
		again, err := ToSalesforce(name, "", Picklists{}, Match)
		if err != nil || again.Country != name {
			t.Errorf("ToSalesforce(%q) with picklists disabled = %+v, %v; want the name unchanged", name, again, err)
		}
	}
	us := Subdivisions("US")
	if len(us) < 50 || us["CA"] != "California" || us["DC"] != "District of Columbia" {
		t.Errorf("Subdivisions(US) has %d entries, CA %q, DC %q", len(us), us["CA"], us["DC"])
	}
	for code, name := range us {
		r, err := ToSalesforce("US", name, Picklists{Enabled: true}, Match)
		if err != nil || r.State != code {
			t.Errorf("ToSalesforce(US, %q) = %+v, %v; want %s", name, r, err, code)
		}
	}
}

func TestKey(t *testing.T) {
	tests := map[string]string{
		"Côte d'Ivoire":                "cote divoire",
		"U.S.A.":                       "usa",
		"  Bosnia  and\tHerzegovina ":  "bosnia and herzegovina",
		"Trinidad & Tobago":            "trinidad and tobago",
		"Guinea-Bissau":                "guinea bissau",
		"Åland Islands":                "aland islands",
		"Curaçao":                      "curacao",
		"Şanʻā’":                       "sana",
		"Straße":                       "strasse",
		"Cote\u0301":                   "cote", // a decomposed accent
		"Aerodrom †":                   "aerodrom",
		"Saint Barthélemy":             "saint barthelemy",
		"Réunion":                      "reunion",
		"Korea, Democratic People's R": "korea democratic peoples r",
	}
	for in, want := range tests {
		if got := key(in); got != want {
			t.Errorf("key(%q) = %q, want %q", in, got, want)
		}
	}
}

// TestDataFolds checks that every name in the embedded data has an ASCII
// key: a letter the fold table lacks would make its name unmatchable by
// anyone typing it without diacritics.
func TestDataFolds(t *testing.T) {
	d := loadISO()
	if len(d.countries) < 240 || len(d.subs) < 190 {
		t.Fatalf("embedded data has %d countries, %d countries with subdivisions", len(d.countries), len(d.subs))
	}
	check := func(k string) {
		for _, r := range k {
			if r > unicode.MaxASCII {
				t.Errorf("key %q keeps %q: add it to foldPairs", k, r)
				return
			}
		}
	}
	for k := range d.countryKeys {
		check(k)
	}
	for _, keys := range d.subKeys {
		for k := range keys {
			check(k)
		}
	}
}

func TestFromDescribe(t *testing.T) {
	countries := []PicklistValue{
		{Value: "CA", Label: "Canada", Active: true},
		{Value: "DE", Label: "Germany", Active: false},
		{Value: "US", Label: "United States", Active: true},
	}
	// Bits, first byte: CA=0x80, DE=0x40, US=0x20.
	states := []PicklistValue{
		{Value: "ON", Label: "Ontario", Active: true, ValidFor: "gA=="},    // 0x80: CA
		{Value: "CA", Label: "California", Active: true, ValidFor: "IA=="}, // 0x20: US
		{Value: "BY", Label: "Bayern", Active: true, ValidFor: "QA=="},     // 0x40: DE (inactive)
		{Value: "TX", Label: "Texas", Active: false, ValidFor: "IA=="},
	}
	pl, err := FromDescribe(countries, states)
	if err != nil {
		t.Fatal(err)
	}
	if !pl.Enabled || len(pl.Countries) != 2 || pl.Countries["US"] != "United States" {
		t.Errorf("Countries = %v", pl.Countries)
	}
	if len(pl.States) != 2 || pl.States["CA"]["ON"] != "Ontario" || pl.States["US"]["CA"] != "California" || len(pl.States["US"]) != 1 {
		t.Errorf("States = %v", pl.States)
	}
	if r, err := ToSalesforce("usa", "Texas", pl, Match); err == nil {
		t.Errorf("ToSalesforce(usa, Texas) with Texas inactive = %+v, want an error", r)
	}
	if _, err := FromDescribe(countries, []PicklistValue{{Value: "X", Active: true, ValidFor: "!!"}}); err == nil {
		t.Error("FromDescribe with a bad validFor succeeded")
	}
}
