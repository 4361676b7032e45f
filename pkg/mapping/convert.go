package mapping

import (
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/crmsync/crmsync/pkg/crmsync"
)

// ValueError is a value that cannot be converted.
type ValueError struct {
	// Side and Field name where the value came from.
	Side  crmsync.Side
	Field string
	Value string
	// Want says what the value should look like.
	Want string
}

func (e *ValueError) Error() string {
	what := "HubSpot property"
	if e.Side == crmsync.Salesforce {
		what = "Salesforce field"
	}
	v := e.Value
	if len(v) > 64 {
		v = v[:61] + "..."
	}
	return fmt.Sprintf("mapping: %s %s: invalid value %q: want %s", what, e.Field, v, e.Want)
}

// Unwrap makes errors.Is(err, crmsync.ErrInvalid) hold.
func (e *ValueError) Unwrap() error { return crmsync.ErrInvalid }

// pairKinds returns the kinds of both ends; an unsupported or
// incompatible pair converts as text (such a mapping does not validate).
func pairKinds(hs HubSpotProperty, sf SalesforceField) (Kind, Kind) {
	hk, _ := HubSpotKind(hs)
	sk, _ := SalesforceKind(sf)
	if !compatible(hk, sk) {
		return KindText, KindText
	}
	return hk, sk
}

// ToSalesforce converts a HubSpot wire value of hs to the canonical
// Salesforce form of sf (the merge form; see Converter for the forms).
func ToSalesforce(value string, hs HubSpotProperty, sf SalesforceField) (string, error) {
	hk, sk := pairKinds(hs, sf)
	return toSalesforce(value, hs.Name, hk, sk)
}

func toSalesforce(value, name string, hk, sk Kind) (string, error) {
	if value == "" {
		return "", nil
	}
	switch sk {
	case KindDate, KindDateTime:
		t, err := hubSpotTime(value, hk, name)
		if err != nil {
			return "", err
		}
		return formatSalesforceTime(value, t, hk, sk), nil
	}
	return canonical(value, crmsync.HubSpot, name, sk)
}

// CanonicalSalesforce converts a Salesforce wire value of sf to its
// canonical form for a mapping to hs (the merge form).
func CanonicalSalesforce(value string, hs HubSpotProperty, sf SalesforceField) (string, error) {
	hk, sk := pairKinds(hs, sf)
	return canonicalSalesforce(value, sf.Name, hk, sk)
}

func canonicalSalesforce(value, name string, hk, sk Kind) (string, error) {
	if value == "" {
		return "", nil
	}
	switch sk {
	case KindDate, KindDateTime:
		t, err := salesforceTime(value, sk, name)
		if err != nil {
			return "", err
		}
		return formatSalesforceTime(value, t, hk, sk), nil
	}
	return canonical(value, crmsync.Salesforce, name, sk)
}

// ToHubSpot converts a Salesforce wire value of sf (or its merge form) to
// the canonical HubSpot form of hs.
func ToHubSpot(value string, hs HubSpotProperty, sf SalesforceField) (string, error) {
	hk, sk := pairKinds(hs, sf)
	return toHubSpot(value, sf.Name, hk, sk)
}

func toHubSpot(value, name string, hk, sk Kind) (string, error) {
	if value == "" {
		return "", nil
	}
	switch sk {
	case KindDate, KindDateTime:
		t, err := salesforceTime(value, sk, name)
		if err != nil {
			return "", err
		}
		if hk == KindDate {
			return formatTime(value, t, dateLayout), nil
		}
		return formatTime(value, t, dateTimeLayout), nil
	}
	return canonical(value, crmsync.Salesforce, name, sk)
}

// CanonicalHubSpot converts a HubSpot wire value of hs to its canonical
// HubSpot form (what ToHubSpot writes). For every mapping that loses
// nothing, ToHubSpot(ToSalesforce(v)) == CanonicalHubSpot(v).
func CanonicalHubSpot(value string, hs HubSpotProperty) (string, error) {
	if value == "" {
		return "", nil
	}
	hk, _ := HubSpotKind(hs)
	switch hk {
	case KindDate, KindDateTime:
		t, err := hubSpotTime(value, hk, hs.Name)
		if err != nil {
			return "", err
		}
		if hk == KindDate {
			return formatTime(value, t, dateLayout), nil
		}
		return formatTime(value, t, dateTimeLayout), nil
	case KindUnsupported:
		hk = KindText
	}
	return canonical(value, crmsync.HubSpot, hs.Name, hk)
}

// canonical handles the kinds whose canonical form is the same on both
// sides.
func canonical(value string, side crmsync.Side, name string, k Kind) (string, error) {
	switch k {
	case KindBool:
		b, err := strconv.ParseBool(strings.TrimSpace(value))
		if err != nil {
			return "", &ValueError{Side: side, Field: name, Value: value, Want: "true or false"}
		}
		if b {
			return "true", nil
		}
		return "false", nil
	case KindNumber:
		n, ok := canonicalNumber(value)
		if !ok {
			return "", &ValueError{Side: side, Field: name, Value: value, Want: "a decimal number"}
		}
		return n, nil
	case KindMultiPicklist:
		return canonicalMulti(value), nil
	case KindText:
		if strings.Contains(value, "\r\n") {
			return lineFeeds(value), nil
		}
	}
	return value, nil
}

// lineFeeds drops the carriage returns before a line feed ("\r\n" and
// "\r\r\n" are both "\n"), so that the result has no "\r\n" left.
func lineFeeds(v string) string {
	var b strings.Builder
	b.Grow(len(v))
	for i := 0; i < len(v); {
		j := i
		for j < len(v) && v[j] == '\r' {
			j++
		}
		if j > i {
			if j == len(v) || v[j] != '\n' {
				b.WriteString(v[i:j])
			}
			i = j
			continue
		}
		b.WriteByte(v[i])
		i++
	}
	return b.String()
}

const (
	dateLayout     = "2006-01-02"
	dateTimeLayout = "2006-01-02T15:04:05.000Z"
)

// formatSalesforceTime writes t, read from v, as the merge form of a
// Salesforce field of kind sk mapped to a HubSpot property of kind hk.
func formatSalesforceTime(v string, t time.Time, hk, sk Kind) string {
	if sk == KindDate {
		return formatTime(v, t, dateLayout)
	}
	if hk == KindDate {
		t = t.Truncate(24 * time.Hour)
	}
	return formatTime(v, t, dateTimeLayout)
}

// formatTime formats t with layout, returning v itself when it is that
// already (no allocation for values already canonical).
func formatTime(v string, t time.Time, layout string) string {
	var a [32]byte
	b := t.AppendFormat(a[:0], layout)
	if string(b) == v {
		return v
	}
	return string(b)
}

// hubSpotTime reads a HubSpot date (YYYY-MM-DD or epoch milliseconds at
// midnight UTC) or date-time (ISO 8601 or epoch milliseconds), in UTC and
// milliseconds.
func hubSpotTime(v string, k Kind, name string) (time.Time, error) {
	want := "an ISO 8601 date-time or epoch milliseconds"
	if k == KindDate {
		want = "a date (YYYY-MM-DD or epoch milliseconds at midnight UTC)"
	}
	t, ok := parseEpochMillis(v)
	if !ok {
		t, ok = parseISO(v)
	}
	if !ok || k == KindDate && !t.Equal(t.Truncate(24*time.Hour)) {
		return time.Time{}, &ValueError{Side: crmsync.HubSpot, Field: name, Value: v, Want: want}
	}
	return t, nil
}

// salesforceTime reads a Salesforce date (YYYY-MM-DD) or date-time
// (2006-01-02T15:04:05.000+0000, or any ISO 8601 form), in UTC and
// milliseconds.
func salesforceTime(v string, k Kind, name string) (time.Time, error) {
	if k == KindDate {
		if t, err := time.Parse(dateLayout, v); err == nil && writable(t) {
			return t, nil
		}
		return time.Time{}, &ValueError{Side: crmsync.Salesforce, Field: name, Value: v, Want: "a date (YYYY-MM-DD)"}
	}
	if t, err := time.Parse(salesforceLayout, v); err == nil && writable(t.UTC()) {
		return t.UTC(), nil
	}
	if t, ok := parseISO(v); ok {
		return t, nil
	}
	return time.Time{}, &ValueError{Side: crmsync.Salesforce, Field: name, Value: v, Want: "an ISO 8601 date-time"}
}

func parseEpochMillis(v string) (time.Time, bool) {
	if v == "" || len(v) > 15 {
		return time.Time{}, false
	}
	for i := 0; i < len(v); i++ {
		if c := v[i]; (c < '0' || c > '9') && !(i == 0 && c == '-' && len(v) > 1) {
			return time.Time{}, false
		}
	}
	ms, err := strconv.ParseInt(v, 10, 64)
	if err != nil {
		return time.Time{}, false
	}
	t := time.UnixMilli(ms).UTC()
	return t, writable(t)
}

// salesforceLayout is how Salesforce writes date-times.
const salesforceLayout = "2006-01-02T15:04:05.000-0700"

var isoLayouts = []string{time.RFC3339Nano, salesforceLayout, "2006-01-02T15:04:05-0700",
	"2006-01-02T15:04:05.999999999", dateLayout}

// parseISO reads the ISO 8601 forms the vendors send; a form without a
// zone is UTC.
func parseISO(v string) (time.Time, bool) {
	for _, l := range isoLayouts {
		if t, err := time.Parse(l, v); err == nil {
			t = t.UTC().Truncate(time.Millisecond)
			return t, writable(t)
		}
	}
	return time.Time{}, false
}

// writable reports whether t, in UTC, has a four-digit year, as both
// vendors' ISO forms need.
func writable(t time.Time) bool {
	y := t.Year()
	return 1 <= y && y <= 9999
}

// maxExponent bounds the decimal exponent so a hostile "1e999999999"
// cannot make a huge string.
const maxExponent = 400

// canonicalNumber returns the exact decimal v denotes without exponent,
// sign of zero, leading or trailing zeros; ok is false when v is not a
// decimal number (NaN, Inf, hex, thousands separators are not).
func canonicalNumber(v string) (string, bool) {
	s := strings.TrimSpace(v)
	neg := false
	if s != "" && (s[0] == '-' || s[0] == '+') {
		neg = s[0] == '-'
		s = s[1:]
	}
	mant, exp := s, 0
	if i := strings.IndexAny(s, "eE"); i >= 0 {
		mant = s[:i]
		e := s[i+1:]
		if e == "" || len(e) > 5 {
			return "", false
		}
		n, err := strconv.Atoi(e)
		if err != nil {
			return "", false
		}
		exp = n
	}
	intPart, frac, _ := strings.Cut(mant, ".")
	if intPart == "" && frac == "" {
		return "", false
	}
	for _, part := range []string{intPart, frac} {
		for i := 0; i < len(part); i++ {
			if part[i] < '0' || part[i] > '9' {
				return "", false
			}
		}
	}
	digits := intPart + frac
	point := len(intPart) + exp // digits[:point] is the integer part
	lead := 0
	for lead < len(digits) && digits[lead] == '0' {
		lead++
	}
	digits, point = digits[lead:], point-lead
	digits = strings.TrimRight(digits, "0")
	if digits == "" {
		return "0", true
	}
	if point > maxExponent || point < -maxExponent {
		return "", false
	}
	var b strings.Builder
	b.Grow(len(digits) + 3 + max(point-len(digits), -point, 0))
	if neg {
		b.WriteByte('-')
	}
	switch {
	case point <= 0:
		b.WriteString("0.")
		for range -point {
			b.WriteByte('0')
		}
		b.WriteString(digits)
	case point >= len(digits):
		b.WriteString(digits)
		for range point - len(digits) {
			b.WriteByte('0')
		}
	default:
		b.WriteString(digits[:point])
		b.WriteByte('.')
		b.WriteString(digits[point:])
	}
	return b.String(), true
}

// canonicalMulti sorts and de-duplicates the ";"-separated values.
func canonicalMulti(v string) string {
	if !strings.Contains(v, ";") {
		return strings.TrimSpace(v)
	}
	parts := strings.Split(v, ";")
	out := parts[:0]
	for _, p := range parts {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	slices.Sort(out)
	return strings.Join(slices.Compact(out), ";")
}

// CheckSalesforceValue reports, before a write, a merge-form value
// Salesforce would refuse for sf: too long for a text field, a value
// outside a restricted picklist, decimals in a whole-number field. Blank
// values pass (whether a blank is allowed depends on create or update and
// on defaults, which Salesforce decides).
func CheckSalesforceValue(value string, sf SalesforceField) error {
	if value == "" {
		return nil
	}
	bad := func(want string) error {
		return &ValueError{Side: crmsync.Salesforce, Field: sf.Name, Value: value, Want: want}
	}
	sk, _ := SalesforceKind(sf)
	switch sk {
	case KindText:
		if sf.Length > 0 && utf8.RuneCountInString(value) > sf.Length {
			return bad(fmt.Sprintf("at most %d characters", sf.Length))
		}
	case KindPicklist:
		if sf.RestrictedPicklist && !slices.Contains(sf.PicklistValues, value) {
			return bad("one of the values of the restricted picklist")
		}
	case KindMultiPicklist:
		if sf.RestrictedPicklist {
			for v := range strings.SplitSeq(value, ";") {
				if !slices.Contains(sf.PicklistValues, v) {
					return bad(fmt.Sprintf("values of the restricted picklist (%q is not one)", v))
				}
			}
		}
	case KindNumber:
		if t := strings.ToLower(sf.Type); (t == "int" || t == "long") && strings.Contains(value, ".") {
			return bad("a whole number")
		}
	}
	return nil
}

// Field is one mapping with the metadata of both ends.
type Field struct {
	Mapping    crmsync.FieldMapping
	HubSpot    HubSpotProperty
	Salesforce SalesforceField
	hk, sk     Kind
}

// Converter converts the mapped values of one object pair between the
// vendors' wire strings and the merge form. Build it once per settings
// version and metadata; it is safe for concurrent use. The engine calls
// ForMerge on both re-read records before Merge, and HubSpotWrites and
// SalesforceWrites on the plan's writes before sending them.
//
// Merge compares one value per mapped field, so both records' values are
// first put in one form, the merge form: the canonical Salesforce form of
// the field (ToSalesforce of a HubSpot value, CanonicalSalesforce of a
// Salesforce value). Plan writes to Salesforce are in that form already;
// writes to HubSpot go through ToHubSpot. The forms are chosen so that a
// value that went to the other side and was read back is the same merge
// value again — which is what keeps echo detection working:
//
//   - text: as is, with CRLF line breaks as LF;
//   - picklist: as is;
//   - multi-select: values split on ";", trimmed, de-duplicated and sorted
//     (order-insensitive), joined with ";";
//   - boolean: "true" or "false";
//   - number: exact decimal without exponent, sign of zero, leading or
//     trailing zeros ("1.50", "+1.5", "15e-1" are all "1.5");
//   - date: YYYY-MM-DD; date-time: YYYY-MM-DDTHH:MM:SS.mmmZ in UTC (both
//     vendors keep milliseconds). HubSpot sends dates as YYYY-MM-DD or as
//     epoch milliseconds at midnight UTC, date-times as ISO 8601 or epoch
//     milliseconds; Salesforce sends date-times as …T…000+0000.
//     A HubSpot date-time mapped to a Salesforce date keeps its UTC date;
//     a HubSpot date mapped to a Salesforce date-time is midnight UTC, and
//     the time of day of the Salesforce value does not take part.
//
// Empty stays empty, in every kind. A value that cannot be read as its
// kind is a *ValueError, which wraps crmsync.ErrInvalid so the engine
// records a Property values sync error.
type Converter struct {
	fields []Field
	byHS   map[string]int
	bySF   map[string]int
}

// NewConverter returns the converter of mappings ms (of one object pair)
// with the HubSpot properties and Salesforce fields of that pair, by
// name. A mapping whose metadata is missing converts its values as text
// (as they are); CheckMappings reports such mappings.
func NewConverter(ms []crmsync.FieldMapping, hs map[string]HubSpotProperty, sf map[string]SalesforceField) *Converter {
	c := &Converter{byHS: make(map[string]int, len(ms)), bySF: make(map[string]int, len(ms))}
	for _, m := range ms {
		if m.Rule == crmsync.RuleDontSync {
			continue
		}
		f := Field{Mapping: m, HubSpot: hs[m.HubSpotProperty], Salesforce: sf[m.SalesforceField]}
		if f.HubSpot.Name == "" || f.Salesforce.Name == "" {
			f.hk, f.sk = KindText, KindText
		} else {
			f.hk, f.sk = pairKinds(f.HubSpot, f.Salesforce)
		}
		c.byHS[m.HubSpotProperty] = len(c.fields)
		c.bySF[m.SalesforceField] = len(c.fields)
		c.fields = append(c.fields, f)
	}
	return c
}

// Fields returns the converted mappings (don't-sync mappings are left out).
func (c *Converter) Fields() []Field { return c.fields }

// ForMerge returns copies of both records whose mapped values are in the
// merge form, for Merge; other properties are copied as they are. The
// error joins a *ValueError per value that cannot be read; the records
// then hold those values unconverted.
func (c *Converter) ForMerge(hs, sf crmsync.Record) (crmsync.Record, crmsync.Record, error) {
	var errs []error
	hs.Properties = c.convert(hs.Properties, c.byHS, &errs, func(f *Field, v string) (string, error) {
		return toSalesforce(v, f.HubSpot.Name, f.hk, f.sk)
	})
	sf.Properties = c.convert(sf.Properties, c.bySF, &errs, func(f *Field, v string) (string, error) {
		return canonicalSalesforce(v, f.Salesforce.Name, f.hk, f.sk)
	})
	return hs, sf, errors.Join(errs...)
}

// HubSpotWrites converts a plan's HubSpot writes (property → merge-form
// value, as Plan.Writes returns them) to HubSpot wire values.
func (c *Converter) HubSpotWrites(w map[string]string) (map[string]string, error) {
	var errs []error
	out := c.convert(w, c.byHS, &errs, func(f *Field, v string) (string, error) {
		return toHubSpot(v, f.Salesforce.Name, f.hk, f.sk)
	})
	return out, errors.Join(errs...)
}

// SalesforceWrites checks a plan's Salesforce writes (field → merge-form
// value, already Salesforce's form) with CheckSalesforceValue and returns
// them.
func (c *Converter) SalesforceWrites(w map[string]string) (map[string]string, error) {
	var errs []error
	for k, v := range w {
		if i, ok := c.bySF[k]; ok {
			if err := CheckSalesforceValue(v, c.fields[i].Salesforce); err != nil {
				errs = append(errs, err)
			}
		}
	}
	return w, errors.Join(errs...)
}

func (c *Converter) convert(in map[string]string, index map[string]int, errs *[]error, conv func(*Field, string) (string, error)) map[string]string {
	if in == nil {
		return nil
	}
	out := make(map[string]string, len(in))
	for k, v := range in {
		i, ok := index[k]
		if !ok || v == "" {
			out[k] = v
			continue
		}
		cv, err := conv(&c.fields[i], v)
		if err != nil {
			*errs = append(*errs, err)
			cv = v
		}
		out[k] = cv
	}
	return out
}
