package engine

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"

	"github.com/crmsync/crmsync/pkg/crmsync"
)

// Activities — HubSpot's connector's activity triggers, each behind its
// own toggle (settings activities.*, off by default):
//
//   - Calls, sales emails, meetings, notes and tasks are HubSpot CRM
//     objects (engagements). Their webhooks (object.creation,
//     object.propertyChange, object.deletion) and the sweep bring them;
//     the engine re-reads the engagement and its contact and deal
//     associations.
//   - Form submissions and marketing email events have no webhook and no
//     read by id: the poll (package sweep) carries each on its trigger
//     (crmsync.ActivityEvent). They never change afterwards.
//
// Each becomes one Salesforce Task on the Lead or Contact linked to the
// activity's contact — its first associated contact that syncs. A contact
// that has not synced yet is synced first, in the same resolution,
// subject to its own eligibility; when it does not sync, the activity
// gets a sync error naming why (retried on the error schedule, so the
// Task follows once the contact syncs). WhatId is the Opportunity linked
// to the activity's first synced deal, only with a Contact (Salesforce
// refuses a WhatId beside a Lead). The Task's owner is the engagement
// owner's Salesforce user, by email (none: the integration user).
//
// An activity has a link (engagement ⇄ Task) with the Task's fields as
// written for its shadow: a repeated delivery or a retry finds the link
// and writes nothing, a later change of the engagement updates the
// fields that changed (TaskSubtype cannot change after the create), and a
// deleted engagement follows the delete policy (mirror: the Task is
// deleted; otherwise the link is marked). Tasks never flow back: a Task
// changed in Salesforce keeps its change until the engagement changes.
//
// A form submission whose form is mapped to a campaign
// (activities.form_campaigns) adds the synced Lead or Contact as a
// CampaignMember while the campaign is active — whether or not form
// submissions become Tasks. An inactive campaign adds no member and the
// ledger says so; an existing member is success.

// activityFacts is what an activity's decision reads.
type activityFacts struct {
	*facts
	// act is the engagement's properties as read, or the polled event's.
	act   crmsync.Record
	event *crmsync.ActivityEvent
	// gone says the engagement no longer exists (deleted or archived).
	gone bool
	// who is the Lead or Contact linked to the activity's contact (zero:
	// none; whyNoWho says why).
	who      crmsync.RecordRef
	whyNoWho string
	// what is the Opportunity linked to the activity's deal (zero: none).
	what crmsync.RecordRef
	// ownerID is the Task owner ("" = the integration user); ownerNote
	// says why an owner was not mapped.
	ownerID, ownerNote string
	// campaign is the campaign a form submission joins (nil: none),
	// with its status as read.
	campaign *campaignFacts
}

// campaignFacts is a form submission's campaign.
type campaignFacts struct {
	crmsync.FormCampaign
	read crmsync.Campaign
	// missing says the campaign does not exist or is not visible.
	missing bool
}

// activityOff reports why an activity trigger is skipped before any read
// ("" = it goes on): its type is off and it joins no campaign.
func activityOff(t crmsync.Trigger, s crmsync.Settings) string {
	on, setting := s.Activities.On(t.Record.Object)
	switch {
	case on || formCampaign(t, s) != nil:
		return ""
	case setting == "":
		return fmt.Sprintf("%s records do not sync: crmsync writes Salesforce Tasks and campaign members, it does not copy them to HubSpot", t.Record.Object)
	}
	return fmt.Sprintf("%s is off: %s activities do not become Salesforce Tasks", setting, t.Record.Object)
}

// resolveActivities resolves a batch's activity jobs together: the
// engagements and their contact and deal associations are read with one
// batch call per type (HubSpot ≤ 100), each is decided on its own, and
// their Tasks are created with one collection call (Salesforce ≤ 200).
func (e *Engine) resolveActivities(ctx context.Context, jobs []*job) {
	live := e.withinBudget(ctx, jobs)
	pre := e.prefetchActivities(ctx, live)
	for _, j := range live {
		af, err := e.readActivity(ctx, j, pre)
		j.f, j.link = af.facts, af.link
		if err != nil {
			j.plan = failureOf(j.f, err)
		} else {
			j.plan = decideActivity(af)
		}
	}
	e.apply(ctx, live)
}

// activityPrefetch is what prefetchActivities read: engagements by ref
// (missing: not found), their contacts and deals, or the error of a
// batch read.
type activityPrefetch struct {
	records         map[crmsync.RecordRef]crmsync.Record
	contacts, deals map[crmsync.RecordRef][]string
	failed          map[crmsync.ObjectType]error
}

// prefetchActivities reads the jobs' engagements and their associations
// with batch calls per engagement type.
func (e *Engine) prefetchActivities(ctx context.Context, jobs []*job) *activityPrefetch {
	pre := &activityPrefetch{records: map[crmsync.RecordRef]crmsync.Record{}, contacts: map[crmsync.RecordRef][]string{},
		deals: map[crmsync.RecordRef][]string{}, failed: map[crmsync.ObjectType]error{}}
	ids := map[crmsync.ObjectType][]string{}
	for _, j := range jobs {
		if o := j.t.Record.Object; j.t.Event == nil && activityProperties[o] != nil && !slices.Contains(ids[o], j.t.Record.ID) {
			ids[o] = append(ids[o], j.t.Record.ID)
		}
	}
	for o, list := range ids {
		recs, err := e.HubSpot.GetMany(ctx, o, list, append(slices.Clone(activityProperties[o]), "hs_timestamp", hubspotOwnerProperty))
		if err != nil {
			pre.failed[o] = opError{"read " + string(o) + " activities", err}
			continue
		}
		contacts, err := e.HubSpot.AssociatedMany(ctx, o, crmsync.HSContact, list)
		if err != nil {
			pre.failed[o] = opError{"read the contacts of " + string(o) + " activities", err}
			continue
		}
		deals, err := e.HubSpot.AssociatedMany(ctx, o, crmsync.HSDeal, list)
		if err != nil {
			pre.failed[o] = opError{"read the deals of " + string(o) + " activities", err}
			continue
		}
		for _, id := range list {
			ref := crmsync.RecordRef{Side: crmsync.HubSpot, Object: o, ID: id}
			if rec, ok := recs[id]; ok {
				pre.records[ref] = rec
			}
			pre.contacts[ref], pre.deals[ref] = sortedIDs(contacts[id]), sortedIDs(deals[id])
		}
	}
	return pre
}

// formCampaign is the campaign a form-submission trigger's form joins
// (nil: none, or not a form submission).
func formCampaign(t crmsync.Trigger, s crmsync.Settings) *crmsync.FormCampaign {
	if t.Record.Object != crmsync.HSFormSubmission || t.Event == nil {
		return nil
	}
	fc, ok := s.Activities.CampaignOf(t.Event.FormID)
	if !ok {
		return nil
	}
	return &fc
}

// activityProperties are the engagement properties a Task is made from.
var activityProperties = map[crmsync.ObjectType][]string{
	crmsync.HSCall: {"hs_call_title", "hs_call_body", "hs_call_status", "hs_call_duration",
		"hs_call_direction", "hs_call_disposition"},
	crmsync.HSSalesEmail: {"hs_email_subject", "hs_email_text", "hs_email_direction", "hs_email_status",
		"hs_email_open_count", "hs_email_click_count"},
	crmsync.HSMeeting: {"hs_meeting_title", "hs_meeting_body", "hs_meeting_start_time", "hs_meeting_end_time",
		"hs_meeting_outcome", "hs_meeting_location"},
	crmsync.HSNote: {"hs_note_body"},
	crmsync.HSTask: {"hs_task_subject", "hs_task_body", "hs_task_status", "hs_task_priority", "hs_task_type"},
}

// readActivity reads the activity's link, the engagement (or takes the
// polled event), its contact — syncing it first when it has not synced —
// its deal, the owner and the campaign.
func (e *Engine) readActivity(ctx context.Context, j *job, pre *activityPrefetch) (*activityFacts, error) {
	t := j.t
	af := &activityFacts{facts: &facts{t: t, also: j.also, settings: j.settings, recs: map[crmsync.Side]crmsync.Record{}, now: e.now()}}
	l, err := e.Store.GetLink(ctx, t.Record)
	switch {
	case err == nil:
		af.link = &l
	case !errors.Is(err, crmsync.ErrNotFound):
		return af, fmt.Errorf("get link: %w", err)
	}
	contacts, err := e.readActivityRecord(ctx, af, pre)
	if err != nil || af.gone {
		return af, err
	}
	if err := e.readWho(ctx, j, af, contacts); err != nil || af.who.IsZero() {
		return af, err
	}
	if af.who.Object == crmsync.SFContact && af.event == nil {
		if err := e.readWhat(ctx, af, pre.deals[af.t.Record]); err != nil {
			return af, err
		}
	}
	if err := e.readTaskOwner(ctx, af); err != nil {
		return af, err
	}
	return af, e.readCampaign(ctx, af)
}

// readActivityRecord reads the engagement, or takes the trigger's event,
// and returns the HubSpot contacts it is about.
func (e *Engine) readActivityRecord(ctx context.Context, af *activityFacts, pre *activityPrefetch) ([]string, error) {
	t := af.t
	if ev := t.Event; ev != nil {
		af.event = ev
		if ev.ContactID != "" {
			return []string{ev.ContactID}, nil
		}
		if ev.ContactEmail == "" {
			return nil, nil
		}
		found, err := e.HubSpot.FindByEmail(ctx, crmsync.HSContact, ev.ContactEmail, nil)
		if err != nil {
			return nil, opError{"find the HubSpot contact " + ev.ContactEmail, err}
		}
		ids := make([]string, 0, len(found))
		for _, r := range found {
			ids = append(ids, r.Ref.ID)
		}
		return ids, nil
	}
	if _, ok := activityProperties[t.Record.Object]; !ok {
		return nil, opError{"read " + t.Record.String(), fmt.Errorf("%w: %s activities arrive by a poll, with their event", crmsync.ErrInvalid, t.Record.Object)}
	}
	if err := pre.failed[t.Record.Object]; err != nil {
		return nil, err
	}
	rec, ok := pre.records[t.Record]
	if !ok || rec.Archived {
		af.gone = true
		return nil, nil
	}
	af.act = rec
	return pre.contacts[t.Record], nil
}

// hubspotOwnerProperty is the owner property of every HubSpot object.
const hubspotOwnerProperty = "hubspot_owner_id"

// sortedIDs sorts HubSpot ids numerically (oldest record first).
func sortedIDs(ids []string) []string {
	out := slices.Clone(ids)
	slices.SortFunc(out, func(a, b string) int {
		x, errA := strconv.ParseInt(a, 10, 64)
		y, errB := strconv.ParseInt(b, 10, 64)
		if errA != nil || errB != nil {
			return cmp.Compare(a, b)
		}
		return cmp.Compare(x, y)
	})
	return out
}

// readWho finds the Lead or Contact the Task goes on: the first contact
// with an active link; when none has one, the first contact is synced
// first (its own resolution, with its own ledger entry and eligibility).
func (e *Engine) readWho(ctx context.Context, j *job, af *activityFacts, contacts []string) error {
	if len(contacts) == 0 {
		af.whyNoWho = "the activity is not associated with a HubSpot contact"
		if af.event != nil {
			af.whyNoWho = fmt.Sprintf("no HubSpot contact has the email %q", af.event.ContactEmail)
		}
		return nil
	}
	for _, id := range contacts {
		ref := crmsync.RecordRef{Side: crmsync.HubSpot, Object: crmsync.HSContact, ID: id}
		l, err := e.Store.GetLink(ctx, ref)
		if errors.Is(err, crmsync.ErrNotFound) {
			continue
		}
		if err != nil {
			return fmt.Errorf("get link of %s: %w", ref, err)
		}
		if l.Status == crmsync.LinkActive && !l.Salesforce.IsZero() {
			af.who = l.Salesforce
			return nil
		}
	}
	first := crmsync.RecordRef{Side: crmsync.HubSpot, Object: crmsync.HSContact, ID: contacts[0]}
	sub := crmsync.Trigger{Record: first, Kind: crmsync.KindActivity, OccurredAt: j.t.OccurredAt,
		DeliveryID: j.t.DeliveryID, DedupeKey: crmsync.DedupeKeyOf("activity-contact", j.t.DedupeKey, first.ID)}
	out, err := e.Resolve(ctx, sub)
	if err != nil {
		return fmt.Errorf("sync the activity's contact %s first: %w", first, err)
	}
	l, err := e.Store.GetLink(ctx, first)
	switch {
	case err == nil && l.Status == crmsync.LinkActive && !l.Salesforce.IsZero():
		af.who = l.Salesforce
		af.found.notes = append(af.found.notes, fmt.Sprintf("synced its contact %s first (%s)", first, out.Decision))
	case err == nil || errors.Is(err, crmsync.ErrNotFound):
		af.whyNoWho = fmt.Sprintf("its contact %s did not sync: %s", first, out.Reason)
	default:
		return fmt.Errorf("get link of %s: %w", first, err)
	}
	return nil
}

// readWhat finds the Opportunity linked to the engagement's first synced
// deal.
func (e *Engine) readWhat(ctx context.Context, af *activityFacts, deals []string) error {
	for _, id := range deals {
		l, err := e.Store.GetLink(ctx, crmsync.RecordRef{Side: crmsync.HubSpot, Object: crmsync.HSDeal, ID: id})
		if errors.Is(err, crmsync.ErrNotFound) {
			continue
		}
		if err != nil {
			return fmt.Errorf("get link of deal %s: %w", id, err)
		}
		if l.Status == crmsync.LinkActive && l.Salesforce.Object == crmsync.SFOpportunity {
			af.what = l.Salesforce
			return nil
		}
	}
	return nil
}

// readTaskOwner maps the engagement's owner to a Salesforce user by email.
func (e *Engine) readTaskOwner(ctx context.Context, af *activityFacts) error {
	email := ownerEmail(af.act)
	if email == "" {
		return nil
	}
	id, err := e.Salesforce.OwnerID(ctx, email)
	switch {
	case errors.Is(err, crmsync.ErrNotFound):
		af.ownerNote = fmt.Sprintf("no active Salesforce user has the owner's email %s: the Task belongs to the integration user", email)
	case err != nil:
		return opError{"find the Salesforce user " + email, err}
	default:
		af.ownerID = id
	}
	return nil
}

// readCampaign reads the campaign a form submission joins.
func (e *Engine) readCampaign(ctx context.Context, af *activityFacts) error {
	fc := formCampaign(af.t, af.settings)
	if fc == nil {
		return nil
	}
	c, err := e.Salesforce.Campaign(ctx, fc.CampaignID)
	switch {
	case errors.Is(err, crmsync.ErrNotFound):
		af.campaign = &campaignFacts{FormCampaign: *fc, missing: true}
	case err != nil:
		return opError{"read campaign " + fc.CampaignID, err}
	default:
		af.campaign = &campaignFacts{FormCampaign: *fc, read: c}
	}
	return nil
}

// addMember adds the plan's campaign member. The Task (if any) is written
// and its link stored before, so a failure here never duplicates it.
func (e *Engine) addMember(ctx context.Context, j *job) {
	m := j.plan.Writes.Member
	if m == nil || j.plan.Retry != nil || j.plan.failed() {
		return
	}
	added, err := e.Salesforce.AddCampaignMember(ctx, m.CampaignID, m.Who, m.Status)
	switch {
	case err != nil:
		j.fail(fmt.Sprintf("add %s to campaign %s", m.Who, m.CampaignID), err)
	case added:
		j.res.writes = append(j.res.writes, Write{Op: "create", Ref: crmsync.RecordRef{Side: crmsync.Salesforce, Object: crmsync.SFCampaignMember, ID: m.CampaignID + "/" + m.Who.ID},
			Properties: map[string]string{"CampaignId": m.CampaignID, whoField(m.Who): m.Who.ID, "Status": m.Status}})
	default:
		j.plan.Notes = append(j.plan.Notes, fmt.Sprintf("%s already is a member of campaign %s", m.Who, m.CampaignID))
	}
}

// whoField is the CampaignMember field naming who.
func whoField(who crmsync.RecordRef) string {
	if who.Object == crmsync.SFLead {
		return "LeadId"
	}
	return "ContactId"
}
