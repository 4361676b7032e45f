package mapping

import (
	"fmt"
	"slices"

	"github.com/crmsync/crmsync/pkg/crmsync"
)

// DefaultValueMaps are the value maps a newcomer gets: HubSpot's default
// sales pipeline stages ⇄ Salesforce's standard Opportunity stages. The
// three Salesforce stages HubSpot's default pipeline has no match for go
// to the nearest HubSpot stage (to HubSpot only).
func DefaultValueMaps() []crmsync.ValueMap {
	return []crmsync.ValueMap{{
		HubSpotObject: crmsync.HSDeal, SalesforceObject: crmsync.SFOpportunity,
		HubSpotProperty: "dealstage", SalesforceField: "StageName",
		Values: []crmsync.ValuePair{
			{HubSpot: "appointmentscheduled", Salesforce: "Prospecting"},
			{HubSpot: "qualifiedtobuy", Salesforce: "Qualification"},
			{HubSpot: "presentationscheduled", Salesforce: "Value Proposition"},
			{HubSpot: "decisionmakerboughtin", Salesforce: "Id. Decision Makers"},
			{HubSpot: "contractsent", Salesforce: "Proposal/Price Quote"},
			{HubSpot: "closedwon", Salesforce: "Closed Won"},
			{HubSpot: "closedlost", Salesforce: "Closed Lost"},
			{HubSpot: "qualifiedtobuy", Salesforce: "Needs Analysis", Direction: crmsync.ToHubSpot},
			{HubSpot: "decisionmakerboughtin", Salesforce: "Perception Analysis", Direction: crmsync.ToHubSpot},
			{HubSpot: "contractsent", Salesforce: "Negotiation/Review", Direction: crmsync.ToHubSpot},
		},
	}}
}

// Values translates the values of one object pair's value-mapped fields,
// keyed by their mapping's key. The zero Values maps nothing.
type Values struct {
	maps map[string]valueMap
}

type valueMap struct {
	vm         crmsync.ValueMap
	toSF, toHS map[string]string
}

// NewValues returns the value maps of the pair hs ⇄ sf.
func NewValues(vms []crmsync.ValueMap, hs, sf crmsync.ObjectType) Values {
	out := Values{maps: map[string]valueMap{}}
	for _, vm := range vms {
		if vm.HubSpotObject != hs || vm.SalesforceObject != sf {
			continue
		}
		m := valueMap{vm: vm, toSF: map[string]string{}, toHS: map[string]string{}}
		for _, v := range vm.Values {
			if v.Direction != crmsync.ToHubSpot {
				m.toSF[v.HubSpot] = v.Salesforce
			}
			if v.Direction != crmsync.ToSalesforce {
				m.toHS[v.Salesforce] = v.HubSpot
			}
		}
		out.maps[vm.Key()] = m
	}
	return out
}

// Has reports whether the field of mapping key has a value map.
func (vs Values) Has(key string) bool { _, ok := vs.maps[key]; return ok }

// ToSalesforce returns the Salesforce value of HubSpot value v of the
// field key; ok is false when the field has a value map without v. A
// field without a value map, and "", translate as they are.
func (vs Values) ToSalesforce(key, v string) (string, bool) {
	m, has := vs.maps[key]
	if !has || v == "" {
		return v, true
	}
	out, ok := m.toSF[v]
	return out, ok
}

// ToHubSpot is ToSalesforce the other way.
func (vs Values) ToHubSpot(key, v string) (string, bool) {
	m, has := vs.maps[key]
	if !has || v == "" {
		return v, true
	}
	out, ok := m.toHS[v]
	return out, ok
}

// Unmapped describes a value the field key's value map lacks, and the
// entry to add, for a Property values error.
func (vs Values) Unmapped(key, value string, from crmsync.Side) string {
	m := vs.maps[key]
	vm := m.vm
	field := fmt.Sprintf("%s %s", vm.SalesforceObject, vm.SalesforceField)
	if from == crmsync.HubSpot {
		field = fmt.Sprintf("HubSpot %s %s", vm.HubSpotObject, vm.HubSpotProperty)
	}
	return fmt.Sprintf("%s value %q has no value map entry: add it to value_maps (%s %s ⇄ %s %s)",
		field, value, vm.HubSpotObject, vm.HubSpotProperty, vm.SalesforceObject, vm.SalesforceField)
}

// CheckValueMaps checks every value of the value maps against both CRMs'
// metadata (keyed as for CheckMappings): a HubSpot value must be an option
// of its property when the property has options, a Salesforce value an
// active value of its picklist. Paths are "value_maps[i]…" as in the
// settings file. Value maps of objects without metadata are not checked.
func CheckValueMaps(vms []crmsync.ValueMap, hs map[crmsync.ObjectType]map[string]HubSpotProperty,
	sf map[crmsync.ObjectType]map[string]SalesforceField) []crmsync.Problem {
	var probs []crmsync.Problem
	for i, vm := range vms {
		at := fmt.Sprintf("value_maps[%d]", i)
		hp, hok := hs[vm.HubSpotObject][vm.HubSpotProperty]
		sfld, sok := sf[vm.SalesforceObject][vm.SalesforceField]
		if _, known := hs[vm.HubSpotObject]; known && !hok {
			probs = append(probs, crmsync.Problem{Path: at + ".hubspot_property", Message: fmt.Sprintf("HubSpot %s has no property %q", vm.HubSpotObject, vm.HubSpotProperty)})
		}
		if _, known := sf[vm.SalesforceObject]; known && !sok {
			probs = append(probs, crmsync.Problem{Path: at + ".salesforce_field", Message: fmt.Sprintf("Salesforce %s has no field %q", vm.SalesforceObject, vm.SalesforceField)})
		}
		for j, v := range vm.Values {
			vat := fmt.Sprintf("%s.values[%d]", at, j)
			if hok && len(hp.Options) > 0 && !slices.Contains(hp.Options, v.HubSpot) {
				probs = append(probs, crmsync.Problem{Path: vat + ".hubspot", Message: fmt.Sprintf("%q is not an option of HubSpot %s %s (options: %s)", v.HubSpot, vm.HubSpotObject, vm.HubSpotProperty, list(hp.Options))})
			}
			if sok && len(sfld.PicklistValues) > 0 && !slices.Contains(sfld.PicklistValues, v.Salesforce) {
				probs = append(probs, crmsync.Problem{Path: vat + ".salesforce", Message: fmt.Sprintf("%q is not an active value of Salesforce %s %s (values: %s)", v.Salesforce, vm.SalesforceObject, vm.SalesforceField, list(sfld.PicklistValues))})
			}
		}
	}
	return probs
}
