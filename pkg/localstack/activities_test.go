package localstack

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/crmsync/crmsync/pkg/crmsync"
	"github.com/crmsync/crmsync/pkg/engine"
	"github.com/crmsync/crmsync/pkg/sandbox/hubspotsim"
)

// Activities on the real simulators, through the receivers: each
// engagement type becomes one Task on the contact's Contact with its
// deal's Opportunity; a repeat writes nothing; an update updates the
// Task; a type turned off leaves a ledger reason; form submissions and
// marketing email events arrive by the short poll (hinted by the contact's
// properties), and forms join their campaigns.
func TestActivityScenarios(t *testing.T) {
	for _, b := range backends(t) {
		t.Run(b.name, func(t *testing.T) {
			t.Parallel()
			ctx := context.Background()
			w := start(t, b)
			active, err := w.Salesforce.CreateAs("", "Campaign", map[string]any{"Name": "Webinar", "IsActive": true})
			if err != nil {
				t.Fatal(err)
			}
			inactive, err := w.Salesforce.CreateAs("", "Campaign", map[string]any{"Name": "Old webinar", "IsActive": false})
			if err != nil {
				t.Fatal(err)
			}
			contactUs, err := w.HubSpot.CreateForm("Contact us")
			if err != nil {
				t.Fatal(err)
			}
			oldForm, err := w.HubSpot.CreateForm("Old webinar sign-up")
			if err != nil {
				t.Fatal(err)
			}
			putSettings(t, w, func(s *crmsync.Settings) {
				s.NewContactsAs, s.Objects.Deals = crmsync.CreateAsContact, true
				s.Activities = crmsync.ActivitySettings{FormSubmissions: true, MarketingEmails: true, SalesEmails: true,
					Meetings: true, Calls: true, Notes: true, Tasks: true,
					FormCampaigns: []crmsync.FormCampaign{{FormID: contactUs.ID, CampaignID: active, MemberStatus: "Responded"},
						{FormID: oldForm.ID, CampaignID: inactive}}}
			})
			// The short poll starts its cursors now: nothing from before.
			if _, err := w.Sweeper.Poll(ctx); err != nil {
				t.Fatal(err)
			}
			ct, err := w.HubSpot.CreateAsUser(crmsync.HSContact, map[string]string{"email": "ada@example.com", "firstname": "Ada", "lastname": "Lovelace"})
			if err != nil {
				t.Fatal(err)
			}
			deal, err := w.HubSpot.CreateAsUser(crmsync.HSDeal, map[string]string{"dealname": "Engines", "dealstage": "appointmentscheduled",
				"pipeline": "default", "closedate": "2026-12-31T00:00:00Z", "amount": "1000"})
			if err != nil {
				t.Fatal(err)
			}
			w.settle()
			who := linkedID(t, w, crmsync.HSContact, ct.ID)
			what := linkedID(t, w, crmsync.HSDeal, deal.ID)

			// Each engagement type, logged on the contact and the deal.
			ts := "2026-11-20T10:00:00Z"
			engagements := map[crmsync.ObjectType]map[string]string{
				crmsync.HSCall:       {"hs_timestamp": ts, "hs_call_title": "Discovery", "hs_call_body": "Budget ok", "hs_call_status": "COMPLETED", "hs_call_duration": "60000", "hs_call_direction": "OUTBOUND"},
				crmsync.HSSalesEmail: {"hs_timestamp": ts, "hs_email_subject": "Proposal", "hs_email_text": "Attached", "hs_email_direction": "EMAIL"},
				crmsync.HSMeeting:    {"hs_timestamp": ts, "hs_meeting_title": "Demo", "hs_meeting_start_time": "2026-11-21T10:00:00Z", "hs_meeting_end_time": "2026-11-21T11:00:00Z", "hs_meeting_outcome": "SCHEDULED"},
				crmsync.HSNote:       {"hs_timestamp": ts, "hs_note_body": "<p>Likes the engine</p>"},
				crmsync.HSTask:       {"hs_timestamp": ts, "hs_task_subject": "Send contract", "hs_task_status": "NOT_STARTED", "hs_task_priority": "HIGH", "hs_task_type": "TODO"},
			}
			ids := map[crmsync.ObjectType]string{}
			for o, props := range engagements {
				e, err := w.HubSpot.CreateAsUserWith(o, props, map[crmsync.ObjectType][]string{crmsync.HSContact: {ct.ID}, crmsync.HSDeal: {deal.ID}})
				if err != nil {
					t.Fatalf("create %s: %v", o, err)
				}
				ids[o] = e.ID
			}
			w.settle()
			subjects := map[string]string{"Call: Discovery": "Call", "Email: Proposal": "Email", "Meeting: Demo": "Task", "Note: Likes the engine": "Task", "Send contract": "Task"}
			tasks := w.Salesforce.Records("Task")
			if len(tasks) != len(subjects) {
				t.Fatalf("%d Tasks, want %d: %v", len(tasks), len(subjects), tasks)
			}
			for _, task := range tasks {
				subject := fmt.Sprint(task["Subject"])
				if sub, ok := subjects[subject]; !ok || task["TaskSubtype"] != sub || task["WhoId"] != who || task["WhatId"] != what {
					t.Errorf("Task %s: subtype %v, WhoId %v, WhatId %v; want %s, %s, %s", subject, task["TaskSubtype"], task["WhoId"], task["WhatId"], sub, who, what)
				}
			}

			// A repeated delivery of each: still one Task each.
			mark := w.mark()
			for o, id := range ids {
				ref := crmsync.RecordRef{Side: crmsync.HubSpot, Object: o, ID: id}
				out, err := w.Engine.Resolve(ctx, crmsync.Trigger{Record: ref, Kind: crmsync.KindCreated, OccurredAt: time.Now(), DedupeKey: "again-" + id})
				if err != nil || out.Decision != engine.DecisionNoChange {
					t.Errorf("repeat of %s: %+v, %v", ref, out, err)
				}
			}
			if n := len(w.Salesforce.Records("Task")); n != len(subjects) {
				t.Errorf("%d Tasks after repeats, want %d", n, len(subjects))
			}
			// The task completed in HubSpot: its Task follows.
			if _, err := w.HubSpot.UpdateAsUser(crmsync.HSTask, ids[crmsync.HSTask], map[string]string{"hs_task_status": "COMPLETED"}); err != nil {
				t.Fatal(err)
			}
			w.settle()
			if task := taskBySubject(w, "Send contract"); task == nil || task["Status"] != "Completed" {
				t.Errorf("completed task's Task = %v", task)
			}
			if n, outs := w.writesSince(mark); n != 1 {
				t.Errorf("%d writes for five repeats and one update, want 1: %+v", n, outs)
			}

			// A form submission: a Task and a campaign member, in seconds.
			if _, err := w.HubSpot.SubmitForm(contactUs.ID, hubspotsim.Submission{PageURL: "https://example.com/contact",
				Values: []hubspotsim.FormValue{{Name: "email", Value: "ada@example.com"}, {Name: "firstname", Value: "Ada"}}}); err != nil {
				t.Fatal(err)
			}
			waitFor(t, w, "the form submission's Task", func() bool { return taskBySubject(w, "Form submission: Contact us") != nil })
			members := w.Salesforce.Records("CampaignMember")
			if len(members) != 1 || members[0]["ContactId"] != who || members[0]["CampaignId"] != active || members[0]["Status"] != "Responded" {
				t.Fatalf("campaign members %v, want the contact in %s as Responded", members, active)
			}
			// Again: a second Task, the member exists (success, no error).
			if _, err := w.HubSpot.SubmitForm(contactUs.ID, hubspotsim.Submission{Values: []hubspotsim.FormValue{{Name: "email", Value: "ada@example.com"}}}); err != nil {
				t.Fatal(err)
			}
			waitFor(t, w, "the second submission's Task", func() bool { return countBySubject(w, "Form submission: Contact us") == 2 })
			// The inactive campaign: a Task, no member, a ledger reason.
			old, err := w.HubSpot.SubmitForm(oldForm.ID, hubspotsim.Submission{Values: []hubspotsim.FormValue{{Name: "email", Value: "ada@example.com"}}})
			if err != nil {
				t.Fatal(err)
			}
			waitFor(t, w, "the old form's Task", func() bool { return taskBySubject(w, "Form submission: Old webinar sign-up") != nil })
			if n := len(w.Salesforce.Records("CampaignMember")); n != 1 {
				t.Errorf("%d campaign members, want 1 (the inactive campaign gets none)", n)
			}
			if note := lastLedgerNote(t, w, crmsync.RecordRef{Side: crmsync.HubSpot, Object: crmsync.HSFormSubmission, ID: old.FormID + "/" + old.ConversionID}); !strings.Contains(note, "is inactive: no campaign member added") {
				t.Errorf("the old form's ledger says %q, want that the campaign is inactive", note)
			}

			// Marketing email sent, opened, clicked: three Tasks.
			mail := w.HubSpot.CreateEmailCampaign("November newsletter", "News")
			for _, typ := range []string{"SENT", "OPEN", "CLICK"} {
				if _, err := w.HubSpot.RecordEmailEvent(hubspotsim.EmailEventInput{Type: typ, Recipient: "ada@example.com", EmailCampaignID: mail.ID, URL: "https://example.com/news"}); err != nil {
					t.Fatal(err)
				}
			}
			for _, s := range []string{"Marketing email sent: November newsletter", "Marketing email opened: November newsletter", "Marketing email clicked: November newsletter"} {
				waitFor(t, w, s, func() bool { return taskBySubject(w, s) != nil })
			}

			// Every engagement type turned off: a new one of each makes no
			// Task and its ledger says which setting is off.
			putSettings(t, w, func(s *crmsync.Settings) {
				a := &s.Activities
				a.Calls, a.SalesEmails, a.Meetings, a.Notes, a.Tasks = false, false, false, false, false
			})
			before := len(w.Salesforce.Records("Task"))
			off := map[crmsync.ObjectType]string{crmsync.HSCall: "activities.calls", crmsync.HSSalesEmail: "activities.sales_emails",
				crmsync.HSMeeting: "activities.meetings", crmsync.HSNote: "activities.notes", crmsync.HSTask: "activities.tasks"}
			offIDs := map[crmsync.ObjectType]string{}
			for o := range off {
				e, err := w.HubSpot.CreateAsUserWith(o, engagements[o], map[crmsync.ObjectType][]string{crmsync.HSContact: {ct.ID}})
				if err != nil {
					t.Fatal(err)
				}
				offIDs[o] = e.ID
			}
			w.settle()
			if n := len(w.Salesforce.Records("Task")); n != before {
				t.Errorf("engagements with their toggles off made Tasks (%d → %d)", before, n)
			}
			for o, setting := range off {
				entries, _, err := w.store.ListLedger(ctx, engine.LedgerKey(crmsync.RecordRef{Side: crmsync.HubSpot, Object: o, ID: offIDs[o]}), crmsync.PageRequest{})
				if err != nil || len(entries) == 0 || !strings.Contains(entries[0].Note, setting+" is off") {
					t.Errorf("ledger of a %s with %s off: %+v, %v", o, setting, entries, err)
				}
			}

			// A note on a contact that has not synced yet: the contact
			// syncs first, one Contact, one Task on it.
			putSettings(t, w, func(s *crmsync.Settings) { s.Activities.Notes = true })
			bob, err := w.HubSpot.CreateAsUser(crmsync.HSContact, map[string]string{"email": "bob@example.com", "lastname": "Bob"})
			if err != nil {
				t.Fatal(err)
			}
			if _, err := w.HubSpot.CreateAsUserWith(crmsync.HSNote, map[string]string{"hs_timestamp": ts, "hs_note_body": "Met Bob"}, map[crmsync.ObjectType][]string{crmsync.HSContact: {bob.ID}}); err != nil {
				t.Fatal(err)
			}
			w.settle()
			bobWho := linkedID(t, w, crmsync.HSContact, bob.ID)
			if task := taskBySubject(w, "Note: Met Bob"); task == nil || task["WhoId"] != bobWho {
				t.Errorf("Bob's note Task = %v, want WhoId %s", task, bobWho)
			}
			if n := len(w.Salesforce.Records("Contact")); n != 2 {
				t.Errorf("%d Contacts, want 2", n)
			}
			if counts, _ := w.store.CountSyncErrors(ctx); len(counts) != 0 {
				errs, _, _ := w.store.ListSyncErrors(ctx, "", crmsync.PageRequest{})
				t.Errorf("sync errors: %+v", errs)
			}
		})
	}
}

// linkedID is the Salesforce id linked to a HubSpot record.
func linkedID(t *testing.T, w *world, o crmsync.ObjectType, id string) string {
	t.Helper()
	l, err := w.store.GetLink(context.Background(), crmsync.RecordRef{Side: crmsync.HubSpot, Object: o, ID: id})
	if err != nil || l.Salesforce.IsZero() {
		t.Fatalf("%s %s did not sync: %+v, %v", o, id, l, err)
	}
	return l.Salesforce.ID
}

func taskBySubject(w *world, subject string) map[string]any {
	for _, r := range w.Salesforce.Records("Task") {
		if r["Subject"] == subject {
			return r
		}
	}
	return nil
}

func countBySubject(w *world, subject string) int {
	n := 0
	for _, r := range w.Salesforce.Records("Task") {
		if r["Subject"] == subject {
			n++
		}
	}
	return n
}

// waitFor waits for what the short poll brings (every ListPollEvery, or
// at once on a hinting contact change), then for the stack to settle.
func waitFor(t *testing.T, w *world, what string, ok func() bool) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for !ok() {
		if time.Now().After(deadline) {
			t.Fatalf("%s did not arrive", what)
		}
		time.Sleep(100 * time.Millisecond)
	}
	w.settle()
}

// lastLedgerNote is the newest ledger note of a record with a link.
func lastLedgerNote(t *testing.T, w *world, ref crmsync.RecordRef) string {
	t.Helper()
	l, err := w.store.GetLink(context.Background(), ref)
	if err != nil {
		t.Fatalf("%s has no link: %v", ref, err)
	}
	entries, _, err := w.store.ListLedger(context.Background(), l.ID, crmsync.PageRequest{})
	if err != nil || len(entries) == 0 {
		t.Fatalf("ledger of %s: %v, %v", ref, entries, err)
	}
	return entries[0].Note
}
