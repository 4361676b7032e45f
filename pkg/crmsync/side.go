package crmsync

import "fmt"

// Side is one of the two CRMs.
type Side string

// The two sides.
const (
	HubSpot    Side = "hubspot"
	Salesforce Side = "salesforce"
)

// Sides lists both sides in a fixed order.
var Sides = []Side{HubSpot, Salesforce}

// Valid reports whether s is one of the two sides.
func (s Side) Valid() bool { return s == HubSpot || s == Salesforce }

// Other returns the opposite side.
func (s Side) Other() Side {
	if s == HubSpot {
		return Salesforce
	}
	return HubSpot
}

// ObjectType names an object type on one side. HubSpot types are HubSpot's
// singular lower-case names (as in webhook subscription types); Salesforce
// types are sObject API names.
type ObjectType string

// HubSpot object types.
const (
	HSContact             ObjectType = "contact"
	HSCompany             ObjectType = "company"
	HSDeal                ObjectType = "deal"
	HSFormSubmission      ObjectType = "form_submission"
	HSMarketingEmailEvent ObjectType = "marketing_email_event"
	HSSalesEmail          ObjectType = "email"
	HSMeeting             ObjectType = "meeting"
	HSCall                ObjectType = "call"
	HSNote                ObjectType = "note"
	HSDocumentView        ObjectType = "document_view"
	HSTask                ObjectType = "task"
	// HSListMembership names the sweep's cursor of the inclusion list's
	// memberships (not a record type).
	HSListMembership ObjectType = "list_membership"
)

// Salesforce object types.
const (
	SFLead        ObjectType = "Lead"
	SFContact     ObjectType = "Contact"
	SFAccount     ObjectType = "Account"
	SFOpportunity ObjectType = "Opportunity"
	// SFContactRole is OpportunityContactRole: a contact's role on an
	// opportunity, which drives HubSpot lifecycle stages.
	SFContactRole    ObjectType = "OpportunityContactRole"
	SFCampaignMember ObjectType = "CampaignMember"
	SFTask           ObjectType = "Task"
)

var objectSides = map[ObjectType]Side{
	HSContact: HubSpot, HSCompany: HubSpot, HSDeal: HubSpot,
	HSFormSubmission: HubSpot, HSMarketingEmailEvent: HubSpot, HSSalesEmail: HubSpot,
	HSMeeting: HubSpot, HSCall: HubSpot, HSNote: HubSpot, HSDocumentView: HubSpot, HSTask: HubSpot, HSListMembership: HubSpot,
	SFLead: Salesforce, SFContact: Salesforce, SFAccount: Salesforce,
	SFOpportunity: Salesforce, SFContactRole: Salesforce, SFCampaignMember: Salesforce, SFTask: Salesforce,
}

// Side returns the side the object type belongs to, or "" when unknown.
func (o ObjectType) Side() Side { return objectSides[o] }

// IsActivity reports whether o is an engagement/activity type (synced to
// Salesforce Tasks) rather than a CRM record type.
func (o ObjectType) IsActivity() bool {
	switch o {
	case HSFormSubmission, HSMarketingEmailEvent, HSSalesEmail, HSMeeting, HSCall,
		HSNote, HSDocumentView, HSTask, SFTask, SFCampaignMember:
		return true
	}
	return false
}

// ObjectTypes returns the known object types of side s.
func ObjectTypes(s Side) []ObjectType {
	var out []ObjectType
	for _, o := range []ObjectType{HSContact, HSCompany, HSDeal, HSFormSubmission,
		HSMarketingEmailEvent, HSSalesEmail, HSMeeting, HSCall, HSNote, HSDocumentView,
		HSTask, SFLead, SFContact, SFAccount, SFOpportunity, SFCampaignMember, SFTask} {
		if o.Side() == s {
			out = append(out, o)
		}
	}
	return out
}

// RecordRef addresses one record on one side.
type RecordRef struct {
	Side   Side       `json:"side"`
	Object ObjectType `json:"object"`
	ID     string     `json:"id"`
}

// IsZero reports whether r is the zero reference (an empty side of a link).
func (r RecordRef) IsZero() bool { return r == RecordRef{} }

// Key is the canonical string form "side/object/id", used as a storage key
// and as the queue's message group.
func (r RecordRef) Key() string { return string(r.Side) + "/" + string(r.Object) + "/" + r.ID }

func (r RecordRef) String() string { return r.Key() }

// Validate reports whether r names a known object type on its side and has
// an id.
func (r RecordRef) Validate() error {
	if !r.Side.Valid() {
		return fmt.Errorf("record ref: %w: unknown side %q", ErrInvalid, r.Side)
	}
	if r.Object.Side() != r.Side {
		return fmt.Errorf("record ref: %w: object type %q is not a %s object", ErrInvalid, r.Object, r.Side)
	}
	if r.ID == "" {
		return fmt.Errorf("record ref: %w: empty id", ErrInvalid)
	}
	return nil
}
