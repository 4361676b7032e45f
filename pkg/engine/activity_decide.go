package engine

import (
	"fmt"
	"html"
	"maps"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/crmsync/crmsync/pkg/crmsync"
)

// memberWrite is a campaign member to add.
type memberWrite struct {
	CampaignID string
	Who        crmsync.RecordRef
	Status     string
}

// decideActivity is the whole decision of an activity: pure, from what
// readActivity read.
func decideActivity(af *activityFacts) Plan {
	src := af.src()
	if af.gone {
		af.found.gone.ref = src
		return decideGone(af.facts)
	}
	if af.who.IsZero() {
		return refusal(af.facts, crmsync.ReasonContactNotSynced, fmt.Sprintf("%s cannot become a Salesforce Task: %s", src, af.whyNoWho))
	}
	if reservationHeld(af.facts) {
		return Plan{Retry: errRetry{fmt.Sprintf("another worker is creating the Task of %s (reserved %s ago)", src, reservationAge(af.facts))}}
	}
	p := Plan{Decision: DecisionNoChange, ClearError: true, Notes: af.found.notes, Ledger: ledgerPlan{Result: "no change"}}
	if af.ownerNote != "" {
		p.Notes = append(p.Notes, af.ownerNote)
	}
	var reasons []string
	if on, setting := af.settings.Activities.On(src.Object); on {
		reasons = append(reasons, taskPlan(af, &p))
	} else {
		reasons = append(reasons, setting+" is off: no Task")
	}
	reasons = append(reasons, campaignPlan(af, &p))
	p.Reason = strings.Join(slices.DeleteFunc(reasons, func(r string) bool { return r == "" }), "; ")
	return p
}

// taskPlan plans the Task's create or update and returns what it does.
func taskPlan(af *activityFacts, p *Plan) string {
	src, l := af.src(), af.link
	fields := taskFields(af)
	next := crmsync.Link{HubSpot: src, Status: crmsync.LinkActive, HubSpotSeen: af.act.LastModified,
		CreatedAt: af.now, UpdatedAt: af.now}
	if l != nil {
		next = *l
		next.Status, next.PendingKey, next.UpdatedAt = crmsync.LinkActive, "", af.now
		if !af.act.LastModified.IsZero() {
			next.HubSpotSeen = af.act.LastModified
		}
	}
	if l == nil || l.Status == crmsync.LinkPending || l.Salesforce.IsZero() {
		next.Shadow = taskShadow(nil, fields, af.now)
		p.Writes.Create = &recordWrite{Ref: crmsync.RecordRef{Side: crmsync.Salesforce, Object: crmsync.SFTask}, Props: fields}
		p.Link = linkPlan{Reserve: l == nil, Claim: l != nil && l.Status == crmsync.LinkPending, Store: true, Next: next}
		p.Decision, p.Ledger = DecisionSynced, ledgerPlan{Target: crmsync.RecordRef{Side: crmsync.Salesforce, Object: crmsync.SFTask}, Result: "created"}
		p.Ledger.Changes = taskChanges(nil, fields)
		return "" // create says what it made
	}
	changed := map[string]string{}
	for k, v := range fields {
		if sh, ok := l.Shadow[k]; (!ok || sh.Value != v) && !createOnlyTaskFields[k] {
			changed[k] = v
		}
	}
	if len(changed) == 0 {
		return fmt.Sprintf("%s already says this", l.Salesforce)
	}
	next.Shadow = taskShadow(l.Shadow, changed, af.now)
	p.Writes.Updates = []recordWrite{{Ref: l.Salesforce, Props: changed}}
	p.Link = linkPlan{Store: true, Next: next}
	p.Decision, p.Ledger = DecisionSynced, ledgerPlan{Target: l.Salesforce, Result: "updated"}
	p.Ledger.Changes = taskChanges(l.Shadow, changed)
	return fmt.Sprintf("updated %s (%s)", l.Salesforce, strings.Join(slices.Sorted(maps.Keys(changed)), ", "))
}

// createOnlyTaskFields cannot change after the Task's create.
var createOnlyTaskFields = map[string]bool{"TaskSubtype": true}

// taskShadow is the Task's shadow after writing fields over prev.
func taskShadow(prev map[string]crmsync.FieldShadow, fields map[string]string, at time.Time) map[string]crmsync.FieldShadow {
	out := maps.Clone(prev)
	if out == nil {
		out = map[string]crmsync.FieldShadow{}
	}
	for k, v := range fields {
		out[k] = crmsync.NewFieldShadow(v, at)
	}
	return out
}

// taskChanges are the ledger's field changes of a Task write.
func taskChanges(prev map[string]crmsync.FieldShadow, fields map[string]string) []crmsync.FieldChange {
	out := make([]crmsync.FieldChange, 0, len(fields))
	for _, k := range slices.Sorted(maps.Keys(fields)) {
		out = append(out, crmsync.FieldChange{Field: "Task." + k, Rule: "activity", Before: prev[k].Value, After: fields[k]})
	}
	return out
}

// campaignPlan plans a form submission's campaign member and returns what
// it does ("" when the form joins no campaign).
func campaignPlan(af *activityFacts, p *Plan) string {
	c := af.campaign
	switch {
	case c == nil:
		return ""
	case c.missing:
		why := fmt.Sprintf("campaign %s does not exist or the integration user cannot see it: no campaign member added (fix activities.form_campaigns)", c.CampaignID)
		p.Notes = append(p.Notes, why)
		return why
	case !c.read.Active:
		why := fmt.Sprintf("campaign %s (%s) is inactive: no campaign member added (activate it in Salesforce; later submissions join it)", c.CampaignID, c.read.Name)
		p.Notes = append(p.Notes, why)
		return why
	}
	p.Writes.Member = &memberWrite{CampaignID: c.CampaignID, Who: af.who, Status: c.MemberStatus}
	p.Decision = DecisionSynced
	return fmt.Sprintf("%s joins campaign %s (%s)", af.who, c.CampaignID, c.read.Name)
}

// Task field limits (Salesforce: Subject 255, Description 32 000).
const (
	maxSubject     = 255
	maxDescription = 32000
)

// taskFields are the Task's fields for the activity.
func taskFields(af *activityFacts) map[string]string {
	t := task{Status: "Completed", Priority: "Normal", Subtype: "Task"}
	if af.event != nil {
		t.fromEvent(af.event)
	} else {
		t.fromEngagement(af.src().Object, af.act.Properties)
	}
	f := map[string]string{
		"WhoId":       af.who.ID,
		"Subject":     truncate(t.Subject, maxSubject),
		"Description": truncate(strings.TrimSpace(strings.Join(t.Lines, "\n")), maxDescription),
		"Status":      t.Status,
		"Priority":    t.Priority,
		"TaskSubtype": t.Subtype,
	}
	if !t.When.IsZero() {
		f["ActivityDate"] = t.When.UTC().Format(time.DateOnly)
	}
	if !af.what.IsZero() {
		f["WhatId"] = af.what.ID
	}
	if af.ownerID != "" {
		f["OwnerId"] = af.ownerID
	}
	if t.CallSeconds != "" {
		f["CallDurationInSeconds"] = t.CallSeconds
	}
	if t.CallType != "" {
		f["CallType"] = t.CallType
	}
	return f
}

// task is a Task being made from an activity.
type task struct {
	Subject, Status, Priority, Subtype string
	Lines                              []string
	When                               time.Time
	CallSeconds, CallType              string
}

func (t *task) line(label, value string) {
	if value = strings.TrimSpace(value); value != "" {
		t.Lines = append(t.Lines, label+value)
	}
}

// fromEngagement fills the Task from a HubSpot engagement's properties.
func (t *task) fromEngagement(o crmsync.ObjectType, p map[string]string) {
	t.When = hubspotTime(p["hs_timestamp"])
	switch o {
	case crmsync.HSCall:
		t.Subject, t.Subtype = titled("Call", p["hs_call_title"]), "Call"
		t.line("", plainText(p["hs_call_body"]))
		t.line("Outcome: ", callOutcome(p["hs_call_disposition"]))
		t.line("Call status: ", p["hs_call_status"])
		if ms, err := strconv.ParseInt(p["hs_call_duration"], 10, 64); err == nil && ms > 0 {
			t.CallSeconds = strconv.FormatInt(ms/1000, 10)
			t.line("Duration: ", (time.Duration(ms) * time.Millisecond).Round(time.Second).String())
		}
		t.CallType = map[string]string{"INBOUND": "Inbound", "OUTBOUND": "Outbound"}[p["hs_call_direction"]]
		if s := p["hs_call_status"]; s != "" && s != "COMPLETED" && !finishedCall[s] {
			t.Status = "In Progress"
		}
	case crmsync.HSSalesEmail:
		label := "Email"
		if p["hs_email_direction"] == "INCOMING_EMAIL" {
			label = "Email received"
		}
		t.Subject, t.Subtype = titled(label, p["hs_email_subject"]), "Email"
		t.line("", plainText(p["hs_email_text"]))
		t.line("Opened: ", times(p["hs_email_open_count"]))
		t.line("Clicked: ", times(p["hs_email_click_count"]))
	case crmsync.HSMeeting:
		t.Subject = titled("Meeting", p["hs_meeting_title"])
		if start := hubspotTime(p["hs_meeting_start_time"]); !start.IsZero() {
			t.When = start
			when := start.UTC().Format("2006-01-02 15:04 UTC")
			if end := hubspotTime(p["hs_meeting_end_time"]); end.After(start) {
				when += " – " + end.UTC().Format("15:04 UTC")
			}
			t.line("When: ", when)
		}
		t.line("Where: ", p["hs_meeting_location"])
		t.line("Outcome: ", strings.ToLower(strings.ReplaceAll(p["hs_meeting_outcome"], "_", " ")))
		t.line("", plainText(p["hs_meeting_body"]))
		if o := p["hs_meeting_outcome"]; o == "SCHEDULED" || o == "RESCHEDULED" {
			t.Status = "Not Started"
		}
	case crmsync.HSNote:
		body := plainText(p["hs_note_body"])
		first, _, _ := strings.Cut(body, "\n")
		t.Subject = titled("Note", truncate(first, 80))
		t.line("", body)
	case crmsync.HSTask:
		t.Subject = p["hs_task_subject"]
		if t.Subject == "" {
			t.Subject = "Task"
		}
		t.line("", plainText(p["hs_task_body"]))
		t.Status = taskStatus[p["hs_task_status"]]
		if t.Status == "" {
			t.Status = "Not Started"
		}
		if pr := taskPriority[p["hs_task_priority"]]; pr != "" {
			t.Priority = pr
		}
		t.Subtype = map[string]string{"CALL": "Call", "EMAIL": "Email"}[p["hs_task_type"]]
		if t.Subtype == "" {
			t.Subtype = "Task"
		}
	}
}

// fromEvent fills the Task from a polled form submission or marketing
// email event.
func (t *task) fromEvent(ev *crmsync.ActivityEvent) {
	t.When = ev.OccurredAt
	switch ev.Type {
	case crmsync.HSFormSubmission:
		t.Subject = titled("Form submission", firstOf(ev.FormName, ev.FormID))
		t.line("Page: ", ev.URL)
		for _, k := range slices.Sorted(maps.Keys(ev.Values)) {
			t.line(k+": ", ev.Values[k])
		}
	case crmsync.HSMarketingEmailEvent:
		verb := map[string]string{"SENT": "sent", "DELIVERED": "delivered", "OPEN": "opened", "CLICK": "clicked"}[ev.EventType]
		if verb == "" {
			verb = strings.ToLower(ev.EventType)
		}
		t.Subject, t.Subtype = titled("Marketing email "+verb, firstOf(ev.EmailName, ev.EmailCampaignID)), "Email"
		t.line("Link: ", ev.URL)
		t.line("Email campaign: ", ev.EmailCampaignID)
	}
}

// HubSpot's task statuses and priorities in Salesforce's terms.
var (
	taskStatus = map[string]string{"NOT_STARTED": "Not Started", "IN_PROGRESS": "In Progress",
		"WAITING": "Waiting on someone else", "COMPLETED": "Completed", "DEFERRED": "Deferred"}
	taskPriority = map[string]string{"HIGH": "High", "MEDIUM": "Normal", "LOW": "Low"}
	// finishedCall are call statuses after which nothing more happens.
	finishedCall = map[string]bool{"BUSY": true, "CANCELED": true, "FAILED": true, "MISSED": true, "NO_ANSWER": true}
	// callOutcomes are HubSpot's default call outcomes (hs_call_disposition ids).
	callOutcomes = map[string]string{
		"9d9162e7-6cf3-4944-bf63-4dff82258764": "Busy",
		"f240bbac-87c9-4f6e-bf70-924b57d47db7": "Connected",
		"a4c4c377-d246-4b32-a13b-75a56a4cd0ff": "Left live message",
		"b2cf5968-551e-4856-9783-52b3da59a7d0": "Left voicemail",
		"73a0d17f-1163-4015-bdd5-ec830791da20": "No answer",
		"17b47fee-58de-441e-a44c-c6300d46f273": "Wrong number",
	}
)

func callOutcome(id string) string {
	if o, ok := callOutcomes[id]; ok {
		return o
	}
	return id
}

func times(n string) string {
	if v, err := strconv.Atoi(n); err == nil && v > 0 {
		if v == 1 {
			return "once"
		}
		return strconv.Itoa(v) + " times"
	}
	return ""
}

func titled(label, title string) string {
	if title = strings.TrimSpace(title); title != "" {
		return label + ": " + title
	}
	return label
}

func firstOf(vs ...string) string {
	for _, v := range vs {
		if v != "" {
			return v
		}
	}
	return ""
}

// hubspotTime reads a HubSpot datetime value: ISO 8601 as v3 reads
// return it, or epoch milliseconds as writes may give it.
func hubspotTime(v string) time.Time {
	if v == "" {
		return time.Time{}
	}
	if ms, err := strconv.ParseInt(v, 10, 64); err == nil {
		return time.UnixMilli(ms).UTC()
	}
	if t, err := time.Parse(time.RFC3339Nano, v); err == nil {
		return t.UTC()
	}
	return time.Time{}
}

var (
	breakTags = regexp.MustCompile(`(?i)<\s*(br\s*/?|/p|/div|/li|/h[1-6])\s*>`)
	anyTag    = regexp.MustCompile(`<[^>]*>`)
	blankRuns = regexp.MustCompile(`\n{3,}`)
)

// plainText turns a HubSpot rich-text body (HTML) into plain text for a
// Task's Description.
func plainText(s string) string {
	if !strings.Contains(s, "<") && !strings.Contains(s, "&") {
		return strings.TrimSpace(s)
	}
	s = breakTags.ReplaceAllString(s, "\n")
	s = anyTag.ReplaceAllString(s, "")
	s = html.UnescapeString(s)
	return strings.TrimSpace(blankRuns.ReplaceAllString(s, "\n\n"))
}

// truncate cuts s to at most n characters (runes).
func truncate(s string, n int) string {
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	r := []rune(s)
	return string(r[:n-1]) + "…"
}
