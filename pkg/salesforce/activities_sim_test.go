package salesforce_test

import (
	"context"
	"errors"
	"testing"

	"github.com/crmsync/crmsync/pkg/crmsync"
	"github.com/crmsync/crmsync/pkg/salesforce"
	"github.com/crmsync/crmsync/pkg/sandbox/salesforcesim"
)

// Tasks through the engine's ports against the org: Create, Get, Update,
// GetMany and CreateMany, with the org's defaults and refusals.
func TestTasksAgainstSimulator(t *testing.T) {
	org, c := newSimCRM(t)
	ctx := context.Background()
	contact, _ := org.CreateAs("", "Contact", map[string]any{"LastName": "Silva"})
	acc, _ := org.CreateAs("", "Account", map[string]any{"Name": "Acme"})
	fields := []string{"WhoId", "Subject", "Status", "Priority", "IsClosed", "CallDurationInSeconds", "TaskSubtype", "ActivityDate"}

	rec, err := c.Create(ctx, crmsync.SFTask, map[string]string{"WhoId": contact, "Subject": "Call: intro",
		"CallDurationInSeconds": "90", "TaskSubtype": "Call", "CallType": "Outbound", "ActivityDate": "2026-11-23", "Description": ""})
	if err != nil {
		t.Fatal(err)
	}
	if rec.Ref.Object != crmsync.SFTask || rec.Properties["WhoId"] != contact || rec.OwnerEmail != "integration@crmsync.example" {
		t.Errorf("created = %+v", rec)
	}
	got, err := c.Get(ctx, rec.Ref, fields)
	if err != nil || got.Properties["Status"] != "Not Started" || got.Properties["Priority"] != "Normal" ||
		got.Properties["IsClosed"] != "false" || got.Properties["CallDurationInSeconds"] != "90" {
		t.Errorf("get = %+v, %v", got.Properties, err)
	}
	if err := c.Update(ctx, rec.Ref, map[string]string{"Status": "Completed", "Description": "Talked."}); err != nil {
		t.Fatal(err)
	}
	if err := c.Update(ctx, rec.Ref, map[string]string{"TaskSubtype": "Email"}); err == nil {
		t.Error("TaskSubtype updated")
	} else if v, ok := err.(crmsync.VendorError); !ok || v.Code() != salesforce.CodeReadOnlyField {
		t.Errorf("TaskSubtype update: %v", err)
	}

	results, err := c.CreateMany(ctx, crmsync.SFTask, []map[string]string{
		{"WhoId": contact, "Subject": "Email: hello", "TaskSubtype": "Email", "Status": "Completed"},
		{"WhoId": acc, "Subject": "Email: to an account"},
		{"WhoId": contact, "Subject": "Meeting", "WhatId": acc, "Priority": "High"},
	})
	if err != nil || len(results) != 3 || results[0].Err != nil || results[2].Err != nil {
		t.Fatalf("create many = %+v, %v", results, err)
	}
	var v crmsync.VendorError
	if !errors.As(results[1].Err, &v) || v.Code() != salesforce.CodeFieldIntegrity {
		t.Errorf("WhoId an account: %v", results[1].Err)
	}
	many, err := c.GetMany(ctx, crmsync.SFTask, []string{rec.Ref.ID, results[0].ID, results[2].ID}, fields)
	if err != nil || len(many) != 6 || many[rec.Ref.ID].Properties["IsClosed"] != "true" ||
		many[results[0].ID].Properties["TaskSubtype"] != "Email" || many[results[2].ID].Properties["Priority"] != "High" {
		t.Errorf("get many = %+v, %v", many, err)
	}
}

func TestCampaignsAgainstSimulator(t *testing.T) {
	org, c := newSimCRM(t)
	var campaigns crmsync.Campaigns = c
	ctx := context.Background()
	camp, _ := org.CreateAs("", "Campaign", map[string]any{"Name": "Webinar", "IsActive": true})
	inactive, _ := org.CreateAs("", "Campaign", map[string]any{"Name": "Old"})
	lead, _ := org.CreateAs("", "Lead", map[string]any{"LastName": "Lee", "Company": "L"})
	contact, _ := org.CreateAs("", "Contact", map[string]any{"LastName": "Silva"})
	leadRef := crmsync.RecordRef{Side: crmsync.Salesforce, Object: crmsync.SFLead, ID: lead}
	contactRef := crmsync.RecordRef{Side: crmsync.Salesforce, Object: crmsync.SFContact, ID: contact}

	if got, err := campaigns.Campaign(ctx, camp); err != nil || got != (crmsync.Campaign{ID: camp, Name: "Webinar", Active: true}) {
		t.Errorf("campaign = %+v, %v", got, err)
	}
	if got, err := campaigns.Campaign(ctx, inactive); err != nil || got.Active {
		t.Errorf("inactive campaign = %+v, %v", got, err)
	}
	if _, err := campaigns.Campaign(ctx, salesforce.ID18("7015e0000000zzz")); !errors.Is(err, crmsync.ErrNotFound) {
		t.Errorf("absent campaign: %v", err)
	}

	if added, err := campaigns.AddCampaignMember(ctx, camp, leadRef, ""); !added || err != nil {
		t.Errorf("add = %v, %v", added, err)
	}
	if added, err := campaigns.AddCampaignMember(ctx, camp, leadRef, "Responded"); added || err != nil {
		t.Errorf("add again = %v, %v; want false, nil", added, err)
	}
	if added, err := campaigns.AddCampaignMember(ctx, camp, contactRef, "Responded"); !added || err != nil {
		t.Errorf("add with status = %v, %v", added, err)
	}
	if _, err := campaigns.AddCampaignMember(ctx, camp, contactRef, "Attended"); crmsync.Classify(err).Code != salesforce.CodeUnknownMemberStatus {
		t.Errorf("unknown status: %v", err)
	}
	// Salesforce adds members to inactive campaigns; the caller decides.
	if added, err := campaigns.AddCampaignMember(ctx, inactive, contactRef, ""); !added || err != nil {
		t.Errorf("inactive campaign = %v, %v", added, err)
	}
	members := org.Records("CampaignMember")
	if len(members) != 3 || members[1]["Status"] != "Responded" || members[1]["HasResponded"] != true {
		t.Errorf("members = %v", members)
	}
	if _, err := org.ConvertLead("", lead, salesforcesim.ConvertOptions{}); err != nil {
		t.Fatal(err)
	}
	_, err := campaigns.AddCampaignMember(ctx, inactive, leadRef, "")
	if c := crmsync.Classify(err); c.Code != salesforce.CodeConvertedLead || c.Category != crmsync.CategoryAssociations {
		t.Errorf("converted lead: %+v (%v)", c, err)
	}
}
