package engine

import (
	"fmt"
	"strings"
	"sync"

	"github.com/crmsync/crmsync/pkg/criteria"
	"github.com/crmsync/crmsync/pkg/crmsync"
)

// Selective sync (settings selective_sync): a record syncs only while it
// meets its object type's rule, evaluated on the record as just re-read,
// on whichever side the rule names and whichever side the trigger came
// from. Salesforce records owned by the integration user always sync;
// with exempt_created_by_crmsync, so do those the integration user
// created. A record that stops meeting the rule stops syncing: a
// not-eligible sync error (not_selected_by_rule) names the clause that
// failed; its link stays, nothing is deleted, and it syncs again as soon
// as a trigger (webhook, outbound message, the sweep or a retry) finds it
// meeting the rule.

// rules holds the parsed selective-sync rules by their text (a
// *criteria.Expr is immutable): a rule is parsed once per process, not
// on every read and every record.
var rules sync.Map

// parseRule parses rule once.
func parseRule(rule string) (*criteria.Expr, error) {
	if e, ok := rules.Load(rule); ok {
		return e.(*criteria.Expr), nil
	}
	e, err := criteria.Parse(rule)
	if err != nil {
		return nil, err
	}
	rules.Store(rule, e)
	return e, nil
}

// ruleFields are the fields a record of type o must be read with for the
// selective-sync rules.
func ruleFields(s crmsync.Settings, o crmsync.ObjectType) []string {
	ss := s.SelectiveSync
	rule := ss.Rules[o]
	if rule == "" {
		return nil
	}
	var out []string
	if e, err := parseRule(rule); err == nil {
		out = e.Fields()
	}
	if o.Side() == crmsync.Salesforce && ss.IntegrationUserID != "" {
		out = append(out, "OwnerId")
		if ss.ExemptCreatedByCrmsync {
			out = append(out, "CreatedById")
		}
	}
	return out
}

// notSelected returns why a record of the pair does not meet its rule
// ("" when every record read does, or is exempt).
func (f *facts) notSelected() string {
	for _, side := range crmsync.Sides {
		rec, ok := f.recs[side]
		if !ok {
			continue
		}
		if why := selected(f.settings.SelectiveSync, rec); why != "" {
			return why
		}
	}
	return ""
}

// selected returns why rec does not meet its object's rule ("" when it
// does, has no rule or is exempt). Pure.
func selected(ss crmsync.SelectiveSync, rec crmsync.Record) string {
	rule := ss.Rules[rec.Ref.Object]
	if rule == "" {
		return ""
	}
	if rec.Ref.Side == crmsync.Salesforce && ss.IntegrationUserID != "" {
		if sameID(rec.Properties["OwnerId"], ss.IntegrationUserID) {
			return ""
		}
		if ss.ExemptCreatedByCrmsync && sameID(rec.Properties["CreatedById"], ss.IntegrationUserID) {
			return ""
		}
	}
	e, err := parseRule(rule)
	if err != nil { // refused when the settings were saved; never syncs by a rule that cannot be read
		return fmt.Sprintf("%s: the selective-sync rule of %s cannot be read: %v", rec.Ref, rec.Ref.Object, err)
	}
	values := make(map[string]string, len(rec.Properties))
	for _, fld := range e.Fields() {
		values[fld] = ""
	}
	for k, v := range rec.Properties {
		for _, fld := range e.Fields() {
			if strings.EqualFold(k, fld) {
				values[fld] = v
			}
		}
	}
	ok, failed, err := e.Eval(values)
	switch {
	case err != nil:
		return fmt.Sprintf("%s does not meet the selective-sync rule of %s (%s): %v", rec.Ref, rec.Ref.Object, rule, err)
	case !ok:
		return fmt.Sprintf("%s does not meet the selective-sync rule of %s (%s): %s", rec.Ref, rec.Ref.Object, rule, failed)
	}
	return ""
}
