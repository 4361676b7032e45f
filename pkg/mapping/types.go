package mapping

import (
	"fmt"
	"slices"
	"strings"

	"github.com/crmsync/crmsync/pkg/crmsync"
)

// HubSpotProperty is the metadata of one HubSpot property that type
// compatibility and value conversion need (from GET /crm/v3/properties).
type HubSpotProperty struct {
	Name string
	// Type is HubSpot's data type: string, number, bool, enumeration,
	// date, datetime (also spelt dateTime), phone_number, …
	Type string
	// FieldType is how HubSpot shows it: text, textarea, phonenumber,
	// number, booleancheckbox, checkbox (multiple checkboxes), select,
	// radio, date, file, html, calculation_equation, …
	FieldType string
	// Options are the values of an enumeration property.
	Options []string
	// ReadOnly: values cannot be written (calculated or read-only value).
	ReadOnly bool
	// ReferencedObjectType is "OWNER" (or "USER") for HubSpot user
	// properties, whose options are the portal's users.
	ReferencedObjectType string
}

// userProperties are HubSpot's built-in user-type properties, recognised
// by name when the metadata does not carry referencedObjectType.
var userProperties = map[string]bool{
	"hubspot_owner_id": true, "hs_all_owner_ids": true, "hs_created_by_user_id": true,
	"hs_updated_by_user_id": true, "hs_user_ids_of_all_owners": true, "hubspot_team_id": true,
	"hs_all_team_ids": true, "hs_all_accessible_team_ids": true, "hs_shared_user_ids": true,
	"hs_shared_team_ids": true,
}

// UserType reports whether the property holds HubSpot users (owners,
// teams): its values are ids of the portal's users, meaningless in
// Salesforce, so it cannot be mapped (the engine maps the owner by email).
func (p HubSpotProperty) UserType() bool {
	switch strings.ToUpper(p.ReferencedObjectType) {
	case "OWNER", "USER", "TEAM":
		return true
	}
	return userProperties[p.Name]
}

// SalesforceField is the metadata of one Salesforce field that type
// compatibility and value conversion need (from the sObject describe).
type SalesforceField struct {
	Name string
	// Type is the describe type: string, textarea, email, phone, url,
	// picklist, multipicklist, combobox, boolean, double, int, long,
	// currency, percent, date, datetime, reference, id, …
	Type string
	// Calculated marks formula and roll-up fields.
	Calculated bool
	Updateable bool
	Nillable   bool
	// Length is the maximum number of characters of a text field.
	Length int
	// PicklistValues are the active values of a (multi-)picklist.
	PicklistValues []string
	// RestrictedPicklist: Salesforce refuses values not in PicklistValues.
	RestrictedPicklist bool
}

// Kind is the kind of value a mapped field carries, which decides how
// values are compared and converted.
type Kind int

// Value kinds.
const (
	KindUnsupported Kind = iota
	KindText
	KindPicklist
	KindMultiPicklist
	KindBool
	KindNumber
	KindDate
	KindDateTime
)

var kindNames = [...]string{"unsupported", "text", "picklist", "multi-select picklist", "boolean", "number", "date", "date-time"}

func (k Kind) String() string {
	if int(k) < len(kindNames) {
		return kindNames[k]
	}
	return fmt.Sprintf("Kind(%d)", int(k))
}

// HubSpotKind returns the kind of values p holds, or KindUnsupported and
// why not.
func HubSpotKind(p HubSpotProperty) (Kind, string) {
	if p.UserType() {
		return KindUnsupported, "is a HubSpot user property: its values are HubSpot user ids, which cannot be mapped (the owner is synced by the engine, by user email)"
	}
	typ, ft := strings.ToLower(p.Type), strings.ToLower(p.FieldType)
	switch typ {
	case "bool":
		return KindBool, ""
	case "enumeration":
		switch ft {
		case "booleancheckbox":
			return KindBool, ""
		case "checkbox":
			return KindMultiPicklist, ""
		case "select", "radio", "calculation_equation", "":
			return KindPicklist, ""
		}
	case "number":
		return KindNumber, ""
	case "date":
		return KindDate, ""
	case "datetime":
		return KindDateTime, ""
	case "phone_number":
		return KindText, ""
	case "string":
		switch ft {
		case "text", "textarea", "phonenumber", "html", "calculation_equation", "":
			return KindText, ""
		case "file":
			return KindUnsupported, "is a file property: its values are HubSpot file ids"
		}
	}
	return KindUnsupported, fmt.Sprintf("has type %s/%s, which crmsync does not sync", p.Type, p.FieldType)
}

// SalesforceKind returns the kind of values f holds, or KindUnsupported
// and why not.
func SalesforceKind(f SalesforceField) (Kind, string) {
	switch strings.ToLower(f.Type) {
	case "string", "textarea", "email", "phone", "url", "encryptedstring":
		return KindText, ""
	case "picklist", "combobox":
		return KindPicklist, ""
	case "multipicklist":
		return KindMultiPicklist, ""
	case "boolean":
		return KindBool, ""
	case "double", "int", "long", "currency", "percent":
		return KindNumber, ""
	case "date":
		return KindDate, ""
	case "datetime":
		return KindDateTime, ""
	case "reference":
		if f.Name == "OwnerId" {
			return KindUnsupported, "is the owner reference: the owner is synced by the engine, by user email, not by field mapping"
		}
		return KindUnsupported, "is a reference (record id): associations are synced by the engine, not by field mapping"
	case "id":
		return KindUnsupported, "is the record id"
	}
	return KindUnsupported, fmt.Sprintf("has type %s, which crmsync does not sync", f.Type)
}

// compatible lists, per Salesforce kind, the HubSpot kinds that may map to
// it: HubSpot connector's table (dropdown/radio ⇄ picklist, multiple
// checkboxes ⇄ multipicklist, single checkbox ⇄ boolean, number ⇄
// double/int/currency/percent, text ⇄ string/textarea/phone/email/url,
// date picker ⇄ date/datetime).
func compatible(h, s Kind) bool {
	switch {
	case h == KindUnsupported || s == KindUnsupported:
		return false
	case h == s:
		return true
	case (h == KindDate || h == KindDateTime) && (s == KindDate || s == KindDateTime):
		return true
	}
	return false
}

// writesSalesforce reports whether rule r can write the Salesforce field;
// writesHubSpot whether it can write the HubSpot property.
func writesSalesforce(r crmsync.FieldRule) bool {
	return r == crmsync.RulePreferSalesforce || r == crmsync.RuleTwoWay
}

func writesHubSpot(r crmsync.FieldRule) bool {
	return r == crmsync.RulePreferSalesforce || r == crmsync.RuleTwoWay || r == crmsync.RuleAlwaysSalesforce
}

// Compatibility is the verdict on one mapping.
type Compatibility struct {
	// OK: the mapping may be saved.
	OK bool
	// Reason says why not, when !OK.
	Reason string
	// Warnings are accepted but lossy aspects (picklist values one side
	// lacks, time of day dropped, …).
	Warnings []string
}

// Compatible decides whether HubSpot property hs and Salesforce field sf
// can be mapped with rule, and warns about what will not sync cleanly.
//
// Types must be compatible whatever the rule (a don't-sync mapping
// documents a pair that could sync). A Salesforce formula (calculated) or
// non-updateable field can only be a source: rule always_use_salesforce.
// A read-only HubSpot property cannot be mapped with a syncing rule, since
// every rule but dont_sync writes HubSpot.
func Compatible(rule crmsync.FieldRule, hs HubSpotProperty, sf SalesforceField) Compatibility {
	hk, why := HubSpotKind(hs)
	if hk == KindUnsupported {
		return Compatibility{Reason: fmt.Sprintf("HubSpot property %s %s", hs.Name, why)}
	}
	sk, why := SalesforceKind(sf)
	if sk == KindUnsupported {
		return Compatibility{Reason: fmt.Sprintf("Salesforce field %s %s", sf.Name, why)}
	}
	if !compatible(hk, sk) {
		return Compatibility{Reason: fmt.Sprintf("HubSpot property %s (%s, %s/%s) cannot sync with Salesforce field %s (%s, %s): %s",
			hs.Name, hk, hs.Type, hs.FieldType, sf.Name, sk, sf.Type, hintFor(hk))}
	}
	if (sf.Calculated || !sf.Updateable) && writesSalesforce(rule) {
		what := "is not updateable"
		if sf.Calculated {
			what = "is a formula field"
		}
		return Compatibility{Reason: fmt.Sprintf("Salesforce field %s %s: it can only be a source, with rule %s (rule %s writes it)",
			sf.Name, what, crmsync.RuleAlwaysSalesforce, rule)}
	}
	if hs.ReadOnly && writesHubSpot(rule) {
		return Compatibility{Reason: fmt.Sprintf("HubSpot property %s is read-only: rule %s writes it (only %s leaves it alone)",
			hs.Name, rule, crmsync.RuleDontSync)}
	}
	c := Compatibility{OK: true}
	if rule == crmsync.RuleDontSync {
		return c
	}
	warn := func(format string, a ...any) { c.Warnings = append(c.Warnings, fmt.Sprintf(format, a...)) }
	switch {
	case hk == KindDateTime && sk == KindDate:
		warn("HubSpot %s is a date-time and Salesforce %s a date: the time of day is not synced (dates are taken in UTC)", hs.Name, sf.Name)
	case hk == KindDate && sk == KindDateTime && writesSalesforce(rule):
		warn("HubSpot %s is a date and Salesforce %s a date-time: HubSpot changes set the time to midnight UTC", hs.Name, sf.Name)
	}
	if hk == KindPicklist || hk == KindMultiPicklist {
		if writesSalesforce(rule) && strings.ToLower(sf.Type) != "combobox" {
			if miss := missing(hs.Options, sf.PicklistValues); len(miss) > 0 {
				refused := "they are written as they are"
				if sf.RestrictedPicklist {
					refused = "the picklist is restricted, so Salesforce refuses them"
				}
				warn("HubSpot options of %s with no Salesforce value in %s: %s (%s)", hs.Name, sf.Name, list(miss), refused)
			}
		}
		if miss := missing(sf.PicklistValues, hs.Options); len(miss) > 0 {
			warn("Salesforce values of %s with no HubSpot option in %s: %s (HubSpot refuses them)", sf.Name, hs.Name, list(miss))
		}
	}
	if rule == crmsync.RuleTwoWay && !sf.Nillable && sk != KindBool {
		warn("Salesforce %s is required: clearing HubSpot %s is refused by Salesforce", sf.Name, hs.Name)
	}
	if strings.EqualFold(sf.Type, "int") || strings.EqualFold(sf.Type, "long") {
		if writesSalesforce(rule) {
			warn("Salesforce %s holds whole numbers: HubSpot values with decimals are refused", sf.Name)
		}
	}
	if hk == KindText && strings.EqualFold(hs.FieldType, "textarea") && sf.Length > 0 && sf.Length < 1000 && writesSalesforce(rule) {
		warn("HubSpot %s is multi-line text and Salesforce %s holds at most %d characters: longer values are refused", hs.Name, sf.Name, sf.Length)
	}
	return c
}

func hintFor(k Kind) string {
	switch k {
	case KindText:
		return "text maps to a Salesforce string, textarea, phone, email or url field"
	case KindPicklist:
		return "a dropdown or radio select maps to a Salesforce picklist"
	case KindMultiPicklist:
		return "multiple checkboxes map to a Salesforce multi-select picklist"
	case KindBool:
		return "a single checkbox maps to a Salesforce checkbox (boolean)"
	case KindNumber:
		return "a number maps to a Salesforce number, currency or percent field"
	}
	return "a date picker maps to a Salesforce date or date/time field"
}

// missing returns the values of from that are not in in.
func missing(from, in []string) []string {
	var out []string
	for _, v := range from {
		if !slices.Contains(in, v) {
			out = append(out, v)
		}
	}
	return out
}

func list(vs []string) string {
	const max = 5
	q := make([]string, 0, min(len(vs), max))
	for _, v := range vs[:min(len(vs), max)] {
		q = append(q, fmt.Sprintf("%q", v))
	}
	s := strings.Join(q, ", ")
	if len(vs) > max {
		s += fmt.Sprintf(" and %d more", len(vs)-max)
	}
	return s
}

// CheckMappings checks every mapping against both CRMs' metadata, keyed
// by object type and then by property or field name. Problems are
// mappings that cannot be saved (unknown names, incompatible types, a
// target that cannot be written); warnings are accepted but lossy. Paths
// are "mappings[i]" or one of its keys, as in the settings file.
func CheckMappings(ms []crmsync.FieldMapping, hs map[crmsync.ObjectType]map[string]HubSpotProperty,
	sf map[crmsync.ObjectType]map[string]SalesforceField) (problems, warnings []crmsync.Problem) {
	for i, m := range ms {
		at := fmt.Sprintf("mappings[%d]", i)
		bad := func(path, format string, a ...any) {
			problems = append(problems, crmsync.Problem{Path: path, Message: fmt.Sprintf(format, a...)})
		}
		hsProps, hsOK := hs[m.HubSpotObject]
		sfFields, sfOK := sf[m.SalesforceObject]
		if !hsOK {
			bad(at+".hubspot_object", "no HubSpot property metadata for object %q", m.HubSpotObject)
		}
		if !sfOK {
			bad(at+".salesforce_object", "no Salesforce describe for object %q", m.SalesforceObject)
		}
		if !hsOK || !sfOK {
			continue
		}
		hp, hasP := hsProps[m.HubSpotProperty]
		sfld, hasF := sfFields[m.SalesforceField]
		if !hasP {
			bad(at+".hubspot_property", "HubSpot %s has no property %q", m.HubSpotObject, m.HubSpotProperty)
		}
		if !hasF {
			bad(at+".salesforce_field", "Salesforce %s has no field %q", m.SalesforceObject, m.SalesforceField)
		}
		if !hasP || !hasF {
			continue
		}
		c := Compatible(m.Rule, hp, sfld)
		if !c.OK {
			bad(at, "%s", c.Reason)
		}
		for _, w := range c.Warnings {
			warnings = append(warnings, crmsync.Problem{Path: at, Message: w})
		}
	}
	return problems, warnings
}

// ValidateMappings returns the mappings that cannot be saved (see
// CheckMappings), with paths "mappings[i]" (or one of its keys).
func ValidateMappings(ms []crmsync.FieldMapping, hs map[crmsync.ObjectType]map[string]HubSpotProperty,
	sf map[crmsync.ObjectType]map[string]SalesforceField) []crmsync.Problem {
	problems, _ := CheckMappings(ms, hs, sf)
	return problems
}
