package crmsync

import (
	"context"
	"time"
)

// ActivityEvent is an activity HubSpot keeps no CRM object for — a form
// submission or a marketing email event. Such events have no webhook and
// no read by id, so the poll that finds them carries them on the trigger
// (Trigger.Event); they never change afterwards, so carrying them is as
// good as re-reading them.
type ActivityEvent struct {
	// Type is HSFormSubmission or HSMarketingEmailEvent.
	Type ObjectType `json:"type"`
	// ID is stable across polls: the marketing email event's id; for a
	// form submission the form id and the submission's conversion id (or
	// its time and email when HubSpot gives none).
	ID         string    `json:"id"`
	OccurredAt time.Time `json:"occurred_at"`
	// ContactEmail is the submitter's or the recipient's email; ContactID
	// the HubSpot contact id when the vendor says.
	ContactEmail string `json:"contact_email,omitempty"`
	ContactID    string `json:"contact_id,omitempty"`
	// FormID and FormName name the form of a submission.
	FormID   string `json:"form_id,omitempty"`
	FormName string `json:"form_name,omitempty"`
	// EventType is the marketing email event's type (SENT, OPEN, CLICK…).
	EventType string `json:"event_type,omitempty"`
	// EmailCampaignID and EmailName name the marketing email.
	EmailCampaignID string `json:"email_campaign_id,omitempty"`
	EmailName       string `json:"email_name,omitempty"`
	// URL is the page a form was submitted on, or the link clicked.
	URL string `json:"url,omitempty"`
	// Values are a submission's fields by name.
	Values map[string]string `json:"values,omitempty"`
}

// ActivityFeed is implemented by CRMs whose webhook-less activities are
// polled with a time cursor (HubSpot: the form submissions API and the
// marketing email events API).
//
// Both methods return the events at or after since, oldest first (the
// poll's cursor moves to the last one's time; an event seen twice is
// dropped by its dedupe key), at most about limit of them (0: no limit).
// Errors are vendor errors (Transient or terminal, as for CRM).
type ActivityFeed interface {
	FormSubmissions(ctx context.Context, since time.Time, limit int) ([]ActivityEvent, error)
	EmailEvents(ctx context.Context, since time.Time, limit int) ([]ActivityEvent, error)
}

// Campaign is a Salesforce campaign as crmsync needs it.
type Campaign struct {
	ID     string
	Name   string
	Active bool
}

// Campaigns is implemented by CRMs with campaigns (Salesforce), for the
// form-submission → campaign member trigger.
type Campaigns interface {
	// Campaign reads a campaign; ErrNotFound when it does not exist or the
	// integration user cannot see it.
	Campaign(ctx context.Context, id string) (Campaign, error)
	// AddCampaignMember adds the Lead or Contact who to the campaign with
	// the member status ("" = the campaign's default). added is false,
	// with a nil error, when who already is a member (Salesforce's
	// DUPLICATE_VALUE): the wanted state holds. Other failures are vendor
	// errors.
	AddCampaignMember(ctx context.Context, campaignID string, who RecordRef, status string) (added bool, err error)
}

// CreateResult is one record's outcome in a batch create: its id, or
// the vendor's error for it.
type CreateResult struct {
	ID  string
	Err error
}

// BatchCreator is implemented by CRMs that create many records of one
// type per call (Salesforce sObject Collections ≤ 200, split by the
// client), for activities written in bulk.
type BatchCreator interface {
	// CreateMany creates every record and returns one result per record,
	// in order. An error from the call itself means the outcome of the
	// records not yet answered is unknown.
	CreateMany(ctx context.Context, o ObjectType, records []map[string]string) ([]CreateResult, error)
}
