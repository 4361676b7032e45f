package engine

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/crmsync/crmsync/pkg/crmsync"
)

func engagement(o crmsync.ObjectType, id string, props map[string]string) crmsync.Record {
	return crmsync.Record{Ref: crmsync.RecordRef{Side: crmsync.HubSpot, Object: o, ID: id}, Properties: props}
}

// tasks returns the fake org's Tasks.
func (h *harness) tasks() []crmsync.Record { return h.sf.Records(crmsync.SFTask) }

func TestActivityTogglesAndTaskFields(t *testing.T) {
	when := "2026-11-02T15:04:05Z"
	cases := []struct {
		object  crmsync.ObjectType
		toggle  func(*crmsync.ActivitySettings)
		setting string
		props   map[string]string
		want    map[string]string
		desc    []string
	}{
		{crmsync.HSCall, func(a *crmsync.ActivitySettings) { a.Calls = true }, "activities.calls",
			map[string]string{"hs_timestamp": when, "hs_call_title": "Discovery", "hs_call_body": "<p>Talked &amp; agreed</p>",
				"hs_call_status": "COMPLETED", "hs_call_duration": "125000", "hs_call_direction": "OUTBOUND",
				"hs_call_disposition": "f240bbac-87c9-4f6e-bf70-924b57d47db7"},
			map[string]string{"Subject": "Call: Discovery", "TaskSubtype": "Call", "Status": "Completed", "ActivityDate": "2026-11-02",
				"CallDurationInSeconds": "125", "CallType": "Outbound", "Priority": "Normal"},
			[]string{"Talked & agreed", "Outcome: Connected", "Duration: 2m5s"}},
		{crmsync.HSSalesEmail, func(a *crmsync.ActivitySettings) { a.SalesEmails = true }, "activities.sales_emails",
			map[string]string{"hs_timestamp": when, "hs_email_subject": "Proposal", "hs_email_text": "See attached", "hs_email_direction": "EMAIL", "hs_email_open_count": "2"},
			map[string]string{"Subject": "Email: Proposal", "TaskSubtype": "Email", "Status": "Completed"},
			[]string{"See attached", "Opened: 2 times"}},
		{crmsync.HSMeeting, func(a *crmsync.ActivitySettings) { a.Meetings = true }, "activities.meetings",
			map[string]string{"hs_timestamp": when, "hs_meeting_title": "Demo", "hs_meeting_start_time": "2026-11-05T10:00:00Z",
				"hs_meeting_end_time": "2026-11-05T10:30:00Z", "hs_meeting_outcome": "SCHEDULED", "hs_meeting_location": "Zoom"},
			map[string]string{"Subject": "Meeting: Demo", "TaskSubtype": "Task", "Status": "Not Started", "ActivityDate": "2026-11-05"},
			[]string{"When: 2026-11-05 10:00 UTC – 10:30 UTC", "Where: Zoom", "Outcome: scheduled"}},
		{crmsync.HSNote, func(a *crmsync.ActivitySettings) { a.Notes = true }, "activities.notes",
			map[string]string{"hs_timestamp": when, "hs_note_body": "<div>Budget approved</div><div>Next: legal</div>"},
			map[string]string{"Subject": "Note: Budget approved", "TaskSubtype": "Task", "Status": "Completed"},
			[]string{"Budget approved\nNext: legal"}},
		{crmsync.HSTask, func(a *crmsync.ActivitySettings) { a.Tasks = true }, "activities.tasks",
			map[string]string{"hs_timestamp": when, "hs_task_subject": "Send contract", "hs_task_status": "NOT_STARTED",
				"hs_task_priority": "HIGH", "hs_task_type": "EMAIL"},
			map[string]string{"Subject": "Send contract", "TaskSubtype": "Email", "Status": "Not Started", "Priority": "High", "ActivityDate": "2026-11-02"},
			nil},
	}
	for _, c := range cases {
		t.Run(string(c.object), func(t *testing.T) {
			ctx := context.Background()
			// Off: a recorded skip, no Task, no read.
			off := newHarness(t, func(s *crmsync.Settings) {})
			act := off.hs.Put(engagement(c.object, "9", c.props))
			out := off.resolve(act.Ref)
			if out.Decision != DecisionSkipped || !strings.Contains(out.Reason, c.setting+" is off") || len(off.tasks()) != 0 || off.hs.Calls("get") != 0 {
				t.Fatalf("toggle off: %+v (%d tasks, %d reads)", out, len(off.tasks()), off.hs.Calls("get"))
			}
			if entries, _, err := off.store.ListLedger(ctx, LedgerKey(act.Ref), crmsync.PageRequest{}); err != nil || len(entries) != 1 {
				t.Fatalf("toggle off: ledger %v, %v: want the skip's reason", entries, err)
			}

			// On: the contact syncs first, then one Task on its Lead.
			h := newHarness(t, func(s *crmsync.Settings) { c.toggle(&s.Activities) })
			owner := h.sf.AddUser("rep@example.com")
			ct := h.hs.Put(hsContact("5", map[string]string{"email": "ada@example.com", "lastname": "Lovelace"}))
			act = h.hs.Put(engagement(c.object, "9", c.props))
			h.hs.SetOwner(act.Ref, "rep@example.com")
			h.hs.Associate(act.Ref, crmsync.HSContact, ct.Ref.ID, false)
			out = h.resolve(act.Ref)
			if out.Decision != DecisionSynced || len(h.tasks()) != 1 || len(h.sf.Records(crmsync.SFLead)) != 1 {
				t.Fatalf("toggle on: %+v; %d tasks, %d leads", out, len(h.tasks()), len(h.sf.Records(crmsync.SFLead)))
			}
			lead, task := h.sf.Records(crmsync.SFLead)[0], h.tasks()[0]
			if task.Properties["WhoId"] != lead.Ref.ID || task.Properties["OwnerId"] != owner || task.Properties["WhatId"] != "" {
				t.Errorf("Task WhoId/OwnerId/WhatId = %q/%q/%q, want %s/%s/none", task.Properties["WhoId"], task.Properties["OwnerId"], task.Properties["WhatId"], lead.Ref.ID, owner)
			}
			for k, want := range c.want {
				if got := task.Properties[k]; got != want {
					t.Errorf("Task %s = %q, want %q", k, got, want)
				}
			}
			for _, want := range c.desc {
				if !strings.Contains(task.Properties["Description"], want) {
					t.Errorf("Task Description %q lacks %q", task.Properties["Description"], want)
				}
			}

			// A repeated delivery (a new delivery id) writes nothing.
			if out := h.resolve(act.Ref); out.Decision != DecisionNoChange || len(h.tasks()) != 1 {
				t.Errorf("repeat: %+v; %d tasks", out, len(h.tasks()))
			}
		})
	}
}

func TestActivityUpdateAndDelete(t *testing.T) {
	h := newHarness(t, func(s *crmsync.Settings) { s.Activities.Tasks = true; s.Deletes = crmsync.DeleteMirror })
	ct := h.hs.Put(hsContact("5", map[string]string{"email": "ada@example.com", "lastname": "Lovelace"}))
	h.resolve(ct.Ref)
	act := h.hs.Put(engagement(crmsync.HSTask, "9", map[string]string{"hs_task_subject": "Call back", "hs_task_status": "NOT_STARTED", "hs_task_type": "CALL"}))
	h.hs.Associate(act.Ref, crmsync.HSContact, ct.Ref.ID, false)
	if out := h.resolve(act.Ref); out.Decision != DecisionSynced {
		t.Fatalf("create: %+v", out)
	}
	task := h.tasks()[0]

	// Completed in HubSpot: only Status is written (TaskSubtype never).
	h.hs.Edit(act.Ref, map[string]string{"hs_task_status": "COMPLETED", "hs_task_type": "TODO"})
	out := h.resolve(act.Ref)
	if out.Decision != DecisionSynced || len(out.Writes) != 1 || out.Writes[0].Op != "update" {
		t.Fatalf("update: %+v", out)
	}
	if got := out.Writes[0].Properties; len(got) != 1 || got["Status"] != "Completed" {
		t.Errorf("update wrote %v, want only Status=Completed", got)
	}
	if got, _ := h.sf.Record(task.Ref); got.Properties["TaskSubtype"] != "Call" {
		t.Errorf("TaskSubtype changed to %q", got.Properties["TaskSubtype"])
	}

	// Deleted in HubSpot, with the mirror policy: the Task goes too.
	archive(h, act.Ref)
	out, err := h.eng.Resolve(context.Background(), h.trigger(act.Ref, crmsync.KindDeleted))
	if err != nil || out.Decision != DecisionSourceGone {
		t.Fatalf("delete: %+v, %v", out, err)
	}
	if got, _ := h.sf.Record(task.Ref); !got.Archived {
		t.Error("the Task is still there after its engagement was deleted (deletes: mirror)")
	}
}

// archive removes a record from the fake as a HubSpot deletion does.
func archive(h *harness, ref crmsync.RecordRef) {
	if err := h.hs.Delete(context.Background(), ref); err != nil {
		h.t.Fatal(err)
	}
}

func TestActivityWhatIdOnlyBesideAContact(t *testing.T) {
	h := newHarness(t, func(s *crmsync.Settings) {
		s.Activities.Calls, s.NewContactsAs, s.Objects.Deals = true, crmsync.CreateAsContact, true
	})
	ct := h.hs.Put(hsContact("5", map[string]string{"email": "ada@example.com", "lastname": "Lovelace"}))
	deal := h.hs.Put(crmsync.Record{Ref: crmsync.RecordRef{Side: crmsync.HubSpot, Object: crmsync.HSDeal, ID: "77"},
		Properties: map[string]string{"dealname": "Big deal", "dealstage": "appointmentscheduled", "pipeline": "default", "closedate": "2026-12-01"}})
	if out := h.resolve(deal.Ref); out.Decision != DecisionSynced {
		t.Fatalf("deal: %+v", out)
	}
	act := h.hs.Put(engagement(crmsync.HSCall, "9", map[string]string{"hs_call_title": "Pricing"}))
	h.hs.Associate(act.Ref, crmsync.HSContact, ct.Ref.ID, false)
	h.hs.Associate(act.Ref, crmsync.HSDeal, deal.Ref.ID, false)
	if out := h.resolve(act.Ref); out.Decision != DecisionSynced {
		t.Fatalf("call: %+v", out)
	}
	opp := h.sf.Records(crmsync.SFOpportunity)[0]
	task := h.tasks()[0]
	if task.Properties["WhatId"] != opp.Ref.ID || !strings.HasPrefix(task.Properties["WhoId"], string(crmsync.SFContact)) {
		t.Errorf("Task WhoId/WhatId = %q/%q, want a Contact and %s", task.Properties["WhoId"], task.Properties["WhatId"], opp.Ref.ID)
	}
}

func TestActivityOfAContactThatCannotSyncIsAnError(t *testing.T) {
	h := newHarness(t, func(s *crmsync.Settings) { s.Activities.Notes = true })
	ct := h.hs.Put(hsContact("5", map[string]string{"lastname": "No Email"}))
	act := h.hs.Put(engagement(crmsync.HSNote, "9", map[string]string{"hs_note_body": "hello"}))
	h.hs.Associate(act.Ref, crmsync.HSContact, ct.Ref.ID, false)
	out := h.resolve(act.Ref)
	if out.Decision != DecisionNotEligible || out.Category != crmsync.CategoryAssociations || !strings.Contains(out.Reason, "no email") {
		t.Fatalf("%+v", out)
	}
	se, err := h.store.GetSyncError(context.Background(), act.Ref)
	if err != nil || se.Reason != crmsync.ReasonContactNotSynced || se.Hint == "" {
		t.Fatalf("sync error %+v, %v", se, err)
	}
	if len(h.tasks()) != 0 {
		t.Error("a Task was written without a Lead or Contact")
	}
	// Unassociated: the same refusal, saying so.
	lone := h.hs.Put(engagement(crmsync.HSNote, "10", map[string]string{"hs_note_body": "hi"}))
	if out := h.resolve(lone.Ref); out.Decision != DecisionNotEligible || !strings.Contains(out.Reason, "not associated") {
		t.Errorf("unassociated: %+v", out)
	}
}

func TestFormSubmissionTaskAndCampaign(t *testing.T) {
	h := newHarness(t, nil)
	active := h.sf.AddCampaign("Webinar", true)
	inactive := h.sf.AddCampaign("Old webinar", false)
	settings := func(tasks bool) {
		s := crmsync.DefaultSettings()
		s.Activities.FormSubmissions = tasks
		s.Activities.FormCampaigns = []crmsync.FormCampaign{{FormID: "form-a", CampaignID: active, MemberStatus: "Responded"}, {FormID: "form-b", CampaignID: inactive}}
		cur, _ := h.store.GetSettings(context.Background())
		s.Version = cur.Version
		if _, err := h.store.PutSettings(context.Background(), s); err != nil {
			t.Fatal(err)
		}
	}
	settings(true)
	h.hs.Put(hsContact("5", map[string]string{"email": "ada@example.com", "lastname": "Lovelace"}))
	submit := func(form, id string) Outcome {
		t.Helper()
		tr := h.trigger(crmsync.RecordRef{Side: crmsync.HubSpot, Object: crmsync.HSFormSubmission, ID: form + "/" + id}, crmsync.KindActivity)
		tr.Event = &crmsync.ActivityEvent{Type: crmsync.HSFormSubmission, ID: form + "/" + id, OccurredAt: time.Date(2026, 11, 3, 8, 0, 0, 0, time.UTC),
			ContactEmail: "ADA@example.com", FormID: form, FormName: "Contact us", URL: "https://example.com/contact", Values: map[string]string{"email": "ada@example.com", "message": "Hi"}}
		out, err := h.eng.Resolve(context.Background(), tr)
		if err != nil {
			t.Fatal(err)
		}
		return out
	}
	out := submit("form-a", "1")
	lead := h.sf.Records(crmsync.SFLead)
	if out.Decision != DecisionSynced || len(lead) != 1 || len(h.tasks()) != 1 {
		t.Fatalf("form-a: %+v; %d leads, %d tasks", out, len(lead), len(h.tasks()))
	}
	if m := h.sf.Members(active); len(m) != 1 || m[0] != lead[0].Ref.ID {
		t.Errorf("active campaign members %v, want the lead", m)
	}
	task := h.tasks()[0]
	if task.Properties["Subject"] != "Form submission: Contact us" || !strings.Contains(task.Properties["Description"], "message: Hi") || task.Properties["ActivityDate"] != "2026-11-03" {
		t.Errorf("form Task %v", task.Properties)
	}
	// A second submission of the same form: a second Task; the member
	// exists already, which is success.
	if out := submit("form-a", "2"); out.Decision != DecisionSynced || !strings.Contains(strings.Join([]string{out.Reason}, ""), "joins campaign") {
		t.Errorf("second submission: %+v", out)
	}
	if len(h.tasks()) != 2 || len(h.sf.Members(active)) != 1 {
		t.Errorf("%d tasks, %d members after a second submission", len(h.tasks()), len(h.sf.Members(active)))
	}
	// The inactive campaign: a reason, no member.
	out = submit("form-b", "3")
	if !strings.Contains(out.Reason, "inactive") || len(h.sf.Members(inactive)) != 0 {
		t.Errorf("inactive campaign: %+v, members %v", out, h.sf.Members(inactive))
	}
	// Form Tasks off: the campaign still gets its member.
	settings(false)
	h.hs.Put(hsContact("6", map[string]string{"email": "bob@example.com", "lastname": "Bob"}))
	tr := h.trigger(crmsync.RecordRef{Side: crmsync.HubSpot, Object: crmsync.HSFormSubmission, ID: "form-a/4"}, crmsync.KindActivity)
	tr.Event = &crmsync.ActivityEvent{Type: crmsync.HSFormSubmission, ID: "form-a/4", OccurredAt: time.Now(), ContactEmail: "bob@example.com", FormID: "form-a"}
	out, err := h.eng.Resolve(context.Background(), tr)
	if err != nil || out.Decision != DecisionSynced || len(h.sf.Members(active)) != 2 || len(h.tasks()) != 3 {
		t.Errorf("tasks off, campaign on: %+v, %v; %d members, %d tasks", out, err, len(h.sf.Members(active)), len(h.tasks()))
	}
}

func TestActivitiesArePriorityTwo(t *testing.T) {
	for _, tr := range []crmsync.Trigger{
		{Record: crmsync.RecordRef{Side: crmsync.HubSpot, Object: crmsync.HSCall, ID: "1"}, Kind: crmsync.KindCreated},
		{Record: crmsync.RecordRef{Side: crmsync.HubSpot, Object: crmsync.HSFormSubmission, ID: "f/1"}, Kind: crmsync.KindActivity},
		{Record: crmsync.RecordRef{Side: crmsync.HubSpot, Object: crmsync.HSContact, ID: "1"}, Kind: crmsync.KindActivity},
	} {
		if p := priorityOf(tr); p != P2 {
			t.Errorf("priority of %s %s = %s, want P2", tr.Kind, tr.Record, p)
		}
	}
}

// A batch of activities costs one batch read per engagement type, one
// association read per type and side, and one collection create; a
// failed create call is retried with every Task of it, and the retry
// creates each Task once.
func TestActivityBatchUsesBatchCalls(t *testing.T) {
	h := newHarness(t, func(s *crmsync.Settings) { s.Activities.Calls, s.Activities.Notes = true, true })
	ctx := context.Background()
	ct := h.hs.Put(hsContact("5", map[string]string{"email": "ada@example.com", "lastname": "Lovelace"}))
	h.resolve(ct.Ref)
	var ts []crmsync.Trigger
	for i := range 12 {
		o := crmsync.HSCall
		if i%2 == 1 {
			o = crmsync.HSNote
		}
		act := h.hs.Put(engagement(o, fmt.Sprint(100+i), map[string]string{"hs_call_title": "c", "hs_note_body": "n"}))
		h.hs.Associate(act.Ref, crmsync.HSContact, ct.Ref.ID, false)
		ts = append(ts, h.trigger(act.Ref, crmsync.KindCreated))
	}
	fail := true
	h.sf.Fail = func(op string, ref crmsync.RecordRef) error {
		if op == "createmany" && fail {
			fail = false
			return vendorErr{code: "SERVER_UNAVAILABLE", transient: true}
		}
		return nil
	}
	gets, assocs := h.hs.Calls("getmany"), h.hs.Calls("associatedmany")
	_, errs := h.eng.ResolveBatch(ctx, ts)
	for i, err := range errs {
		if err == nil {
			t.Fatalf("trigger %d: no retry after the create call failed", i)
		}
	}
	if n := len(h.tasks()); n != 0 {
		t.Fatalf("%d Tasks after a failed call", n)
	}
	if g, a := h.hs.Calls("getmany")-gets, h.hs.Calls("associatedmany")-assocs; g != 2 || a != 4 {
		t.Errorf("reads: %d batch reads, %d association reads; want 2 and 4 (per type; contacts and deals)", g, a)
	}
	outs, errs := h.eng.ResolveBatch(ctx, ts) // the queue's retry: same deliveries
	for i := range ts {
		if errs[i] != nil || outs[i].Decision != DecisionSynced {
			t.Fatalf("retry %d: %+v, %v", i, outs[i], errs[i])
		}
	}
	if n, calls := len(h.tasks()), h.sf.Calls("createmany"); n != 12 || calls != 2 {
		t.Errorf("%d Tasks in %d collection calls, want 12 in 2 (the failed one and its retry)", n, calls)
	}
}

func TestSalesforceTasksAreSkippedWithReason(t *testing.T) {
	h := newHarness(t, func(s *crmsync.Settings) { s.Activities.Calls = true })
	out := h.resolve(crmsync.RecordRef{Side: crmsync.Salesforce, Object: crmsync.SFTask, ID: "00T000000000001AAA"})
	if out.Decision != DecisionSkipped || !strings.Contains(out.Reason, "does not copy them to HubSpot") || h.sf.Calls("get") != 0 {
		t.Fatalf("%+v", out)
	}
}
