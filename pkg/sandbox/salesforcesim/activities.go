package salesforcesim

import (
	"sort"
	"strings"

	"github.com/crmsync/crmsync/pkg/salesforce"
)

// The activity objects as the Object Reference for the Salesforce Platform
// describes them (Task, Campaign, CampaignMember, CampaignMemberStatus),
// with the picklist values and defaults of a new org.

// Task picklist values of a new org (TaskStatus, TaskPriority).
var (
	taskStatuses   = []string{"Not Started", "In Progress", "Completed", "Waiting on someone else", "Deferred"}
	taskPriorities = []string{"High", "Normal", "Low"}
)

// Member statuses every new campaign gets: "Sent" (the default) and
// "Responded" (counted as a response).
const (
	memberStatusSent      = "Sent"
	memberStatusResponded = "Responded"
)

func taskObject() *Object {
	owner := ownerField()
	owner.Label = "Assigned To ID"
	return &Object{Name: "Task", KeyPrefix: "00T", Fields: append([]*Field{
		// Subject is a combobox: suggested values, any text up to 255.
		{Name: "Subject", Label: "Subject", Type: TypeCombobox, Length: 255, Picklist: []string{"Call", "Send Letter", "Send Quote", "Other"}},
		{Name: "Description", Label: "Comments", Type: TypeTextArea, Length: 32000},
		// WhoId is a person (Lead or Contact), WhatId a thing; the
		// labels are the ones Salesforce's messages name them by.
		{Name: "WhoId", Label: "Name ID", Type: TypeReference, ReferenceTo: "Contact,Lead"},
		{Name: "WhatId", Label: "Related To ID", Type: TypeReference, ReferenceTo: "Account,Opportunity,Campaign"},
		// AccountId is set by the org from WhatId, else from a contact WhoId.
		{Name: "AccountId", Label: "Account ID", Type: TypeReference, ReferenceTo: "Account", System: true},
		{Name: "ActivityDate", Label: "Due Date Only", Type: TypeDate},
		{Name: "Status", Type: TypePicklist, Length: 255, Required: true, Restricted: true, Default: "Not Started", Picklist: taskStatuses},
		{Name: "Priority", Type: TypePicklist, Length: 40, Required: true, Restricted: true, Default: "Normal", Picklist: taskPriorities},
		// IsClosed and IsHighPriority follow Status and Priority; they are
		// read-only, not formula fields (describe: calculated false).
		{Name: "IsClosed", Label: "Closed", Type: TypeBoolean, System: true},
		{Name: "IsHighPriority", Label: "High Priority", Type: TypeBoolean, System: true},
		{Name: "Type", Type: TypePicklist, Length: 40, Picklist: []string{"Call", "Email", "Meeting", "Other"}},
		// TaskSubtype is createable, never updateable.
		{Name: "TaskSubtype", Label: "Task Subtype", Type: TypePicklist, Length: 40, Restricted: true, NotUpdateable: true,
			Picklist: []string{"Task", "Email", "ListEmail", "Cadence", "Call", "LinkedIn"}},
		{Name: "CallDurationInSeconds", Label: "Call Duration", Type: TypeInt},
		{Name: "CallType", Label: "Call Type", Type: TypePicklist, Length: 40, Picklist: []string{"Internal", "Inbound", "Outbound"}},
		{Name: "CallDisposition", Label: "Call Result", Type: TypeString, Length: 255},
		owner,
	}, systemFields()...)}
}

func campaignObject() *Object {
	return &Object{Name: "Campaign", KeyPrefix: "701", Fields: append([]*Field{
		{Name: "Name", Type: TypeString, Length: 80, Required: true},
		{Name: "IsActive", Label: "Active", Type: TypeBoolean, Default: false},
		{Name: "Status", Type: TypePicklist, Length: 255, Default: "Planned", Picklist: []string{"Planned", "In Progress", "Completed", "Aborted"}},
		{Name: "Type", Type: TypePicklist, Length: 255, Picklist: []string{"Conference", "Webinar", "Trade Show", "Public Relations",
			"Partners", "Referral Program", "Advertisement", "Banner Ads", "Direct Mail", "Email", "Telemarketing", "Other"}},
		{Name: "StartDate", Type: TypeDate},
		{Name: "EndDate", Type: TypeDate},
		{Name: "Description", Type: TypeTextArea, Length: 32000},
		ownerField(),
	}, systemFields()...)}
}

func campaignMemberStatusObject() *Object {
	return &Object{Name: "CampaignMemberStatus", KeyPrefix: "01Y", Fields: append([]*Field{
		{Name: "CampaignId", Label: "Campaign ID", Type: TypeReference, ReferenceTo: "Campaign", Required: true, NotUpdateable: true},
		{Name: "Label", Label: "Member Status", Type: TypeString, Length: 765, Required: true},
		{Name: "IsDefault", Label: "Default", Type: TypeBoolean, Default: false},
		{Name: "HasResponded", Label: "Responded", Type: TypeBoolean, Default: false},
		{Name: "SortOrder", Label: "Sort Order", Type: TypeInt},
	}, systemFields()...)}
}

func campaignMemberObject() *Object {
	return &Object{Name: "CampaignMember", KeyPrefix: "00v", Fields: append([]*Field{
		{Name: "CampaignId", Label: "Campaign ID", Type: TypeReference, ReferenceTo: "Campaign", Required: true, NotUpdateable: true},
		{Name: "LeadId", Label: "Lead ID", Type: TypeReference, ReferenceTo: "Lead", NotUpdateable: true},
		{Name: "ContactId", Label: "Contact ID", Type: TypeReference, ReferenceTo: "Contact", NotUpdateable: true},
		// Status takes the campaign's member statuses (CampaignMemberStatus),
		// so describe lists only the two every campaign starts with.
		{Name: "Status", Type: TypePicklist, Length: 40, Picklist: []string{memberStatusSent, memberStatusResponded}},
		{Name: "HasResponded", Label: "Responded", Type: TypeBoolean, System: true},
	}, systemFields()...)}
}

// activityRules applies the rules of Task and CampaignMember to a record
// about to be saved (existing nil on create), after its fields were
// checked one by one.
func (o *Org) activityRules(obj *Object, existing *record, rec map[string]any) *apiError {
	switch obj.Name {
	case "Task":
		return o.taskRules(rec)
	case "CampaignMember":
		return o.memberRules(obj, existing, rec)
	}
	return nil
}

// taskRules: a lead is related to nothing else (the Object Reference:
// WhatId must be empty when WhoId is a lead — the org answers
// FIELD_INTEGRITY_EXCEPTION on both fields); AccountId is WhatId's
// account, else a contact WhoId's; IsClosed and IsHighPriority follow
// Status and Priority.
func (o *Org) taskRules(rec map[string]any) *apiError {
	who, _ := o.lookup(str(rec["WhoId"]))
	what, _ := o.lookup(str(rec["WhatId"]))
	if who != nil && who.obj.Name == "Lead" && what != nil {
		return errf(400, salesforce.CodeFieldIntegrity, []string{"WhoId", "WhatId"},
			"Related To ID: a task whose Name ID is a lead cannot be related to another record: %s", what.id())
	}
	rec["AccountId"] = nil
	switch {
	case what != nil && what.obj.Name == "Account":
		rec["AccountId"] = what.id()
	case what != nil && what.obj.Name == "Opportunity":
		rec["AccountId"] = what.fields["AccountId"]
	case what == nil && who != nil && who.obj.Name == "Contact":
		rec["AccountId"] = who.fields["AccountId"]
	}
	rec["IsClosed"] = rec["Status"] == "Completed"
	rec["IsHighPriority"] = rec["Priority"] == "High"
	return nil
}

// memberRules, after the Object Reference for CampaignMember: a member is
// a lead or a contact — with both, only ContactId is kept; with neither,
// REQUIRED_FIELD_MISSING; a lead or contact already in the campaign is
// DUPLICATE_VALUE "Already a campaign member."; the Status is one of the
// campaign's member statuses — absent, or one the campaign does not
// have, it becomes the campaign's default (the API assigns the default
// rather than refusing the value); HasResponded follows the status.
// Inactive campaigns take members like active ones.
func (o *Org) memberRules(obj *Object, existing *record, rec map[string]any) *apiError {
	if existing == nil && rec["LeadId"] != nil && rec["ContactId"] != nil {
		rec["LeadId"] = nil
	}
	if rec["LeadId"] == nil && rec["ContactId"] == nil {
		return errf(400, salesforce.CodeRequiredFieldMissing, []string{"LeadId", "ContactId"}, "Required fields are missing: [LeadId or ContactId]")
	}
	if existing == nil {
		for _, r := range o.records {
			if r.obj == obj && !r.deleted && r.fields["CampaignId"] == rec["CampaignId"] &&
				r.fields["LeadId"] == rec["LeadId"] && r.fields["ContactId"] == rec["ContactId"] {
				return errf(400, salesforce.CodeDuplicateValue, nil, "Already a campaign member.")
			}
		}
	}
	statuses := o.memberStatuses(str(rec["CampaignId"]))
	var chosen, def *record
	for _, s := range statuses {
		if s.fields["IsDefault"] == true && def == nil {
			def = s
		}
		if s.fields["Label"] == rec["Status"] && chosen == nil {
			chosen = s
		}
	}
	if chosen == nil {
		chosen = def
	}
	if chosen != nil {
		rec["Status"] = chosen.fields["Label"]
		rec["HasResponded"] = chosen.fields["HasResponded"] == true
	} else {
		rec["HasResponded"] = false
	}
	return nil
}

// memberStatuses returns a campaign's live member statuses by SortOrder.
func (o *Org) memberStatuses(campaignID string) []*record {
	var out []*record
	for _, r := range o.records {
		if r.obj.Name == "CampaignMemberStatus" && !r.deleted && r.fields["CampaignId"] == campaignID {
			out = append(out, r)
		}
	}
	sort.Slice(out, func(i, j int) bool {
		a, _ := num(out[i].fields["SortOrder"])
		b, _ := num(out[j].fields["SortOrder"])
		return a < b || a == b && out[i].id() < out[j].id()
	})
	return out
}

// addDefaultMemberStatuses gives a new campaign the member statuses a new
// org gives every campaign: Sent (default) and Responded (responded).
func (o *Org) addDefaultMemberStatuses(campaign *record, user string) {
	obj := o.schema["CampaignMemberStatus"]
	for i, s := range []struct {
		label              string
		isDefault, replied bool
	}{{memberStatusSent, true, false}, {memberStatusResponded, false, true}} {
		rec := map[string]any{"CampaignId": campaign.id(), "Label": s.label, "IsDefault": s.isDefault,
			"HasResponded": s.replied, "SortOrder": float64(i + 1)}
		o.commit(obj, nil, rec, nil, user)
	}
}

// repointTasks moves a converted lead's tasks to the contact (and to the
// opportunity, when one was made and the task was related to nothing),
// as a conversion does.
func (o *Org) repointTasks(leadID, contactID, opportunityID, user string) {
	obj := o.schema["Task"]
	for _, id := range sortedKeys(o.records) {
		r := o.records[id]
		if r.obj != obj || r.deleted || r.fields["WhoId"] != leadID {
			continue
		}
		rec := make(map[string]any, len(r.fields))
		for k, v := range r.fields {
			rec[k] = v
		}
		rec["WhoId"] = contactID
		if opportunityID != "" && rec["WhatId"] == nil {
			rec["WhatId"] = opportunityID
		}
		_ = o.taskRules(rec)
		o.commit(obj, r, rec, []string{"WhoId"}, user)
	}
}

// objectByPrefix returns the sObject type whose ids start with prefix.
func (o *Org) objectByPrefix(prefix string) (*Object, bool) {
	for _, obj := range o.schema {
		if obj.KeyPrefix == prefix {
			return obj, true
		}
	}
	return nil, false
}

// refersTo reports whether reference field f may point at object type name.
func (f *Field) refersTo(name string) bool {
	return strings.Contains(","+f.ReferenceTo+",", ","+name+",")
}

func str(v any) string { s, _ := v.(string); return s }
