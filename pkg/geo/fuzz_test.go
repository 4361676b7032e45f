package geo

import (
	"errors"
	"testing"
)

// FuzzMatch checks that matching never panics, that it returns either a
// result or a *ValueError naming the country or state, and that a matched
// result matches again to itself (applying the mapping twice changes
// nothing).
func FuzzMatch(f *testing.F) {
	for _, s := range [][2]string{
		{"USA", "Calif."}, {"U.S.", "CA"}, {"Côte d'Ivoire", ""}, {"", "CA"}, {"Bangladesh", "Dhaka"},
		{"Spain", "Illes Balears [Islas Baleares]"}, {"US-CA", "US-CA"}, {"u. k.", "england"}, {"\xff", "-"},
	} {
		f.Add(s[0], s[1])
	}
	situations := []Picklists{{}, {Enabled: true}, customised}
	f.Fuzz(func(t *testing.T, country, state string) {
		for _, pl := range situations {
			for _, b := range []Behaviour{Match, AsIs} {
				r, err := ToSalesforce(country, state, pl, b)
				if err != nil {
					var ve *ValueError
					if !errors.As(err, &ve) || (ve.Field != "country" && ve.Field != "state") {
						t.Fatalf("ToSalesforce(%q, %q) error %v is not a *ValueError", country, state, err)
					}
					continue
				}
				if b != Match || r.Country == "" {
					continue
				}
				again, err := ToSalesforce(r.Country, r.State, pl, b)
				if err != nil || again != r {
					t.Fatalf("ToSalesforce(%q, %q) = %+v, but that gives %+v, %v", country, state, r, again, err)
				}
			}
		}
		ToHubSpot(country, country, state, state, Match)
		ToHubSpot("", country, "", state, Match)
	})
}
