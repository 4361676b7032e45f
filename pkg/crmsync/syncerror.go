package crmsync

import (
	"fmt"
	"time"
)

// Category groups sync errors as HubSpot's sync-health page does.
type Category string

// Sync-error categories. CategoryOther holds vendor codes crmsync does not
// recognise: they are still shown, never dropped.
const (
	CategoryAssociations   Category = "Associations"
	CategoryCustomCode     Category = "Custom code"
	CategoryDuplicates     Category = "Duplicates"
	CategoryPermissions    Category = "Permissions"
	CategoryPropertyValues Category = "Property values"
	CategoryOther          Category = "Other"
)

// Categories lists every category in display order.
var Categories = []Category{CategoryAssociations, CategoryCustomCode, CategoryDuplicates,
	CategoryPermissions, CategoryPropertyValues, CategoryOther}

// Valid reports whether c is a known category.
func (c Category) Valid() bool {
	for _, k := range Categories {
		if c == k {
			return true
		}
	}
	return false
}

// Reason is why a record is not eligible to sync.
type Reason string

// Eligibility reasons.
const (
	ReasonNoEmail            Reason = "no_email"
	ReasonNotInInclusionList Reason = "not_in_inclusion_list"
	ReasonNotVisible         Reason = "not_visible_to_integration_user"
	ReasonFlaggedDuplicate   Reason = "flagged_duplicate"
	ReasonRequiredField      Reason = "required_field_missing"
	ReasonValidationRule     Reason = "validation_rule"
	// ReasonNotSelected: the record does not meet its object type's
	// selective-sync rule (settings selective_sync.rules).
	ReasonNotSelected Reason = "not_selected_by_rule"
	// ReasonContactNotSynced: an activity's contact has no synced Lead
	// or Contact to hang its Task on.
	ReasonContactNotSynced Reason = "activity_contact_not_synced"
)

var reasonCategory = map[Reason]Category{
	ReasonNoEmail:            CategoryPropertyValues,
	ReasonNotInInclusionList: CategoryPermissions,
	ReasonNotVisible:         CategoryPermissions,
	ReasonFlaggedDuplicate:   CategoryDuplicates,
	ReasonRequiredField:      CategoryPropertyValues,
	ReasonValidationRule:     CategoryCustomCode,
	ReasonNotSelected:        CategoryPermissions,
	ReasonContactNotSynced:   CategoryAssociations,
}

var reasonHint = map[Reason]string{
	ReasonNoEmail:            "add an email address to the record; contacts sync by email",
	ReasonNotInInclusionList: "add the contact to the inclusion list, or clear the inclusion list setting",
	ReasonNotVisible:         "the integration user cannot see the record: check its role in the role hierarchy, the sharing rules of the object, and its permission set (log in as the integration user and try to view the record); crmsync explain -eligibility shows what crmsync sees",
	ReasonFlaggedDuplicate:   "merge the duplicate records, then resync",
	ReasonRequiredField:      "fill in the required field on the source record, or map a field to it",
	ReasonValidationRule:     "change the record so it passes the validation rule, or relax the rule",
	ReasonNotSelected:        "change the record so it meets its object's selective-sync rule, or change the rule (settings selective_sync.rules); nothing was deleted",
	ReasonContactNotSynced:   "associate the activity with a contact, or fix why its contact does not sync (see the contact's own sync card); the activity is retried on the error schedule and becomes a Task once its contact syncs",
}

// Valid reports whether r is a known reason.
func (r Reason) Valid() bool { _, ok := reasonCategory[r]; return ok }

// Category is the fixed category a reason is counted under.
func (r Reason) Category() Category { return reasonCategory[r] }

// Hint is what a person can do about the reason.
func (r Reason) Hint() string { return reasonHint[r] }

// SyncError is a record that did not sync, kept until a later sync of the
// record succeeds. One per record ref.
type SyncError struct {
	Record   RecordRef `json:"record"`
	LinkID   string    `json:"link_id,omitempty"`
	Category Category  `json:"category"`
	// Reason is set for eligibility refusals.
	Reason Reason `json:"reason,omitempty"`
	// Code is the vendor's error code (e.g. DUPLICATES_DETECTED).
	Code    string `json:"code,omitempty"`
	Message string `json:"message"`
	// Hint says what a person can do about it.
	Hint      string    `json:"hint,omitempty"`
	FirstSeen time.Time `json:"first_seen"`
	LastSeen  time.Time `json:"last_seen"`
	Attempts  int       `json:"attempts"`
	NextRetry time.Time `json:"next_retry,omitempty"`
}

// Validate checks the error names a record and a known category (and that
// a reason, when set, matches its category).
func (e SyncError) Validate() error {
	if err := e.Record.Validate(); err != nil {
		return fmt.Errorf("sync error: %w", err)
	}
	if !e.Category.Valid() {
		return fmt.Errorf("sync error %s: %w: unknown category %q", e.Record, ErrInvalid, e.Category)
	}
	if e.Reason != "" && e.Reason.Category() != e.Category {
		return fmt.Errorf("sync error %s: %w: reason %q belongs to category %q", e.Record, ErrInvalid, e.Reason, e.Reason.Category())
	}
	return nil
}

// NotEligible returns the sync error for an eligibility refusal.
func NotEligible(ref RecordRef, r Reason, message string, at time.Time) SyncError {
	return SyncError{Record: ref, Category: r.Category(), Reason: r, Message: message,
		Hint: r.Hint(), FirstSeen: at, LastSeen: at, Attempts: 1}
}
