package mapping

import (
	"fmt"
	"testing"
	"time"

	"github.com/crmsync/crmsync/pkg/crmsync"
)

var (
	t0      = time.Date(2026, 11, 1, 12, 0, 0, 0, time.UTC)
	earlier = t0.Add(-time.Minute)
	later   = t0.Add(time.Minute)
)

func mappingFor(rule crmsync.FieldRule) crmsync.FieldMapping {
	return crmsync.FieldMapping{HubSpotObject: crmsync.HSContact, SalesforceObject: crmsync.SFLead,
		HubSpotProperty: "phone", SalesforceField: "Phone", Rule: rule}
}

// pair builds an input for one field: HubSpot value, Salesforce value,
// shadow ("-" = no shadow), and which side was modified later.
func pair(rule crmsync.FieldRule, hv, sv, shadow string, hsLater bool) Input {
	m := mappingFor(rule)
	hsT, sfT := earlier, later
	if hsLater {
		hsT, sfT = later, earlier
	}
	in := Input{
		Mappings:   []crmsync.FieldMapping{m},
		HubSpot:    crmsync.Record{Properties: map[string]string{"phone": hv}, LastModified: hsT},
		Salesforce: crmsync.Record{Properties: map[string]string{"Phone": sv}, LastModified: sfT},
		Now:        t0,
	}
	if shadow != "-" {
		in.Shadow = map[string]crmsync.FieldShadow{m.Key(): crmsync.NewFieldShadow(shadow, earlier)}
	}
	return in
}

func TestMergeRules(t *testing.T) {
	const (
		P = crmsync.RulePreferSalesforce
		A = crmsync.RuleAlwaysSalesforce
		W = crmsync.RuleTwoWay
		D = crmsync.RuleDontSync
	)
	tests := []struct {
		name           string
		rule           crmsync.FieldRule
		hv, sv, shadow string
		hsLater        bool
		action         Action
		value          string
		conflict       bool
	}{
		// Prefer Salesforce unless blank.
		{"prefer/unchanged", P, "1", "1", "1", false, Keep, "", false},
		{"prefer/hubspot changed, sf not blank", P, "2", "1", "1", true, Keep, "", false},
		{"prefer/hubspot changed, sf blank", P, "2", "", "", true, WriteSalesforce, "2", false},
		{"prefer/salesforce changed", P, "1", "3", "1", false, WriteHubSpot, "3", false},
		{"prefer/both changed", P, "2", "3", "1", true, WriteHubSpot, "3", false},
		{"prefer/hubspot cleared, sf not blank", P, "", "1", "1", true, Keep, "", false},
		{"prefer/salesforce cleared, hubspot value flows back", P, "1", "", "1", false, WriteSalesforce, "1", false},
		{"prefer/new link, values differ", P, "2", "3", "-", true, WriteHubSpot, "3", false},
		{"prefer/new link, sf blank", P, "2", "", "-", false, WriteSalesforce, "2", false},
		{"prefer/new link, hubspot blank", P, "", "3", "-", true, WriteHubSpot, "3", false},

		// Always use Salesforce.
		{"always/unchanged", A, "1", "1", "1", false, Keep, "", false},
		{"always/hubspot changed", A, "2", "1", "1", true, Keep, "", false},
		{"always/hubspot changed, sf blank", A, "2", "", "", true, Keep, "", false},
		{"always/salesforce changed", A, "1", "3", "1", false, WriteHubSpot, "3", false},
		{"always/both changed, hubspot later", A, "2", "3", "1", true, WriteHubSpot, "3", false},
		{"always/salesforce cleared", A, "1", "", "1", false, WriteHubSpot, "", false},
		{"always/hubspot cleared", A, "", "1", "1", true, Keep, "", false},
		{"always/new link", A, "2", "3", "-", true, WriteHubSpot, "3", false},

		// Two-way.
		{"two-way/unchanged", W, "1", "1", "1", false, Keep, "", false},
		{"two-way/hubspot changed", W, "2", "1", "1", false, WriteSalesforce, "2", false},
		{"two-way/salesforce changed", W, "1", "3", "1", true, WriteHubSpot, "3", false},
		{"two-way/both, hubspot later", W, "2", "3", "1", true, WriteSalesforce, "2", true},
		{"two-way/both, salesforce later", W, "2", "3", "1", false, WriteHubSpot, "3", true},
		{"two-way/both to the same value", W, "2", "2", "1", true, Keep, "", false},
		{"two-way/hubspot cleared", W, "", "1", "1", true, WriteSalesforce, "", false},
		{"two-way/salesforce cleared", W, "1", "", "1", false, WriteHubSpot, "", false},
		{"two-way/new link, only hubspot has a value", W, "2", "", "-", false, WriteSalesforce, "2", false},
		{"two-way/new link, both, hubspot later", W, "2", "3", "-", true, WriteSalesforce, "2", true},

		// Don't sync.
		{"dont/hubspot changed", D, "2", "1", "1", true, Keep, "", false},
		{"dont/salesforce changed", D, "1", "3", "1", false, Keep, "", false},
		{"dont/new link", D, "2", "", "-", true, Keep, "", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			in := pair(tt.rule, tt.hv, tt.sv, tt.shadow, tt.hsLater)
			p := Merge(in)
			if len(p.Fields) != 1 {
				t.Fatalf("got %d field plans, want 1", len(p.Fields))
			}
			f := p.Fields[0]
			if f.Action != tt.action || (f.Action != Keep && f.Value != tt.value) {
				t.Fatalf("action %s value %q (%s), want %s %q", f.Action, f.Value, f.Why, tt.action, tt.value)
			}
			if (f.Conflict != nil) != tt.conflict {
				t.Errorf("conflict = %+v, want %v", f.Conflict, tt.conflict)
			}
			if f.Why == "" {
				t.Error("no explanation")
			}
			assertConverged(t, in, p)
		})
	}
}

// assertConverged applies the plan's writes and shadow and merges again:
// the second merge must write nothing (no echo, no loop), and a third after
// an unchanged re-read neither.
func assertConverged(t *testing.T, in Input, p Plan) {
	t.Helper()
	next := apply(in, p)
	again := Merge(next)
	if !again.Empty() {
		t.Fatalf("second merge writes again: %+v", again.Fields)
	}
	if third := Merge(apply(next, again)); !third.Empty() {
		t.Fatalf("third merge writes: %+v", third.Fields)
	}
}

func apply(in Input, p Plan) Input {
	out := in
	out.HubSpot.Properties = copyMap(in.HubSpot.Properties)
	out.Salesforce.Properties = copyMap(in.Salesforce.Properties)
	for k, v := range p.Writes(crmsync.HubSpot) {
		out.HubSpot.Properties[k] = v
	}
	for k, v := range p.Writes(crmsync.Salesforce) {
		out.Salesforce.Properties[k] = v
	}
	out.Shadow = p.Shadow
	return out
}

func copyMap(m map[string]string) map[string]string {
	out := make(map[string]string, len(m))
	for k, v := range m {
		out[k] = v
	}
	return out
}

func TestMergeShadow(t *testing.T) {
	m := mappingFor(crmsync.RuleTwoWay)
	// Written fields shadow the written value; agreeing fields shadow the
	// common value; refused fields keep the old shadow.
	p := Merge(pair(crmsync.RuleTwoWay, "2", "1", "1", true))
	if got := p.Shadow[m.Key()]; got.Value != "2" || got.Hash != crmsync.ValueHash("2") || !got.SyncedAt.Equal(t0) {
		t.Errorf("shadow after write = %+v", got)
	}
	p = Merge(pair(crmsync.RuleTwoWay, "5", "5", "-", true))
	if got := p.Shadow[m.Key()]; got.Value != "5" {
		t.Errorf("shadow of agreeing new pair = %+v", got)
	}
	mp := mappingFor(crmsync.RulePreferSalesforce)
	p = Merge(pair(crmsync.RulePreferSalesforce, "2", "1", "1", true))
	if got := p.Shadow[mp.Key()]; got.Value != "1" || !got.SyncedAt.Equal(earlier) {
		t.Errorf("refused change moved the shadow: %+v", got)
	}
	md := mappingFor(crmsync.RuleDontSync)
	if _, ok := Merge(pair(crmsync.RuleDontSync, "2", "2", "-", true)).Shadow[md.Key()]; ok {
		t.Error("don't-sync field was shadowed")
	}
}

// An echo — our own write coming back as a change notification — writes
// nothing: after the write, both sides equal the shadow.
func TestMergeEchoWritesNothing(t *testing.T) {
	for _, rule := range []crmsync.FieldRule{crmsync.RulePreferSalesforce, crmsync.RuleAlwaysSalesforce, crmsync.RuleTwoWay} {
		in := pair(rule, "1", "9", "1", false) // Salesforce changed
		p := Merge(in)
		if p.Fields[0].Action != WriteHubSpot {
			t.Fatalf("%s: %+v", rule, p.Fields[0])
		}
		echo := apply(in, p)
		echo.HubSpot.LastModified = later.Add(time.Hour) // the write bumped HubSpot's modification time
		if e := Merge(echo); !e.Empty() {
			t.Errorf("%s: echo writes %+v", rule, e.Fields)
		}
	}
}

// Many fields, every combination: each merge converges in one step, and a
// change there and back (A→B then B→A on the same side) converges too.
func TestMergeConvergesExhaustively(t *testing.T) {
	values := []string{"", "a", "b"}
	for _, rule := range []crmsync.FieldRule{crmsync.RulePreferSalesforce, crmsync.RuleAlwaysSalesforce, crmsync.RuleTwoWay, crmsync.RuleDontSync} {
		for _, hv := range values {
			for _, sv := range values {
				for _, sh := range append(values, "-") {
					for _, hsLater := range []bool{false, true} {
						name := fmt.Sprintf("%s hv=%q sv=%q shadow=%q hsLater=%v", rule, hv, sv, sh, hsLater)
						t.Run(name, func(t *testing.T) {
							in := pair(rule, hv, sv, sh, hsLater)
							p := Merge(in)
							assertConverged(t, in, p)
							// There and back on HubSpot: change to "b", sync, change back, sync.
							s1 := apply(in, p)
							s1.HubSpot.Properties["phone"] = "b"
							s2 := apply(s1, Merge(s1))
							s2.HubSpot.Properties["phone"] = hv
							assertConverged(t, s2, Merge(s2))
						})
					}
				}
			}
		}
	}
}

func TestPlanWritesBySide(t *testing.T) {
	in := Input{
		Mappings: []crmsync.FieldMapping{
			{HubSpotObject: crmsync.HSContact, SalesforceObject: crmsync.SFLead, HubSpotProperty: "firstname", SalesforceField: "FirstName", Rule: crmsync.RuleTwoWay},
			{HubSpotObject: crmsync.HSContact, SalesforceObject: crmsync.SFLead, HubSpotProperty: "phone", SalesforceField: "Phone", Rule: crmsync.RuleTwoWay},
		},
		HubSpot:    crmsync.Record{Properties: map[string]string{"firstname": "Ada", "phone": "1"}},
		Salesforce: crmsync.Record{Properties: map[string]string{"FirstName": "", "Phone": "2"}},
		Shadow: map[string]crmsync.FieldShadow{
			"firstname=FirstName": crmsync.NewFieldShadow("", earlier),
			"phone=Phone":         crmsync.NewFieldShadow("1", earlier),
		},
		Now: t0,
	}
	p := Merge(in)
	if got := p.Writes(crmsync.Salesforce); len(got) != 1 || got["FirstName"] != "Ada" {
		t.Errorf("Salesforce writes = %v", got)
	}
	if got := p.Writes(crmsync.HubSpot); len(got) != 1 || got["phone"] != "2" {
		t.Errorf("HubSpot writes = %v", got)
	}
}

func BenchmarkMerge50Fields(b *testing.B) {
	in := Input{HubSpot: crmsync.Record{Properties: map[string]string{}}, Salesforce: crmsync.Record{Properties: map[string]string{}},
		Shadow: map[string]crmsync.FieldShadow{}, Now: t0}
	for i := 0; i < 50; i++ {
		m := crmsync.FieldMapping{HubSpotObject: crmsync.HSContact, SalesforceObject: crmsync.SFLead,
			HubSpotProperty: fmt.Sprintf("p%d", i), SalesforceField: fmt.Sprintf("F%d__c", i), Rule: crmsync.RuleTwoWay}
		in.Mappings = append(in.Mappings, m)
		in.HubSpot.Properties[m.HubSpotProperty] = fmt.Sprint(i)
		in.Salesforce.Properties[m.SalesforceField] = fmt.Sprint(i % 7)
		in.Shadow[m.Key()] = crmsync.NewFieldShadow(fmt.Sprint(i%7), earlier)
	}
	b.ReportAllocs()
	for b.Loop() {
		Merge(in)
	}
}
