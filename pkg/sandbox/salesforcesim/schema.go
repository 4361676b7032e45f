package salesforcesim

import (
	"math"
	"sort"
	"strings"
)

// Field types, as describe reports them.
const (
	TypeID        = "id"
	TypeString    = "string"
	TypeTextArea  = "textarea"
	TypeCombobox  = "combobox" // a picklist that also takes free text (Task.Subject)
	TypeEmail     = "email"
	TypePhone     = "phone"
	TypeURL       = "url"
	TypePicklist  = "picklist"
	TypeReference = "reference"
	TypeBoolean   = "boolean"
	TypeDouble    = "double"
	TypeInt       = "int"
	TypeCurrency  = "currency"
	TypeDate      = "date"
	TypeDateTime  = "datetime"
)

// Field is one field of a simulated sObject type.
type Field struct {
	Name   string
	Label  string
	Type   string
	Length int
	// Required: a create must set it (createable, not nillable, no default).
	Required bool
	// System fields are set by the org (Id, CreatedDate, SystemModstamp, …)
	// and cannot be written.
	System bool
	// Picklist values; Restricted refuses others.
	Picklist   []string
	Restricted bool
	Default    any
	// Controller names the controlling field of a dependent picklist;
	// ValidFor maps each controller value to the values valid with it
	// (StateCode by CountryCode).
	Controller string
	ValidFor   map[string][]string
	// ReferenceTo is the sObject type a reference field points to (a
	// comma-separated list for polymorphic fields such as Task.WhoId).
	ReferenceTo string
	// Formula computes a read-only calculated field from the record.
	Formula       func(rec map[string]any) any
	FormulaText   string
	ExternalID    bool
	Unique        bool
	NotUpdateable bool // createable but not updateable
	NotCreateable bool
}

func (f *Field) writable(create bool) bool {
	if f.System || f.Formula != nil {
		return false
	}
	if create {
		return !f.NotCreateable
	}
	return !f.NotUpdateable
}

// Object is a simulated sObject type.
type Object struct {
	Name      string
	KeyPrefix string
	// Private objects are visible to a user only for records the user
	// owns or that are shared with them; others are public read/write.
	Private bool
	Fields  []*Field
	byName  map[string]*Field
}

// Field returns the named field. Field names are case-insensitive, as
// in every Salesforce API: jsforce sends "id" in collection updates, as
// the REST API Developer Guide's own "Update Multiple Records" example
// does.
func (o *Object) Field(name string) (*Field, bool) {
	if f, ok := o.byName[name]; ok { // the schema's spelling: no lower-casing
		return f, true
	}
	f, ok := o.byName[strings.ToLower(name)]
	return f, ok
}

func (o *Object) index() {
	o.byName = map[string]*Field{}
	for _, f := range o.Fields {
		o.byName[strings.ToLower(f.Name)] = f
		o.byName[f.Name] = f
	}
}

// AddField adds (or replaces) a field, e.g. a custom __c field for a test.
func (o *Object) AddField(f *Field) {
	for i, g := range o.Fields {
		if g.Name == f.Name {
			o.Fields[i] = f
			o.index()
			return
		}
	}
	o.Fields = append(o.Fields, f)
	o.index()
}

// Countries and the state codes valid for each, for the State/Country
// code picklists.
var (
	countryCodes = []string{"CA", "DE", "PT", "US"}
	stateCodes   = map[string][]string{
		"US": {"CA", "NY", "TX", "WA"},
		"CA": {"ON", "QC", "BC"},
	}
)

func systemFields() []*Field {
	return []*Field{
		{Name: "Id", Type: TypeID, Length: 18, System: true},
		{Name: "IsDeleted", Type: TypeBoolean, System: true},
		{Name: "CreatedDate", Type: TypeDateTime, System: true},
		{Name: "CreatedById", Type: TypeReference, ReferenceTo: "User", System: true},
		{Name: "LastModifiedDate", Type: TypeDateTime, System: true},
		{Name: "LastModifiedById", Type: TypeReference, ReferenceTo: "User", System: true},
		{Name: "SystemModstamp", Type: TypeDateTime, System: true},
	}
}

// masterRecordField is set on the records a merge deleted: the survivor.
func masterRecordField(object string) *Field {
	return &Field{Name: "MasterRecordId", Type: TypeReference, ReferenceTo: object, System: true}
}

func ownerField() *Field {
	return &Field{Name: "OwnerId", Label: "Owner ID", Type: TypeReference, ReferenceTo: "User"}
}

// address returns the standard compound address fields (Street, City,
// State, PostalCode, Country, as text) with prefix, plus the State/Country
// code picklists.
func address(prefix string) []*Field {
	return append([]*Field{
		{Name: prefix + "Street", Type: TypeTextArea, Length: 255},
		{Name: prefix + "City", Type: TypeString, Length: 40},
		{Name: prefix + "State", Type: TypeString, Length: 80},
		{Name: prefix + "PostalCode", Type: TypeString, Length: 20},
		{Name: prefix + "Country", Type: TypeString, Length: 80},
	}, countryState(prefix)...)
}

func countryState(prefix string) []*Field {
	return []*Field{
		{Name: prefix + "CountryCode", Type: TypePicklist, Length: 10, Picklist: countryCodes, Restricted: true},
		{Name: prefix + "StateCode", Type: TypePicklist, Length: 10, Restricted: true, Controller: prefix + "CountryCode", ValidFor: stateCodes},
	}
}

func num(v any) (float64, bool) {
	f, ok := v.(float64)
	return f, ok && !math.IsNaN(f)
}

// DefaultSchema returns the sObject types of a fresh org: Lead, Contact,
// Account, Opportunity, OpportunityContactRole, Campaign,
// CampaignMemberStatus, CampaignMember, Task and User, with the standard
// required fields and picklists, State/Country code picklists, a formula field on Lead and Opportunity, and a
// HubSpot_Id__c external id on Lead, Contact, Account and Opportunity.
func DefaultSchema() map[string]*Object {
	objs := []*Object{
		{Name: "Lead", KeyPrefix: "00Q", Private: true, Fields: append(append([]*Field{
			{Name: "FirstName", Type: TypeString, Length: 40},
			{Name: "LastName", Type: TypeString, Length: 80, Required: true},
			{Name: "Company", Type: TypeString, Length: 255, Required: true},
			{Name: "Email", Type: TypeEmail, Length: 80},
			{Name: "Phone", Type: TypePhone, Length: 40},
			{Name: "MobilePhone", Type: TypePhone, Length: 40},
			{Name: "Website", Type: TypeURL, Length: 255},
			{Name: "Description", Type: TypeTextArea, Length: 32000},
			{Name: "Title", Type: TypeString, Length: 128},
			{Name: "Status", Type: TypePicklist, Length: 255, Restricted: true, Default: "Open - Not Contacted",
				Picklist: []string{"Open - Not Contacted", "Working - Contacted", "Closed - Converted", "Closed - Not Converted"}},
			{Name: "LeadSource", Type: TypePicklist, Length: 255, Picklist: []string{"Web", "Phone Inquiry", "Partner Referral", "Other"}},
			{Name: "Score__c", Type: TypeDouble},
			{Name: "Score_Band__c", Type: TypeString, Length: 1300, FormulaText: `IF(Score__c > 50, "Hot", "Cold")`,
				Formula: func(r map[string]any) any {
					if s, ok := num(r["Score__c"]); ok && s > 50 {
						return "Hot"
					}
					return "Cold"
				}},
			{Name: "HubSpot_Id__c", Type: TypeString, Length: 40, ExternalID: true, Unique: true},
			{Name: "IsConverted", Type: TypeBoolean, System: true},
			{Name: "ConvertedAccountId", Type: TypeReference, ReferenceTo: "Account", System: true},
			{Name: "ConvertedContactId", Type: TypeReference, ReferenceTo: "Contact", System: true},
			{Name: "ConvertedOpportunityId", Type: TypeReference, ReferenceTo: "Opportunity", System: true},
			ownerField(),
			masterRecordField("Lead"),
		}, address("")...), systemFields()...)},
		{Name: "Contact", KeyPrefix: "003", Private: true, Fields: append(append([]*Field{
			{Name: "FirstName", Type: TypeString, Length: 40},
			{Name: "LastName", Type: TypeString, Length: 80, Required: true},
			{Name: "Email", Type: TypeEmail, Length: 80},
			{Name: "Phone", Type: TypePhone, Length: 40},
			{Name: "MobilePhone", Type: TypePhone, Length: 40},
			{Name: "Description", Type: TypeTextArea, Length: 32000},
			{Name: "Title", Type: TypeString, Length: 128},
			{Name: "AccountId", Type: TypeReference, ReferenceTo: "Account"},
			{Name: "HubSpot_Id__c", Type: TypeString, Length: 40, ExternalID: true, Unique: true},
			ownerField(),
			masterRecordField("Contact"),
		}, address("Mailing")...), systemFields()...)},
		{Name: "Account", KeyPrefix: "001", Private: true, Fields: append(append([]*Field{
			{Name: "Name", Type: TypeString, Length: 255, Required: true},
			{Name: "Website", Type: TypeURL, Length: 255},
			{Name: "Phone", Type: TypePhone, Length: 40},
			{Name: "Industry", Type: TypePicklist, Length: 255, Picklist: []string{"Banking", "Manufacturing", "Retail", "Technology"}},
			{Name: "Description", Type: TypeTextArea, Length: 32000},
			{Name: "NumberOfEmployees", Type: TypeInt},
			{Name: "AnnualRevenue", Type: TypeCurrency},
			{Name: "HubSpot_Id__c", Type: TypeString, Length: 40, ExternalID: true, Unique: true},
			ownerField(),
			masterRecordField("Account"),
		}, address("Billing")...), systemFields()...)},
		{Name: "Opportunity", KeyPrefix: "006", Private: true, Fields: append([]*Field{
			{Name: "Name", Type: TypeString, Length: 120, Required: true},
			{Name: "StageName", Type: TypePicklist, Length: 255, Required: true, Restricted: true,
				// A new org's standard opportunity stages.
				Picklist: []string{"Prospecting", "Qualification", "Needs Analysis", "Value Proposition", "Id. Decision Makers",
					"Perception Analysis", "Proposal/Price Quote", "Negotiation/Review", "Closed Won", "Closed Lost"}},
			{Name: "CloseDate", Type: TypeDate, Required: true},
			{Name: "Amount", Type: TypeCurrency},
			{Name: "Description", Type: TypeTextArea, Length: 32000},
			{Name: "AccountId", Type: TypeReference, ReferenceTo: "Account"},
			{Name: "IsClosed", Type: TypeBoolean, FormulaText: `ISPICKVAL(StageName, "Closed Won") || ISPICKVAL(StageName, "Closed Lost")`,
				Formula: func(r map[string]any) any { return r["StageName"] == "Closed Won" || r["StageName"] == "Closed Lost" }},
			{Name: "IsWon", Type: TypeBoolean, FormulaText: `ISPICKVAL(StageName, "Closed Won")`,
				Formula: func(r map[string]any) any { return r["StageName"] == "Closed Won" }},
			{Name: "HubSpot_Id__c", Type: TypeString, Length: 40, ExternalID: true, Unique: true},
			ownerField(),
		}, systemFields()...)},
		{Name: "OpportunityContactRole", KeyPrefix: "00K", Fields: append([]*Field{
			{Name: "OpportunityId", Type: TypeReference, ReferenceTo: "Opportunity", Required: true, NotUpdateable: true},
			{Name: "ContactId", Type: TypeReference, ReferenceTo: "Contact", Required: true},
			{Name: "Role", Type: TypePicklist, Length: 40, Picklist: []string{"Decision Maker", "Economic Buyer", "Influencer", "Other"}},
			{Name: "IsPrimary", Type: TypeBoolean, Default: false},
		}, systemFields()...)},
		campaignObject(),
		campaignMemberStatusObject(),
		campaignMemberObject(),
		taskObject(),
		{Name: "User", KeyPrefix: "005", Fields: append([]*Field{
			{Name: "Username", Type: TypeString, Length: 80, Required: true},
			{Name: "Email", Type: TypeEmail, Length: 128, Required: true},
			{Name: "Name", Type: TypeString, Length: 121},
			{Name: "IsActive", Type: TypeBoolean, Default: true},
		}, systemFields()...)},
	}
	out := map[string]*Object{}
	for _, o := range objs {
		o.index()
		out[o.Name] = o
	}
	return out
}

// fieldValue returns the input's value for field name, matched
// case-insensitively (an exact match first).
func fieldValue(in map[string]any, name string) (any, bool) {
	if v, ok := in[name]; ok {
		return v, true
	}
	for k, v := range in {
		if strings.EqualFold(k, name) {
			return v, true
		}
	}
	return nil, false
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
