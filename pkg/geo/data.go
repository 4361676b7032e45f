package geo

//go:generate go run gen.go

import (
	_ "embed"
	"sort"
	"strings"
	"sync"
)

//go:embed data/iso3166.tsv
var isoTSV string

// country is one ISO 3166-1 entry.
type country struct {
	alpha2, alpha3, name, common, official string
}

// iso is the embedded ISO 3166 data with its look-up keys.
type iso struct {
	countries   map[string]*country            // alpha-2 → country
	countryKeys map[string][]string            // key → alpha-2 codes
	subs        map[string]map[string]string   // alpha-2 → subdivision code (after "XX-") → name
	subKeys     map[string]map[string][]string // alpha-2 → key → subdivision codes
}

// countryVariants are the names ISO 3166 does not give but people write,
// each with its source. Initialisms with dots ("U.S.", "U.S.A.") need no
// entry: key reduces them to the alpha-2 and alpha-3 codes.
var countryVariants = map[string]string{
	// "UK" is exceptionally reserved in ISO 3166-1 for the United Kingdom
	// (at the United Kingdom's request); it is not GB's alpha-2 code.
	"uk": "GB",
	// Great Britain is part of GB's official ISO name, "United Kingdom of
	// Great Britain and Northern Ireland", and is in common use for it.
	"great britain": "GB",
}

var loadISO = sync.OnceValue(func() *iso {
	d := &iso{
		countries:   map[string]*country{},
		countryKeys: map[string][]string{},
		subs:        map[string]map[string]string{},
		subKeys:     map[string]map[string][]string{},
	}
	for _, line := range strings.Split(isoTSV, "\n") {
		f := strings.Split(line, "\t")
		switch {
		case f[0] == "c" && len(f) == 6:
			c := &country{alpha2: f[1], alpha3: f[2], name: f[3], common: f[4], official: f[5]}
			d.countries[c.alpha2] = c
			addKey(d.countryKeys, key(c.alpha2), c.alpha2)
			addKey(d.countryKeys, key(c.alpha3), c.alpha2)
			for _, n := range []string{c.name, c.common, c.official} {
				for _, form := range names(n) {
					addKey(d.countryKeys, key(form), c.alpha2)
				}
			}
		case f[0] == "s" && len(f) == 3:
			cc, code, ok := strings.Cut(f[1], "-")
			if !ok {
				continue
			}
			if d.subs[cc] == nil {
				d.subs[cc] = map[string]string{}
				d.subKeys[cc] = map[string][]string{}
			}
			d.subs[cc][code] = f[2]
			for _, form := range names(f[2]) {
				addKey(d.subKeys[cc], key(form), code)
			}
		}
	}
	for k, cc := range countryVariants {
		addKey(d.countryKeys, k, cc)
	}
	return d
})

// addKey records that k names code, once.
func addKey(m map[string][]string, k, code string) {
	if k == "" {
		return
	}
	for _, c := range m[k] {
		if c == code {
			return
		}
	}
	m[k] = append(m[k], code)
}

// countryName is the ISO short name of an alpha-2 code, or "".
func (d *iso) countryName(cc string) string {
	if c := d.countries[cc]; c != nil {
		return c.name
	}
	return ""
}

// subName is the ISO name of a subdivision (its first form when the name
// gives two), or "".
func (d *iso) subName(cc, code string) string {
	return names(d.subs[cc][code])[0]
}

// Countries lists the ISO 3166-1 alpha-2 codes and short names of the
// embedded data: Salesforce's standard countries are these (the org's
// describe of CountryCode says which are active).
func Countries() map[string]string {
	d := loadISO()
	out := make(map[string]string, len(d.countries))
	for cc, c := range d.countries {
		out[cc] = c.name
	}
	return out
}

// CountryName is the ISO short name of an alpha-2 code ("" when unknown),
// without building Countries' map.
func CountryName(code string) string { return loadISO().countryName(strings.ToUpper(code)) }

// CountryCount is the number of ISO 3166-1 countries.
func CountryCount() int { return len(loadISO().countries) }

// SubdivisionName is the ISO name of a country's subdivision code ("" when
// unknown), without building Subdivisions' map.
func SubdivisionName(countryCode, code string) string {
	d := loadISO()
	cc := strings.ToUpper(countryCode)
	if _, ok := d.subs[cc][code]; !ok {
		return ""
	}
	return d.subName(cc, code)
}

// Subdivisions lists the ISO 3166-2 subdivisions of a country: code (the
// part after "XX-", which is what Salesforce's StateCode holds) → name. It
// is empty for a country ISO 3166-2 has no subdivisions for.
func Subdivisions(countryCode string) map[string]string {
	d := loadISO()
	cc := strings.ToUpper(countryCode)
	out := make(map[string]string, len(d.subs[cc]))
	for code := range d.subs[cc] {
		out[code] = d.subName(cc, code)
	}
	return out
}

// sortedCodes returns the keys of a set, sorted, for stable messages.
func sortedCodes(set map[string]bool) []string {
	out := make([]string, 0, len(set))
	for c := range set {
		out = append(out, c)
	}
	sort.Strings(out)
	return out
}
