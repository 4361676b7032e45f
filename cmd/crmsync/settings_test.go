package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/crmsync/crmsync/pkg/crmsync"
	"github.com/crmsync/crmsync/pkg/mapping"
	"github.com/crmsync/crmsync/pkg/sandbox/hubspotsim"
	"github.com/crmsync/crmsync/pkg/sandbox/salesforcesim"
	"github.com/crmsync/crmsync/pkg/settingsfile"
)

func TestSettingsExportEditImport(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	data, file := filepath.Join(dir, "s.db"), filepath.Join(dir, "settings.yaml")
	var out bytes.Buffer
	if err := run(ctx, []string{"settings", "export", "-data", data, "-o", file}, &out); err != nil {
		t.Fatalf("export: %v", err)
	}
	b, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(b), "rule: prefer_salesforce_unless_blank") {
		t.Fatalf("export lacks the default mappings:\n%s", b)
	}
	// A bad edit is refused with its line.
	bad := strings.Replace(string(b), "companies: false", "companies: sometimes", 1)
	badFile := filepath.Join(dir, "bad.yaml")
	os.WriteFile(badFile, []byte(bad), 0o644)
	err = run(ctx, []string{"settings", "import", "-data", data, badFile}, &out)
	if err == nil || !strings.Contains(err.Error(), "line ") {
		t.Fatalf("import of a bad file = %v, want an error naming the line", err)
	}
	// A good edit imports, and a second import of the same (now stale) file
	// is refused.
	good := strings.Replace(string(b), "companies: false", "companies: true", 1)
	os.WriteFile(file, []byte(good), 0o644)
	if err := run(ctx, []string{"settings", "validate", file}, &out); err != nil {
		t.Fatalf("validate: %v", err)
	}
	if err := run(ctx, []string{"settings", "import", "-data", data, file}, &out); err != nil {
		t.Fatalf("import: %v", err)
	}
	if err := run(ctx, []string{"settings", "import", "-data", data, file}, &out); err == nil || !strings.Contains(err.Error(), "export again") {
		t.Fatalf("stale import = %v, want a version conflict", err)
	}
	out.Reset()
	if err := run(ctx, []string{"settings", "export", "-data", data}, &out); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out.String(), "companies: true") || !strings.Contains(out.String(), "version: 1") {
		t.Errorf("export after import:\n%s", out.String())
	}
}

const simToken = "pat-crmsync-test"

// startSimulators serves a HubSpot portal and a Salesforce org on httptest
// servers, each under a path prefix, and points validate -online at them
// through the environment. The org gets a custom date field on Lead.
func startSimulators(t *testing.T) *salesforcesim.Org {
	t.Helper()
	portal := hubspotsim.New(hubspotsim.Config{Token: simToken})
	hs := httptest.NewServer(http.StripPrefix("/hubspot", portal))
	t.Cleanup(hs.Close)

	org := salesforcesim.New(salesforcesim.Config{})
	lead, _ := org.Object("Lead")
	lead.AddField(&salesforcesim.Field{Name: "Birthday__c", Label: "Birthday", Type: salesforcesim.TypeDate})
	mux := http.NewServeMux()
	mux.Handle("/sf/", http.StripPrefix("/sf", org))
	sf := httptest.NewServer(mux)
	t.Cleanup(sf.Close)
	org.SetInstanceURL(sf.URL + "/sf")

	t.Setenv("CRMSYNC_HUBSPOT_TOKEN", simToken)
	t.Setenv("CRMSYNC_HUBSPOT_BASE_URL", hs.URL+"/hubspot")
	t.Setenv("CRMSYNC_SALESFORCE_BASE_URL", sf.URL+"/sf")
	t.Setenv("CRMSYNC_SALESFORCE_TOKEN", org.Session(""))
	return org
}

// writeSettings writes the default settings with mappings ms, as export
// would, and returns the file and its text.
func writeSettings(t *testing.T, ms []crmsync.FieldMapping) (string, string) {
	t.Helper()
	s := crmsync.DefaultSettings()
	s.Mappings = ms
	b, err := settingsfile.Encode(s)
	if err != nil {
		t.Fatal(err)
	}
	file := filepath.Join(t.TempDir(), "settings.yaml")
	if err := os.WriteFile(file, b, 0o644); err != nil {
		t.Fatal(err)
	}
	return file, string(b)
}

// lineOfNth returns the 1-based line of the n-th line (from 0) of text
// that starts, after indentation, with prefix.
func lineOfNth(t *testing.T, text, prefix string, n int) int {
	t.Helper()
	for i, l := range strings.Split(text, "\n") {
		if strings.HasPrefix(strings.TrimSpace(l), prefix) {
			if n == 0 {
				return i + 1
			}
			n--
		}
	}
	t.Fatalf("no line %q in\n%s", prefix, text)
	return 0
}

func m(hs crmsync.ObjectType, sf crmsync.ObjectType, p, f string, rule crmsync.FieldRule) crmsync.FieldMapping {
	return crmsync.FieldMapping{HubSpotObject: hs, SalesforceObject: sf, HubSpotProperty: p, SalesforceField: f, Rule: rule}
}

// validate -online against both simulators: every refusal is reported
// with the line of its mapping, lossy mappings are warnings, and the
// offline check is unchanged.
func TestSettingsValidateOnline(t *testing.T) {
	startSimulators(t)
	const (
		contact, deal, company = crmsync.HSContact, crmsync.HSDeal, crmsync.HSCompany
		lead, opp, account     = crmsync.SFLead, crmsync.SFOpportunity, crmsync.SFAccount
		two, always            = crmsync.RuleTwoWay, crmsync.RuleAlwaysSalesforce
	)
	ms := []crmsync.FieldMapping{
		m(contact, lead, "email", "Email", two),                   // 0 ok
		m(contact, lead, "firstname", "FirstName", two),           // 1 ok
		m(contact, lead, "hubspot_owner_id", "Title", two),        // 2 user property
		m(contact, lead, "lifecyclestage", "Title", two),          // 3 radio → string
		m(contact, lead, "lastname", "Score_Band__c", two),        // 4 formula as target
		m(contact, lead, "company", "Nonexistent__c", two),        // 5 unknown field
		m(deal, opp, "amount", "Amount", two),                     // 6 ok
		m(deal, opp, "dealstage", "StageName", two),               // 7 ok, warnings
		m(deal, opp, "closedate", "CloseDate", two),               // 8 ok, warning
		m(contact, lead, "firstname", "Score_Band__c", always),    // 9 ok: formula as source
		m(company, account, "numberofemployees", "Industry", two), // 10 number → picklist
		m(contact, lead, "createdate", "Birthday__c", always),     // 11 read-only HubSpot target
		m(contact, lead, "nosuchproperty", "Company", two),        // 12 unknown property
		m(contact, lead, "phone", "Phone", crmsync.RuleDontSync),  // 13 ok
		m(contact, lead, "hs_object_id", "HubSpot_Id__c", always), // 14 read-only, number → string
	}
	file, text := writeSettings(t, ms)

	// Offline the file is valid: names and types are not known there.
	var out bytes.Buffer
	if err := run(context.Background(), []string{"settings", "validate", file}, &out); err != nil {
		t.Fatalf("offline validate: %v", err)
	}

	out.Reset()
	err := run(context.Background(), []string{"settings", "validate", "-online", file}, &out)
	var fe *settingsfile.Error
	if !errors.As(err, &fe) || !errors.Is(err, crmsync.ErrInvalid) {
		t.Fatalf("validate -online = %v, want a *settingsfile.Error", err)
	}
	item := func(i int) int { return lineOfNth(t, text, "- hubspot_object:", i) }
	want := []settingsfile.LineProblem{
		{Line: item(2), Path: "mappings[2]", Message: "HubSpot property hubspot_owner_id is a HubSpot user property"},
		{Line: item(3), Path: "mappings[3]", Message: "HubSpot property lifecyclestage (picklist, enumeration/radio) cannot sync with Salesforce field Title (text, string)"},
		{Line: item(4), Path: "mappings[4]", Message: "Salesforce field Score_Band__c is a formula field"},
		{Line: lineOfNth(t, text, "salesforce_field: Nonexistent__c", 0), Path: "mappings[5].salesforce_field", Message: `Salesforce Lead has no field "Nonexistent__c"`},
		{Line: item(10), Path: "mappings[10]", Message: "HubSpot property numberofemployees (number, number/number) cannot sync with Salesforce field Industry (picklist, picklist)"},
		{Line: item(11), Path: "mappings[11]", Message: "HubSpot property createdate is read-only"},
		{Line: lineOfNth(t, text, "hubspot_property: nosuchproperty", 0), Path: "mappings[12].hubspot_property", Message: `HubSpot contact has no property "nosuchproperty"`},
		{Line: item(14), Path: "mappings[14]", Message: "HubSpot property hs_object_id (number, number/number) cannot sync with Salesforce field HubSpot_Id__c (text, string)"},
	}
	if len(fe.Problems) != len(want) {
		t.Fatalf("got %d problems, want %d:\n%v", len(fe.Problems), len(want), err)
	}
	for i, w := range want {
		g := fe.Problems[i]
		if g.Line != w.Line || g.Path != w.Path || !strings.HasPrefix(g.Message, w.Message) {
			t.Errorf("problem %d = %s\n          want line %d: %s: %s…", i, g, w.Line, w.Path, w.Message)
		}
	}
	if !strings.Contains(err.Error(), file+": settings file invalid") {
		t.Errorf("error does not name the file: %v", err)
	}
	for _, w := range []string{
		fmt.Sprintf("%s: warning: line %d: mappings[7]: HubSpot options of dealstage with no Salesforce value in StageName: \"appointmentscheduled\"", file, item(7)),
		fmt.Sprintf("%s: warning: line %d: mappings[7]: Salesforce values of StageName with no HubSpot option in dealstage: \"Prospecting\"", file, item(7)),
		fmt.Sprintf("%s: warning: line %d: mappings[8]: HubSpot closedate is a date-time and Salesforce CloseDate a date", file, item(8)),
	} {
		if !strings.Contains(out.String(), w) {
			t.Errorf("output lacks %q:\n%s", w, out.String())
		}
	}

	// Only the good mappings: valid, with the warnings still shown.
	good := []crmsync.FieldMapping{ms[0], ms[1], ms[6], ms[7], ms[8], ms[9], ms[13]}
	file, _ = writeSettings(t, good)
	out.Reset()
	if err := run(context.Background(), []string{"settings", "validate", "-online", file}, &out); err != nil {
		t.Fatalf("validate -online of good mappings: %v\n%s", err, out.String())
	}
	if !strings.Contains(out.String(), file+": valid; 7 mappings checked") || !strings.Contains(out.String(), "(5 warnings)") {
		t.Errorf("output:\n%s", out.String())
	}
}

func TestSettingsValidateOnlineNeedsCredentials(t *testing.T) {
	file, _ := writeSettings(t, nil)
	for _, k := range []string{"CRMSYNC_HUBSPOT_TOKEN", "CRMSYNC_HUBSPOT_BASE_URL", "CRMSYNC_SALESFORCE_BASE_URL", "CRMSYNC_SALESFORCE_TOKEN"} {
		t.Setenv(k, "")
	}
	t.Setenv("CRMSYNC_HUBSPOT_TOKEN", "x")
	var out bytes.Buffer
	err := run(context.Background(), []string{"settings", "validate", "-online", file}, &out)
	var u usageError
	if !errors.As(err, &u) || !strings.Contains(err.Error(), "CRMSYNC_SALESFORCE_BASE_URL, CRMSYNC_SALESFORCE_TOKEN") ||
		strings.Contains(err.Error(), "CRMSYNC_HUBSPOT_TOKEN") {
		t.Fatalf("validate -online without Salesforce credentials = %v", err)
	}
	out.Reset()
	if err := run(context.Background(), []string{"settings", "validate", "-h"}, &out); err != nil || !strings.Contains(out.String(), "CRMSYNC_SALESFORCE_TOKEN") {
		t.Errorf("settings validate -h = %v:\n%s", err, out.String())
	}
}

// A rejected credential is an error naming the CRM, not a verdict on the
// file.
func TestSettingsValidateOnlineBadToken(t *testing.T) {
	startSimulators(t)
	file, _ := writeSettings(t, []crmsync.FieldMapping{m(crmsync.HSContact, crmsync.SFLead, "email", "Email", crmsync.RuleTwoWay)})
	t.Setenv("CRMSYNC_HUBSPOT_TOKEN", "wrong")
	var out bytes.Buffer
	err := run(context.Background(), []string{"settings", "validate", "-online", file}, &out)
	var fe *settingsfile.Error
	if err == nil || errors.As(err, &fe) || !strings.Contains(err.Error(), "HubSpot properties of contact") {
		t.Fatalf("validate -online with a bad HubSpot token = %v", err)
	}
}

// The default mappings a newcomer gets pass validate -online against the
// sandbox's portal and org (warnings allowed, no refusal).
func TestDefaultMappingsValidateOnlineAgainstSandbox(t *testing.T) {
	startSimulators(t)
	file, _ := writeSettings(t, mapping.DefaultMappings(crmsync.RulePreferSalesforce))
	var out bytes.Buffer
	if err := run(context.Background(), []string{"settings", "validate", "-online", file}, &out); err != nil {
		t.Fatalf("default mappings refused: %v\n%s", err, out.String())
	}
}
