package crmsync

import (
	"errors"
	"reflect"
	"strings"
	"testing"
	"time"
)

func sampleTrigger() Trigger {
	return Trigger{
		Record:       RecordRef{Side: HubSpot, Object: HSContact, ID: "3000000001"},
		Kind:         KindPropertyChanged,
		Properties:   []string{"email", "firstname"},
		OccurredAt:   time.Date(2026, 11, 23, 10, 0, 0, 123000000, time.UTC),
		DeliveryID:   "1001",
		DedupeKey:    DedupeKeyOf("hubspot", "1001"),
		Attempt:      2,
		ChangeSource: "INTEGRATION",
		AppID:        "54321",
		MergedIDs:    []string{"7", "8"},
	}
}

func TestTriggerRoundTrip(t *testing.T) {
	in := sampleTrigger()
	in.Kind = KindAssociationChanged
	in.Association = &AssociationChange{To: RecordRef{Side: HubSpot, Object: HSCompany, ID: "9"}, Type: "CONTACT_TO_COMPANY", Removed: true}
	b, err := EncodeTrigger(in)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(string(b), `{"v":1,`) {
		t.Errorf("encoding does not lead with its version: %s", b)
	}
	out, err := DecodeTrigger(b)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(in, out) {
		t.Errorf("round trip changed the trigger:\n in %+v\nout %+v", in, out)
	}
}

func TestDecodeTriggerErrors(t *testing.T) {
	tests := []struct {
		name string
		body string
		want error
	}{
		{"unknown version", `{"v":2,"trigger":{}}`, ErrUnknownVersion},
		{"missing version", `{"trigger":{}}`, ErrUnknownVersion},
		{"not json", `{"v":1,`, ErrInvalid},
		{"empty", ``, ErrInvalid},
		{"trigger not an object", `{"v":1,"trigger":[1]}`, ErrInvalid},
		{"invalid trigger", `{"v":1,"trigger":{"record":{"side":"hubspot","object":"Lead","id":"1"}}}`, ErrInvalid},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := DecodeTrigger([]byte(tt.body))
			if !errors.Is(err, tt.want) {
				t.Fatalf("DecodeTrigger(%q) = %v, want %v", tt.body, err, tt.want)
			}
		})
	}
}

func TestTriggerValidate(t *testing.T) {
	ok := sampleTrigger()
	if err := ok.Validate(); err != nil {
		t.Fatalf("valid trigger: %v", err)
	}
	mutate := map[string]func(*Trigger){
		"unknown side":         func(t *Trigger) { t.Record.Side = "pipedrive" },
		"object of other side": func(t *Trigger) { t.Record.Object = SFLead },
		"empty id":             func(t *Trigger) { t.Record.ID = "" },
		"unknown kind":         func(t *Trigger) { t.Kind = "renamed" },
		"no dedupe key":        func(t *Trigger) { t.DedupeKey = "" },
		"no time":              func(t *Trigger) { t.OccurredAt = time.Time{} },
		"association w/o data": func(t *Trigger) { t.Kind = KindAssociationChanged },
	}
	for name, m := range mutate {
		tr := sampleTrigger()
		m(&tr)
		if err := tr.Validate(); !errors.Is(err, ErrInvalid) {
			t.Errorf("%s: Validate = %v, want ErrInvalid", name, err)
		}
	}
}

func TestDedupeKeyOf(t *testing.T) {
	a := DedupeKeyOf("hubspot", "1", "2")
	if a != DedupeKeyOf("hubspot", "1", "2") {
		t.Error("not deterministic")
	}
	if a == DedupeKeyOf("hubspot", "12") || a == DedupeKeyOf("hubspot1", "2") {
		t.Error("parts are not separated: different parts gave the same key")
	}
	if len(a) != 64 {
		t.Errorf("len = %d, want 64 hex characters", len(a))
	}
}

func TestGroupKeyIsRecordKey(t *testing.T) {
	tr := sampleTrigger()
	if got, want := tr.GroupKey(), "hubspot/contact/3000000001"; got != want {
		t.Errorf("GroupKey = %q, want %q", got, want)
	}
}

func FuzzDecodeTrigger(f *testing.F) {
	b, _ := EncodeTrigger(sampleTrigger())
	f.Add(b)
	f.Add([]byte(`{"v":1,"trigger":null}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		tr, err := DecodeTrigger(data)
		if err != nil {
			return
		}
		if err := tr.Validate(); err != nil {
			t.Fatalf("decoded an invalid trigger: %v", err)
		}
	})
}
