package criteria

import "testing"

// FuzzParse checks that Parse never panics, that the canonical form of
// anything it accepts parses again to the same canonical form, and that
// Eval never panics on a record holding odd values for every field and
// gives the same answer for the expression and its canonical form.
func FuzzParse(f *testing.F) {
	for _, s := range []string{
		"Sync_to_HubSpot__c = true AND Email LIKE '%@%'",
		"a = 1 OR b = 2 AND NOT c IN ('x', 'y')",
		"(a = 1 OR b = 2) AND NOT (c IS NULL OR d IS NOT NULL)",
		`Name LIKE 'a\%b\_c\\d' AND Title = 'O\'Brien\n'`,
		"CloseDate >= 2026-12-31 AND LastModifiedDate < 2026-12-31T10:00:00+02:00",
		"Amount NOT IN (-1, 2.50, +3) AND Amount <> null",
		"Regions__c = 'EMEA;APAC'",
		"((((a = 1))))",
		"a = ",
		"a IN (",
	} {
		f.Add(s)
	}
	values := []string{"", "x", "42", "42.0", "true", "false", "2026-12-31", "2026-12-31T10:00:00.000+0000", "a;b", "%_\\", "1e999"}
	f.Fuzz(func(t *testing.T, src string) {
		e, err := Parse(src)
		if err != nil {
			return
		}
		canon := e.String()
		again, err := Parse(canon)
		if err != nil {
			t.Fatalf("Parse(%q) canonical %q does not parse: %v", src, canon, err)
		}
		if got := again.String(); got != canon {
			t.Fatalf("Parse(%q): canonical %q renders again as %q", src, canon, got)
		}
		_ = e.Check(testFields)
		for _, v := range values {
			rec := map[string]string{}
			for _, name := range e.Fields() {
				rec[name] = v
			}
			ok, failed, err := e.Eval(rec)
			if err == nil && !ok && failed == "" {
				t.Fatalf("Eval(%q) on %q failed without a reason", canon, v)
			}
			ok2, failed2, err2 := again.Eval(rec)
			if ok2 != ok || failed2 != failed || (err2 == nil) != (err == nil) {
				t.Fatalf("Eval on %q: %q gives %v %q %v, its canonical form %v %q %v", v, src, ok, failed, err, ok2, failed2, err2)
			}
		}
	})
}
