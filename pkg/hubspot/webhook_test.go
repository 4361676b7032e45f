package hubspot

import (
	"errors"
	"os"
	"reflect"
	"testing"
	"time"

	"github.com/crmsync/crmsync/pkg/crmsync"
)

func ref(o crmsync.ObjectType, id string) crmsync.RecordRef {
	return crmsync.RecordRef{Side: crmsync.HubSpot, Object: o, ID: id}
}

func TestParseDocsBatch(t *testing.T) {
	body, err := os.ReadFile("testdata/webhook-batch-docs-subscriptionType.json")
	if err != nil {
		t.Fatal(err)
	}
	evs, err := ParseEvents(body)
	if err != nil {
		t.Fatal(err)
	}
	if len(evs) != 2 {
		t.Fatalf("%d events, want 2", len(evs))
	}
	at := time.UnixMilli(1462216307945).UTC()
	want := []crmsync.Trigger{
		{Record: ref(crmsync.HSContact, "1246965"), Kind: crmsync.KindPropertyChanged,
			Properties: []string{"lifecyclestage"}, OccurredAt: at, DeliveryID: "3816279340",
			ChangeSource: "ACADEMY", AppID: "1160452"},
		{Record: ref(crmsync.HSContact, "1246978"), Kind: crmsync.KindCreated,
			OccurredAt: at, DeliveryID: "3816279480", ChangeSource: "IMPORT", AppID: "1160452"},
	}
	for i := range evs {
		got, err := evs[i].Trigger()
		if err != nil {
			t.Fatalf("event %d: %v", i, err)
		}
		if got.DedupeKey == "" {
			t.Errorf("event %d: empty dedupe key", i)
		}
		got.DedupeKey = ""
		if !reflect.DeepEqual(got, want[i]) {
			t.Errorf("event %d:\n got %+v\nwant %+v", i, got, want[i])
		}
	}
}

// TestEventForms covers every event form HubSpot sends.
func TestEventForms(t *testing.T) {
	at := time.UnixMilli(1700000000123).UTC()
	tests := []struct {
		name string
		json string
		want crmsync.Trigger // DedupeKey is checked separately
		err  error
	}{
		{"creation", `{"eventId":1,"subscriptionId":2,"portalId":3,"appId":4,"occurredAt":1700000000123,"subscriptionType":"contact.creation","attemptNumber":0,"objectId":123,"changeSource":"CRM","changeFlag":"NEW"}`,
			crmsync.Trigger{Record: ref(crmsync.HSContact, "123"), Kind: crmsync.KindCreated, OccurredAt: at, DeliveryID: "1", ChangeSource: "CRM", AppID: "4"}, nil},
		{"deletion company", `{"eventId":1,"portalId":3,"appId":4,"occurredAt":1700000000123,"subscriptionType":"company.deletion","objectId":77,"changeSource":"CRM_UI"}`,
			crmsync.Trigger{Record: ref(crmsync.HSCompany, "77"), Kind: crmsync.KindDeleted, OccurredAt: at, DeliveryID: "1", ChangeSource: "CRM_UI", AppID: "4"}, nil},
		{"property change deal with sourceId", `{"eventId":9,"portalId":3,"appId":4,"occurredAt":1700000000123,"subscriptionType":"deal.propertyChange","objectId":5,"propertyName":"amount","propertyValue":"100","changeSource":"INTEGRATION","sourceId":"1160452"}`,
			crmsync.Trigger{Record: ref(crmsync.HSDeal, "5"), Kind: crmsync.KindPropertyChanged, Properties: []string{"amount"}, OccurredAt: at, DeliveryID: "9", ChangeSource: "INTEGRATION/1160452", AppID: "4"}, nil},
		{"eventType key (older docs)", `{"eventId":1,"portalId":3,"occurredAt":1700000000123,"eventType":"contact.propertyChange","objectId":8,"propertyName":"email","propertyValue":"a@b.c"}`,
			crmsync.Trigger{Record: ref(crmsync.HSContact, "8"), Kind: crmsync.KindPropertyChanged, Properties: []string{"email"}, OccurredAt: at, DeliveryID: "1"}, nil},
		{"privacy deletion", `{"eventId":1,"portalId":3,"occurredAt":1700000000123,"subscriptionType":"contact.privacyDeletion","objectId":8,"changeSource":"GDPR"}`,
			crmsync.Trigger{Record: ref(crmsync.HSContact, "8"), Kind: crmsync.KindPrivacyDeleted, OccurredAt: at, DeliveryID: "1", ChangeSource: "GDPR"}, nil},
		{"restore", `{"eventId":1,"portalId":3,"occurredAt":1700000000123,"subscriptionType":"deal.restore","objectId":8,"changeSource":"CRM_UI"}`,
			crmsync.Trigger{Record: ref(crmsync.HSDeal, "8"), Kind: crmsync.KindRestored, OccurredAt: at, DeliveryID: "1", ChangeSource: "CRM_UI"}, nil},
		{"merge", `{"eventId":1,"portalId":3,"occurredAt":1700000000123,"subscriptionType":"contact.merge","objectId":100,"primaryObjectId":100,"mergedObjectIds":[101,102],"newObjectId":100,"numberOfPropertiesMoved":4,"changeSource":"CRM_UI"}`,
			crmsync.Trigger{Record: ref(crmsync.HSContact, "100"), Kind: crmsync.KindMerged, MergedIDs: []string{"101", "102"}, OccurredAt: at, DeliveryID: "1", ChangeSource: "CRM_UI"}, nil},
		{"merge into a new id", `{"eventId":1,"portalId":3,"occurredAt":1700000000123,"subscriptionType":"contact.merge","objectId":100,"primaryObjectId":100,"mergedObjectIds":[101],"newObjectId":200}`,
			crmsync.Trigger{Record: ref(crmsync.HSContact, "200"), Kind: crmsync.KindMerged, MergedIDs: []string{"100", "101"}, OccurredAt: at, DeliveryID: "1"}, nil},
		{"association added", `{"eventId":1,"portalId":3,"occurredAt":1700000000123,"subscriptionType":"contact.associationChange","associationType":"CONTACT_TO_COMPANY","fromObjectId":11,"toObjectId":22,"associationRemoved":false,"isPrimaryAssociation":true,"changeSource":"USER"}`,
			crmsync.Trigger{Record: ref(crmsync.HSContact, "11"), Kind: crmsync.KindAssociationChanged, OccurredAt: at, DeliveryID: "1", ChangeSource: "USER",
				Association: &crmsync.AssociationChange{To: ref(crmsync.HSCompany, "22"), Type: "CONTACT_TO_COMPANY"}}, nil},
		{"association removed deal to contact", `{"eventId":1,"portalId":3,"occurredAt":1700000000123,"subscriptionType":"deal.associationChange","associationType":"DEAL_TO_CONTACT","fromObjectId":11,"toObjectId":22,"associationRemoved":true}`,
			crmsync.Trigger{Record: ref(crmsync.HSDeal, "11"), Kind: crmsync.KindAssociationChanged, OccurredAt: at, DeliveryID: "1",
				Association: &crmsync.AssociationChange{To: ref(crmsync.HSContact, "22"), Type: "DEAL_TO_CONTACT", Removed: true}}, nil},
		{"generic object creation of a call", `{"eventId":1,"portalId":3,"occurredAt":1700000000123,"subscriptionType":"object.creation","objectTypeId":"0-48","objectId":31,"changeSource":"CRM_UI"}`,
			crmsync.Trigger{Record: ref(crmsync.HSCall, "31"), Kind: crmsync.KindCreated, OccurredAt: at, DeliveryID: "1", ChangeSource: "CRM_UI"}, nil},
		{"generic property change of a note", `{"eventId":1,"portalId":3,"occurredAt":1700000000123,"subscriptionType":"object.propertyChange","objectTypeId":"0-46","objectId":31,"propertyName":"hs_note_body"}`,
			crmsync.Trigger{Record: ref(crmsync.HSNote, "31"), Kind: crmsync.KindPropertyChanged, Properties: []string{"hs_note_body"}, OccurredAt: at, DeliveryID: "1"}, nil},
		{"generic meeting, task, email, contact", `{"eventId":1,"portalId":3,"occurredAt":1700000000123,"subscriptionType":"object.deletion","objectTypeId":"0-47","objectId":31}`,
			crmsync.Trigger{Record: ref(crmsync.HSMeeting, "31"), Kind: crmsync.KindDeleted, OccurredAt: at, DeliveryID: "1"}, nil},
		{"generic task", `{"eventId":1,"portalId":3,"occurredAt":1700000000123,"subscriptionType":"object.restore","objectTypeId":"0-27","objectId":31}`,
			crmsync.Trigger{Record: ref(crmsync.HSTask, "31"), Kind: crmsync.KindRestored, OccurredAt: at, DeliveryID: "1"}, nil},
		{"generic email", `{"eventId":1,"portalId":3,"occurredAt":1700000000123,"subscriptionType":"object.creation","objectTypeId":"0-49","objectId":31}`,
			crmsync.Trigger{Record: ref(crmsync.HSSalesEmail, "31"), Kind: crmsync.KindCreated, OccurredAt: at, DeliveryID: "1"}, nil},
		{"generic merge of contacts", `{"eventId":1,"portalId":3,"occurredAt":1700000000123,"subscriptionType":"object.merge","objectTypeId":"0-1","objectId":5,"primaryObjectId":5,"mergedObjectIds":[6]}`,
			crmsync.Trigger{Record: ref(crmsync.HSContact, "5"), Kind: crmsync.KindMerged, MergedIDs: []string{"6"}, OccurredAt: at, DeliveryID: "1"}, nil},
		{"generic association change", `{"eventId":1,"portalId":3,"occurredAt":1700000000123,"subscriptionType":"object.associationChange","fromObjectTypeId":"0-3","toObjectTypeId":"0-2","fromObjectId":5,"toObjectId":6,"associationTypeId":5,"associationCategory":"HUBSPOT_DEFINED","associationRemoved":false}`,
			crmsync.Trigger{Record: ref(crmsync.HSDeal, "5"), Kind: crmsync.KindAssociationChanged, OccurredAt: at, DeliveryID: "1",
				Association: &crmsync.AssociationChange{To: ref(crmsync.HSCompany, "6"), Type: "5"}}, nil},
		{"ids above 2^31 and 2^53, unknown keys", `{"eventId":18446744073709551,"portalId":3,"occurredAt":1700000000123,"subscriptionType":"contact.creation","objectId":9007199254740993,"isSensitive":false,"newKey":{"nested":[1,2]}}`,
			crmsync.Trigger{Record: ref(crmsync.HSContact, "9007199254740993"), Kind: crmsync.KindCreated, OccurredAt: at, DeliveryID: "18446744073709551"}, nil},
		{"ids as strings", `{"eventId":"42","portalId":"3","occurredAt":"1700000000123","subscriptionType":"contact.creation","objectId":"2147483648"}`,
			crmsync.Trigger{Record: ref(crmsync.HSContact, "2147483648"), Kind: crmsync.KindCreated, OccurredAt: at, DeliveryID: "42"}, nil},
		{"ticket is not synced", `{"eventId":1,"occurredAt":1700000000123,"subscriptionType":"ticket.creation","objectId":1}`, crmsync.Trigger{}, ErrUnsupportedEvent},
		{"generic ticket is not synced", `{"eventId":1,"occurredAt":1700000000123,"subscriptionType":"object.creation","objectTypeId":"0-5","objectId":1}`, crmsync.Trigger{}, ErrUnsupportedEvent},
		{"conversation event", `{"eventId":1,"occurredAt":1700000000123,"subscriptionType":"conversation.newMessage","objectId":1,"messageId":"x"}`, crmsync.Trigger{}, ErrUnsupportedEvent},
		{"no type", `{"eventId":1,"occurredAt":1700000000123,"objectId":1}`, crmsync.Trigger{}, ErrUnsupportedEvent},
		{"association to a ticket", `{"eventId":1,"occurredAt":1700000000123,"subscriptionType":"contact.associationChange","associationType":"CONTACT_TO_TICKET","fromObjectId":1,"toObjectId":2}`, crmsync.Trigger{}, ErrUnsupportedEvent},
		{"no object id", `{"eventId":1,"occurredAt":1700000000123,"subscriptionType":"contact.creation"}`, crmsync.Trigger{}, ErrInvalidEvent},
		{"non-numeric object id", `{"eventId":1,"occurredAt":1700000000123,"subscriptionType":"contact.creation","objectId":"abc"}`, crmsync.Trigger{}, ErrInvalidEvent},
		{"no occurredAt", `{"eventId":1,"subscriptionType":"contact.creation","objectId":1}`, crmsync.Trigger{}, ErrInvalidEvent},
		{"merge without merged ids", `{"eventId":1,"occurredAt":1700000000123,"subscriptionType":"contact.merge","objectId":1,"primaryObjectId":1}`, crmsync.Trigger{}, ErrInvalidEvent},
		{"association without toObjectId", `{"eventId":1,"occurredAt":1700000000123,"subscriptionType":"contact.associationChange","associationType":"CONTACT_TO_COMPANY","fromObjectId":1}`, crmsync.Trigger{}, ErrInvalidEvent},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			evs, err := ParseEvents([]byte("[" + tt.json + "]"))
			if err != nil {
				t.Fatalf("ParseEvents: %v", err)
			}
			got, err := evs[0].Trigger()
			if tt.err != nil {
				if !errors.Is(err, tt.err) {
					t.Fatalf("Trigger error = %v, want %v", err, tt.err)
				}
				return
			}
			if err != nil {
				t.Fatalf("Trigger: %v", err)
			}
			if err := got.Validate(); err != nil {
				t.Fatalf("trigger does not validate: %v", err)
			}
			if got.DedupeKey != evs[0].DedupeKey() || len(got.DedupeKey) != 64 {
				t.Errorf("dedupe key %q", got.DedupeKey)
			}
			got.DedupeKey = ""
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("\n got %+v\nwant %+v", got, tt.want)
			}
		})
	}
}

func TestParseEventsMalformed(t *testing.T) {
	for _, body := range []string{``, `   `, `{}`, `{"objectId":1}`, `[`, `[{"objectId":1},]`, `[1,2]`, `["x"]`, `null`, `[{"objectId":{"a":1}}]`, `[{"mergedObjectIds":"1"}]`} {
		if _, err := ParseEvents([]byte(body)); !errors.Is(err, ErrMalformedDelivery) {
			t.Errorf("ParseEvents(%q) = %v, want ErrMalformedDelivery", body, err)
		}
	}
	evs, err := ParseEvents([]byte(" [] \n"))
	if err != nil || len(evs) != 0 {
		t.Errorf("empty array: %v, %d events", err, len(evs))
	}
}

func TestDedupeKey(t *testing.T) {
	parse := func(s string) Event {
		t.Helper()
		evs, err := ParseEvents([]byte("[" + s + "]"))
		if err != nil {
			t.Fatal(err)
		}
		return evs[0]
	}
	base := parse(`{"eventId":7,"portalId":3,"occurredAt":1700000000123,"subscriptionType":"contact.propertyChange","objectId":5,"propertyName":"email","propertyValue":"a@b.c","attemptNumber":0,"changeSource":"CRM"}`)
	retry := parse(`{"attemptNumber":3,"eventId":7,"portalId":3,"occurredAt":1700000000123,"subscriptionType":"contact.propertyChange","objectId":5,"propertyName":"email","propertyValue":"a@b.c","changeSource":"CRM"}`)
	if base.DedupeKey() != retry.DedupeKey() {
		t.Error("a retry (attemptNumber 3, keys reordered) has another dedupe key")
	}
	for _, other := range []string{
		`{"eventId":8,"portalId":3,"occurredAt":1700000000123,"subscriptionType":"contact.propertyChange","objectId":5,"propertyName":"email"}`,
		`{"eventId":7,"portalId":4,"occurredAt":1700000000123,"subscriptionType":"contact.propertyChange","objectId":5,"propertyName":"email"}`,
		`{"eventId":7,"portalId":3,"occurredAt":1700000000124,"subscriptionType":"contact.propertyChange","objectId":5,"propertyName":"email"}`,
		`{"eventId":7,"portalId":3,"occurredAt":1700000000123,"subscriptionType":"contact.propertyChange","objectId":6,"propertyName":"email"}`,
		`{"eventId":7,"portalId":3,"occurredAt":1700000000123,"subscriptionType":"contact.propertyChange","objectId":5,"propertyName":"phone"}`,
		`{"eventId":7,"portalId":3,"occurredAt":1700000000123,"subscriptionType":"contact.creation","objectId":5}`,
	} {
		e := parse(other)
		if e.DedupeKey() == base.DedupeKey() {
			t.Errorf("%s has the same dedupe key as the base event", other)
		}
	}
}

func TestObjectTypeID(t *testing.T) {
	for id, o := range objectTypeIDs {
		if got := ObjectTypeID(o); got != id {
			t.Errorf("ObjectTypeID(%s) = %q, want %q", o, got, id)
		}
	}
	if got := ObjectTypeID(crmsync.SFLead); got != "" {
		t.Errorf("ObjectTypeID(Lead) = %q", got)
	}
}
