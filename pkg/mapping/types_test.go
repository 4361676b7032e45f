package mapping

import (
	"strings"
	"testing"

	"github.com/crmsync/crmsync/pkg/crmsync"
)

// HubSpot property shapes, one per field type the properties API reports.
var hsShapes = map[string]HubSpotProperty{
	"text":            {Name: "p", Type: "string", FieldType: "text"},
	"textarea":        {Name: "p", Type: "string", FieldType: "textarea"},
	"phonenumber":     {Name: "p", Type: "string", FieldType: "phonenumber"},
	"phone_number":    {Name: "p", Type: "phone_number", FieldType: "phonenumber"},
	"html":            {Name: "p", Type: "string", FieldType: "html"},
	"file":            {Name: "p", Type: "string", FieldType: "file"},
	"select":          {Name: "p", Type: "enumeration", FieldType: "select", Options: []string{"a", "b"}},
	"radio":           {Name: "p", Type: "enumeration", FieldType: "radio", Options: []string{"a", "b"}},
	"checkbox":        {Name: "p", Type: "enumeration", FieldType: "checkbox", Options: []string{"a", "b"}},
	"booleancheckbox": {Name: "p", Type: "bool", FieldType: "booleancheckbox"},
	"enum boolean":    {Name: "p", Type: "enumeration", FieldType: "booleancheckbox", Options: []string{"true", "false"}},
	"number":          {Name: "p", Type: "number", FieldType: "number"},
	"date":            {Name: "p", Type: "date", FieldType: "date"},
	"datetime":        {Name: "p", Type: "datetime", FieldType: "date"},
	"dateTime":        {Name: "p", Type: "dateTime", FieldType: "date"},
	"owner":           {Name: "hubspot_owner_id", Type: "enumeration", FieldType: "select"},
	"user reference":  {Name: "p", Type: "enumeration", FieldType: "select", ReferencedObjectType: "OWNER"},
	"json":            {Name: "p", Type: "json", FieldType: "text"},
}

// Salesforce field shapes, one per describe type.
var sfTypes = []string{"string", "textarea", "email", "phone", "url", "picklist", "multipicklist",
	"boolean", "double", "int", "currency", "percent", "date", "datetime", "reference", "id", "time", "base64"}

// The HubSpot connector's table, written out: each HubSpot shape and the
// Salesforce types it may map to. Shapes not listed map to nothing.
var wantCompatible = map[string][]string{
	"text":            {"string", "textarea", "email", "phone", "url"},
	"textarea":        {"string", "textarea", "email", "phone", "url"},
	"phonenumber":     {"string", "textarea", "email", "phone", "url"},
	"phone_number":    {"string", "textarea", "email", "phone", "url"},
	"html":            {"string", "textarea", "email", "phone", "url"},
	"select":          {"picklist"},
	"radio":           {"picklist"},
	"checkbox":        {"multipicklist"},
	"booleancheckbox": {"boolean"},
	"enum boolean":    {"boolean"},
	"number":          {"double", "int", "currency", "percent"},
	"date":            {"date", "datetime"},
	"datetime":        {"date", "datetime"},
	"dateTime":        {"date", "datetime"},
}

func sfField(typ string) SalesforceField {
	f := SalesforceField{Name: "F__c", Type: typ, Updateable: true, Nillable: true, Length: 255}
	if typ == "picklist" || typ == "multipicklist" {
		f.PicklistValues = []string{"a", "b"}
	}
	return f
}

func TestCompatibleEveryPair(t *testing.T) {
	for name, hp := range hsShapes {
		for _, typ := range sfTypes {
			t.Run(name+"/"+typ, func(t *testing.T) {
				want := false
				for _, ok := range wantCompatible[name] {
					want = want || ok == typ
				}
				c := Compatible(crmsync.RuleTwoWay, hp, sfField(typ))
				if c.OK != want {
					t.Fatalf("Compatible = %+v, want OK=%v", c, want)
				}
				if !c.OK && c.Reason == "" {
					t.Error("refused without a reason")
				}
				if c.OK && len(c.Warnings) > 0 && !strings.Contains(name, "date") && name != "textarea" && typ != "int" {
					t.Errorf("unexpected warnings: %q", c.Warnings)
				}
			})
		}
	}
}

func TestCompatibleReasons(t *testing.T) {
	text := HubSpotProperty{Name: "jobtitle", Type: "string", FieldType: "text"}
	tests := []struct {
		name string
		rule crmsync.FieldRule
		hs   HubSpotProperty
		sf   SalesforceField
		ok   bool
		want string // in the reason (refused) or a warning (accepted)
	}{
		{"owner property", crmsync.RuleTwoWay, hsShapes["owner"], sfField("string"), false, "user property"},
		{"owner property, don't sync", crmsync.RuleDontSync, hsShapes["owner"], sfField("string"), false, "by user email"},
		{"referenced OWNER", crmsync.RuleAlwaysSalesforce, hsShapes["user reference"], sfField("picklist"), false, "HubSpot user"},
		{"SF owner reference", crmsync.RuleTwoWay, text, SalesforceField{Name: "OwnerId", Type: "reference", Updateable: true}, false, "owner is synced by the engine"},
		{"SF reference", crmsync.RuleTwoWay, text, SalesforceField{Name: "AccountId", Type: "reference", Updateable: true}, false, "associations"},
		{"file", crmsync.RuleTwoWay, hsShapes["file"], sfField("string"), false, "file ids"},
		{"mismatch says what fits", crmsync.RuleTwoWay, hsShapes["number"], sfField("string"), false, "number maps to a Salesforce number"},
		{"formula, two-way", crmsync.RuleTwoWay, text, SalesforceField{Name: "Band__c", Type: "string", Calculated: true}, false, "formula field"},
		{"formula, prefer", crmsync.RulePreferSalesforce, text, SalesforceField{Name: "Band__c", Type: "string", Calculated: true}, false, "always_use_salesforce"},
		{"formula, always use Salesforce", crmsync.RuleAlwaysSalesforce, text, SalesforceField{Name: "Band__c", Type: "string", Calculated: true}, true, ""},
		{"formula, don't sync", crmsync.RuleDontSync, text, SalesforceField{Name: "Band__c", Type: "string", Calculated: true}, true, ""},
		{"not updateable, two-way", crmsync.RuleTwoWay, text, SalesforceField{Name: "X__c", Type: "string"}, false, "not updateable"},
		{"not updateable, always", crmsync.RuleAlwaysSalesforce, text, SalesforceField{Name: "X__c", Type: "string"}, true, ""},
		{"read-only HubSpot, always", crmsync.RuleAlwaysSalesforce, HubSpotProperty{Name: "createdate", Type: "datetime", FieldType: "date", ReadOnly: true}, sfField("datetime"), false, "read-only"},
		{"read-only HubSpot, don't sync", crmsync.RuleDontSync, HubSpotProperty{Name: "createdate", Type: "datetime", FieldType: "date", ReadOnly: true}, sfField("datetime"), true, ""},
		{"HubSpot option missing in SF", crmsync.RuleTwoWay,
			HubSpotProperty{Name: "dealstage", Type: "enumeration", FieldType: "radio", Options: []string{"closedwon", "Prospecting"}},
			SalesforceField{Name: "StageName", Type: "picklist", Updateable: true, PicklistValues: []string{"Prospecting"}, RestrictedPicklist: true},
			true, `HubSpot options of dealstage with no Salesforce value in StageName: "closedwon" (the picklist is restricted`},
		{"SF value missing in HubSpot", crmsync.RuleAlwaysSalesforce,
			HubSpotProperty{Name: "industry", Type: "enumeration", FieldType: "select", Options: []string{"Retail"}},
			SalesforceField{Name: "Industry", Type: "picklist", Updateable: true, PicklistValues: []string{"Retail", "Banking"}},
			true, `Salesforce values of Industry with no HubSpot option in industry: "Banking"`},
		{"multi options", crmsync.RuleTwoWay,
			HubSpotProperty{Name: "langs", Type: "enumeration", FieldType: "checkbox", Options: []string{"en", "pt", "de"}},
			SalesforceField{Name: "Langs__c", Type: "multipicklist", Updateable: true, PicklistValues: []string{"en"}},
			true, `"pt", "de" (they are written as they are)`},
		{"datetime to date", crmsync.RuleTwoWay, hsShapes["datetime"], sfField("date"), true, "time of day is not synced"},
		{"date to datetime", crmsync.RuleTwoWay, hsShapes["date"], sfField("datetime"), true, "midnight UTC"},
		{"number to int", crmsync.RuleTwoWay, hsShapes["number"], sfField("int"), true, "whole numbers"},
		{"required SF field, two-way", crmsync.RuleTwoWay, text, SalesforceField{Name: "LastName", Type: "string", Updateable: true}, true, "LastName is required: clearing HubSpot jobtitle is refused"},
		{"textarea to short string", crmsync.RuleTwoWay, HubSpotProperty{Name: "notes", Type: "string", FieldType: "textarea"}, sfField("string"), true, "at most 255 characters"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := Compatible(tt.rule, tt.hs, tt.sf)
			if c.OK != tt.ok {
				t.Fatalf("Compatible = %+v, want OK=%v", c, tt.ok)
			}
			got := c.Reason
			if c.OK {
				got = strings.Join(c.Warnings, "\n")
			}
			if !strings.Contains(got, tt.want) {
				t.Errorf("got %q, want it to contain %q", got, tt.want)
			}
		})
	}
}

func TestPicklistWarningsOnlyWhenTheRuleWrites(t *testing.T) {
	hs := HubSpotProperty{Name: "x", Type: "enumeration", FieldType: "select", Options: []string{"a", "hs-only"}}
	sf := SalesforceField{Name: "X__c", Type: "picklist", Updateable: true, PicklistValues: []string{"a"}}
	// Always use Salesforce never writes Salesforce: HubSpot-only options
	// cannot reach it.
	if c := Compatible(crmsync.RuleAlwaysSalesforce, hs, sf); !c.OK || len(c.Warnings) != 0 {
		t.Errorf("always use Salesforce: %+v", c)
	}
	if c := Compatible(crmsync.RuleDontSync, hs, sf); !c.OK || len(c.Warnings) != 0 {
		t.Errorf("don't sync: %+v", c)
	}
	if c := Compatible(crmsync.RulePreferSalesforce, hs, sf); !c.OK || len(c.Warnings) != 1 {
		t.Errorf("prefer Salesforce: %+v", c)
	}
}

func TestCheckMappings(t *testing.T) {
	hs := map[crmsync.ObjectType]map[string]HubSpotProperty{crmsync.HSContact: {
		"email":            {Name: "email", Type: "string", FieldType: "text"},
		"hubspot_owner_id": hsShapes["owner"],
		"tier":             {Name: "tier", Type: "enumeration", FieldType: "select", Options: []string{"gold", "tin"}},
	}}
	sf := map[crmsync.ObjectType]map[string]SalesforceField{crmsync.SFLead: {
		"Email":    {Name: "Email", Type: "email", Updateable: true, Nillable: true},
		"Tier__c":  {Name: "Tier__c", Type: "picklist", Updateable: true, Nillable: true, PicklistValues: []string{"gold"}},
		"Score__c": {Name: "Score__c", Type: "double", Updateable: true},
	}}
	m := func(hsp, sff string) crmsync.FieldMapping {
		return crmsync.FieldMapping{HubSpotObject: crmsync.HSContact, SalesforceObject: crmsync.SFLead,
			HubSpotProperty: hsp, SalesforceField: sff, Rule: crmsync.RuleTwoWay}
	}
	ms := []crmsync.FieldMapping{
		m("email", "Email"),
		m("nope", "Email"),
		m("email", "Nope__c"),
		m("hubspot_owner_id", "Email"),
		m("email", "Score__c"),
		m("tier", "Tier__c"),
		{HubSpotObject: crmsync.HSDeal, SalesforceObject: crmsync.SFOpportunity, HubSpotProperty: "dealname", SalesforceField: "Name", Rule: crmsync.RuleTwoWay},
	}
	probs, warns := CheckMappings(ms, hs, sf)
	want := []string{
		`mappings[1].hubspot_property: HubSpot contact has no property "nope"`,
		`mappings[2].salesforce_field: Salesforce Lead has no field "Nope__c"`,
		`mappings[3]: HubSpot property hubspot_owner_id is a HubSpot user property`,
		`mappings[4]: HubSpot property email (text, string/text) cannot sync with Salesforce field Score__c (number, double)`,
		`mappings[6].hubspot_object: no HubSpot property metadata for object "deal"`,
		`mappings[6].salesforce_object: no Salesforce describe for object "Opportunity"`,
	}
	if len(probs) != len(want) {
		t.Fatalf("got %d problems, want %d:\n%v", len(probs), len(want), probs)
	}
	for i, w := range want {
		if !strings.HasPrefix(probs[i].String(), w) {
			t.Errorf("problem %d = %q, want prefix %q", i, probs[i], w)
		}
	}
	if len(warns) != 1 || warns[0].Path != "mappings[5]" || !strings.Contains(warns[0].Message, `"tin"`) {
		t.Errorf("warnings = %v", warns)
	}
	if got := ValidateMappings(ms, hs, sf); len(got) != len(probs) {
		t.Errorf("ValidateMappings returned %d problems, CheckMappings %d", len(got), len(probs))
	}
}
