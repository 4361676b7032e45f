package mapping

import (
	"fmt"
	"time"

	"github.com/crmsync/crmsync/pkg/crmsync"
)

// Action says what the plan does with one field.
type Action string

// Actions.
const (
	// Keep: nothing to write.
	Keep Action = "keep"
	// WriteHubSpot / WriteSalesforce: write Value to that side.
	WriteHubSpot    Action = "write_hubspot"
	WriteSalesforce Action = "write_salesforce"
)

// Input is one linked pair as the engine sees it.
type Input struct {
	// Mappings are the field mappings of this object pair.
	Mappings []crmsync.FieldMapping
	// HubSpot and Salesforce are the current records; a side not created
	// yet is the zero Record (all its values blank, never modified).
	HubSpot, Salesforce crmsync.Record
	// Shadow is the link's shadow (nil for a new link).
	Shadow map[string]crmsync.FieldShadow
	// Now stamps new shadow entries.
	Now time.Time
}

// FieldPlan is the decision for one mapping.
type FieldPlan struct {
	Mapping crmsync.FieldMapping
	Action  Action
	// Value is what to write (for the write actions).
	Value string
	// Before is the target's current value (for the write actions).
	Before string
	// Why explains the decision in words, for the ledger.
	Why string
	// Conflict is set when both sides changed a Two-way field differently.
	Conflict *Conflict
	// Refused is set when a side changed the field (or cleared it) and
	// the rule held the change back: the sides now differ, by the rule.
	// The refused value is Value; Before is the value kept.
	Refused bool
}

// Conflict records a Two-way conflict and its loser.
type Conflict struct {
	Winner     crmsync.Side
	LoserValue string
}

// Plan is the merge's decision for a linked pair.
type Plan struct {
	// Fields has one entry per mapping, in mapping order.
	Fields []FieldPlan
	// Shadow is the shadow to store once every write succeeded.
	Shadow map[string]crmsync.FieldShadow
}

// Writes returns the property → value writes for side s.
func (p Plan) Writes(s crmsync.Side) map[string]string {
	want := WriteHubSpot
	if s == crmsync.Salesforce {
		want = WriteSalesforce
	}
	out := map[string]string{}
	for _, f := range p.Fields {
		if f.Action != want {
			continue
		}
		if s == crmsync.HubSpot {
			out[f.Mapping.HubSpotProperty] = f.Value
		} else {
			out[f.Mapping.SalesforceField] = f.Value
		}
	}
	return out
}

// Empty reports whether the plan writes nothing.
func (p Plan) Empty() bool {
	for _, f := range p.Fields {
		if f.Action != Keep {
			return false
		}
	}
	return true
}

// Merge decides, field by field, what to write where. It is pure and
// deterministic.
func Merge(in Input) Plan {
	plan := Plan{Shadow: make(map[string]crmsync.FieldShadow, len(in.Mappings))}
	for k, v := range in.Shadow {
		plan.Shadow[k] = v
	}
	for _, m := range in.Mappings {
		fp := mergeField(m, in)
		plan.Fields = append(plan.Fields, fp)
		if m.Rule == crmsync.RuleDontSync {
			continue
		}
		hv, sv := in.HubSpot.Properties[m.HubSpotProperty], in.Salesforce.Properties[m.SalesforceField]
		switch {
		case fp.Action != Keep:
			plan.Shadow[m.Key()] = crmsync.NewFieldShadow(fp.Value, in.Now)
		case hv == sv:
			if sh, ok := in.Shadow[m.Key()]; !ok || sh.Value != hv {
				plan.Shadow[m.Key()] = crmsync.NewFieldShadow(hv, in.Now)
			}
		}
	}
	return plan
}

func mergeField(m crmsync.FieldMapping, in Input) FieldPlan {
	hv, sv := in.HubSpot.Properties[m.HubSpotProperty], in.Salesforce.Properties[m.SalesforceField]
	fp := FieldPlan{Mapping: m, Action: Keep}
	if m.Rule == crmsync.RuleDontSync {
		fp.Why = "rule don't sync"
		return fp
	}
	if hv == sv {
		fp.Why = "both sides agree"
		return fp
	}
	sh, hasShadow := in.Shadow[m.Key()]
	hsChanged := !hasShadow && hv != "" || hasShadow && hv != sh.Value
	sfChanged := !hasShadow && sv != "" || hasShadow && sv != sh.Value
	toHS := func(why string) FieldPlan {
		fp.Action, fp.Value, fp.Before, fp.Why = WriteHubSpot, sv, hv, why
		return fp
	}
	toSF := func(why string) FieldPlan {
		fp.Action, fp.Value, fp.Before, fp.Why = WriteSalesforce, hv, sv, why
		return fp
	}
	if !hsChanged && !sfChanged {
		fp.Why = "neither side changed since the last sync"
		return fp
	}

	switch m.Rule {
	case crmsync.RuleAlwaysSalesforce:
		if sfChanged {
			return toHS("always use Salesforce: Salesforce changed")
		}
		fp.Why = "always use Salesforce: HubSpot changes are not sent to Salesforce"
		fp.Refused, fp.Value, fp.Before = true, hv, sv
		return fp

	case crmsync.RulePreferSalesforce:
		if sv == "" && hsChanged || sv == "" && sfChanged && hv != "" {
			return toSF("prefer Salesforce unless blank: the Salesforce field is blank")
		}
		if sfChanged {
			return toHS("prefer Salesforce unless blank: Salesforce changed")
		}
		fp.Why = "prefer Salesforce unless blank: the Salesforce field is not blank"
		if hv == "" {
			fp.Why = "prefer Salesforce unless blank: a HubSpot clear is not sent to Salesforce"
		}
		fp.Refused, fp.Value, fp.Before = true, hv, sv
		return fp

	case crmsync.RuleTwoWay:
		switch {
		case hsChanged && !sfChanged:
			return toSF("two-way: HubSpot changed")
		case sfChanged && !hsChanged:
			return toHS("two-way: Salesforce changed")
		}
		// Both changed, to different values: the later modification wins.
		if in.HubSpot.LastModified.After(in.Salesforce.LastModified) {
			fp = toSF(fmt.Sprintf("two-way conflict: HubSpot modified later (%s > %s)",
				in.HubSpot.LastModified.Format(time.RFC3339), in.Salesforce.LastModified.Format(time.RFC3339)))
			fp.Conflict = &Conflict{Winner: crmsync.HubSpot, LoserValue: sv}
			return fp
		}
		fp = toHS(fmt.Sprintf("two-way conflict: Salesforce modified later or at the same time (%s >= %s)",
			in.Salesforce.LastModified.Format(time.RFC3339), in.HubSpot.LastModified.Format(time.RFC3339)))
		fp.Conflict = &Conflict{Winner: crmsync.Salesforce, LoserValue: hv}
		return fp
	}
	fp.Why = fmt.Sprintf("unknown rule %q: nothing written", m.Rule)
	return fp
}
