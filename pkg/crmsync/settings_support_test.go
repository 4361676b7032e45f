package crmsync

import (
	"errors"
	"reflect"
	"slices"
	"strings"
	"testing"
)

// settingsSupport says, for every leaf setting by its YAML path, whether
// this version acts on it (and the test that shows it) or refuses it.
// TestEverySettingIsActedOnOrRefused fails when a field is added to
// Settings without a line here: no setting may be accepted and do nothing.
var settingsSupport = map[string]string{
	"version":                 "meta: optimistic concurrency (crmsynctest.TestStore settings)",
	"updated_at":              "meta: set on import",
	"updated_by":              "meta: set on import",
	"objects.contacts":        "acted: engine TestObjectToggleOffIsARecordedSkip",
	"objects.companies":       "acted: engine TestContactAccountBothWays",
	"objects.deals":           "acted: engine TestDealCompanyIsOpportunityAccount",
	"default_rule":            "acted: Settings.Effective fills mappings without a rule (TestDefaultRuleFillsMappingsWithoutRule)",
	"new_contacts_as":         "acted: engine TestNewHubSpotContactBecomesLeadThenEchoesAreQuiet",
	"leads_to_hubspot":        "acted: engine TestEligibilityRefusalsAreVisible",
	"contacts_to_hubspot":     "acted: engine TestEligibilityRefusalsAreVisible",
	"inclusion_list_id":       "acted: engine TestEligibilityRefusalsAreVisible",
	"state_country.behaviour": "acted: localstack TestStateCountryScenario",
	"lead_company":            "acted: engine TestContactWithoutCompanyBecomesLeadWithDefaultCompany",
	"lifecycle.open_opportunity_to_opportunity": "acted: engine TestLifecycleStages",
	"lifecycle.closed_won_to_customer":          "acted: engine TestLifecycleStages",
	"lifecycle.propagate_to_company_contacts":   "acted: engine TestLifecycleStages",
	"activities.form_submissions":               "acted: localstack TestActivityScenarios (form submission → Task)",
	"activities.marketing_emails":               "acted: localstack TestActivityScenarios (marketing email events → Tasks)",
	"activities.sales_emails":                   "acted: engine TestActivityTogglesAndTaskFields",
	"activities.meetings":                       "acted: engine TestActivityTogglesAndTaskFields",
	"activities.calls":                          "acted: engine TestActivityTogglesAndTaskFields",
	"activities.notes":                          "acted: engine TestActivityTogglesAndTaskFields",
	"activities.tasks":                          "acted: engine TestActivityTogglesAndTaskFields",
	"activities.document_views":                 "refused",
	"activities.form_campaigns":                 "acted: localstack TestActivityScenarios (form → campaign member)",
	"activities.form_campaign_id":               "migrated: Settings.Effective moves it into form_campaigns as form \"*\" (TestFormCampaignMigration)",
	"selective_sync.enabled":                    "migrated: Settings.Effective turns the old list into rules (TestSelectiveSyncMigration)",
	"selective_sync.integration_user_id":        "acted: engine TestSelectiveSync",
	"selective_sync.rules":                      "acted: engine TestSelectiveSync",
	"selective_sync.exempt_created_by_crmsync":  "acted: engine TestSelectiveSync",
	"selective_sync.criteria":                   "migrated: Settings.Effective turns the old list into rules (TestSelectiveSyncMigration)",
	"budget.salesforce_daily_limit":             "acted: engine TestBudgetPausesEachPriorityWithHysteresis",
	"budget.pause_low_priority_percent":         "acted: engine TestBudgetPausesEachPriorityWithHysteresis",
	"budget.pause_activities_percent":           "acted: engine TestActivitiesArePriorityTwo",
	"budget.pause_updates_percent":              "acted: engine TestBudgetPausesEachPriorityWithHysteresis",
	"budget.resume_low_priority_percent":        "acted: engine TestBudgetPausesEachPriorityWithHysteresis",
	"budget.stop_percent":                       "acted: engine TestBudgetPausesEachPriorityWithHysteresis",
	"deletes":                                   "acted: engine TestMirrorDeletePolicy",
	"retry.interval":                            "acted: sweep TestRetrySchedule",
	"retry.max_attempts":                        "acted: sweep TestRetrySchedule",
	"retry.then_every":                          "acted: sweep TestRetrySchedule",
	"mappings":                                  "acted: engine TestFieldRulesOnLinkedPair",
	"value_maps":                                "acted: engine TestDealStagesMapBothWays",
}

// leafPaths lists the YAML paths of t's leaves (slices are leaves).
func leafPaths(t reflect.Type, prefix string) []string {
	var out []string
	for i := range t.NumField() {
		f := t.Field(i)
		name, _, _ := strings.Cut(f.Tag.Get("yaml"), ",")
		path := prefix + name
		if f.Type.Kind() == reflect.Struct && f.Type.PkgPath() == t.PkgPath() {
			out = append(out, leafPaths(f.Type, path+".")...)
			continue
		}
		out = append(out, path)
	}
	return out
}

func TestEverySettingIsActedOnOrRefused(t *testing.T) {
	paths := leafPaths(reflect.TypeFor[Settings](), "")
	for _, p := range paths {
		if _, ok := settingsSupport[p]; !ok {
			t.Errorf("setting %s is neither acted on nor refused: add it to settingsSupport (and act on it, or refuse it in Settings.Unsupported)", p)
		}
	}
	for p := range settingsSupport {
		if !slices.Contains(paths, p) {
			t.Errorf("settingsSupport lists %s, which is not a setting", p)
		}
	}
	// Every refused setting, set on its own, is refused by name; the
	// defaults are valid.
	base := DefaultSettings()
	if err := base.Validate(); err != nil {
		t.Fatalf("defaults: %v", err)
	}
	for p, support := range settingsSupport {
		if support != "refused" {
			continue
		}
		s := base
		setLeaf(t, &s, p)
		err := s.Validate()
		var ve *ValidationError
		if !errors.As(err, &ve) {
			t.Errorf("%s set: Validate = %v, want a refusal", p, err)
			continue
		}
		if len(ve.Problems) != 1 || ve.Problems[0].Path != p || !strings.Contains(ve.Problems[0].Message, "not supported: ") {
			t.Errorf("%s set: problems %v, want one 'not supported: <why>' at %s", p, ve.Problems, p)
		}
	}
}

// setLeaf sets the leaf at path to a non-zero value.
func setLeaf(t *testing.T, s *Settings, path string) {
	t.Helper()
	v := reflect.ValueOf(s).Elem()
	for part := range strings.SplitSeq(path, ".") {
		found := false
		for i := range v.NumField() {
			if name, _, _ := strings.Cut(v.Type().Field(i).Tag.Get("yaml"), ","); name == part {
				v, found = v.Field(i), true
				break
			}
		}
		if !found {
			t.Fatalf("no setting %s", path)
		}
	}
	switch v.Kind() {
	case reflect.Bool:
		v.SetBool(true)
	case reflect.String:
		v.SetString("x")
	case reflect.Slice:
		v.Set(reflect.MakeSlice(v.Type(), 1, 1))
	default:
		t.Fatalf("%s: cannot set a %s", path, v.Kind())
	}
}

func TestDefaultRuleFillsMappingsWithoutRule(t *testing.T) {
	s := DefaultSettings()
	s.DefaultRule = RuleTwoWay
	s.Mappings = []FieldMapping{
		{HubSpotObject: HSContact, SalesforceObject: SFLead, HubSpotProperty: "phone", SalesforceField: "Phone"},
		{HubSpotObject: HSContact, SalesforceObject: SFLead, HubSpotProperty: "city", SalesforceField: "City", Rule: RuleDontSync},
	}
	if err := s.Validate(); err != nil {
		t.Fatalf("a mapping without a rule is valid: %v", err)
	}
	eff := s.Effective()
	if eff.Mappings[0].Rule != RuleTwoWay || eff.Mappings[1].Rule != RuleDontSync {
		t.Errorf("effective rules %q %q, want two_way (the default rule) and dont_sync", eff.Mappings[0].Rule, eff.Mappings[1].Rule)
	}
	if s.Mappings[0].Rule != "" {
		t.Error("Effective changed its receiver's mappings")
	}
}

func TestSelectiveSyncMigration(t *testing.T) {
	s := DefaultSettings()
	s.SelectiveSync = SelectiveSync{Enabled: true, Criteria: []Criterion{
		{Object: SFLead, Field: "Sync__c", Op: "eq", Values: []string{"true"}},
		{Object: SFLead, Field: "LeadSource", Op: "in", Values: []string{"Web", "O'Hare"}},
		{Object: SFContact, Field: "Email", Op: "not_blank"},
	}}
	if err := s.Validate(); err != nil {
		t.Fatalf("old criteria: %v", err)
	}
	got := s.Effective().SelectiveSync
	want := map[ObjectType]string{SFLead: `Sync__c = 'true' AND LeadSource IN ('Web', 'O\'Hare')`, SFContact: "Email IS NOT NULL"}
	if len(got.Rules) != 2 || got.Rules[SFLead] != want[SFLead] || got.Rules[SFContact] != want[SFContact] || got.Enabled || got.Criteria != nil {
		t.Errorf("migrated %+v, want rules %v", got, want)
	}
	bad := DefaultSettings()
	bad.SelectiveSync.Rules = map[ObjectType]string{SFLead: "Email LIKE", "Nope": "A = 1"}
	err := bad.Validate()
	if err == nil || !strings.Contains(err.Error(), "selective_sync.rules.Lead") || !strings.Contains(err.Error(), "selective_sync.rules.Nope") {
		t.Errorf("bad rules: %v", err)
	}
}

func TestFormCampaignMigration(t *testing.T) {
	s := DefaultSettings()
	s.Activities.FormCampaignID = "701000000000001AAA"
	s.Activities.FormCampaigns = []FormCampaign{{FormID: "f-1", CampaignID: "701000000000002AAA", MemberStatus: "Responded"}}
	if err := s.Validate(); err != nil {
		t.Fatal(err)
	}
	e := s.Effective()
	if e.Activities.FormCampaignID != "" || len(e.Activities.FormCampaigns) != 2 {
		t.Fatalf("Effective activities = %+v", e.Activities)
	}
	if fc, ok := e.Activities.CampaignOf("f-1"); !ok || fc.CampaignID != "701000000000002AAA" || fc.MemberStatus != "Responded" {
		t.Errorf("CampaignOf(f-1) = %+v, %v", fc, ok)
	}
	if fc, ok := e.Activities.CampaignOf("f-2"); !ok || fc.CampaignID != "701000000000001AAA" {
		t.Errorf("CampaignOf(f-2) = %+v, %v: want the migrated campaign for every form", fc, ok)
	}
	if _, ok := DefaultSettings().Activities.CampaignOf("f-1"); ok {
		t.Error("no campaigns configured, yet a form has one")
	}
	bad := DefaultSettings()
	bad.Activities.FormCampaigns = []FormCampaign{{FormID: "f", CampaignID: "0015000000abcde"}, {FormID: "f", CampaignID: "701000000000001"}, {CampaignID: "701000000000001"}}
	var ve *ValidationError
	if err := bad.Validate(); !errors.As(err, &ve) || len(ve.Problems) != 3 {
		t.Fatalf("Validate = %v, want 3 problems (not a campaign id, a form twice, no form id)", err)
	}
}
