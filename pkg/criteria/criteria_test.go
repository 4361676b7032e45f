package criteria

import (
	"encoding/json"
	"errors"
	"slices"
	"strings"
	"testing"
)

func TestParseCanonical(t *testing.T) {
	tests := []struct {
		src, want string
	}{
		{"Sync_to_HubSpot__c = true AND Email LIKE '%@%'", "Sync_to_HubSpot__c = true AND Email LIKE '%@%'"},
		{"a=1 and b<>2", "a = 1 AND b != 2"},
		{"a = 'x' or b = 'y'", "a = 'x' OR b = 'y'"},
		// Precedence: NOT > AND > OR.
		{"a = 1 OR b = 2 AND c = 3", "a = 1 OR b = 2 AND c = 3"},
		{"(a = 1 OR b = 2) AND c = 3", "(a = 1 OR b = 2) AND c = 3"},
		{"NOT a = 1 AND b = 2", "NOT a = 1 AND b = 2"},
		{"NOT (a = 1 AND b = 2)", "NOT (a = 1 AND b = 2)"},
		{"not not a = 1", "NOT NOT a = 1"},
		// Redundant parentheses go; same-kind operands are flattened.
		{"((a = 1))", "a = 1"},
		{"a = 1 AND (b = 2 AND c = 3)", "a = 1 AND b = 2 AND c = 3"},
		{"(a = 1 OR b = 2) OR c = 3", "a = 1 OR b = 2 OR c = 3"},
		{"a = 1 OR (b = 2 AND c = 3)", "a = 1 OR b = 2 AND c = 3"},
		// Values.
		{"Amount >= -3.50", "Amount >= -3.50"},
		{"Amount < +7", "Amount < +7"},
		{"CloseDate <= 2026-12-31", "CloseDate <= 2026-12-31"},
		{"LastModifiedDate > 2026-12-31T10:00:00Z", "LastModifiedDate > 2026-12-31T10:00:00Z"},
		{"LastModifiedDate > 2026-12-31T10:00:00+02:00", "LastModifiedDate > 2026-12-31T10:00:00+02:00"},
		{"Done__c = FALSE", "Done__c = false"},
		{"OwnerId = NULL", "OwnerId = null"},
		{"OwnerId != null", "OwnerId != null"},
		{"Phone is null", "Phone IS NULL"},
		{"Phone is not null", "Phone IS NOT NULL"},
		{"Industry in ('Tech','Retail' , 'Banking')", "Industry IN ('Tech', 'Retail', 'Banking')"},
		{"Industry not in ('Tech')", "Industry NOT IN ('Tech')"},
		{"Account.Name = 'Acme'", "Account.Name = 'Acme'"},
		// Escapes: decoded, then written back canonically.
		{`Name = 'O\'Brien'`, `Name = 'O\'Brien'`},
		{`Name = 'say \"hi\"'`, `Name = 'say "hi"'`},
		{`Name = 'a\\b'`, `Name = 'a\\b'`},
		{`Name = 'line\Nbreak\ttab'`, `Name = 'line\nbreak\ttab'`},
		{`Name LIKE '100\%'`, `Name LIKE '100\%'`},
		{`Name LIKE 'a\_b%'`, `Name LIKE 'a\_b%'`},
		{`Name = '100\%'`, `Name = '100%'`},
		{`Name = 'Côte d\'Ivoire'`, `Name = 'Côte d\'Ivoire'`},
		{"Name = 'Côte' AND x = 1", "Name = 'Côte' AND x = 1"},
		{"  a\t=\n1  ", "a = 1"},
	}
	for _, tt := range tests {
		e, err := Parse(tt.src)
		if err != nil {
			t.Errorf("Parse(%q): %v", tt.src, err)
			continue
		}
		if got := e.String(); got != tt.want {
			t.Errorf("Parse(%q).String() = %q, want %q", tt.src, got, tt.want)
		}
		again, err := Parse(e.String())
		if err != nil {
			t.Errorf("Parse(%q) of the canonical form: %v", e.String(), err)
			continue
		}
		if again.String() != e.String() {
			t.Errorf("round trip of %q: %q", e.String(), again.String())
		}
	}
}

func TestParseErrors(t *testing.T) {
	tests := []struct {
		src  string
		col  int
		want string // part of the message
	}{
		{"", 1, "the expression is empty"},
		{"Sync_to_HubSpot__c = ", 22, "expected a value after '='"},
		{"Sync_to_HubSpot__c =", 21, "expected a value after '='"},
		{"a = 1 AND", 10, "expected a condition"},
		{"a = 1 b = 2", 7, "expected AND, OR or the end"},
		{"a = 1)", 6, "')' has no matching '('"},
		{"(a = 1", 1, "'(' is never closed"},
		{"(a = 1 b", 8, "expected AND, OR or ')'"},
		{"()", 2, "expected a condition inside the parentheses"},
		{"a", 2, "expected an operator"},
		{"a b", 3, "expected an operator"},
		{"= 1", 1, "expected a field name"},
		{"a = b", 5, "put text in single quotes"},
		{`a = "x"`, 5, "single quotes"},
		{"a = 'x", 5, "no closing quote"},
		{`a = 'x\q'`, 7, `unknown escape '\q'`},
		{"a ! 1", 3, "'!' must be followed by '='"},
		{"a < null", 3, "only = and != can compare with null"},
		{"a LIKE 1", 8, "expected a text pattern"},
		{"a NOT LIKE 'x'", 3, "NOT goes before the field"},
		{"a NOT = 1", 7, "expected IN after NOT"},
		{"a IN 1", 6, "expected '(' after IN"},
		{"a IN ()", 7, "expected a value after '('"},
		{"a IN (1,)", 9, "expected a value after ','"},
		{"a IN (1 2)", 9, "expected ',' or ')'"},
		{"a IN (null)", 7, "null cannot be in an IN list"},
		{"a IS 1", 6, "expected NULL after IS"},
		{"a IS NOT", 9, "expected NULL after IS"},
		{"d = 2026-13-01", 5, "not a valid date"},
		{"d = 2026-12-31T25:00:00Z", 5, "not a valid datetime"},
		{"d = 2026-12-31T10:00:00", 5, "not a valid datetime"},
		{"n = 1.", 5, "not a number"},
		{"n = 1-2", 5, "not a number"},
		{"a. = 1", 1, "not a field name"},
		{"a = 1 # x", 7, "unexpected character '#'"},
		{"a = '\xff'", 6, "not valid UTF-8"},
		{"AND = 1", 1, "expected a field name"},
		// Columns count characters, not bytes.
		{"Name = 'Côte' AND", 18, "expected a condition"},
	}
	for _, tt := range tests {
		_, err := Parse(tt.src)
		var se *SyntaxError
		if !errors.As(err, &se) {
			t.Errorf("Parse(%q) = %v, want a *SyntaxError", tt.src, err)
			continue
		}
		if se.Col != tt.col || !strings.Contains(se.Msg, tt.want) {
			t.Errorf("Parse(%q) = column %d %q, want column %d %q", tt.src, se.Col, se.Msg, tt.col, tt.want)
		}
	}
}

func TestParseBounds(t *testing.T) {
	deep := strings.Repeat("(", MaxDepth) + "a = 1" + strings.Repeat(")", MaxDepth)
	if _, err := Parse(deep); err == nil || !strings.Contains(err.Error(), "nested more than") {
		t.Errorf("Parse(%d parentheses) = %v, want a nesting error", MaxDepth, err)
	}
	ok := strings.Repeat("(", MaxDepth-1) + "a = 1" + strings.Repeat(")", MaxDepth-1)
	if _, err := Parse(ok); err != nil {
		t.Errorf("Parse(%d parentheses): %v", MaxDepth-1, err)
	}
	nots := strings.Repeat("NOT ", MaxDepth) + "a = 1"
	if _, err := Parse(nots); err == nil {
		t.Errorf("Parse(%d NOTs) succeeded, want a nesting error", MaxDepth)
	}
	long := "a = '" + strings.Repeat("x", MaxLength) + "'"
	if _, err := Parse(long); err == nil || !strings.Contains(err.Error(), "the limit is 4096") {
		t.Errorf("Parse(long) = %v, want a length error", err)
	}
	// A long flat chain is fine: AND and OR do not nest.
	var parts []string
	for len(strings.Join(parts, " OR ")) < MaxLength-20 {
		parts = append(parts, "a = 1")
	}
	if _, err := Parse(strings.Join(parts, " OR ")); err != nil {
		t.Errorf("Parse(long OR chain): %v", err)
	}
}

func TestFields(t *testing.T) {
	e, err := Parse("Email LIKE '%@%' AND (email != null OR Sync__c = true) AND NOT Account.Name IN ('x')")
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"Email", "Sync__c", "Account.Name"}
	if got := e.Fields(); !slices.Equal(got, want) {
		t.Errorf("Fields() = %q, want %q", got, want)
	}
}

var testFields = map[string]FieldType{
	"Name": Text, "Amount": Number, "Sync__c": Bool, "CloseDate": Date,
	"LastModifiedDate": DateTime, "Industry": Picklist, "Regions__c": MultiPicklist,
	"AccountId": ID,
}

func TestCheck(t *testing.T) {
	ok := []string{
		"name = 'x' AND name LIKE 'a%' AND Name < 'm' AND Name IN ('a', 'b')",
		"Amount > 10 AND Amount IN (1, 2.5) AND Amount != null",
		"Sync__c = true AND Sync__c != false",
		"CloseDate >= 2026-01-01 AND CloseDate NOT IN (2026-12-25)",
		"LastModifiedDate < 2026-12-31T10:00:00Z",
		"Industry = 'Tech' OR Industry LIKE 'Bank%' OR Industry NOT IN ('Retail')",
		"Regions__c = 'EMEA;APAC' OR Regions__c = null",
		"AccountId = '001000000000001AAA' OR AccountId IN ('001000000000002AAA')",
		"Name IS NULL AND Amount IS NOT NULL AND Sync__c = null AND CloseDate IS NULL",
	}
	for _, src := range ok {
		e, err := Parse(src)
		if err != nil {
			t.Fatalf("Parse(%q): %v", src, err)
		}
		if err := e.Check(testFields); err != nil {
			t.Errorf("Check(%q): %v", src, err)
		}
	}
	bad := []struct {
		src, field, want string
	}{
		{"Nope__c = 1", "Nope__c", "the object has no field Nope__c"},
		{"Amount = 'ten'", "Amount", "Amount is a number field; compare it with a number, not text in quotes"},
		{"Amount LIKE '1%'", "Amount", "Amount is a number field; it takes"},
		{"Sync__c = 'true'", "Sync__c", "compare it with true or false"},
		{"Sync__c > false", "Sync__c", "it takes =, !="},
		{"Sync__c IN (true)", "Sync__c", "it takes =, !="},
		{"CloseDate > 2026-12-31T10:00:00Z", "CloseDate", "compare it with a date"},
		{"LastModifiedDate > 2026-12-31", "LastModifiedDate", "compare it with a datetime"},
		{"Industry > 'a'", "Industry", "picklist field; it takes"},
		{"Regions__c LIKE 'a%'", "Regions__c", "multi-select picklist field"},
		{"AccountId LIKE '001%'", "AccountId", "id field"},
		{"Name = 1", "Name", "compare it with text in quotes, not a number"},
		{"Name IN ('a', 1)", "Name", "not a number"},
	}
	for _, tt := range bad {
		e, err := Parse(tt.src)
		if err != nil {
			t.Fatalf("Parse(%q): %v", tt.src, err)
		}
		err = e.Check(testFields)
		var te *TypeError
		if !errors.As(err, &te) {
			t.Errorf("Check(%q) = %v, want a *TypeError", tt.src, err)
			continue
		}
		if te.Field != tt.field || te.Clause != e.String() || !strings.Contains(te.Reason, tt.want) {
			t.Errorf("Check(%q) = %+v, want field %s, reason with %q", tt.src, te, tt.field, tt.want)
		}
	}
	// Every problem is reported, not only the first.
	e, _ := Parse("A__c = 1 AND B__c = 2")
	if err := e.Check(testFields); err == nil || !strings.Contains(err.Error(), "A__c") || !strings.Contains(err.Error(), "B__c") {
		t.Errorf("Check(two unknown fields) = %v, want both named", err)
	}
}

func TestFieldTypeMaps(t *testing.T) {
	sf := map[string]FieldType{"string": Text, "email": Text, "currency": Number, "boolean": Bool,
		"date": Date, "datetime": DateTime, "picklist": Picklist, "multipicklist": MultiPicklist, "reference": ID}
	for in, want := range sf {
		if got, ok := SalesforceFieldType(in); !ok || got != want {
			t.Errorf("SalesforceFieldType(%q) = %v, %v; want %v", in, got, ok, want)
		}
	}
	if _, ok := SalesforceFieldType("address"); ok {
		t.Error("SalesforceFieldType(address) is ok, want not")
	}
	hs := []struct {
		typ, fieldType string
		want           FieldType
	}{
		{"string", "text", Text}, {"number", "number", Number}, {"bool", "booleancheckbox", Bool},
		{"enumeration", "booleancheckbox", Bool}, {"enumeration", "select", Picklist},
		{"enumeration", "checkbox", MultiPicklist}, {"date", "date", Date}, {"datetime", "date", DateTime},
	}
	for _, tt := range hs {
		if got, ok := HubSpotFieldType(tt.typ, tt.fieldType); !ok || got != tt.want {
			t.Errorf("HubSpotFieldType(%q, %q) = %v, %v; want %v", tt.typ, tt.fieldType, got, ok, tt.want)
		}
	}
}

func TestEval(t *testing.T) {
	rec := map[string]string{
		"Name": "Acme Corp", "Email": "ops@acme.com", "Amount": "42.0", "Sync_to_HubSpot__c": "false",
		"Done__c": "true", "CloseDate": "2026-12-31", "LastModifiedDate": "2026-12-31T10:00:00.000+0000",
		"Regions__c": "EMEA;APAC", "Phone": "", "Industry": "Banking", "Path": `a%b_c\d`,
	}
	tests := []struct {
		src    string
		want   bool
		failed string
	}{
		{"Sync_to_HubSpot__c = true", false, "Sync_to_HubSpot__c = true: the value is false"},
		{"Sync_to_HubSpot__c = false AND Done__c = true", true, ""},
		{"sync_to_hubspot__c != TRUE", true, ""},
		// Text: case-insensitive, ordered.
		{"Name = 'ACME CORP'", true, ""},
		{"Name != 'acme corp'", false, "Name != 'acme corp': the value is 'Acme Corp'"},
		{"Name < 'b'", true, ""},
		{"Name >= 'acme'", true, ""},
		{"Name > 'z'", false, "Name > 'z': the value is 'Acme Corp'"},
		{"Name IN ('x', 'acme corp')", true, ""},
		{"Name NOT IN ('x', 'acme corp')", false, "Name NOT IN ('x', 'acme corp'): the value is 'Acme Corp'"},
		// LIKE.
		{"Email LIKE '%@%'", true, ""},
		{"Email LIKE '%@ACME.COM'", true, ""},
		{"Email LIKE 'ops@acme.co'", false, "Email LIKE 'ops@acme.co': the value is 'ops@acme.com'"},
		{"Email LIKE 'o_s@%'", true, ""},
		{"Email LIKE '_'", false, "Email LIKE '_': the value is 'ops@acme.com'"},
		{"Email LIKE '%'", true, ""},
		{"Email LIKE '%%%m'", true, ""},
		{"Email LIKE '%a%c%m'", true, ""},
		{`Path LIKE 'a\%b\_c\\d'`, true, ""},
		{`Path LIKE 'a\%b\_c\\_'`, true, ""},
		{`Name LIKE 'Acme\%'`, false, `Name LIKE 'Acme\%': the value is 'Acme Corp'`},
		{`Name LIKE 'Acme\_Corp'`, false, `Name LIKE 'Acme\_Corp': the value is 'Acme Corp'`},
		{`Name LIKE 'Acme_Corp'`, true, ""},
		{"NOT Email LIKE '%@acme.com'", false, "NOT Email LIKE '%@acme.com': the value is 'ops@acme.com'"},
		// Numbers: exact decimals.
		{"Amount = 42", true, ""},
		{"Amount = 42.00", true, ""},
		{"Amount > 41.99 AND Amount < 42.01", true, ""},
		{"Amount <= 41", false, "Amount <= 41: the value is 42.0"},
		{"Amount IN (1, 42)", true, ""},
		{"Amount NOT IN (1, 2)", true, ""},
		// Dates and datetimes.
		{"CloseDate = 2026-12-31", true, ""},
		{"CloseDate < 2026-12-31", false, "CloseDate < 2026-12-31: the value is 2026-12-31"},
		{"CloseDate > 2026-01-01", true, ""},
		{"LastModifiedDate = 2026-12-31T10:00:00Z", true, ""},
		{"LastModifiedDate = 2026-12-31T12:00:00+02:00", true, ""},
		{"LastModifiedDate > 2026-12-31T10:00:01Z", false, "LastModifiedDate > 2026-12-31T10:00:01Z: the value is 2026-12-31T10:00:00.000+0000"},
		// Multi-select picklists compare as sets.
		{"Regions__c = 'apac;emea'", true, ""},
		{"Regions__c = 'EMEA'", false, "Regions__c = 'EMEA': the value is 'EMEA;APAC'"},
		{"Regions__c != 'EMEA;APAC;AMER'", true, ""},
		// Nulls, SOQL's way.
		{"Phone IS NULL", true, ""},
		{"Phone IS NOT NULL", false, "Phone IS NOT NULL: the value is empty"},
		{"Phone = null", true, ""},
		{"Phone != null", false, "Phone != null: the value is empty"},
		{"Name = null", false, "Name = null: the value is 'Acme Corp'"},
		{"Phone = '555'", false, "Phone = '555': the value is empty"},
		{"Phone != '555'", true, ""},
		{"Phone < '555'", false, "Phone < '555': the value is empty"},
		{"Phone LIKE '%'", false, "Phone LIKE '%': the value is empty"},
		{"Phone IN ('555')", false, "Phone IN ('555'): the value is empty"},
		{"Phone NOT IN ('555')", true, ""},
		{"NOT Phone = '555'", true, ""},
		{"Phone = false", true, ""},
		{"Phone = true", false, "Phone = true: the value is empty"},
		{"Phone != false", false, "Phone != false: the value is empty"},
		// Logic and precedence.
		{"Name = 'x' OR Amount = 42 AND Done__c = true", true, ""},
		{"(Name = 'x' OR Amount = 42) AND Done__c = false", false, "Done__c = false: the value is true"},
		{"Name = 'x' OR Amount = 1", false, "none of these holds: Name = 'x': the value is 'Acme Corp'; Amount = 1: the value is 42.0"},
		{"NOT (Name = 'acme corp' AND Amount = 42)", false, "NOT (Name = 'acme corp' AND Amount = 42): the condition in parentheses holds"},
		{"NOT (Name = 'x' OR Amount = 1)", true, ""},
		// The first deciding operand stops evaluation: Unread__c is not looked at.
		{"Amount = 1 AND Unread__c = 1", false, "Amount = 1: the value is 42.0"},
		{"Amount = 42 OR Unread__c = 1", true, ""},
	}
	for _, tt := range tests {
		e, err := Parse(tt.src)
		if err != nil {
			t.Fatalf("Parse(%q): %v", tt.src, err)
		}
		ok, failed, err := e.Eval(rec)
		if err != nil || ok != tt.want || failed != tt.failed {
			t.Errorf("Eval(%q) = %v, %q, %v; want %v, %q", tt.src, ok, failed, err, tt.want, tt.failed)
		}
	}
}

func TestEvalErrors(t *testing.T) {
	rec := map[string]string{"Amount": "lots", "Sync__c": "yes", "D": "31/12/2026", "T": "yesterday", "N": "1e99999999"}
	tests := []struct{ src, want string }{
		{"Missing__c = 1", "the record has no value for Missing__c"},
		{"Amount > 1", `Amount > 1: the value "lots" is not a number`},
		{"Sync__c = true", `the value "yes" is not true or false`},
		{"D = 2026-12-31", "is not a date"},
		{"T = 2026-12-31T10:00:00Z", "is not a datetime"},
		{"N > 1", "is not a number"},
	}
	for _, tt := range tests {
		e, err := Parse(tt.src)
		if err != nil {
			t.Fatalf("Parse(%q): %v", tt.src, err)
		}
		_, _, err = e.Eval(rec)
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("Eval(%q) error = %v, want %q", tt.src, err, tt.want)
		}
	}
}

func TestEvalValueForms(t *testing.T) {
	tests := []struct {
		src, value string
		want       bool
	}{
		{"N = 42", "42", true},
		{"N = 42", "42.0", true},
		{"N = 10000000", "1.0E7", true},
		{"N = -0.5", "-5e-1", true},
		{"B = true", "TRUE", true},
		{"T = 2026-12-31T10:00:00Z", "2026-12-31T10:00:00Z", true},
		{"T = 2026-12-31T10:00:00Z", "2026-12-31T10:00:00.000Z", true},
		{"T = 2026-12-31T10:00:00Z", "2026-12-31T11:00:00+0100", true},
		{"S = 'a;b'", "b ; a", true},
	}
	for _, tt := range tests {
		e, err := Parse(tt.src)
		if err != nil {
			t.Fatalf("Parse(%q): %v", tt.src, err)
		}
		key := e.Fields()[0]
		ok, _, err := e.Eval(map[string]string{key: tt.value})
		if err != nil || ok != tt.want {
			t.Errorf("Eval(%q) on %q = %v, %v; want %v", tt.src, tt.value, ok, err, tt.want)
		}
	}
}

func TestLikeWorstCase(t *testing.T) {
	// A pathological pattern stays within len(pattern)×len(value) steps;
	// this only has to finish quickly, not time anything.
	pattern := strings.Repeat("%a", 500) + "b"
	value := strings.Repeat("a", 4000)
	if likeMatch(pattern, value) {
		t.Error("likeMatch matched a value without b")
	}
}

func TestText(t *testing.T) {
	var s struct {
		Criteria *Expr `json:"criteria"`
	}
	if err := json.Unmarshal([]byte(`{"criteria":"sync__c = TRUE and email like '%@%'"}`), &s); err != nil {
		t.Fatal(err)
	}
	out, err := json.Marshal(s)
	if err != nil {
		t.Fatal(err)
	}
	if want := `{"criteria":"sync__c = true AND email LIKE '%@%'"}`; string(out) != want {
		t.Errorf("round trip = %s, want %s", out, want)
	}
	err = json.Unmarshal([]byte(`{"criteria":"sync__c ="}`), &s)
	var se *SyntaxError
	if !errors.As(err, &se) {
		t.Errorf("Unmarshal(bad) = %v, want a *SyntaxError", err)
	}
}
