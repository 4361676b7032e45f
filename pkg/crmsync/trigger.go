package crmsync

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"time"
)

// TriggerKind says why a record may have changed.
type TriggerKind string

// Trigger kinds.
const (
	KindCreated            TriggerKind = "created"
	KindPropertyChanged    TriggerKind = "property_changed"
	KindDeleted            TriggerKind = "deleted"
	KindMerged             TriggerKind = "merged"
	KindAssociationChanged TriggerKind = "association_changed"
	KindRestored           TriggerKind = "restored"
	KindPrivacyDeleted     TriggerKind = "privacy_deleted"
	KindListMembership     TriggerKind = "list_membership"
	KindActivity           TriggerKind = "activity"
	KindSweep              TriggerKind = "sweep"
	KindManualResync       TriggerKind = "manual_resync"
)

var triggerKinds = map[TriggerKind]bool{
	KindCreated: true, KindPropertyChanged: true, KindDeleted: true, KindMerged: true,
	KindAssociationChanged: true, KindRestored: true, KindPrivacyDeleted: true,
	KindListMembership: true, KindActivity: true, KindSweep: true, KindManualResync: true,
}

// Valid reports whether k is a known kind.
func (k TriggerKind) Valid() bool { return triggerKinds[k] }

// Trigger says "record X on side S may have changed, and why". It carries
// hints only: the worker always re-reads the record, because both vendors
// deliver at least once and out of order.
type Trigger struct {
	Record RecordRef   `json:"record"`
	Kind   TriggerKind `json:"kind"`
	// Properties are the changed property names, when the vendor said.
	Properties []string `json:"properties,omitempty"`
	// OccurredAt is when the change happened at the vendor.
	OccurredAt time.Time `json:"occurred_at"`
	// DeliveryID is the vendor's id for the delivery (HubSpot eventId,
	// Salesforce notification Id), kept for explanations.
	DeliveryID string `json:"delivery_id,omitempty"`
	// DedupeKey identifies the change: a redelivery of the same change has
	// the same key (HubSpot's attemptNumber is not part of it).
	DedupeKey string `json:"dedupe_key"`
	// Attempt counts how often crmsync has tried this trigger (0 first).
	Attempt int `json:"attempt,omitempty"`
	// ChangeSource and AppID are what the vendor says made the change
	// (HubSpot changeSource/sourceId and appId; Salesforce client id), used
	// to recognise crmsync's own writes.
	ChangeSource string `json:"change_source,omitempty"`
	AppID        string `json:"app_id,omitempty"`
	// MergedIDs are the ids merged into Record.ID (kind merged).
	MergedIDs []string `json:"merged_ids,omitempty"`
	// Association describes an association change (kind association_changed).
	Association *AssociationChange `json:"association,omitempty"`
	// Event carries a polled activity that has no read by id (form
	// submissions, marketing email events): see ActivityEvent.
	Event *ActivityEvent `json:"event,omitempty"`
}

// AssociationChange is the detail of an association-change trigger.
type AssociationChange struct {
	To      RecordRef `json:"to"`
	Type    string    `json:"type,omitempty"`
	Removed bool      `json:"removed,omitempty"`
}

// Delivery ids of hand-made resyncs, so the ledger tells them from the
// sweep's scheduled retries (same kind, no delivery id), and the API
// budget puts bulk resyncs (every errored record, a list) below a
// person's resync of one record.
const (
	DeliveryResync       = "crmsync-resync"
	DeliveryResyncErrors = "crmsync-resync-errors"
	DeliveryResyncList   = "crmsync-resync-list"
	// DeliveryBackfill marks the triggers of `crmsync backfill` (bulk
	// work: the lowest priority, P3).
	DeliveryBackfill = "crmsync-backfill"
)

// GroupKey is the queue's message group: work on one source record is
// processed in order, one at a time.
func (t Trigger) GroupKey() string { return t.Record.Key() }

// Validate reports whether t is complete enough to enqueue.
func (t Trigger) Validate() error {
	if err := t.Record.Validate(); err != nil {
		return fmt.Errorf("trigger: %w", err)
	}
	if !t.Kind.Valid() {
		return fmt.Errorf("trigger %s: %w: unknown kind %q", t.Record, ErrInvalid, t.Kind)
	}
	if t.DedupeKey == "" {
		return fmt.Errorf("trigger %s: %w: empty dedupe key", t.Record, ErrInvalid)
	}
	if t.OccurredAt.IsZero() {
		return fmt.Errorf("trigger %s: %w: no occurred-at time", t.Record, ErrInvalid)
	}
	if t.Kind == KindAssociationChanged && t.Association == nil {
		return fmt.Errorf("trigger %s: %w: association change without association", t.Record, ErrInvalid)
	}
	return nil
}

// DedupeKeyOf builds a dedupe key from parts that identify one change (for
// example the side, the vendor's event id and the occurred-at time). The
// key is a hex SHA-256 so it fits every queue's and store's key limits.
func DedupeKeyOf(parts ...string) string {
	h := sha256.New()
	for _, p := range parts {
		h.Write([]byte(p))
		h.Write([]byte{0})
	}
	return hex.EncodeToString(h.Sum(nil))
}

// TriggerEncodingVersion is the version written by EncodeTrigger.
const TriggerEncodingVersion = 1

type triggerEnvelope struct {
	V       int             `json:"v"`
	Trigger json.RawMessage `json:"trigger"`
}

// EncodeTrigger returns the queue encoding of t: {"v":1,"trigger":{…}}.
func EncodeTrigger(t Trigger) ([]byte, error) {
	body, err := json.Marshal(t)
	if err != nil {
		return nil, fmt.Errorf("encode trigger: %w", err)
	}
	return json.Marshal(triggerEnvelope{V: TriggerEncodingVersion, Trigger: body})
}

// DecodeTrigger decodes the queue encoding. An unknown version is
// ErrUnknownVersion; malformed JSON or an invalid trigger is ErrInvalid.
func DecodeTrigger(b []byte) (Trigger, error) {
	var env triggerEnvelope
	if err := json.Unmarshal(b, &env); err != nil {
		return Trigger{}, fmt.Errorf("decode trigger: %w: %v", ErrInvalid, err)
	}
	if env.V != TriggerEncodingVersion {
		return Trigger{}, fmt.Errorf("decode trigger: %w: %d (this build reads %d)", ErrUnknownVersion, env.V, TriggerEncodingVersion)
	}
	var t Trigger
	if err := json.Unmarshal(env.Trigger, &t); err != nil {
		return Trigger{}, fmt.Errorf("decode trigger: %w: %v", ErrInvalid, err)
	}
	if err := t.Validate(); err != nil {
		return Trigger{}, fmt.Errorf("decode trigger: %w", err)
	}
	return t, nil
}
