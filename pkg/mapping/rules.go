package mapping

import (
	"slices"

	"github.com/crmsync/crmsync/pkg/criteria"
	"github.com/crmsync/crmsync/pkg/crmsync"
)

// CheckRules type-checks the selective-sync rules against both CRMs'
// metadata (keyed as for CheckMappings): unknown fields and operators or
// values of the wrong type are problems at "selective_sync.rules.<object>".
// Rules of objects without metadata are not checked; rules that do not
// parse are crmsync.Settings.Validate's problems.
func CheckRules(rules map[crmsync.ObjectType]string, hs map[crmsync.ObjectType]map[string]HubSpotProperty,
	sf map[crmsync.ObjectType]map[string]SalesforceField) []crmsync.Problem {
	var probs []crmsync.Problem
	objects := make([]crmsync.ObjectType, 0, len(rules))
	for o := range rules {
		objects = append(objects, o)
	}
	slices.Sort(objects)
	for _, o := range objects {
		e, err := criteria.Parse(rules[o])
		if err != nil {
			continue
		}
		types := map[string]criteria.FieldType{}
		switch {
		case sf[o] != nil:
			for name, f := range sf[o] {
				if t, ok := criteria.SalesforceFieldType(f.Type); ok {
					types[name] = t
				}
			}
		case hs[o] != nil:
			for name, p := range hs[o] {
				if t, ok := criteria.HubSpotFieldType(p.Type, p.FieldType); ok {
					types[name] = t
				}
			}
		default:
			continue
		}
		if err := e.Check(types); err != nil {
			probs = append(probs, crmsync.Problem{Path: "selective_sync.rules." + string(o), Message: err.Error()})
		}
	}
	return probs
}
