package settingsfile

import (
	"errors"
	"reflect"
	"strings"
	"testing"

	"github.com/crmsync/crmsync/pkg/crmsync"
	"github.com/crmsync/crmsync/pkg/mapping"
)

func defaults() crmsync.Settings {
	s := crmsync.DefaultSettings()
	s.Mappings = mapping.DefaultMappings(s.DefaultRule)
	return s
}

func TestRoundTrip(t *testing.T) {
	in := defaults()
	in.Version = 3
	in.InclusionListID = "77"
	b, err := Encode(in)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(b), "interval: 20m0s") {
		t.Errorf("durations not written as Go durations:\n%s", b)
	}
	out, err := Decode(b)
	if err != nil {
		t.Fatalf("decode own export: %v", err)
	}
	if !reflect.DeepEqual(in, out) {
		t.Errorf("round trip changed the settings:\n in %+v\nout %+v", in, out)
	}
}

func TestDecodeReportsLines(t *testing.T) {
	tests := []struct {
		name string
		file string
		want []string
	}{
		{"syntax", "objects:\n  contacts: true\n mappings: [\n", []string{"line 2: did not find expected key"}},
		{"unknown key", "objects:\n  contacts: true\n  widgets: true\n", []string{`line 3: objects: unknown key "widgets" (known here: contacts, companies, deals)`}},
		{"misspelt key", "objectz:\n  contacts: true\n", []string{`line 1: unknown key "objectz" (did you mean "objects"?)`}},
		{"wrong type", "objects:\n  contacts: maybe\n", []string{`line 2: objects.contacts: want true or false, got "maybe"`}},
		{"duration", "retry:\n  interval: 20 minutes\n", []string{`line 2: retry.interval: want a duration such as 20m, 1h30m or 24h (units ns, us, ms, s, m, h), got "20 minutes"`}},
		{"number", "retry:\n  max_attempts: ten\n", []string{`line 2: retry.max_attempts: want a whole number, got "ten"`}},
		{"list for one value", "deletes: [mirror]\n", []string{`line 1: deletes: want one value, got a list`}},
		{"one value for a list", "mappings: 5\n", []string{`line 1: mappings: want a list (lines starting with "- "), got "5"`}},
		{"value for keys", "objects: all\n", []string{`line 1: objects: want keys (contacts, companies, deals), got "all"`}},
		{"in a list", "mappings:\n  - hubspot_object: contact\n    rulez: two_way\n", []string{`line 3: mappings[0]: unknown key "rulez" (did you mean "rule"?)`}},
		{"not keys", "- a\n- b\n", []string{`line 1: want the settings' keys`}},
		{"empty", "", []string{"empty"}},
		{"validation", strings.Join([]string{
			"default_rule: two_way",
			"new_contacts_as: person",
			"leads_to_hubspot: create_or_update",
			"contacts_to_hubspot: create_or_update",
			"deletes: mark_only",
			"budget: {pause_low_priority_percent: 80, resume_low_priority_percent: 70, stop_percent: 95}",
			"retry: {interval: 20m, max_attempts: 10, then_every: 24h}",
			"mappings:",
			"  - hubspot_object: contact",
			"    salesforce_object: Lead",
			"    hubspot_property: email",
			"    salesforce_field: Email",
			"    rule: sometimes",
		}, "\n"), []string{"line 2: new_contacts_as: must be", "line 13: mappings[0].rule: unknown rule \"sometimes\""}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Decode([]byte(tt.file))
			var fe *Error
			if !errors.As(err, &fe) || !errors.Is(err, crmsync.ErrInvalid) {
				t.Fatalf("Decode = %v, want *Error wrapping ErrInvalid", err)
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error lacks %q:\n%v", w, err)
				}
			}
			// The file's words, never the parser's Go types.
			for _, goWord := range []string{"unmarshal", "!!", "crmsync.", "time.Duration", " int", "bool", "struct"} {
				if strings.Contains(err.Error(), goWord) {
					t.Errorf("error speaks Go (%q):\n%v", goWord, err)
				}
			}
		})
	}
}

func TestLineOfMissingKeyFallsBackToParent(t *testing.T) {
	file := "mappings:\n  - hubspot_object: contact\n    salesforce_object: Lead\n    rule: two_way\n"
	_, err := Decode([]byte("default_rule: two_way\nnew_contacts_as: lead\nleads_to_hubspot: do_nothing\ncontacts_to_hubspot: do_nothing\ndeletes: mark_only\nbudget: {pause_low_priority_percent: 80, resume_low_priority_percent: 70, stop_percent: 95}\nretry: {interval: 20m, max_attempts: 1, then_every: 1h}\n" + file))
	if err == nil || !strings.Contains(err.Error(), "line 9: mappings[0].hubspot_property: missing") {
		t.Fatalf("missing property not placed at its mapping's line: %v", err)
	}
}
