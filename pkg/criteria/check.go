package criteria

import (
	"errors"
	"fmt"
	"slices"
	"strings"
)

// FieldType is the kind of a field, as far as checking an expression needs
// to know it.
type FieldType int

const (
	// Text is free text: Salesforce string, textarea, email, phone, url,
	// combobox, encryptedstring; HubSpot string.
	Text FieldType = iota + 1
	// Number is Salesforce int, double, currency, percent, long; HubSpot
	// number.
	Number
	// Bool is Salesforce boolean; HubSpot bool (booleancheckbox).
	Bool
	// Date is a calendar date: Salesforce date; HubSpot date.
	Date
	// DateTime is an instant: Salesforce datetime; HubSpot datetime.
	DateTime
	// Picklist is a single-select value: Salesforce picklist; HubSpot
	// enumeration (select, radio).
	Picklist
	// MultiPicklist is a set of values separated by ';': Salesforce
	// multipicklist; HubSpot enumeration with the checkbox field type.
	MultiPicklist
	// ID is a record id: Salesforce id and reference (lookup) fields.
	ID
)

var fieldTypeNames = map[FieldType]string{
	Text: "text", Number: "number", Bool: "checkbox", Date: "date", DateTime: "datetime",
	Picklist: "picklist", MultiPicklist: "multi-select picklist", ID: "id",
}

func (t FieldType) String() string {
	if s, ok := fieldTypeNames[t]; ok {
		return s
	}
	return fmt.Sprintf("FieldType(%d)", int(t))
}

// SalesforceFieldType maps the type of a field in Salesforce's describe
// (DescribeFieldResult.type) to a FieldType; ok is false for types criteria
// cannot test (address, location, base64, …).
func SalesforceFieldType(describeType string) (t FieldType, ok bool) {
	switch strings.ToLower(describeType) {
	case "string", "textarea", "email", "phone", "url", "combobox", "encryptedstring":
		return Text, true
	case "int", "double", "currency", "percent", "long":
		return Number, true
	case "boolean":
		return Bool, true
	case "date":
		return Date, true
	case "datetime":
		return DateTime, true
	case "picklist":
		return Picklist, true
	case "multipicklist":
		return MultiPicklist, true
	case "id", "reference":
		return ID, true
	}
	return 0, false
}

// HubSpotFieldType maps a HubSpot property's type and fieldType to a
// FieldType; ok is false for types criteria cannot test.
func HubSpotFieldType(propType, fieldType string) (t FieldType, ok bool) {
	switch propType {
	case "string", "phone_number":
		return Text, true
	case "number":
		return Number, true
	case "bool":
		return Bool, true
	case "date":
		return Date, true
	case "datetime":
		return DateTime, true
	case "enumeration":
		if fieldType == "checkbox" {
			return MultiPicklist, true
		}
		if fieldType == "booleancheckbox" {
			return Bool, true
		}
		return Picklist, true
	}
	return 0, false
}

// TypeError is a clause that does not fit the fields it reads: an unknown
// field, or an operator or value the field's type does not take.
type TypeError struct {
	Field  string // the field as the expression writes it
	Clause string // the clause, rendered canonically
	Reason string
}

func (e *TypeError) Error() string {
	return fmt.Sprintf("criteria: %s: %s", e.Clause, e.Reason)
}

// Which operators each type takes, and with which literal kind. = and !=
// with null are allowed for every type and are not listed.
var (
	ordered  = []string{opEq, opNe, opLt, opLe, opGt, opGe, opIn, opNotIn}
	equality = []string{opEq, opNe, opIn, opNotIn}
	typeOps  = map[FieldType]struct {
		ops []string
		lit litKind
	}{
		Text:          {append([]string{opLike}, ordered...), litString},
		Number:        {ordered, litNumber},
		Bool:          {[]string{opEq, opNe}, litBool},
		Date:          {ordered, litDate},
		DateTime:      {ordered, litDateTime},
		Picklist:      {append([]string{opLike}, equality...), litString},
		MultiPicklist: {[]string{opEq, opNe}, litString},
		ID:            {equality, litString},
	}
)

// Check type-checks e against an object's fields (field name, compared
// case-insensitively, to its type). Every problem is a *TypeError naming
// the field and the clause; all of them are returned, joined with
// errors.Join, so a settings check can show them at once.
func (e *Expr) Check(fields map[string]FieldType) error {
	byLower := make(map[string]FieldType, len(fields))
	for name, t := range fields {
		byLower[strings.ToLower(name)] = t
	}
	var errs []error
	walk(e.root, func(c *clause) {
		if err := checkClause(c, byLower); err != nil {
			errs = append(errs, err)
		}
	})
	return errors.Join(errs...)
}

func checkClause(c *clause, fields map[string]FieldType) error {
	fail := func(format string, args ...any) error {
		return &TypeError{Field: c.field, Clause: c.clauseString(), Reason: fmt.Sprintf(format, args...)}
	}
	t, ok := fields[strings.ToLower(c.field)]
	if !ok {
		return fail("the object has no field %s", c.field)
	}
	rule, ok := typeOps[t]
	if !ok {
		return fail("%s has a type criteria cannot test", c.field)
	}
	if c.op == opIsNull || c.op == opIsNotNull || len(c.vals) == 1 && c.vals[0].kind == litNull {
		return nil
	}
	if !slices.Contains(rule.ops, c.op) {
		return fail("%s is a %s field; it takes %s", c.field, t, strings.Join(rule.ops, ", "))
	}
	for _, v := range c.vals {
		if v.kind != rule.lit {
			return fail("%s is a %s field; compare it with %s, not %s", c.field, t, rule.lit, v.kind)
		}
	}
	return nil
}
