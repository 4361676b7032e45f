package mapping

import (
	"encoding/json"
	"errors"
	"fmt"
	"math/big"
	"math/rand/v2"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/crmsync/crmsync/pkg/crmsync"
)

// pairs are the compatible (HubSpot shape, Salesforce type) pairs, one per
// conversion path.
var pairs = []struct {
	hs string
	sf string
	// lossy: HubSpot → Salesforce → HubSpot does not give the HubSpot
	// value back (the time of day is dropped).
	lossy bool
}{
	{"text", "string", false}, {"textarea", "textarea", false}, {"phonenumber", "phone", false},
	{"select", "picklist", false}, {"radio", "picklist", false},
	{"checkbox", "multipicklist", false},
	{"booleancheckbox", "boolean", false}, {"enum boolean", "boolean", false},
	{"number", "double", false}, {"number", "int", false}, {"number", "currency", false}, {"number", "percent", false},
	{"date", "date", false}, {"date", "datetime", false},
	{"datetime", "date", true}, {"datetime", "datetime", false},
}

func TestConvertTable(t *testing.T) {
	tests := []struct {
		hs, sf string
		in     string // HubSpot wire value
		toSF   string // merge form
		back   string // ToHubSpot(toSF)
	}{
		{"text", "string", "Ada\r\nLovelace", "Ada\nLovelace", "Ada\nLovelace"},
		{"textarea", "textarea", "a\r\r\nb\rc\r", "a\nb\rc\r", "a\nb\rc\r"},
		{"text", "string", "  spaced  ", "  spaced  ", "  spaced  "},
		{"select", "picklist", "Closed Won", "Closed Won", "Closed Won"},
		{"checkbox", "multipicklist", "b;a; c ;a;", "a;b;c", "a;b;c"},
		{"checkbox", "multipicklist", "solo", "solo", "solo"},
		{"booleancheckbox", "boolean", "True", "true", "true"},
		{"booleancheckbox", "boolean", "0", "false", "false"},
		{"number", "double", "1.50", "1.5", "1.5"},
		{"number", "double", "+001.500e2", "150", "150"},
		{"number", "double", "-0.0", "0", "0"},
		{"number", "double", "1e-7", "0.0000001", "0.0000001"},
		{"number", "currency", " 1500 ", "1500", "1500"},
		{"number", "double", "1E+21", "1000000000000000000000", "1000000000000000000000"},
		{"date", "date", "2026-11-23", "2026-11-23", "2026-11-23"},
		{"date", "date", "1795392000000", "2026-11-23", "2026-11-23"},
		{"date", "datetime", "1795392000000", "2026-11-23T00:00:00.000Z", "2026-11-23"},
		{"datetime", "date", "2026-11-23T23:59:59.999Z", "2026-11-23", "2026-11-23T00:00:00.000Z"},
		{"datetime", "date", "2026-11-23T20:00:00-08:00", "2026-11-24", "2026-11-24T00:00:00.000Z"},
		{"datetime", "datetime", "1795438800123", "2026-11-23T13:00:00.123Z", "2026-11-23T13:00:00.123Z"},
		{"datetime", "datetime", "2026-11-23T13:00:00Z", "2026-11-23T13:00:00.000Z", "2026-11-23T13:00:00.000Z"},
		{"datetime", "datetime", "2026-11-23T14:00:00.123456+01:00", "2026-11-23T13:00:00.123Z", "2026-11-23T13:00:00.123Z"},
		{"dateTime", "datetime", "2026-11-23", "2026-11-23T00:00:00.000Z", "2026-11-23T00:00:00.000Z"},
	}
	for _, k := range []string{"text", "select", "checkbox", "booleancheckbox", "number", "date", "datetime"} {
		tests = append(tests, struct{ hs, sf, in, toSF, back string }{k, wantCompatible[k][0], "", "", ""})
	}
	for _, tt := range tests {
		t.Run(tt.hs+"/"+tt.sf+"/"+tt.in, func(t *testing.T) {
			hs, sf := hsShapes[tt.hs], sfField(tt.sf)
			got, err := ToSalesforce(tt.in, hs, sf)
			if err != nil || got != tt.toSF {
				t.Fatalf("ToSalesforce(%q) = %q, %v; want %q", tt.in, got, err, tt.toSF)
			}
			back, err := ToHubSpot(got, hs, sf)
			if err != nil || back != tt.back {
				t.Fatalf("ToHubSpot(%q) = %q, %v; want %q", got, back, err, tt.back)
			}
		})
	}
}

func TestSalesforceWireForms(t *testing.T) {
	tests := []struct {
		hs, sf, in, want string
	}{
		{"datetime", "datetime", "2026-11-23T13:00:00.000+0000", "2026-11-23T13:00:00.000Z"},
		{"datetime", "datetime", "2026-11-23T14:00:00.000+0100", "2026-11-23T13:00:00.000Z"},
		{"date", "datetime", "2026-11-23T13:00:00.000+0000", "2026-11-23T00:00:00.000Z"},
		{"datetime", "date", "2026-11-23", "2026-11-23"},
		{"number", "double", "1e+21", "1000000000000000000000"},
		{"number", "currency", "1500.0", "1500"},
		{"booleancheckbox", "boolean", "false", "false"},
		{"checkbox", "multipicklist", "b;a", "a;b"},
	}
	for _, tt := range tests {
		got, err := CanonicalSalesforce(tt.in, hsShapes[tt.hs], sfField(tt.sf))
		if err != nil || got != tt.want {
			t.Errorf("%s/%s: CanonicalSalesforce(%q) = %q, %v; want %q", tt.hs, tt.sf, tt.in, got, err, tt.want)
		}
	}
}

func TestConvertErrors(t *testing.T) {
	tests := []struct {
		hs, sf, in string
		toSF       bool // ToSalesforce (else ToHubSpot)
		want       string
	}{
		{"number", "double", "12abc", true, "decimal number"},
		{"number", "double", "NaN", true, "decimal number"},
		{"number", "double", "Inf", true, "decimal number"},
		{"number", "double", "0x10", true, "decimal number"},
		{"number", "double", "1,500", true, "decimal number"},
		{"number", "double", "1e999999", true, "decimal number"},
		{"number", "double", "1e401", true, "decimal number"},
		{"number", "double", ".", true, "decimal number"},
		{"number", "double", "1.2.3", true, "decimal number"},
		{"booleancheckbox", "boolean", "yes please", true, "true or false"},
		{"date", "date", "23/11/2026", true, "YYYY-MM-DD or epoch milliseconds"},
		{"date", "date", "1795438800123", true, "midnight UTC"},
		{"datetime", "datetime", "yesterday", true, "ISO 8601"},
		{"datetime", "datetime", "2026-11-23T13:00:00.000+0000x", false, "ISO 8601"},
		{"date", "date", "2026-11-23T00:00:00.000Z", false, "YYYY-MM-DD"},
		{"number", "double", "--1", false, "decimal number"},
	}
	for _, tt := range tests {
		hs, sf := hsShapes[tt.hs], sfField(tt.sf)
		var err error
		if tt.toSF {
			_, err = ToSalesforce(tt.in, hs, sf)
		} else {
			_, err = ToHubSpot(tt.in, hs, sf)
		}
		var ve *ValueError
		if !errors.As(err, &ve) || !errors.Is(err, crmsync.ErrInvalid) || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%s/%s %q: err = %v, want a *ValueError wrapping ErrInvalid saying %q", tt.hs, tt.sf, tt.in, err, tt.want)
		}
	}
}

func TestCheckSalesforceValue(t *testing.T) {
	str := SalesforceField{Name: "Title", Type: "string", Length: 5}
	pick := SalesforceField{Name: "StageName", Type: "picklist", RestrictedPicklist: true, PicklistValues: []string{"Won", "Lost"}}
	multi := SalesforceField{Name: "L__c", Type: "multipicklist", RestrictedPicklist: true, PicklistValues: []string{"a", "b"}}
	open := SalesforceField{Name: "LeadSource", Type: "picklist", PicklistValues: []string{"Web"}}
	whole := SalesforceField{Name: "NumberOfEmployees", Type: "int"}
	tests := []struct {
		v  string
		f  SalesforceField
		ok bool
	}{
		{"héllo", str, true}, {"héllo!", str, false}, {"", str, true},
		{"Won", pick, true}, {"won", pick, false}, {"Other", open, true},
		{"a;b", multi, true}, {"a;c", multi, false},
		{"12", whole, true}, {"12.5", whole, false},
	}
	for _, tt := range tests {
		err := CheckSalesforceValue(tt.v, tt.f)
		if (err == nil) != tt.ok || err != nil && !errors.Is(err, crmsync.ErrInvalid) {
			t.Errorf("CheckSalesforceValue(%q, %s) = %v, want ok=%v", tt.v, tt.f.Name, err, tt.ok)
		}
	}
}

// Random wire values, in every form the vendors send.

func randDay(r *rand.Rand) time.Time {
	return time.Date(1900+r.IntN(250), 1, 1, 0, 0, 0, 0, time.UTC).AddDate(0, 0, r.IntN(366))
}

func randInstant(r *rand.Rand) time.Time {
	return randDay(r).Add(time.Duration(r.Int64N(int64(24*time.Hour))) / time.Microsecond * time.Microsecond)
}

func hubSpotWire(r *rand.Rand, shape string) string {
	if r.IntN(20) == 0 {
		return ""
	}
	switch shape {
	case "text", "textarea", "phonenumber":
		return randText(r)
	case "select", "radio":
		return []string{"a", "b", "Closed Won", "x y"}[r.IntN(4)]
	case "checkbox":
		return randMulti(r)
	case "booleancheckbox", "enum boolean":
		return []string{"true", "false", "True", "FALSE", "1", "0", "t", "f"}[r.IntN(8)]
	case "number":
		return randNumber(r)
	case "date":
		d := randDay(r)
		if r.IntN(2) == 0 {
			return strconv.FormatInt(d.UnixMilli(), 10)
		}
		return d.Format("2006-01-02")
	case "datetime", "dateTime":
		t := randInstant(r)
		switch r.IntN(5) {
		case 0:
			return strconv.FormatInt(t.UnixMilli(), 10)
		case 1:
			return t.Format(time.RFC3339Nano)
		case 2:
			return t.In(time.FixedZone("", (r.IntN(27)-12)*3600)).Format(time.RFC3339Nano)
		case 3:
			return t.Truncate(time.Second).Format(time.RFC3339)
		}
		return t.Format("2006-01-02T15:04:05.000Z")
	}
	panic("no generator for " + shape)
}

func randText(r *rand.Rand) string {
	runes := []rune("aZ 9é€漢\n\r;,.'\"\t😀")
	var b strings.Builder
	for range r.IntN(20) {
		b.WriteRune(runes[r.IntN(len(runes))])
	}
	return b.String()
}

func randMulti(r *rand.Rand) string {
	opts := []string{"a", "b", "c", "Dee", "e f"}
	var vs []string
	for range r.IntN(6) {
		v := opts[r.IntN(len(opts))]
		if r.IntN(4) == 0 {
			v = " " + v + " "
		}
		vs = append(vs, v)
	}
	return strings.Join(vs, ";")
}

// randNumber writes a random decimal in one of the ways it may be
// written: signs, leading and trailing zeros, exponents.
func randNumber(r *rand.Rand) string {
	intPart := strconv.FormatInt(r.Int64N(1_000_000_000), 10)
	if r.IntN(3) == 0 {
		intPart = strings.Repeat("0", r.IntN(3)) + intPart
	}
	s := intPart
	if r.IntN(2) == 0 {
		s += "." + strconv.FormatInt(r.Int64N(100000), 10) + strings.Repeat("0", r.IntN(3))
	}
	if r.IntN(3) == 0 {
		s = []string{"-", "+"}[r.IntN(2)] + s
	}
	if r.IntN(4) == 0 {
		s += []string{"e", "E"}[r.IntN(2)] + strconv.Itoa(r.IntN(41)-20)
	}
	return s
}

func salesforceWire(r *rand.Rand, typ string) string {
	if r.IntN(20) == 0 {
		return ""
	}
	switch typ {
	case "string", "textarea", "phone":
		return randText(r)
	case "picklist":
		return []string{"a", "b", "Closed Won"}[r.IntN(3)]
	case "multipicklist":
		return randMulti(r)
	case "boolean":
		return strconv.FormatBool(r.IntN(2) == 0)
	case "double", "currency", "percent", "int":
		// As Salesforce answers: a JSON number.
		b, _ := json.Marshal(float64(r.Int64N(1e12)) / float64([]int64{1, 10, 100, 1e6}[r.IntN(4)]) * float64([]int64{1, -1}[r.IntN(2)]))
		return string(b)
	case "date":
		return randDay(r).Format("2006-01-02")
	case "datetime":
		return randInstant(r).Truncate(time.Millisecond).Format("2006-01-02T15:04:05.000+0000")
	}
	panic("no generator for " + typ)
}

// salesforceReadBack is how Salesforce answers with a merge-form value it
// was sent: date-times in its +0000 form, numbers as JSON numbers of the
// stored double (when the double holds the decimal exactly enough).
func salesforceReadBack(s, typ string) string {
	switch typ {
	case "datetime":
		if t, err := time.Parse(dateTimeLayout, s); err == nil {
			return t.Format("2006-01-02T15:04:05.000+0000")
		}
	case "double", "currency", "percent", "int":
		if f, err := strconv.ParseFloat(s, 64); err == nil && len(strings.Trim(strings.Replace(s, ".", "", 1), "-0")) <= 15 {
			b, _ := json.Marshal(f)
			return string(b)
		}
	}
	return s
}

const iterations = 3000

// The round trips that keep echo detection working, over random values of
// every pair: a HubSpot value sent to Salesforce and read back, or a
// Salesforce value sent to HubSpot and read back, is the same merge value;
// and for pairs that lose nothing, A → B → A is the identity on the
// canonical form.
func TestRoundTripProperties(t *testing.T) {
	for _, p := range pairs {
		t.Run(p.hs+"/"+p.sf, func(t *testing.T) {
			r := rand.New(rand.NewPCG(1, uint64(len(p.hs)*31+len(p.sf))))
			hs, sf := hsShapes[p.hs], sfField(p.sf)
			for range iterations {
				// HubSpot → Salesforce → HubSpot.
				h := hubSpotWire(r, p.hs)
				s, err := ToSalesforce(h, hs, sf)
				if err != nil {
					t.Fatalf("ToSalesforce(%q): %v", h, err)
				}
				if again, err := CanonicalSalesforce(salesforceReadBack(s, p.sf), hs, sf); err != nil || again != s {
					t.Fatalf("HubSpot %q → merge %q → Salesforce read back → %q, %v", h, s, again, err)
				}
				h2, err := ToHubSpot(s, hs, sf)
				if err != nil {
					t.Fatalf("ToHubSpot(%q): %v", s, err)
				}
				if s2, err := ToSalesforce(h2, hs, sf); err != nil || s2 != s {
					t.Fatalf("echo: HubSpot %q → %q → HubSpot %q → %q, %v", h, s, h2, s2, err)
				}
				ch, err := CanonicalHubSpot(h, hs)
				if err != nil {
					t.Fatalf("CanonicalHubSpot(%q): %v", h, err)
				}
				if s3, _ := ToSalesforce(ch, hs, sf); s3 != s {
					t.Fatalf("canonical HubSpot %q of %q converts to %q, the original to %q", ch, h, s3, s)
				}
				if !p.lossy && h2 != ch {
					t.Fatalf("HubSpot %q → Salesforce %q → HubSpot %q, want the canonical %q", h, s, h2, ch)
				}
				if cc, _ := CanonicalHubSpot(ch, hs); cc != ch {
					t.Fatalf("CanonicalHubSpot not idempotent: %q → %q → %q", h, ch, cc)
				}

				// Salesforce → HubSpot → Salesforce.
				w := salesforceWire(r, p.sf)
				m, err := CanonicalSalesforce(w, hs, sf)
				if err != nil {
					t.Fatalf("CanonicalSalesforce(%q): %v", w, err)
				}
				if mm, _ := CanonicalSalesforce(m, hs, sf); mm != m {
					t.Fatalf("CanonicalSalesforce not idempotent: %q → %q → %q", w, m, mm)
				}
				hw, err := ToHubSpot(w, hs, sf)
				if err != nil {
					t.Fatalf("ToHubSpot(%q): %v", w, err)
				}
				if back, err := ToSalesforce(hw, hs, sf); err != nil || back != m {
					t.Fatalf("echo: Salesforce %q (merge %q) → HubSpot %q → %q, %v", w, m, hw, back, err)
				}
				if (w == "") != (m == "") || (w == "") != (hw == "") {
					t.Fatalf("empty did not stay empty: %q → %q / %q", w, m, hw)
				}
			}
		})
	}
}

// Numbers convert exactly: the canonical form denotes the same rational
// number, and equal numbers written differently have one form.
func TestCanonicalNumberIsExact(t *testing.T) {
	r := rand.New(rand.NewPCG(7, 7))
	for range 20000 {
		v := randNumber(r)
		got, ok := canonicalNumber(v)
		want, okRat := new(big.Rat).SetString(strings.TrimPrefix(v, "+"))
		if !ok || !okRat {
			t.Fatalf("canonicalNumber(%q) = %q, %v (big.Rat ok %v)", v, got, ok, okRat)
		}
		if g, _ := new(big.Rat).SetString(got); g == nil || g.Cmp(want) != 0 {
			t.Fatalf("canonicalNumber(%q) = %q, a different number", v, got)
		}
		if strings.ContainsAny(got, "eE+") || got != "0" && (strings.HasPrefix(strings.TrimPrefix(got, "-"), "00") ||
			strings.Contains(got, ".") && strings.HasSuffix(got, "0")) || got == "-0" {
			t.Fatalf("canonicalNumber(%q) = %q is not canonical", v, got)
		}
		// Another spelling of the same number has the same form.
		alt := want.FloatString(30)
		if a, _ := canonicalNumber(alt); a != got {
			t.Fatalf("%q and %q (same number) canonicalise to %q and %q", v, alt, got, a)
		}
	}
}

func FuzzCanonicalNumber(f *testing.F) {
	for _, s := range []string{"1.50", "-0", "1e+21", "+.5", "5.", "1e-400", "0x1", "١٢"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, v string) {
		got, ok := canonicalNumber(v)
		if !ok {
			return
		}
		if again, ok := canonicalNumber(got); !ok || again != got {
			t.Fatalf("not idempotent: %q → %q → %q, %v", v, got, again, ok)
		}
		if _, okRat := new(big.Rat).SetString(got); !okRat {
			t.Fatalf("canonicalNumber(%q) = %q is not a number", v, got)
		}
	})
}

func converterFixture(n int) (*Converter, crmsync.Record, crmsync.Record) {
	kinds := []struct{ hs, sf, hv, sv string }{
		{"text", "string", "Ada Lovelace", "Ada Lovelace"},
		{"select", "picklist", "a", "b"},
		{"checkbox", "multipicklist", "b;a", "a;c"},
		{"booleancheckbox", "boolean", "true", "false"},
		{"number", "currency", "1500.50", "1500.5"},
		{"date", "date", "1795392000000", "2026-11-22"},
		{"datetime", "datetime", "2026-11-23T13:00:00.123Z", "2026-11-23T13:00:00.123+0000"},
		{"datetime", "date", "1795438800123", "2026-11-23"},
	}
	var ms []crmsync.FieldMapping
	hsMeta, sfMeta := map[string]HubSpotProperty{}, map[string]SalesforceField{}
	hs := crmsync.Record{Properties: map[string]string{}}
	sf := crmsync.Record{Properties: map[string]string{}}
	for i := range n {
		k := kinds[i%len(kinds)]
		hp, sfld := hsShapes[k.hs], sfField(k.sf)
		hp.Name, sfld.Name = fmt.Sprintf("p%d", i), fmt.Sprintf("F%d__c", i)
		hsMeta[hp.Name], sfMeta[sfld.Name] = hp, sfld
		ms = append(ms, crmsync.FieldMapping{HubSpotObject: crmsync.HSContact, SalesforceObject: crmsync.SFLead,
			HubSpotProperty: hp.Name, SalesforceField: sfld.Name, Rule: crmsync.RuleTwoWay})
		hs.Properties[hp.Name], sf.Properties[sfld.Name] = k.hv, k.sv
	}
	return NewConverter(ms, hsMeta, sfMeta), hs, sf
}

// The converter in front of Merge: values that differ only in form are no
// change, real changes are written in the target's form, and the written
// values read back merge to nothing (no echo).
func TestConverterWithMerge(t *testing.T) {
	c, hs, sf := converterFixture(8)
	ms := make([]crmsync.FieldMapping, 0, len(c.Fields()))
	for _, f := range c.Fields() {
		ms = append(ms, f.Mapping)
	}
	h, s, err := c.ForMerge(hs, sf)
	if err != nil {
		t.Fatal(err)
	}
	if h.Properties["p4"] != "1500.5" || s.Properties["F6__c"] != "2026-11-23T13:00:00.123Z" || hs.Properties["p4"] != "1500.50" {
		t.Fatalf("merge forms: %v %v (input changed: %v)", h.Properties, s.Properties, hs.Properties)
	}
	plan := Merge(Input{Mappings: ms, HubSpot: h, Salesforce: s, Now: t0})
	for _, f := range plan.Fields {
		switch f.Mapping.HubSpotProperty {
		case "p0", "p4", "p6", "p7":
			if f.Action != Keep {
				t.Errorf("%s: %s %q although both sides hold the same value", f.Mapping.Key(), f.Action, f.Value)
			}
		default:
			if f.Action != WriteHubSpot {
				t.Errorf("%s: %s, want a Salesforce → HubSpot write (new link, values differ)", f.Mapping.Key(), f.Action)
			}
		}
	}
	hw, err := c.HubSpotWrites(plan.Writes(crmsync.HubSpot))
	if err != nil {
		t.Fatal(err)
	}
	if want := map[string]string{"p1": "b", "p2": "a;c", "p3": "false", "p5": "2026-11-22"}; fmt.Sprint(hw) != fmt.Sprint(want) {
		t.Fatalf("HubSpot writes = %v, want %v", hw, want)
	}
	if _, err := c.SalesforceWrites(plan.Writes(crmsync.Salesforce)); err != nil {
		t.Fatal(err)
	}
	// HubSpot stores the writes and the change comes back as a webhook:
	// re-read (a date as epoch milliseconds this time) and merge again.
	for k, v := range hw {
		hs.Properties[k] = v
	}
	hs.Properties["p5"] = strconv.FormatInt(time.Date(2026, 11, 22, 0, 0, 0, 0, time.UTC).UnixMilli(), 10)
	h, s, err = c.ForMerge(hs, sf)
	if err != nil {
		t.Fatal(err)
	}
	if again := Merge(Input{Mappings: ms, HubSpot: h, Salesforce: s, Shadow: plan.Shadow, Now: t0}); !again.Empty() {
		t.Fatalf("echo writes: %+v", again.Fields)
	}
}

func TestConverterReportsBadValues(t *testing.T) {
	c, hs, sf := converterFixture(8)
	hs.Properties["p4"] = "lots"
	sf.Properties["F5__c"] = "23.11.2026"
	h, s, err := c.ForMerge(hs, sf)
	if !errors.Is(err, crmsync.ErrInvalid) || !strings.Contains(err.Error(), "p4") || !strings.Contains(err.Error(), "F5__c") {
		t.Fatalf("ForMerge error = %v, want both bad values", err)
	}
	if h.Properties["p4"] != "lots" || s.Properties["F5__c"] != "23.11.2026" || h.Properties["p0"] != "Ada Lovelace" {
		t.Errorf("records after a bad value: %v %v", h.Properties, s.Properties)
	}
	long := SalesforceField{Name: "Title", Type: "string", Length: 3, Updateable: true}
	c = NewConverter([]crmsync.FieldMapping{{HubSpotObject: crmsync.HSContact, SalesforceObject: crmsync.SFLead,
		HubSpotProperty: "jobtitle", SalesforceField: "Title", Rule: crmsync.RuleTwoWay}},
		map[string]HubSpotProperty{"jobtitle": {Name: "jobtitle", Type: "string", FieldType: "text"}},
		map[string]SalesforceField{"Title": long})
	if _, err := c.SalesforceWrites(map[string]string{"Title": "CEO of things"}); !errors.Is(err, crmsync.ErrInvalid) {
		t.Errorf("too long a write: %v", err)
	}
}

// BenchmarkConvert50Fields converts a 50-field record pair to the merge
// form and a 50-field plan back to HubSpot, as the engine does per
// trigger.
func BenchmarkConvert50Fields(b *testing.B) {
	c, hs, sf := converterFixture(50)
	b.ReportAllocs()
	for b.Loop() {
		h, _, err := c.ForMerge(hs, sf)
		if err != nil {
			b.Fatal(err)
		}
		if _, err := c.HubSpotWrites(h.Properties); err != nil {
			b.Fatal(err)
		}
	}
}

// FuzzRoundTrip: whatever a vendor sends, a value that converts at all
// converts back to the same merge form (no echo), from either side.
func FuzzRoundTrip(f *testing.F) {
	for i := range pairs {
		f.Add(uint8(i), "")
	}
	for _, s := range []string{"2026-11-23", "1795392000000", "-62135596800000", "2026-11-23T13:00:00.123+0100",
		"1.50", "-0e5", "a;b;;a", "TRUE", "x\r\r\ny", "253402300799999", "0000-01-01T0:00:00,000+0100", "0000-01-01"} {
		for i := range pairs {
			f.Add(uint8(i), s)
		}
	}
	f.Fuzz(func(t *testing.T, pi uint8, v string) {
		p := pairs[int(pi)%len(pairs)]
		hs, sf := hsShapes[p.hs], sfField(p.sf)
		if s, err := ToSalesforce(v, hs, sf); err == nil {
			h, err := ToHubSpot(s, hs, sf)
			if err != nil {
				t.Fatalf("%s/%s: HubSpot %q → %q does not convert back: %v", p.hs, p.sf, v, s, err)
			}
			if s2, err := ToSalesforce(h, hs, sf); err != nil || s2 != s {
				t.Fatalf("%s/%s: HubSpot %q → %q → %q → %q, %v", p.hs, p.sf, v, s, h, s2, err)
			}
			if c, err := CanonicalSalesforce(s, hs, sf); err != nil || c != s {
				t.Fatalf("%s/%s: merge form %q of %q is not canonical: %q, %v", p.hs, p.sf, s, v, c, err)
			}
		}
		if m, err := CanonicalSalesforce(v, hs, sf); err == nil {
			h, err := ToHubSpot(v, hs, sf)
			if err != nil {
				t.Fatalf("%s/%s: Salesforce %q canonical but not convertible: %v", p.hs, p.sf, v, err)
			}
			if back, err := ToSalesforce(h, hs, sf); err != nil || back != m {
				t.Fatalf("%s/%s: Salesforce %q (merge %q) → HubSpot %q → %q, %v", p.hs, p.sf, v, m, h, back, err)
			}
		}
	})
}
