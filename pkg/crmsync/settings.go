package crmsync

import (
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/crmsync/crmsync/pkg/criteria"
)

// FieldRule says which way a mapped field syncs.
type FieldRule string

// Field rules, as in HubSpot's connector.
const (
	// RulePreferSalesforce: HubSpot → Salesforce only while the Salesforce
	// field is blank; Salesforce → HubSpot always.
	RulePreferSalesforce FieldRule = "prefer_salesforce_unless_blank"
	// RuleAlwaysSalesforce: Salesforce → HubSpot only.
	RuleAlwaysSalesforce FieldRule = "always_use_salesforce"
	// RuleTwoWay: the most recent change wins, per field.
	RuleTwoWay FieldRule = "two_way"
	// RuleDontSync: never synced.
	RuleDontSync FieldRule = "dont_sync"
)

// Valid reports whether r is a known rule.
func (r FieldRule) Valid() bool {
	switch r {
	case RulePreferSalesforce, RuleAlwaysSalesforce, RuleTwoWay, RuleDontSync:
		return true
	}
	return false
}

// FieldMapping maps one HubSpot property to one Salesforce field for one
// object pair.
type FieldMapping struct {
	HubSpotObject    ObjectType `json:"hubspot_object" yaml:"hubspot_object"`
	SalesforceObject ObjectType `json:"salesforce_object" yaml:"salesforce_object"`
	HubSpotProperty  string     `json:"hubspot_property" yaml:"hubspot_property"`
	SalesforceField  string     `json:"salesforce_field" yaml:"salesforce_field"`
	// Rule is the field rule; empty means the settings' DefaultRule.
	Rule FieldRule `json:"rule,omitempty" yaml:"rule,omitempty"`
}

// Key identifies the mapping within a link's shadow.
func (m FieldMapping) Key() string { return m.HubSpotProperty + "=" + m.SalesforceField }

// ValueMap translates the values of one mapped picklist field.
type ValueMap struct {
	HubSpotObject    ObjectType  `json:"hubspot_object" yaml:"hubspot_object"`
	SalesforceObject ObjectType  `json:"salesforce_object" yaml:"salesforce_object"`
	HubSpotProperty  string      `json:"hubspot_property" yaml:"hubspot_property"`
	SalesforceField  string      `json:"salesforce_field" yaml:"salesforce_field"`
	Values           []ValuePair `json:"values" yaml:"values"`
}

// Key is the key of the field mapping the value map belongs to.
func (v ValueMap) Key() string { return v.HubSpotProperty + "=" + v.SalesforceField }

// ValuePair is one value on each side. Direction limits it to one way:
// "to_salesforce", "to_hubspot", or "" for both (then the pair is also
// the value each side's value is written as).
type ValuePair struct {
	HubSpot    string `json:"hubspot" yaml:"hubspot"`
	Salesforce string `json:"salesforce" yaml:"salesforce"`
	Direction  string `json:"direction,omitempty" yaml:"direction,omitempty"`
}

// Value-pair directions.
const (
	ToSalesforce = "to_salesforce"
	ToHubSpot    = "to_hubspot"
)

// SFContactKind is what a new HubSpot contact becomes in Salesforce.
type SFContactKind string

// New-contact kinds.
const (
	CreateAsLead    SFContactKind = "lead"
	CreateAsContact SFContactKind = "contact"
)

// InboundAction is what a Salesforce lead or contact does in HubSpot.
type InboundAction string

// Inbound actions.
const (
	InboundNothing        InboundAction = "do_nothing"
	InboundCreateOrUpdate InboundAction = "create_or_update"
)

// DeletePolicy is what a delete on one side does on the other.
type DeletePolicy string

// Delete policies.
const (
	// DeleteNothing: the link is marked, nothing is deleted (the default).
	DeleteNothing DeletePolicy = "mark_only"
	// DeleteMirror: the linked record is deleted too.
	DeleteMirror DeletePolicy = "mirror"
)

// ObjectToggles turns each object pair's sync on or off.
type ObjectToggles struct {
	Contacts  bool `json:"contacts" yaml:"contacts"`
	Companies bool `json:"companies" yaml:"companies"`
	Deals     bool `json:"deals" yaml:"deals"`
}

// LifecycleSettings are the lifecycle-stage transitions.
type LifecycleSettings struct {
	// OpenOpportunityToOpportunity: a contact on an open opportunity (via
	// contact roles) moves to lifecycle stage Opportunity.
	OpenOpportunityToOpportunity bool `json:"open_opportunity_to_opportunity" yaml:"open_opportunity_to_opportunity"`
	// ClosedWonToCustomer: a Closed Won opportunity moves its contacts to
	// Customer.
	ClosedWonToCustomer bool `json:"closed_won_to_customer" yaml:"closed_won_to_customer"`
	// PropagateToCompanyContacts applies the transition to the company's
	// other contacts too.
	PropagateToCompanyContacts bool `json:"propagate_to_company_contacts" yaml:"propagate_to_company_contacts"`
}

// ActivitySettings turns the sync of each activity type to Salesforce Tasks
// on or off (each off by default, as in HubSpot's connector), and adds
// form submitters to Salesforce campaigns.
type ActivitySettings struct {
	FormSubmissions bool `json:"form_submissions" yaml:"form_submissions"`
	MarketingEmails bool `json:"marketing_emails" yaml:"marketing_emails"`
	SalesEmails     bool `json:"sales_emails" yaml:"sales_emails"`
	Meetings        bool `json:"meetings" yaml:"meetings"`
	Calls           bool `json:"calls" yaml:"calls"`
	Notes           bool `json:"notes" yaml:"notes"`
	Tasks           bool `json:"tasks" yaml:"tasks"`
	// DocumentViews is refused: HubSpot offers no API for sales document
	// views (see Unsupported).
	DocumentViews bool `json:"document_views" yaml:"document_views"`
	// FormCampaigns add a form's submitters to a Salesforce campaign.
	FormCampaigns []FormCampaign `json:"form_campaigns,omitempty" yaml:"form_campaigns,omitempty"`
	// FormCampaignID is earlier versions' one campaign for every form;
	// Effective moves it into FormCampaigns (form "*").
	FormCampaignID string `json:"form_campaign_id,omitempty" yaml:"form_campaign_id,omitempty"`
}

// FormCampaign maps a HubSpot form to a Salesforce campaign: a submission
// of the form adds the submitter's synced Lead or Contact as a member
// while the campaign is active.
type FormCampaign struct {
	// FormID is the form's id (GUID), or "*" for every form not listed.
	FormID     string `json:"form_id" yaml:"form_id"`
	CampaignID string `json:"campaign_id" yaml:"campaign_id"`
	// MemberStatus is the member's status ("" = the campaign's default).
	MemberStatus string `json:"member_status,omitempty" yaml:"member_status,omitempty"`
}

// AnyForm is FormCampaign.FormID for every form not listed.
const AnyForm = "*"

// CampaignOf returns the campaign a submission of form formID joins.
func (a ActivitySettings) CampaignOf(formID string) (FormCampaign, bool) {
	var fallback *FormCampaign
	for i, fc := range a.FormCampaigns {
		switch fc.FormID {
		case formID:
			return fc, true
		case AnyForm:
			fallback = &a.FormCampaigns[i]
		}
	}
	if fallback != nil {
		return *fallback, true
	}
	return FormCampaign{}, false
}

// On reports whether activities of type o sync to Salesforce Tasks, and
// names the setting that says so.
func (a ActivitySettings) On(o ObjectType) (bool, string) {
	switch o {
	case HSFormSubmission:
		return a.FormSubmissions, "activities.form_submissions"
	case HSMarketingEmailEvent:
		return a.MarketingEmails, "activities.marketing_emails"
	case HSSalesEmail:
		return a.SalesEmails, "activities.sales_emails"
	case HSMeeting:
		return a.Meetings, "activities.meetings"
	case HSCall:
		return a.Calls, "activities.calls"
	case HSNote:
		return a.Notes, "activities.notes"
	case HSTask:
		return a.Tasks, "activities.tasks"
	case HSDocumentView:
		return a.DocumentViews, "activities.document_views"
	}
	return false, ""
}

// Criterion is one condition of the selective-sync rule of earlier
// versions (Field Op Value on the Salesforce record); Effective migrates a
// list of them into Rules.
type Criterion struct {
	Object ObjectType `json:"object" yaml:"object"`
	Field  string     `json:"field" yaml:"field"`
	// Op is one of eq, ne, in, not_in, blank, not_blank.
	Op     string   `json:"op" yaml:"op"`
	Values []string `json:"values,omitempty" yaml:"values,omitempty"`
}

// SelectiveSync decides who syncs with a rule instead of Salesforce
// sharing (HubSpot's connector needs an Enterprise licence, a profile, a
// role and sharing rules for this). A record syncs only while it meets
// the rule of its object type — a criteria expression (package criteria,
// e.g. "Sync_to_HubSpot__c = true AND Email LIKE '%@%'") evaluated on the
// re-read record. Salesforce records owned by IntegrationUserID always
// sync, as in HubSpot; with ExemptCreatedByCrmsync, so do records the
// integration user created (a form's Lead that would otherwise stop
// syncing).
type SelectiveSync struct {
	// Rules maps an object type (Salesforce: Lead, Contact, Account,
	// Opportunity; HubSpot: contact, company, deal) to its expression.
	Rules                  map[ObjectType]string `json:"rules,omitempty" yaml:"rules,omitempty"`
	IntegrationUserID      string                `json:"integration_user_id,omitempty" yaml:"integration_user_id,omitempty"`
	ExemptCreatedByCrmsync bool                  `json:"exempt_created_by_crmsync,omitempty" yaml:"exempt_created_by_crmsync,omitempty"`
	// Enabled and Criteria are the form of earlier versions, read for
	// migration only (Effective turns them into Rules).
	Enabled  bool        `json:"enabled,omitempty" yaml:"enabled,omitempty"`
	Criteria []Criterion `json:"criteria,omitempty" yaml:"criteria,omitempty"`
}

// migrate turns the criteria list of earlier versions into Rules: the
// conditions of one object joined with AND.
func (ss SelectiveSync) migrate() SelectiveSync {
	if !ss.Enabled || len(ss.Criteria) == 0 {
		ss.Enabled, ss.Criteria = false, nil
		return ss
	}
	rules := map[ObjectType]string{}
	for o, r := range ss.Rules {
		rules[o] = r
	}
	byObject := map[ObjectType][]string{}
	var order []ObjectType
	for _, c := range ss.Criteria {
		if _, ok := byObject[c.Object]; !ok {
			order = append(order, c.Object)
		}
		byObject[c.Object] = append(byObject[c.Object], c.expression())
	}
	for _, o := range order {
		if _, ok := rules[o]; !ok {
			rules[o] = strings.Join(byObject[o], " AND ")
		}
	}
	ss.Rules, ss.Enabled, ss.Criteria = rules, false, nil
	return ss
}

// expression is the criterion in the criteria language.
func (c Criterion) expression() string {
	quote := func(v string) string {
		return "'" + strings.NewReplacer(`\`, `\\`, `'`, `\'`).Replace(v) + "'"
	}
	var vs []string
	for _, v := range c.Values {
		vs = append(vs, quote(v))
	}
	first := "''"
	if len(vs) > 0 {
		first = vs[0]
	}
	switch c.Op {
	case "ne":
		return c.Field + " != " + first
	case "in":
		return c.Field + " IN (" + strings.Join(vs, ", ") + ")"
	case "not_in":
		return c.Field + " NOT IN (" + strings.Join(vs, ", ") + ")"
	case "blank":
		return c.Field + " IS NULL"
	case "not_blank":
		return c.Field + " IS NOT NULL"
	}
	return c.Field + " = " + first
}

// APIBudget keeps crmsync inside the Salesforce API allocation, by
// priority: each class of work pauses at its own share of the allocation
// and resumes below ResumeLowPriorityPercent (see package engine: P0
// creations, P1 updates, P2 activities, P3 the sweep's and bulk work).
type APIBudget struct {
	// SalesforceDailyLimit is the share of the org's 24-hour allocation
	// crmsync may use (0 = take it from /limits).
	SalesforceDailyLimit int `json:"salesforce_daily_limit" yaml:"salesforce_daily_limit"`
	// PauseLowPriorityPercent: at this share P3 work (sweep, retries,
	// bulk resyncs, backfill) pauses.
	PauseLowPriorityPercent int `json:"pause_low_priority_percent" yaml:"pause_low_priority_percent"`
	// PauseActivitiesPercent: at this share P2 work (activities) pauses.
	PauseActivitiesPercent int `json:"pause_activities_percent" yaml:"pause_activities_percent"`
	// PauseUpdatesPercent: at this share P1 work (field updates) pauses.
	PauseUpdatesPercent int `json:"pause_updates_percent" yaml:"pause_updates_percent"`
	// ResumeLowPriorityPercent: paused classes resume below this share
	// (hysteresis).
	ResumeLowPriorityPercent int `json:"resume_low_priority_percent" yaml:"resume_low_priority_percent"`
	// StopPercent: at this share P0 work (creations) waits too: nothing
	// calls Salesforce until usage falls.
	StopPercent int `json:"stop_percent" yaml:"stop_percent"`
}

// RetrySettings is the schedule errored records are retried on.
type RetrySettings struct {
	Interval    time.Duration `json:"interval" yaml:"interval"`
	MaxAttempts int           `json:"max_attempts" yaml:"max_attempts"`
	// ThenEvery is the interval after MaxAttempts (nightly by default).
	ThenEvery time.Duration `json:"then_every" yaml:"then_every"`
}

// Settings is the whole configuration of one HubSpot–Salesforce pair,
// versioned for optimistic concurrency.
type Settings struct {
	// Version is 0 for settings never stored; the Store sets it on put.
	Version int64 `json:"version" yaml:"version"`

	Objects           ObjectToggles `json:"objects" yaml:"objects"`
	DefaultRule       FieldRule     `json:"default_rule" yaml:"default_rule"`
	NewContactsAs     SFContactKind `json:"new_contacts_as" yaml:"new_contacts_as"`
	LeadsToHubSpot    InboundAction `json:"leads_to_hubspot" yaml:"leads_to_hubspot"`
	ContactsToHubSpot InboundAction `json:"contacts_to_hubspot" yaml:"contacts_to_hubspot"`
	InclusionListID   string        `json:"inclusion_list_id,omitempty" yaml:"inclusion_list_id,omitempty"`
	// StateCountry is how countries and states are matched to the org's
	// values.
	StateCountry StateCountrySettings `json:"state_country" yaml:"state_country"`
	// LeadCompany is the Company a Lead gets when its HubSpot contact has
	// none (Salesforce requires one); it reads back as blank. Empty means
	// DefaultLeadCompany.
	LeadCompany   string            `json:"lead_company,omitempty" yaml:"lead_company,omitempty"`
	Lifecycle     LifecycleSettings `json:"lifecycle" yaml:"lifecycle"`
	Activities    ActivitySettings  `json:"activities" yaml:"activities"`
	SelectiveSync SelectiveSync     `json:"selective_sync" yaml:"selective_sync"`
	Budget        APIBudget         `json:"budget" yaml:"budget"`
	Deletes       DeletePolicy      `json:"deletes" yaml:"deletes"`
	Retry         RetrySettings     `json:"retry" yaml:"retry"`
	Mappings      []FieldMapping    `json:"mappings" yaml:"mappings"`
	// ValueMaps translate picklist values between the CRMs (deal stages ⇄
	// StageName first). Empty means the defaults (mapping.DefaultValueMaps).
	ValueMaps []ValueMap `json:"value_maps,omitempty" yaml:"value_maps,omitempty"`

	UpdatedAt time.Time `json:"updated_at" yaml:"updated_at,omitempty"`
	UpdatedBy string    `json:"updated_by,omitempty" yaml:"updated_by,omitempty"`
}

// DefaultSettings returns the defaults of HubSpot's own connector: contacts
// on, companies and deals off, "Prefer Salesforce unless blank", new
// contacts as leads, Salesforce → HubSpot "create or update", lifecycle
// transitions off, no inclusion list, activities off, deletes mark only,
// retries every 20 minutes up to 10 times then nightly. Mappings are empty
// here; the mapping package supplies the default field mappings.
func DefaultSettings() Settings {
	return Settings{
		Objects:           ObjectToggles{Contacts: true},
		DefaultRule:       RulePreferSalesforce,
		NewContactsAs:     CreateAsLead,
		LeadCompany:       DefaultLeadCompany,
		StateCountry:      StateCountrySettings{Behaviour: StateCountryMatch},
		LeadsToHubSpot:    InboundCreateOrUpdate,
		ContactsToHubSpot: InboundCreateOrUpdate,
		Budget: APIBudget{PauseLowPriorityPercent: 75, PauseActivitiesPercent: 90, PauseUpdatesPercent: 97,
			ResumeLowPriorityPercent: 70, StopPercent: 100},
		Deletes: DeleteNothing,
		Retry:   RetrySettings{Interval: 20 * time.Minute, MaxAttempts: 10, ThenEvery: 24 * time.Hour},
	}
}

// Unsupported lists, by their paths in the YAML/JSON form, the settings
// that are set (not their zero value) although this version cannot act on
// them, each with why. Validate refuses them: a setting that is accepted
// and silently does nothing is the worst kind of defect.
func (s Settings) Unsupported() map[string]string {
	out := map[string]string{}
	if s.Activities.DocumentViews {
		out["activities.document_views"] = "HubSpot has no public API for sales document views (no webhook, no events endpoint), so crmsync cannot see them; it must stay off"
	}
	return out
}

// StateCountrySettings is HubSpot's connector's "Matching state and
// country fields": Behaviour "match" turns HubSpot's free text (names,
// ISO codes, common variants) into the org's values — CountryCode and
// StateCode where the org has State and Country/Territory Picklists, the
// standard names otherwise — and a value that cannot be matched is a
// Property values error naming it; "as_is" sends HubSpot's text as it is.
type StateCountrySettings struct {
	Behaviour string `json:"behaviour" yaml:"behaviour"`
}

// State/country behaviours.
const (
	StateCountryMatch = "match"
	StateCountryAsIs  = "as_is"
)

// DefaultLeadCompany is Salesforce's own web-to-lead convention for a lead
// without a company.
const DefaultLeadCompany = "[not provided]"

// Effective returns s as the engine applies it: a mapping without a rule
// takes DefaultRule; an empty LeadCompany is DefaultLeadCompany. (The one place the default rule acts on stored
// settings; with no settings stored the default mappings carry it.)
func (s Settings) Effective() Settings {
	ms := make([]FieldMapping, len(s.Mappings))
	for i, m := range s.Mappings {
		if m.Rule == "" {
			m.Rule = s.DefaultRule
		}
		ms[i] = m
	}
	s.Mappings = ms
	s.SelectiveSync = s.SelectiveSync.migrate()
	if b := &s.Budget; b.PauseActivitiesPercent == 0 && b.PauseUpdatesPercent == 0 {
		// Settings stored before the priority classes: updates and
		// activities pause where everything stopped.
		b.PauseActivitiesPercent, b.PauseUpdatesPercent = b.StopPercent, b.StopPercent
	}
	if s.LeadCompany == "" {
		s.LeadCompany = DefaultLeadCompany
	}
	if s.StateCountry.Behaviour == "" {
		s.StateCountry.Behaviour = StateCountryMatch
	}
	if a := &s.Activities; a.FormCampaignID != "" {
		if !slices.ContainsFunc(a.FormCampaigns, func(fc FormCampaign) bool { return fc.FormID == AnyForm }) {
			a.FormCampaigns = append(slices.Clone(a.FormCampaigns), FormCampaign{FormID: AnyForm, CampaignID: a.FormCampaignID})
		}
		a.FormCampaignID = ""
	}
	return s
}

// validate checks the form campaigns: a form listed once, a campaign id
// that is a Salesforce Campaign id (prefix 701).
func (a ActivitySettings) validate() []Problem {
	var probs []Problem
	seen := map[string]bool{}
	for i, fc := range a.FormCampaigns {
		at := fmt.Sprintf("activities.form_campaigns[%d]", i)
		switch {
		case strings.TrimSpace(fc.FormID) == "":
			probs = append(probs, Problem{Path: at + ".form_id", Message: `needs a form id (the form's GUID), or "*" for every form`})
		case seen[fc.FormID]:
			probs = append(probs, Problem{Path: at + ".form_id", Message: fmt.Sprintf("form %s is listed twice", fc.FormID)})
		}
		seen[fc.FormID] = true
		if !isCampaignID(fc.CampaignID) {
			probs = append(probs, Problem{Path: at + ".campaign_id", Message: fmt.Sprintf("%q is not a Salesforce Campaign id (15 or 18 characters starting 701)", fc.CampaignID)})
		}
	}
	if a.FormCampaignID != "" && !isCampaignID(a.FormCampaignID) {
		probs = append(probs, Problem{Path: "activities.form_campaign_id", Message: fmt.Sprintf("%q is not a Salesforce Campaign id (15 or 18 characters starting 701)", a.FormCampaignID)})
	}
	return probs
}

func isCampaignID(id string) bool {
	if len(id) != 15 && len(id) != 18 || !strings.HasPrefix(id, "701") {
		return false
	}
	for _, c := range id {
		if !('0' <= c && c <= '9' || 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z') {
			return false
		}
	}
	return true
}

// validateRules parses each selective-sync rule (field names and types
// are checked against the CRMs' metadata by settings validate -online).
func validateRules(rules map[ObjectType]string) []Problem {
	var probs []Problem
	objects := make([]ObjectType, 0, len(rules))
	for o := range rules {
		objects = append(objects, o)
	}
	slices.Sort(objects)
	for _, o := range objects {
		at := "selective_sync.rules." + string(o)
		if o.Side() == "" {
			probs = append(probs, Problem{Path: at, Message: fmt.Sprintf("%q is not an object type", o)})
			continue
		}
		if _, err := criteria.Parse(rules[o]); err != nil {
			probs = append(probs, Problem{Path: at, Message: err.Error()})
		}
	}
	return probs
}

// validateValueMaps checks each value map: its fields, and that each
// value translates to one value in each direction.
func validateValueMaps(vms []ValueMap) []Problem {
	var probs []Problem
	for i, vm := range vms {
		at := fmt.Sprintf("value_maps[%d]", i)
		if vm.HubSpotObject.Side() != HubSpot || vm.SalesforceObject.Side() != Salesforce || vm.HubSpotProperty == "" || vm.SalesforceField == "" {
			probs = append(probs, Problem{Path: at, Message: "needs hubspot_object, salesforce_object, hubspot_property and salesforce_field"})
		}
		toSF, toHS := map[string]int{}, map[string]int{}
		for j, v := range vm.Values {
			vat := fmt.Sprintf("%s.values[%d]", at, j)
			if v.HubSpot == "" || v.Salesforce == "" {
				probs = append(probs, Problem{Path: vat, Message: "needs a hubspot and a salesforce value"})
			}
			if v.Direction != "" && v.Direction != ToSalesforce && v.Direction != ToHubSpot {
				probs = append(probs, Problem{Path: vat + ".direction", Message: fmt.Sprintf("must be %q, %q or left out (both ways), not %q", ToSalesforce, ToHubSpot, v.Direction)})
			}
			if v.Direction != ToHubSpot {
				if k, dup := toSF[v.HubSpot]; dup {
					probs = append(probs, Problem{Path: vat, Message: fmt.Sprintf("HubSpot value %q already goes to Salesforce in values[%d]", v.HubSpot, k)})
				}
				toSF[v.HubSpot] = j
			}
			if v.Direction != ToSalesforce {
				if k, dup := toHS[v.Salesforce]; dup {
					probs = append(probs, Problem{Path: vat, Message: fmt.Sprintf("Salesforce value %q already goes to HubSpot in values[%d]", v.Salesforce, k)})
				}
				toHS[v.Salesforce] = j
			}
		}
	}
	return probs
}

// Problem is one invalid setting: Path names it as in the YAML/JSON form
// ("mappings[2].rule"), Message says what is wrong.
type Problem struct {
	Path    string
	Message string
}

func (p Problem) String() string { return p.Path + ": " + p.Message }

// ValidationError lists every invalid setting. It wraps ErrInvalid.
type ValidationError struct {
	Problems []Problem
}

func (e *ValidationError) Error() string {
	msgs := make([]string, len(e.Problems))
	for i, p := range e.Problems {
		msgs[i] = p.String()
	}
	return "settings: invalid: " + strings.Join(msgs, "; ")
}

// Unwrap makes errors.Is(err, ErrInvalid) hold.
func (e *ValidationError) Unwrap() error { return ErrInvalid }

// Validate checks every setting and reports all problems at once, as a
// *ValidationError.
func (s Settings) Validate() error {
	var probs []Problem
	bad := func(path, format string, a ...any) {
		probs = append(probs, Problem{Path: path, Message: fmt.Sprintf(format, a...)})
	}
	if !s.DefaultRule.Valid() {
		bad("default_rule", "unknown rule %q (want %s, %s, %s or %s)", s.DefaultRule,
			RulePreferSalesforce, RuleAlwaysSalesforce, RuleTwoWay, RuleDontSync)
	}
	if s.NewContactsAs != CreateAsLead && s.NewContactsAs != CreateAsContact {
		bad("new_contacts_as", "must be %q or %q, not %q", CreateAsLead, CreateAsContact, s.NewContactsAs)
	}
	for _, f := range []struct {
		path string
		a    InboundAction
	}{{"leads_to_hubspot", s.LeadsToHubSpot}, {"contacts_to_hubspot", s.ContactsToHubSpot}} {
		if f.a != InboundNothing && f.a != InboundCreateOrUpdate {
			bad(f.path, "must be %q or %q, not %q", InboundNothing, InboundCreateOrUpdate, f.a)
		}
	}
	if b := s.StateCountry.Behaviour; b != "" && b != StateCountryMatch && b != StateCountryAsIs {
		bad("state_country.behaviour", "must be %q or %q, not %q", StateCountryMatch, StateCountryAsIs, b)
	}
	if s.Deletes != DeleteNothing && s.Deletes != DeleteMirror {
		bad("deletes", "must be %q or %q, not %q", DeleteNothing, DeleteMirror, s.Deletes)
	}
	b := s.Budget
	if b.SalesforceDailyLimit < 0 {
		bad("budget.salesforce_daily_limit", "must not be negative")
	}
	if !(0 < b.ResumeLowPriorityPercent && b.ResumeLowPriorityPercent < b.PauseLowPriorityPercent &&
		b.PauseLowPriorityPercent <= b.PauseActivitiesPercent && b.PauseActivitiesPercent <= b.PauseUpdatesPercent &&
		b.PauseUpdatesPercent <= b.StopPercent && b.StopPercent <= 100) {
		bad("budget", "need 0 < resume_low_priority_percent (%d) < pause_low_priority_percent (%d) <= pause_activities_percent (%d) <= pause_updates_percent (%d) <= stop_percent (%d) <= 100",
			b.ResumeLowPriorityPercent, b.PauseLowPriorityPercent, b.PauseActivitiesPercent, b.PauseUpdatesPercent, b.StopPercent)
	}
	if s.Retry.Interval <= 0 || s.Retry.MaxAttempts < 0 || s.Retry.ThenEvery <= 0 {
		bad("retry", "interval and then_every must be positive, max_attempts not negative")
	}
	for path, why := range s.Unsupported() {
		bad(path, "not supported: %s", why)
	}
	probs = append(probs, s.Activities.validate()...)
	probs = append(probs, validateValueMaps(s.ValueMaps)...)
	probs = append(probs, validateRules(s.SelectiveSync.migrate().Rules)...)
	seen := map[string]int{}
	for i, m := range s.Mappings {
		at := fmt.Sprintf("mappings[%d]", i)
		if m.HubSpotObject.Side() != HubSpot {
			bad(at+".hubspot_object", "%q is not a HubSpot object type", m.HubSpotObject)
		}
		if m.SalesforceObject.Side() != Salesforce {
			bad(at+".salesforce_object", "%q is not a Salesforce object type", m.SalesforceObject)
		}
		if m.HubSpotProperty == "" {
			bad(at+".hubspot_property", "missing")
		}
		if m.SalesforceField == "" {
			bad(at+".salesforce_field", "missing")
		}
		if m.Rule != "" && !m.Rule.Valid() {
			bad(at+".rule", "unknown rule %q (or leave it out to use default_rule)", m.Rule)
		}
		k := string(m.HubSpotObject) + "/" + string(m.SalesforceObject) + "/" + m.Key()
		if j, dup := seen[k]; dup {
			bad(at, "duplicates mappings[%d]", j)
		}
		seen[k] = i
	}
	if len(probs) > 0 {
		return &ValidationError{Problems: probs}
	}
	return nil
}
