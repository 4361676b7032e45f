package hubspot

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/crmsync/crmsync/pkg/crmsync"
)

// Errors of webhook parsing.
var (
	// ErrMalformedDelivery: the body is not a JSON array of event objects.
	ErrMalformedDelivery = errors.New("malformed webhook delivery")
	// ErrUnsupportedEvent: a well-formed event crmsync does not sync (a
	// ticket, a conversation, an unknown subscription type). Skipped.
	ErrUnsupportedEvent = errors.New("unsupported webhook event")
	// ErrInvalidEvent: an event of a supported type lacks a field it needs
	// (an object id, the time). Skipped; the sweep finds what it missed.
	ErrInvalidEvent = errors.New("invalid webhook event")
)

// Event is one webhook event as HubSpot sends it, in any of its forms:
// legacy "contact.creation" subscription types, generic "object.*" types
// with objectTypeId, and deliveries that name the type "eventType" instead
// of "subscriptionType". Ids are kept as decimal strings, so ids above 2^31
// (and above 2^53) survive; numbers and strings are both accepted for them.
// Unknown keys are ignored.
type Event struct {
	EventID          string
	SubscriptionID   string
	PortalID         string
	AppID            string
	OccurredAt       int64 // milliseconds since the epoch
	SubscriptionType string
	AttemptNumber    int
	ObjectID         string
	ObjectTypeID     string
	ChangeSource     string
	ChangeFlag       string
	SourceID         string
	PropertyName     string
	PropertyValue    string

	// Merge events.
	PrimaryObjectID         string
	MergedObjectIDs         []string
	NewObjectID             string
	NumberOfPropertiesMoved int

	// Association-change events.
	FromObjectID         string
	ToObjectID           string
	FromObjectTypeID     string
	ToObjectTypeID       string
	AssociationType      string
	AssociationTypeID    string
	AssociationCategory  string
	AssociationRemoved   bool
	IsPrimaryAssociation bool
}

// flexString decodes a JSON string, number, bool or null into its text
// (numbers keep their exact decimal digits).
type flexString string

func (f *flexString) UnmarshalJSON(b []byte) error {
	switch {
	case len(b) == 0, string(b) == "null":
		*f = ""
	case b[0] == '"':
		// Fast path: ids and type names carry no escapes.
		if len(b) >= 2 && b[len(b)-1] == '"' && bytes.IndexByte(b[1:len(b)-1], '\\') < 0 && bytes.IndexByte(b[1:len(b)-1], '"') < 0 {
			*f = flexString(b[1 : len(b)-1])
			return nil
		}
		var s string
		if err := json.Unmarshal(b, &s); err != nil {
			return err
		}
		*f = flexString(s)
	case b[0] == '{' || b[0] == '[':
		return fmt.Errorf("want a string or number, got %s", b[:1])
	default:
		*f = flexString(b)
	}
	return nil
}

type flexInt int64

func (f *flexInt) UnmarshalJSON(b []byte) error {
	var s flexString
	if err := s.UnmarshalJSON(b); err != nil {
		return err
	}
	if s == "" {
		*f = 0
		return nil
	}
	n, err := strconv.ParseInt(string(s), 10, 64)
	if err != nil {
		fl, ferr := strconv.ParseFloat(string(s), 64)
		if ferr != nil {
			return fmt.Errorf("want an integer, got %q", s)
		}
		n = int64(fl)
	}
	*f = flexInt(n)
	return nil
}

type flexBool bool

func (f *flexBool) UnmarshalJSON(b []byte) error {
	var s flexString
	if err := s.UnmarshalJSON(b); err != nil {
		return err
	}
	*f = flexBool(s == "true")
	return nil
}

type wireEvent struct {
	EventID                 flexString   `json:"eventId"`
	SubscriptionID          flexString   `json:"subscriptionId"`
	PortalID                flexString   `json:"portalId"`
	AppID                   flexString   `json:"appId"`
	OccurredAt              flexInt      `json:"occurredAt"`
	SubscriptionType        string       `json:"subscriptionType"`
	EventType               string       `json:"eventType"`
	AttemptNumber           flexInt      `json:"attemptNumber"`
	ObjectID                flexString   `json:"objectId"`
	ObjectTypeID            flexString   `json:"objectTypeId"`
	ChangeSource            flexString   `json:"changeSource"`
	ChangeFlag              flexString   `json:"changeFlag"`
	SourceID                flexString   `json:"sourceId"`
	PropertyName            flexString   `json:"propertyName"`
	PropertyValue           flexString   `json:"propertyValue"`
	PrimaryObjectID         flexString   `json:"primaryObjectId"`
	MergedObjectIDs         []flexString `json:"mergedObjectIds"`
	NewObjectID             flexString   `json:"newObjectId"`
	NumberOfPropertiesMoved flexInt      `json:"numberOfPropertiesMoved"`
	FromObjectID            flexString   `json:"fromObjectId"`
	ToObjectID              flexString   `json:"toObjectId"`
	FromObjectTypeID        flexString   `json:"fromObjectTypeId"`
	ToObjectTypeID          flexString   `json:"toObjectTypeId"`
	AssociationType         flexString   `json:"associationType"`
	AssociationTypeID       flexString   `json:"associationTypeId"`
	AssociationCategory     flexString   `json:"associationCategory"`
	AssociationRemoved      flexBool     `json:"associationRemoved"`
	IsPrimaryAssociation    flexBool     `json:"isPrimaryAssociation"`
}

// UnmarshalJSON decodes one event, accepting either type key.
func (e *Event) UnmarshalJSON(b []byte) error {
	var w wireEvent
	if err := json.Unmarshal(b, &w); err != nil {
		return err
	}
	w.into(e)
	return nil
}

func (w *wireEvent) into(e *Event) {
	st := w.SubscriptionType
	if st == "" {
		st = w.EventType
	}
	*e = Event{
		EventID: string(w.EventID), SubscriptionID: string(w.SubscriptionID),
		PortalID: string(w.PortalID), AppID: string(w.AppID),
		OccurredAt: int64(w.OccurredAt), SubscriptionType: st,
		AttemptNumber: int(w.AttemptNumber), ObjectID: string(w.ObjectID),
		ObjectTypeID: string(w.ObjectTypeID), ChangeSource: string(w.ChangeSource),
		ChangeFlag: string(w.ChangeFlag), SourceID: string(w.SourceID),
		PropertyName: string(w.PropertyName), PropertyValue: string(w.PropertyValue),
		PrimaryObjectID: string(w.PrimaryObjectID), NewObjectID: string(w.NewObjectID),
		NumberOfPropertiesMoved: int(w.NumberOfPropertiesMoved),
		FromObjectID:            string(w.FromObjectID), ToObjectID: string(w.ToObjectID),
		FromObjectTypeID: string(w.FromObjectTypeID), ToObjectTypeID: string(w.ToObjectTypeID),
		AssociationType: string(w.AssociationType), AssociationTypeID: string(w.AssociationTypeID),
		AssociationCategory: string(w.AssociationCategory),
		AssociationRemoved:  bool(w.AssociationRemoved), IsPrimaryAssociation: bool(w.IsPrimaryAssociation),
	}
	if len(w.MergedObjectIDs) > 0 {
		e.MergedObjectIDs = make([]string, len(w.MergedObjectIDs))
		for i, id := range w.MergedObjectIDs {
			e.MergedObjectIDs[i] = string(id)
		}
	}
}

// ParseEvents decodes a webhook delivery: a JSON array of event objects.
// Anything else is ErrMalformedDelivery.
func ParseEvents(body []byte) ([]Event, error) {
	trimmed := bytes.TrimSpace(body)
	if len(trimmed) == 0 || trimmed[0] != '[' {
		return nil, fmt.Errorf("hubspot: parse webhook: %w: not a JSON array", ErrMalformedDelivery)
	}
	// Sized up front (one event per "occurredAt", at most HubSpot's 100
	// per delivery as a hint): growing a slice of events is the biggest
	// cost of parsing.
	wire := make([]wireEvent, 0, min(bytes.Count(trimmed, []byte(`"occurredAt"`))+1, 128))
	if err := json.Unmarshal(trimmed, &wire); err != nil {
		return nil, fmt.Errorf("hubspot: parse webhook: %w: %v", ErrMalformedDelivery, err)
	}
	events := make([]Event, len(wire))
	for i := range wire {
		wire[i].into(&events[i])
	}
	return events, nil
}

// objectTypeIDs maps HubSpot's object type ids (as in objectTypeId) to the
// crmsync object types.
var objectTypeIDs = map[string]crmsync.ObjectType{
	"0-1": crmsync.HSContact, "0-2": crmsync.HSCompany, "0-3": crmsync.HSDeal,
	"0-27": crmsync.HSTask, "0-46": crmsync.HSNote, "0-47": crmsync.HSMeeting,
	"0-48": crmsync.HSCall, "0-49": crmsync.HSSalesEmail,
}

// ObjectTypeID returns HubSpot's object type id of o ("0-1" for contacts),
// or "" when o has none.
func ObjectTypeID(o crmsync.ObjectType) string {
	for id, t := range objectTypeIDs {
		if t == o {
			return id
		}
	}
	return ""
}

// legacyObjects maps the prefix of legacy subscription types and the
// upper-case names in associationType to crmsync object types.
var legacyObjects = map[string]crmsync.ObjectType{
	"contact": crmsync.HSContact, "company": crmsync.HSCompany, "deal": crmsync.HSDeal,
	"CONTACT": crmsync.HSContact, "COMPANY": crmsync.HSCompany, "DEAL": crmsync.HSDeal,
	"CALL": crmsync.HSCall, "EMAIL": crmsync.HSSalesEmail, "MEETING": crmsync.HSMeeting,
	"NOTE": crmsync.HSNote, "TASK": crmsync.HSTask,
}

var actionKinds = map[string]crmsync.TriggerKind{
	"creation":          crmsync.KindCreated,
	"deletion":          crmsync.KindDeleted,
	"propertyChange":    crmsync.KindPropertyChanged,
	"merge":             crmsync.KindMerged,
	"associationChange": crmsync.KindAssociationChanged,
	"restore":           crmsync.KindRestored,
	"privacyDeletion":   crmsync.KindPrivacyDeleted,
}

// DedupeKey identifies the change the event reports: the same change
// delivered again (attemptNumber > 0) or in another order has the same key.
// It is built from the fields that identify a change — portal, event id,
// subscription type, objects, property, association and occurred-at —
// never from attemptNumber or the values the change carried.
func (e *Event) DedupeKey() string {
	parts := []string{string(crmsync.HubSpot), e.PortalID, e.EventID, e.SubscriptionType,
		strconv.FormatInt(e.OccurredAt, 10), e.ObjectTypeID, e.ObjectID, e.PropertyName,
		e.PrimaryObjectID, e.NewObjectID, strings.Join(e.MergedObjectIDs, ","),
		e.FromObjectID, e.ToObjectID, e.AssociationType, e.AssociationTypeID,
		strconv.FormatBool(e.AssociationRemoved)}
	return crmsync.DedupeKeyOf(parts...)
}

// Trigger converts the event to a crmsync.Trigger. The error wraps
// ErrUnsupportedEvent for events crmsync does not sync and ErrInvalidEvent
// for events missing what a trigger needs.
//
// ChangeSource is HubSpot's changeSource, followed by "/" and sourceId when
// HubSpot sent one (e.g. "INTEGRATION/1160452"); AppID is appId.
func (e *Event) Trigger() (crmsync.Trigger, error) {
	prefix, action, ok := strings.Cut(e.SubscriptionType, ".")
	if !ok {
		return crmsync.Trigger{}, fmt.Errorf("hubspot: event %s: %w: subscription type %q", e.EventID, ErrUnsupportedEvent, e.SubscriptionType)
	}
	kind, ok := actionKinds[action]
	if !ok {
		return crmsync.Trigger{}, fmt.Errorf("hubspot: event %s: %w: subscription type %q", e.EventID, ErrUnsupportedEvent, e.SubscriptionType)
	}
	var object crmsync.ObjectType
	if prefix == "object" {
		typeID := e.ObjectTypeID
		if kind == crmsync.KindAssociationChanged && e.FromObjectTypeID != "" {
			typeID = e.FromObjectTypeID
		}
		object, ok = objectTypeIDs[typeID]
	} else {
		object, ok = legacyObjects[prefix]
	}
	if !ok {
		return crmsync.Trigger{}, fmt.Errorf("hubspot: event %s: %w: object of %q (objectTypeId %q)", e.EventID, ErrUnsupportedEvent, e.SubscriptionType, e.ObjectTypeID)
	}
	if e.OccurredAt <= 0 {
		return crmsync.Trigger{}, fmt.Errorf("hubspot: event %s: %w: no occurredAt", e.EventID, ErrInvalidEvent)
	}
	t := crmsync.Trigger{
		Record:       crmsync.RecordRef{Side: crmsync.HubSpot, Object: object, ID: e.ObjectID},
		Kind:         kind,
		OccurredAt:   time.UnixMilli(e.OccurredAt).UTC(),
		DeliveryID:   e.EventID,
		DedupeKey:    e.DedupeKey(),
		ChangeSource: e.ChangeSource,
		AppID:        e.AppID,
	}
	if e.SourceID != "" {
		t.ChangeSource += "/" + e.SourceID
	}
	switch kind {
	case crmsync.KindPropertyChanged:
		if e.PropertyName != "" {
			t.Properties = []string{e.PropertyName}
		}
	case crmsync.KindMerged:
		if err := e.mergeInto(&t); err != nil {
			return crmsync.Trigger{}, err
		}
	case crmsync.KindAssociationChanged:
		if err := e.associationInto(&t, prefix); err != nil {
			return crmsync.Trigger{}, err
		}
	}
	if !validID(t.Record.ID) {
		return crmsync.Trigger{}, fmt.Errorf("hubspot: event %s: %w: object id %q", e.EventID, ErrInvalidEvent, t.Record.ID)
	}
	if err := t.Validate(); err != nil {
		return crmsync.Trigger{}, fmt.Errorf("hubspot: event %s: %w: %v", e.EventID, ErrInvalidEvent, err)
	}
	return t, nil
}

// mergeInto fills in a merge: the record is the winner (newObjectId when
// HubSpot sent one, else primaryObjectId, else objectId); MergedIDs are
// every other id that took part.
func (e *Event) mergeInto(t *crmsync.Trigger) error {
	winner := firstNonZero(e.NewObjectID, e.PrimaryObjectID, e.ObjectID)
	t.Record.ID = winner
	seen := map[string]bool{winner: true}
	for _, id := range append([]string{e.PrimaryObjectID}, e.MergedObjectIDs...) {
		if validID(id) && !seen[id] {
			seen[id] = true
			t.MergedIDs = append(t.MergedIDs, id)
		}
	}
	if len(t.MergedIDs) == 0 {
		return fmt.Errorf("hubspot: event %s: %w: merge without merged ids", e.EventID, ErrInvalidEvent)
	}
	return nil
}

// associationInto fills in an association change. The record is the "from"
// side; the "to" side's type comes from toObjectTypeId (generic events) or
// from associationType ("CONTACT_TO_COMPANY").
func (e *Event) associationInto(t *crmsync.Trigger, prefix string) error {
	t.Record.ID = e.FromObjectID
	var to crmsync.ObjectType
	var ok bool
	if e.ToObjectTypeID != "" {
		to, ok = objectTypeIDs[e.ToObjectTypeID]
	} else if from, rest, cut := strings.Cut(e.AssociationType, "_TO_"); cut {
		to, ok = legacyObjects[rest]
		if fromType, known := legacyObjects[from]; known && prefix != "object" {
			// associationType names the pair in from-to order; trust it
			// over the subscription's prefix for the from side's type.
			t.Record.Object = fromType
		}
	}
	if !ok {
		return fmt.Errorf("hubspot: event %s: %w: association to %q (%q)", e.EventID, ErrUnsupportedEvent, e.AssociationType, e.ToObjectTypeID)
	}
	if !validID(e.ToObjectID) {
		return fmt.Errorf("hubspot: event %s: %w: association without toObjectId", e.EventID, ErrInvalidEvent)
	}
	typ := e.AssociationType
	if typ == "" {
		typ = e.AssociationTypeID
	}
	t.Association = &crmsync.AssociationChange{
		To:      crmsync.RecordRef{Side: crmsync.HubSpot, Object: to, ID: e.ToObjectID},
		Type:    typ,
		Removed: e.AssociationRemoved,
	}
	return nil
}

// validID reports whether id is a positive decimal integer (HubSpot ids).
func validID(id string) bool {
	if id == "" || id == "0" {
		return false
	}
	for i := 0; i < len(id); i++ {
		if id[i] < '0' || id[i] > '9' {
			return false
		}
	}
	return true
}

func firstNonZero(ids ...string) string {
	for _, id := range ids {
		if validID(id) {
			return id
		}
	}
	return ""
}
