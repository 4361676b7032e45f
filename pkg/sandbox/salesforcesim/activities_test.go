package salesforcesim

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/crmsync/crmsync/pkg/crmsync"
	"github.com/crmsync/crmsync/pkg/salesforce"
)

// wantCode fails t unless err is a Salesforce error with code (and, when
// fields are given, exactly those fields).
func wantCode(t *testing.T, what string, err error, code string, fields ...string) {
	t.Helper()
	if err == nil {
		t.Errorf("%s: succeeded, want %s", what, code)
		return
	}
	got, _, _ := codeOf(t, err)
	var gotFields []string
	var ae *salesforce.APIError
	if errors.As(err, &ae) && len(ae.Errors) > 0 {
		gotFields = ae.Errors[0].Fields
	}
	if got != code || len(fields) > 0 && strings.Join(gotFields, ",") != strings.Join(fields, ",") {
		t.Errorf("%s: %v; want %s %v", what, err, code, fields)
	}
}

func TestTasks(t *testing.T) {
	s := newSim(t, Config{})
	c := s.client(t, "")
	ctx := context.Background()
	acc, _ := c.CreateRecord(ctx, "Account", map[string]any{"Name": "Acme"})
	contact, _ := c.CreateRecord(ctx, "Contact", map[string]any{"LastName": "Silva", "AccountId": acc})
	lead, _ := c.CreateRecord(ctx, "Lead", map[string]any{"LastName": "Lee", "Company": "L"})
	opp, _ := c.CreateRecord(ctx, "Opportunity", map[string]any{"Name": "Deal", "StageName": "Prospecting", "CloseDate": "2026-12-31", "AccountId": acc})

	task, err := c.CreateRecord(ctx, "Task", map[string]any{"WhoId": contact, "Subject": "Call: intro", "TaskSubtype": "Call",
		"CallDurationInSeconds": 90, "CallType": "Outbound", "ActivityDate": "2026-11-23"})
	if err != nil || !strings.HasPrefix(task, "00T") {
		t.Fatalf("task %q, %v", task, err)
	}
	got, _ := s.org.Get(task)
	for field, want := range map[string]any{"Status": "Not Started", "Priority": "Normal", "IsClosed": false, "IsHighPriority": false,
		"AccountId": acc, "OwnerId": s.org.IntegrationUserID, "CallDurationInSeconds": 90.0} {
		if got[field] != want {
			t.Errorf("%s = %v, want %v", field, got[field], want)
		}
	}
	if err := c.UpdateRecord(ctx, "Task", task, map[string]any{"Status": "Completed", "Priority": "High"}); err != nil {
		t.Fatal(err)
	}
	if got, _ := s.org.Get(task); got["IsClosed"] != true || got["IsHighPriority"] != true {
		t.Errorf("after completing: IsClosed %v, IsHighPriority %v", got["IsClosed"], got["IsHighPriority"])
	}
	// A task related to an opportunity takes the opportunity's account.
	onOpp, err := c.CreateRecord(ctx, "Task", map[string]any{"WhoId": contact, "WhatId": opp, "Subject": "Meeting"})
	if got, _ := s.org.Get(onOpp); err != nil || got["AccountId"] != acc {
		t.Errorf("task on an opportunity: %v, AccountId %v", err, got["AccountId"])
	}

	wantCode(t, "WhoId an account", errOnly(c.CreateRecord(ctx, "Task", map[string]any{"WhoId": acc, "Subject": "x"})),
		salesforce.CodeFieldIntegrity, "WhoId")
	_, err = c.CreateRecord(ctx, "Task", map[string]any{"WhoId": acc, "Subject": "x"})
	if !strings.Contains(err.Error(), "Name ID: id value of incorrect type: "+acc) {
		t.Errorf("message = %v", err)
	}
	wantCode(t, "WhatId a contact", errOnly(c.CreateRecord(ctx, "Task", map[string]any{"WhatId": contact})), salesforce.CodeFieldIntegrity, "WhatId")
	wantCode(t, "WhoId not an id", errOnly(c.CreateRecord(ctx, "Task", map[string]any{"WhoId": "00000"})), "MALFORMED_ID", "WhoId")
	wantCode(t, "WhoId a contact that does not exist", errOnly(c.CreateRecord(ctx, "Task", map[string]any{"WhoId": salesforce.ID18("003000000000000")})),
		salesforce.CodeInvalidCrossReferenceKey, "WhoId")
	wantCode(t, "a lead related to an opportunity", errOnly(c.CreateRecord(ctx, "Task", map[string]any{"WhoId": lead, "WhatId": opp})),
		salesforce.CodeFieldIntegrity, "WhoId", "WhatId")
	wantCode(t, "unknown status", errOnly(c.CreateRecord(ctx, "Task", map[string]any{"Status": "Done"})), salesforce.CodeRestrictedPicklist, "Status")
	wantCode(t, "long subject", errOnly(c.CreateRecord(ctx, "Task", map[string]any{"Subject": strings.Repeat("s", 256)})), salesforce.CodeStringTooLong, "Subject")
	wantCode(t, "long description", errOnly(c.CreateRecord(ctx, "Task", map[string]any{"Description": strings.Repeat("d", 32001)})),
		salesforce.CodeStringTooLong, "Description")
	wantCode(t, "bad due date", errOnly(c.CreateRecord(ctx, "Task", map[string]any{"ActivityDate": "23/11/2026"})), "INVALID_TYPE_ON_FIELD_IN_RECORD")
	wantCode(t, "IsClosed written", errOnly(c.CreateRecord(ctx, "Task", map[string]any{"IsClosed": true})), salesforce.CodeReadOnlyField)
	wantCode(t, "TaskSubtype updated", c.UpdateRecord(ctx, "Task", task, map[string]any{"TaskSubtype": "Email"}), salesforce.CodeReadOnlyField, "TaskSubtype")
	rep := s.org.AddUser("gone@acme.example", "Gone")
	s.org.SetUserActive(rep, false)
	wantCode(t, "inactive owner", errOnly(c.CreateRecord(ctx, "Task", map[string]any{"OwnerId": rep})), salesforce.CodeInvalidCrossReferenceKey, "OwnerId")

	// A converted lead's tasks move to the contact; the lead can no
	// longer be a task's WhoId.
	leadTask, _ := c.CreateRecord(ctx, "Task", map[string]any{"WhoId": lead, "Subject": "Form: Contact us"})
	res, err := s.org.ConvertLead("", lead, ConvertOptions{CreateOpportunity: true})
	if err != nil {
		t.Fatal(err)
	}
	if got, _ := s.org.Get(leadTask); got["WhoId"] != res.ContactID || got["WhatId"] != res.OpportunityID || got["AccountId"] != res.AccountID {
		t.Errorf("after conversion the task is %v/%v/%v, want %+v", got["WhoId"], got["WhatId"], got["AccountId"], res)
	}
	wantCode(t, "converted lead as WhoId", errOnly(c.CreateRecord(ctx, "Task", map[string]any{"WhoId": lead})), "CANNOT_UPDATE_CONVERTED_LEAD", "WhoId")
}

func TestTaskDescribe(t *testing.T) {
	s := newSim(t, Config{})
	d, err := s.client(t, "").Describe(context.Background(), "Task")
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []salesforce.FieldDescribe{
		{Name: "Subject", Type: "combobox", Length: 255, Createable: true, Updateable: true, Nillable: true},
		{Name: "Description", Type: "textarea", Length: 32000, Createable: true, Updateable: true, Nillable: true},
		{Name: "WhoId", Type: "reference", Createable: true, Updateable: true, Nillable: true},
		{Name: "WhatId", Type: "reference", Createable: true, Updateable: true, Nillable: true},
		{Name: "ActivityDate", Type: "date", Createable: true, Updateable: true, Nillable: true},
		{Name: "Status", Type: "picklist", Length: 255, Createable: true, Updateable: true, DefaultedOnCreate: true},
		{Name: "Priority", Type: "picklist", Length: 40, Createable: true, Updateable: true, DefaultedOnCreate: true},
		{Name: "IsClosed", Type: "boolean", DefaultedOnCreate: true},
		{Name: "TaskSubtype", Type: "picklist", Length: 40, Createable: true, Nillable: true},
		{Name: "CallDurationInSeconds", Type: "int", Createable: true, Updateable: true, Nillable: true},
		{Name: "OwnerId", Type: "reference", Createable: true, Updateable: true, Nillable: true, DefaultedOnCreate: true},
	} {
		f, ok := d.Field(want.Name)
		if !ok || f.Type != want.Type || f.Length != want.Length || f.Createable != want.Createable || f.Updateable != want.Updateable ||
			f.Nillable != want.Nillable || f.DefaultedOnCreate != want.DefaultedOnCreate || f.Calculated {
			t.Errorf("%s = %+v", want.Name, f)
		}
	}
	who, _ := d.Field("WhoId")
	if strings.Join(who.ReferenceTo, ",") != "Contact,Lead" {
		t.Errorf("WhoId refers to %v", who.ReferenceTo)
	}
	status, _ := d.Field("Status")
	if len(status.PicklistValues) != 5 || !status.PicklistValues[0].DefaultValue || status.PicklistValues[0].Value != "Not Started" {
		t.Errorf("Status values = %+v", status.PicklistValues)
	}
}

func TestCampaignMembers(t *testing.T) {
	s := newSim(t, Config{})
	c := s.client(t, "")
	ctx := context.Background()
	camp, err := c.CreateRecord(ctx, "Campaign", map[string]any{"Name": "Webinar", "IsActive": true})
	if err != nil || !strings.HasPrefix(camp, "701") {
		t.Fatalf("campaign %q, %v", camp, err)
	}
	q, err := c.Query(ctx, "SELECT Id, IsActive, Name, Status FROM Campaign WHERE Id = '"+camp+"'")
	if err != nil || q.TotalSize != 1 || q.Records[0].Fields["IsActive"] != true || q.Records[0].Text("Name") != "Webinar" ||
		q.Records[0].Text("Status") != "Planned" {
		t.Errorf("campaign query = %+v, %v", q, err)
	}
	statuses, err := c.Query(ctx, "SELECT Label, IsDefault, HasResponded FROM CampaignMemberStatus WHERE CampaignId = '"+camp+"' ORDER BY SortOrder")
	if err != nil || statuses.TotalSize != 2 || statuses.Records[0].Text("Label") != "Sent" || statuses.Records[0].Fields["IsDefault"] != true ||
		statuses.Records[1].Text("Label") != "Responded" || statuses.Records[1].Fields["HasResponded"] != true {
		t.Errorf("member statuses = %+v, %v", statuses, err)
	}
	wantCode(t, "campaign without a name", errOnly(c.CreateRecord(ctx, "Campaign", map[string]any{"IsActive": true})),
		salesforce.CodeRequiredFieldMissing, "Name")

	lead, _ := c.CreateRecord(ctx, "Lead", map[string]any{"LastName": "x", "Company": "y"})
	contact, _ := c.CreateRecord(ctx, "Contact", map[string]any{"LastName": "z"})
	m, err := c.CreateRecord(ctx, "CampaignMember", map[string]any{"CampaignId": camp, "LeadId": lead})
	if err != nil || !strings.HasPrefix(m, "00v") {
		t.Fatalf("member %q, %v", m, err)
	}
	if got, _ := s.org.Get(m); got["Status"] != "Sent" || got["HasResponded"] != false {
		t.Errorf("default membership = %v/%v", got["Status"], got["HasResponded"])
	}
	q, err = c.Query(ctx, "SELECT Id FROM CampaignMember WHERE CampaignId = '"+camp+"' AND LeadId = '"+lead+"'")
	if err != nil || q.TotalSize != 1 || q.Records[0].ID != m {
		t.Errorf("member query = %+v, %v", q, err)
	}
	_, err = c.CreateRecord(ctx, "CampaignMember", map[string]any{"CampaignId": camp, "LeadId": lead, "Status": "Responded"})
	wantCode(t, "second membership", err, salesforce.CodeDuplicateValue)
	if code, cat, _ := codeOf(t, err); code != salesforce.CodeDuplicateValue || cat != crmsync.CategoryDuplicates || !strings.Contains(err.Error(), "Already a campaign member.") {
		t.Errorf("second membership: %v", err)
	}
	replied, err := c.CreateRecord(ctx, "CampaignMember", map[string]any{"CampaignId": camp, "ContactId": contact, "Status": "Responded"})
	if got, _ := s.org.Get(replied); err != nil || got["Status"] != "Responded" || got["HasResponded"] != true {
		t.Errorf("responded member: %v, %v", got, err)
	}
	// A status the campaign does not have becomes its default: the API
	// assigns it rather than refusing the value.
	other, _ := c.CreateRecord(ctx, "Lead", map[string]any{"LastName": "o", "Company": "o"})
	unknown, err := c.CreateRecord(ctx, "CampaignMember", map[string]any{"CampaignId": camp, "LeadId": other, "Status": "Attended"})
	if got, _ := s.org.Get(unknown); err != nil || got["Status"] != "Sent" {
		t.Errorf("member with an unknown status: %v, %v", got["Status"], err)
	}
	wantCode(t, "member without lead or contact", errOnly(c.CreateRecord(ctx, "CampaignMember", map[string]any{"CampaignId": camp})),
		salesforce.CodeRequiredFieldMissing)
	wantCode(t, "member without campaign", errOnly(c.CreateRecord(ctx, "CampaignMember", map[string]any{"LeadId": other})),
		salesforce.CodeRequiredFieldMissing, "CampaignId")
	wantCode(t, "campaign id of a lead", errOnly(c.CreateRecord(ctx, "CampaignMember", map[string]any{"CampaignId": lead, "ContactId": contact})),
		salesforce.CodeFieldIntegrity, "CampaignId")

	// Inactive campaigns take members; with both ids only the contact is kept.
	inactive, _ := c.CreateRecord(ctx, "Campaign", map[string]any{"Name": "Old"})
	both, err := c.CreateRecord(ctx, "CampaignMember", map[string]any{"CampaignId": inactive, "LeadId": lead, "ContactId": contact})
	if got, _ := s.org.Get(both); err != nil || got["ContactId"] != contact || got["LeadId"] != nil {
		t.Errorf("member of an inactive campaign with both ids: %v, %v", got, err)
	}
	if err := c.UpdateRecord(ctx, "CampaignMember", m, map[string]any{"Status": "Responded"}); err != nil {
		t.Fatal(err)
	}
	if got, _ := s.org.Get(m); got["HasResponded"] != true {
		t.Errorf("after responding: %v", got)
	}
	wantCode(t, "member's lead changed", c.UpdateRecord(ctx, "CampaignMember", m, map[string]any{"LeadId": other}), salesforce.CodeReadOnlyField)

	// A converted lead stays a member, and cannot become one.
	if _, err := s.org.ConvertLead("", other, ConvertOptions{}); err != nil {
		t.Fatal(err)
	}
	wantCode(t, "converted lead as member", errOnly(c.CreateRecord(ctx, "CampaignMember", map[string]any{"CampaignId": inactive, "LeadId": other})),
		"CANNOT_UPDATE_CONVERTED_LEAD", "LeadId")

	// Collections: one duplicate fails alone.
	results, err := c.CreateRecords(ctx, []salesforce.Record{
		{Type: "CampaignMember", Fields: map[string]any{"CampaignId": inactive, "ContactId": contact}},
		{Type: "Task", Fields: map[string]any{"WhoId": contact, "Subject": "ok"}},
	})
	if err != nil || len(results) != 2 || results[0].OK() || results[0].Errors[0].StatusCode != salesforce.CodeDuplicateValue || !results[1].OK() {
		t.Errorf("collection = %+v, %v", results, err)
	}
}

func errOnly(_ string, err error) error { return err }
