package crmsync

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"time"
)

// Record is the current state of one record as read from its CRM.
// Properties hold vendor property names and their values as strings (the
// vendors' wire form); a cleared value is "".
type Record struct {
	Ref          RecordRef         `json:"ref"`
	Properties   map[string]string `json:"properties"`
	LastModified time.Time         `json:"last_modified"`
	// OwnerEmail is the owner's user email, the key owners are matched by.
	OwnerEmail string `json:"owner_email,omitempty"`
	Archived   bool   `json:"archived,omitempty"`
}

// LinkStatus is the state of a linked pair.
type LinkStatus string

// Link statuses.
const (
	// LinkPending: one side is reserved, the other record is being created.
	LinkPending LinkStatus = "pending"
	// LinkActive: both records exist and sync.
	LinkActive LinkStatus = "active"
	// LinkDeletedHubSpot / LinkDeletedSalesforce: the record on that side
	// was deleted; the other side was left alone (the default delete policy).
	LinkDeletedHubSpot    LinkStatus = "deleted_hubspot"
	LinkDeletedSalesforce LinkStatus = "deleted_salesforce"
)

// FieldShadow is the last value crmsync synced for one mapped field.
type FieldShadow struct {
	Value    string    `json:"value"`
	Hash     string    `json:"hash"`
	SyncedAt time.Time `json:"synced_at"`
}

// NewFieldShadow returns the shadow of value at time at.
func NewFieldShadow(value string, at time.Time) FieldShadow {
	return FieldShadow{Value: value, Hash: ValueHash(value), SyncedAt: at}
}

// ValueHash is the hash kept beside a shadow value (hex SHA-256, truncated
// to 16 bytes): comparing hashes finds echoes without re-reading values.
func ValueHash(v string) string {
	sum := sha256.Sum256([]byte(v))
	return hex.EncodeToString(sum[:16])
}

// Link joins one HubSpot record and one Salesforce record. Each id is linked
// at most once: the Store refuses a second link for either id.
type Link struct {
	// ID is assigned by the Store on create when empty.
	ID         string    `json:"id"`
	HubSpot    RecordRef `json:"hubspot"`
	Salesforce RecordRef `json:"salesforce"`
	// Shadow holds the last synced value per mapped field, keyed by the
	// mapping's key (see FieldMapping.Key).
	Shadow map[string]FieldShadow `json:"shadow,omitempty"`
	// HubSpotSeen and SalesforceSeen are the last modification times seen
	// on each side when this link was last synced.
	HubSpotSeen    time.Time  `json:"hubspot_seen"`
	SalesforceSeen time.Time  `json:"salesforce_seen"`
	Status         LinkStatus `json:"status"`
	// PendingKey is the dedupe key of the trigger that reserved a pending
	// link: its own retry may take the reservation over at once.
	PendingKey string `json:"pending_key,omitempty"`
	// Version is the optimistic-concurrency version: 1 after create,
	// incremented by every update. Updates must carry the version read.
	Version   int64     `json:"version"`
	CreatedAt time.Time `json:"created_at"`
	UpdatedAt time.Time `json:"updated_at"`
}

// IsRecordPair reports whether l is an active link of two records (not an
// activity's link to its Task, not pending or marked deleted): what the
// drift check and a settings plan look at.
func (l Link) IsRecordPair() bool {
	return l.Status == LinkActive && !l.HubSpot.IsZero() && !l.Salesforce.IsZero() && !l.HubSpot.Object.IsActivity()
}

// Ref returns the link's record on side s.
func (l Link) Ref(s Side) RecordRef {
	if s == HubSpot {
		return l.HubSpot
	}
	return l.Salesforce
}

// Refs returns the non-empty record refs of the link.
func (l Link) Refs() []RecordRef {
	var out []RecordRef
	for _, r := range []RecordRef{l.HubSpot, l.Salesforce} {
		if !r.IsZero() {
			out = append(out, r)
		}
	}
	return out
}

// Validate checks that at least one side is set and each set side is a
// valid ref on the right side.
func (l Link) Validate() error {
	if l.HubSpot.IsZero() && l.Salesforce.IsZero() {
		return fmt.Errorf("link: %w: both sides empty", ErrInvalid)
	}
	if !l.HubSpot.IsZero() {
		if err := l.HubSpot.Validate(); err != nil || l.HubSpot.Side != HubSpot {
			return fmt.Errorf("link: %w: bad hubspot ref %s", ErrInvalid, l.HubSpot)
		}
	}
	if !l.Salesforce.IsZero() {
		if err := l.Salesforce.Validate(); err != nil || l.Salesforce.Side != Salesforce {
			return fmt.Errorf("link: %w: bad salesforce ref %s", ErrInvalid, l.Salesforce)
		}
	}
	return nil
}

// Cursor is the sweep's position for one side and object type: everything
// modified at or before (Timestamp, LastID) has been enqueued.
type Cursor struct {
	Side      Side       `json:"side"`
	Object    ObjectType `json:"object"`
	Timestamp time.Time  `json:"timestamp"`
	LastID    string     `json:"last_id,omitempty"`
	UpdatedAt time.Time  `json:"updated_at"`
}

// LedgerEntry records one decision and write: what triggered it, which
// rule applied, each field's before and after, the call made and its result.
type LedgerEntry struct {
	// ID is assigned by the Store when empty; entries of a link list newest
	// first.
	ID      string        `json:"id"`
	LinkID  string        `json:"link_id"`
	At      time.Time     `json:"at"`
	Trigger Trigger       `json:"trigger"`
	Target  RecordRef     `json:"target"`
	Changes []FieldChange `json:"changes,omitempty"`
	Call    string        `json:"call,omitempty"`
	Result  string        `json:"result"`
	// Note explains the decision in words (e.g. "echo of our own write").
	Note string `json:"note,omitempty"`
}

// FieldChange is one field's change in a ledger entry.
type FieldChange struct {
	Field  string `json:"field"`
	Rule   string `json:"rule,omitempty"`
	Before string `json:"before"`
	After  string `json:"after"`
	// Conflict notes a Two-way conflict: the losing side's value.
	Conflict string `json:"conflict,omitempty"`
	// Refused says why a rule held this change back (nothing was
	// written): After is the refused value, Before the value kept.
	Refused string `json:"refused,omitempty"`
}
