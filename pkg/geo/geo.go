package geo

import (
	"fmt"
	"strings"
)

// Behaviour is the setting "State and country picklists" of an object
// pair: what crmsync does with HubSpot's free-text country and state.
type Behaviour int

const (
	// Match turns HubSpot's text into the org's values: Salesforce's
	// default names, or CountryCode/StateCode where picklists are enabled.
	// A value that cannot be matched is an error. It is the zero value.
	Match Behaviour = iota
	// AsIs sends HubSpot's text as it is, to the Country and State text
	// fields (with picklists enabled, Salesforce then checks it against the
	// picklists' integration values itself).
	AsIs
)

// Picklists is what the org has for one object's address fields.
//
// Enabled says State and Country/Territory Picklists are on. Countries and
// States are the org's active values when it customised them, from the
// describe of CountryCode and StateCode (see FromDescribe): Countries maps
// country code → label; States maps country code → state code → label,
// and a country missing from a non-nil States has no states in the org.
// Nil Countries or States mean Salesforce's standard values, which are
// ISO 3166-1 and ISO 3166-2 (codes and names).
type Picklists struct {
	Enabled   bool
	Countries map[string]string
	States    map[string]map[string]string
}

// Result is what to write to Salesforce. With Codes set, Country and State
// are CountryCode and StateCode values; otherwise they go to the Country
// and State text fields. "" clears a field.
type Result struct {
	Codes   bool
	Country string
	State   string
}

// ValueError is a country or state crmsync will not write because it
// cannot match it to exactly one value the org accepts. It is a terminal
// sync error in HubSpot's "Property values" category; Field is the HubSpot
// property ("country" or "state"), Value the text as HubSpot has it,
// Reason what is wrong in words.
type ValueError struct {
	Field  string
	Value  string
	Reason string
}

func (e *ValueError) Error() string {
	return fmt.Sprintf("geo: %s %q: %s", e.Field, e.Value, e.Reason)
}

// ToSalesforce turns HubSpot's country and state text into what to write
// to Salesforce, for an org with picklists pl and behaviour b.
//
// With AsIs the text goes as it is. With Match:
//   - picklists enabled: the result holds CountryCode and StateCode values
//     (Codes is true), checked against the org's customised values when
//     pl has them;
//   - picklists disabled: the result holds Salesforce's standard names (the
//     ISO 3166 names) for the Country and State text fields.
//
// A country is matched by ISO alpha-2 or alpha-3 code, ISO name, common
// name or official name (any case, with or without diacritics and
// punctuation: "usa", "U.S.", "Côte d'Ivoire", "cote divoire"), by the
// variants listed in the package documentation, or by the org's own code or
// label. A state is matched within its country, by its code ("CA") or full
// ISO 3166-2 code ("US-CA"), ISO name, or the org's code or label.
//
// Errors are *ValueError: a state without a country, a value that matches
// nothing, a value that matches more than one country or state (never a
// guess), and a value the org's customised picklist does not have.
func ToSalesforce(country, state string, pl Picklists, b Behaviour) (Result, error) {
	country, state = strings.TrimSpace(country), strings.TrimSpace(state)
	if b == AsIs {
		return Result{Country: country, State: state}, nil
	}
	if country == "" {
		if state != "" {
			return Result{}, &ValueError{Field: "state", Value: state, Reason: "a state needs a country: set the country too"}
		}
		return Result{Codes: pl.Enabled}, nil
	}
	cc, err := matchCountry(country, pl)
	if err != nil {
		return Result{}, err
	}
	var sc string
	if state != "" {
		if sc, err = matchState(cc, state, pl, !pl.Enabled); err != nil {
			return Result{}, err
		}
	}
	if pl.Enabled {
		return Result{Codes: true, Country: cc, State: sc}, nil
	}
	d := loadISO()
	r := Result{Country: d.countryName(cc)}
	if sc != "" {
		r.State = d.subName(cc, sc)
	}
	return r, nil
}

// matchCountry finds the one country code text names, in ISO 3166-1 and
// in the org's customised values.
func matchCountry(text string, pl Picklists) (string, error) {
	d := loadISO()
	k := key(text)
	found := map[string]bool{}
	for _, cc := range d.countryKeys[initialism(k)] {
		found[cc] = true
	}
	for code, label := range pl.Countries {
		if strings.EqualFold(code, text) || key(label) == k {
			found[code] = true
		}
	}
	fail := func(reason string, args ...any) error {
		return &ValueError{Field: "country", Value: text, Reason: fmt.Sprintf(reason, args...)}
	}
	switch len(found) {
	case 0:
		return "", fail("no country has that name or code")
	case 1:
	default:
		return "", fail("it could be %s; write the country's ISO code", describeCodes(found, func(c string) string { return label(pl.Countries[c], d.countryName(c)) }))
	}
	cc := sortedCodes(found)[0]
	if pl.Countries != nil {
		if _, ok := pl.Countries[cc]; !ok {
			return "", fail("it is %s (%s), which the org's country picklist does not have", d.countryName(cc), cc)
		}
	}
	return cc, nil
}

// matchState finds the one state code of country cc that text names. When
// only the name will be written (byName), subdivisions that share a name
// are one answer: Bangladesh's division and district "Barishal" are both
// written "Barishal".
func matchState(cc, text string, pl Picklists, byName bool) (string, error) {
	d := loadISO()
	fail := func(reason string, args ...any) error {
		return &ValueError{Field: "state", Value: text, Reason: fmt.Sprintf(reason, args...)}
	}
	countryLabel := label(pl.Countries[cc], d.countryName(cc))
	var org map[string]string
	if pl.States != nil {
		org = pl.States[cc]
		if len(org) == 0 {
			return "", fail("the org's state picklist has no states for %s", countryLabel)
		}
	} else if len(d.subs[cc]) == 0 {
		return "", fail("ISO 3166-2 lists no states for %s", countryLabel)
	}

	code := strings.ToUpper(text)
	// A full ISO 3166-2 code, "US-CA", names its country.
	if prefix, local, ok := strings.Cut(code, "-"); ok && len(prefix) == 2 && d.countries[prefix] != nil {
		if _, known := d.subs[prefix][local]; known {
			if prefix != cc {
				return "", fail("it is a subdivision of %s, not of %s", d.countryName(prefix), countryLabel)
			}
			code = local
		}
	}
	k := key(text)
	found := map[string]bool{}
	if _, ok := d.subs[cc][code]; ok {
		found[code] = true
	}
	for _, c := range d.subKeys[cc][k] {
		found[c] = true
	}
	for c, l := range org {
		if strings.EqualFold(c, code) || key(l) == k {
			found[c] = true
		}
	}
	if byName && org == nil {
		sameName(found, func(c string) string { return d.subName(cc, c) })
	}
	switch len(found) {
	case 0:
		return "", fail("%s has no state or province with that name or code", countryLabel)
	case 1:
	default:
		return "", fail("in %s it could be %s; write the state's code", countryLabel, describeCodes(found, func(c string) string { return label(org[c], d.subName(cc, c)) }))
	}
	sc := sortedCodes(found)[0]
	if org != nil {
		if _, ok := org[sc]; !ok {
			return "", fail("it is %s (%s-%s), which the org's state picklist does not have", d.subName(cc, sc), cc, sc)
		}
	}
	return sc, nil
}

// sameName keeps one code of found (the first in order) when every code in
// it has the same name.
func sameName(found map[string]bool, name func(string) string) {
	codes := sortedCodes(found)
	for _, c := range codes[min(1, len(codes)):] {
		if name(c) != name(codes[0]) {
			return
		}
	}
	for _, c := range codes[min(1, len(codes)):] {
		delete(found, c)
	}
}

// label is the org's label when it has one, else the ISO name.
func label(org, isoName string) string {
	if org != "" {
		return org
	}
	return isoName
}

// describeCodes lists candidates as "Name (CODE) or Name (CODE)".
func describeCodes(set map[string]bool, name func(string) string) string {
	var parts []string
	for _, c := range sortedCodes(set) {
		parts = append(parts, fmt.Sprintf("%s (%s)", name(c), c))
	}
	return strings.Join(parts, " or ")
}

// initialism joins a key made only of single letters, so that "U. S. A."
// (key "u s a") is read as "usa".
func initialism(k string) string {
	parts := strings.Split(k, " ")
	if len(parts) < 2 {
		return k
	}
	for _, p := range parts {
		if len(p) != 1 {
			return k
		}
	}
	return strings.Join(parts, "")
}

// ToHubSpot turns a Salesforce record's country and state (the code fields
// where picklists are enabled, and the text fields) into HubSpot's values,
// which are free text. With Match, a known ISO code or an unambiguous name
// becomes the ISO name ("US", "USA" → "United States"; "CA" in the US →
// "California"); anything else goes as Salesforce has it, since HubSpot
// accepts any text. With AsIs, the text fields go as they are (the codes
// when the text is empty). It never fails.
func ToHubSpot(countryCode, country, stateCode, state string, b Behaviour) (countryOut, stateOut string) {
	country, state = strings.TrimSpace(country), strings.TrimSpace(state)
	countryCode, stateCode = strings.TrimSpace(countryCode), strings.TrimSpace(stateCode)
	countryOut, stateOut = label(country, countryCode), label(state, stateCode)
	if b == AsIs {
		return countryOut, stateOut
	}
	d := loadISO()
	cc := strings.ToUpper(countryCode)
	if d.countries[cc] == nil {
		if country == "" {
			return countryOut, stateOut
		}
		var err error
		if cc, err = matchCountry(country, Picklists{}); err != nil {
			return countryOut, stateOut
		}
	}
	countryOut = d.countryName(cc)
	if sc := strings.ToUpper(stateCode); d.subs[cc][sc] != "" {
		return countryOut, d.subName(cc, sc)
	}
	if state != "" {
		if sc, err := matchState(cc, state, Picklists{}, true); err == nil {
			stateOut = d.subName(cc, sc)
		}
	}
	return countryOut, stateOut
}
