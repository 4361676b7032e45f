package criteria

import (
	"fmt"
	"math/big"
	"slices"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"
)

// Eval evaluates e on one record's values, as Salesforce's REST API (or
// HubSpot's) returns them, all as strings: numbers "42" or "42.0",
// booleans "true"/"false", dates "2026-12-31", datetimes
// "2026-12-31T10:00:00.000+0000" (or RFC 3339), multi-select values "a;b",
// and "" for null. Field names are looked up case-insensitively.
//
// ok says whether the record matches. When it does not, failed says which
// clause failed and why, in words the engine can show as the not-eligible
// reason, for example "Sync_to_HubSpot__c = true: the value is false".
//
// err is non-nil when a field the expression needs is missing from values
// (the caller did not read it: see Fields), or a value cannot be read as
// the type its clause compares it with (a number clause on "abc"). AND
// and OR stop at the first operand that decides the result, so a clause
// after it is not evaluated and cannot fail.
func (e *Expr) Eval(values map[string]string) (ok bool, failed string, err error) {
	ev := evaluator{values: values}
	r, err := ev.eval(e.root)
	if err != nil {
		return false, "", err
	}
	if r.ok {
		return true, "", nil
	}
	return false, r.why, nil
}

type evaluator struct {
	values  map[string]string
	byLower map[string]string // built on the first case-insensitive look-up
}

// result is the outcome of a node and why, in words.
type result struct {
	ok  bool
	why string
}

func (ev *evaluator) eval(n node) (result, error) {
	switch n := n.(type) {
	case *logic:
		var whys []string
		for _, a := range n.args {
			r, err := ev.eval(a)
			if err != nil {
				return result{}, err
			}
			if r.ok == n.or { // true decides an OR, false an AND
				return r, nil
			}
			whys = append(whys, r.why)
		}
		if n.or {
			return result{ok: false, why: "none of these holds: " + strings.Join(whys, "; ")}, nil
		}
		return result{ok: true, why: (&Expr{root: n}).String() + ": it holds"}, nil
	case *negation:
		r, err := ev.eval(n.x)
		if err != nil {
			return result{}, err
		}
		if _, isClause := n.x.(*clause); isClause {
			return result{ok: !r.ok, why: "NOT " + r.why}, nil
		}
		if r.ok {
			return result{ok: false, why: (&Expr{root: n}).String() + ": the condition in parentheses holds"}, nil
		}
		return result{ok: true, why: (&Expr{root: n}).String() + ": " + r.why}, nil
	case *clause:
		return ev.clause(n)
	}
	return result{}, fmt.Errorf("criteria: unknown node %T", n)
}

// lookup finds a field's value, by exact name first, then ignoring case.
func (ev *evaluator) lookup(field string) (string, bool) {
	if v, ok := ev.values[field]; ok {
		return v, true
	}
	if ev.byLower == nil {
		ev.byLower = make(map[string]string, len(ev.values))
		for k, v := range ev.values {
			ev.byLower[strings.ToLower(k)] = v
		}
	}
	v, ok := ev.byLower[strings.ToLower(field)]
	return v, ok
}

func (ev *evaluator) clause(c *clause) (result, error) {
	v, present := ev.lookup(c.field)
	if !present {
		return result{}, fmt.Errorf("criteria: the record has no value for %s (the field was not read)", c.field)
	}
	ok, err := holds(c, v)
	if err != nil {
		return result{}, fmt.Errorf("criteria: %s: %w", c.clauseString(), err)
	}
	return result{ok: ok, why: c.clauseString() + ": the value is " + show(v, c)}, nil
}

// holds decides one clause on value v ("" = null). With SOQL's two-valued
// logic, null equals only null: =, <, <=, >, >=, LIKE and IN are false on a
// null value, != and NOT IN are true; compared with true or false, null is
// false.
func holds(c *clause, v string) (bool, error) {
	switch c.op {
	case opIsNull:
		return v == "", nil
	case opIsNotNull:
		return v != "", nil
	}
	if c.vals[0].kind == litNull {
		return (v == "") == (c.op == opEq), nil
	}
	if v == "" && c.vals[0].kind == litBool {
		v = "false" // SOQL: on a checkbox, null matches false
	}
	if v == "" {
		return c.op == opNe || c.op == opNotIn, nil
	}
	if c.op == opLike {
		return likeMatch(c.vals[0].pat, v), nil
	}
	if c.op == opIn || c.op == opNotIn {
		for _, lit := range c.vals {
			cmp, err := compare(lit, v)
			if err != nil {
				return false, err
			}
			if cmp == 0 {
				return c.op == opIn, nil
			}
		}
		return c.op == opNotIn, nil
	}
	cmp, err := compare(c.vals[0], v)
	if err != nil {
		return false, err
	}
	switch c.op {
	case opEq:
		return cmp == 0, nil
	case opNe:
		return cmp != 0, nil
	case opLt:
		return cmp < 0, nil
	case opLe:
		return cmp <= 0, nil
	case opGt:
		return cmp > 0, nil
	case opGe:
		return cmp >= 0, nil
	}
	return false, fmt.Errorf("unknown operator %s", c.op)
}

// compare orders value v against literal lit, reading v as lit's type:
// negative when v < lit. Text compares ignoring case; text with ';' on
// either side compares as a set of ';'-separated values, so a multi-select
// value "b;a" equals 'a;b'. A bool value is only ever equal or not equal.
func compare(lit literal, v string) (int, error) {
	switch lit.kind {
	case litString:
		if strings.Contains(v, ";") || strings.Contains(lit.str, ";") {
			return strings.Compare(valueSet(v), valueSet(lit.str)), nil
		}
		return strings.Compare(strings.ToLower(v), strings.ToLower(lit.str)), nil
	case litNumber:
		n, err := parseNumber(v)
		if err != nil {
			return 0, err
		}
		return n.Cmp(lit.num), nil
	case litBool:
		switch strings.ToLower(v) {
		case "true":
			return boolCmp(lit.b), nil
		case "false":
			return boolCmp(!lit.b), nil
		}
		return 0, fmt.Errorf("the value %q is not true or false", v)
	case litDate:
		d, err := time.Parse(time.DateOnly, v)
		if err != nil {
			return 0, fmt.Errorf("the value %q is not a date", v)
		}
		return d.Compare(lit.t), nil
	case litDateTime:
		t, err := parseDateTimeValue(v)
		if err != nil {
			return 0, err
		}
		return t.Compare(lit.t), nil
	}
	return 0, fmt.Errorf("cannot compare with %s", lit.kind)
}

// boolCmp is 0 (equal) when same is true, 1 otherwise.
func boolCmp(same bool) int {
	if same {
		return 0
	}
	return 1
}

// valueSet normalises a ';'-separated value: parts trimmed, lower-cased,
// sorted and without repeats.
func valueSet(s string) string {
	parts := strings.Split(strings.ToLower(s), ";")
	for i := range parts {
		parts[i] = strings.TrimSpace(parts[i])
	}
	slices.Sort(parts)
	return strings.Join(slices.Compact(parts), ";")
}

// parseNumber reads a decimal number as Salesforce and HubSpot write them:
// sign, digits, fraction and an exponent of at most three digits (a bigger
// exponent would make big.Rat allocate without bound).
func parseNumber(v string) (*big.Rat, error) {
	bad := fmt.Errorf("the value %q is not a number", v)
	mant, exp, hasExp := strings.Cut(strings.ToLower(v), "e")
	if !isNumber(mant) {
		return nil, bad
	}
	if hasExp {
		e := strings.TrimLeft(exp, "+-")
		if e == "" || len(e) > 3 || len(exp)-len(e) > 1 || !allDigits(e) {
			return nil, bad
		}
	}
	n, ok := new(big.Rat).SetString(strings.TrimPrefix(v, "+"))
	if !ok {
		return nil, bad
	}
	return n, nil
}

// Datetime value forms: Salesforce's REST API, then RFC 3339 (HubSpot).
var dateTimeValueLayouts = []string{"2006-01-02T15:04:05.000-0700", "2006-01-02T15:04:05-0700", time.RFC3339Nano}

func parseDateTimeValue(v string) (time.Time, error) {
	for _, layout := range dateTimeValueLayouts {
		if t, err := time.Parse(layout, v); err == nil {
			return t, nil
		}
	}
	return time.Time{}, fmt.Errorf("the value %q is not a datetime", v)
}

// show renders a record's value for a message: text in quotes, shortened.
func show(v string, c *clause) string {
	if v == "" {
		return "empty"
	}
	const max = 60
	if utf8.RuneCountInString(v) > max {
		v = string([]rune(v)[:max]) + "…"
	}
	if c.op == opIsNull || c.op == opIsNotNull || c.vals[0].kind == litString || c.vals[0].kind == litNull {
		return quote(v, false)
	}
	return v
}

// likeMatch reports whether v matches a LIKE pattern in pattern form: %
// is any run of characters, _ is one character, a backslash makes the next
// character literal; letters match ignoring case, as SOQL's LIKE does.
//
// It is the usual wildcard match with one back-tracking point: linear for
// most patterns, at worst len(pattern)×len(v) steps, and it never
// allocates more than the two rune slices.
func likeMatch(pattern, v string) bool {
	type elem struct {
		r    rune
		kind byte // 'l' literal, '_' one, '%' any run
	}
	var pat []elem
	escaped := false
	for _, r := range pattern {
		switch {
		case escaped:
			pat = append(pat, elem{r: unicode.ToLower(r), kind: 'l'})
			escaped = false
		case r == '\\':
			escaped = true
		case r == '%', r == '_':
			pat = append(pat, elem{kind: byte(r)})
		default:
			pat = append(pat, elem{r: unicode.ToLower(r), kind: 'l'})
		}
	}
	s := []rune(strings.ToLower(v))
	pi, si := 0, 0
	star, mark := -1, 0
	for si < len(s) {
		switch {
		case pi < len(pat) && (pat[pi].kind == '_' || pat[pi].kind == 'l' && pat[pi].r == s[si]):
			pi++
			si++
		case pi < len(pat) && pat[pi].kind == '%':
			star, mark = pi, si
			pi++
		case star >= 0:
			pi = star + 1
			mark++
			si = mark
		default:
			return false
		}
	}
	for pi < len(pat) && pat[pi].kind == '%' {
		pi++
	}
	return pi == len(pat)
}
