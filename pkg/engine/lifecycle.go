package engine

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/crmsync/crmsync/pkg/crmsync"
)

// Lifecycle stages — HubSpot's connector's "Adjusting lifecycle stage",
// when the settings turn it on:
//
//   - a synced Salesforce Contact with a contact role
//     (OpportunityContactRole) on an open Opportunity moves its HubSpot
//     contact to lifecycle stage "opportunity"; on a Closed Won one, to
//     "customer" (a role added to an already Closed Won opportunity too);
//   - never backwards, in HubSpot's stage order; a custom stage (not in
//     HubSpot's default order) is left alone;
//   - with propagate_to_company_contacts, the other contacts of each
//     moved contact's primary company follow;
//   - opportunities without contact roles, and contacts tied to an
//     opportunity only by a custom lookup, change nothing; the HubSpot
//     stage never changes Salesforce (it never converts a lead).
//
// What triggers it: an Opportunity's change — its outbound message (an
// outbound message can carry an Opportunity; Salesforce offers none for
// OpportunityContactRole, which workflow rules cannot watch) or the sweep —
// and a contact role's change, which only the sweep can find (it lists
// OpportunityContactRole by SystemModstamp and enqueues the role; the
// engine resolves it through its opportunity). Deal sync need not be on.
// Each moved contact gets a ledger entry under its own link naming the
// opportunity; the trigger's own ledger lists the contacts moved.

// lifecycleOrder is HubSpot's default lifecycle stages, earliest first.
var lifecycleOrder = []string{"subscriber", "lead", "marketingqualifiedlead", "salesqualifiedlead",
	"opportunity", "customer", "evangelist", "other"}

const lifecycleProperty = "lifecyclestage"

// LifecycleOn reports whether a lifecycle transition is on (the sweep then
// lists opportunities and contact roles).
func LifecycleOn(s crmsync.Settings) bool {
	return s.Lifecycle.OpenOpportunityToOpportunity || s.Lifecycle.ClosedWonToCustomer
}

// drivesLifecycle reports whether t's record can move lifecycle stages.
func drivesLifecycle(t crmsync.Trigger, s crmsync.Settings) bool {
	o := t.Record.Object
	return LifecycleOn(s) && (o == crmsync.SFOpportunity || o == crmsync.SFContactRole)
}

// lifecycleTarget is the stage an opportunity's contacts move to ("" =
// none), with why.
func lifecycleTarget(r crmsync.Roles, s crmsync.Settings) (string, string) {
	switch {
	case r.Won && s.Lifecycle.ClosedWonToCustomer:
		return "customer", "a contact role on a Closed Won opportunity"
	case !r.Closed && s.Lifecycle.OpenOpportunityToOpportunity:
		return "opportunity", "a contact role on an open opportunity"
	}
	return "", ""
}

// advances reports whether a contact in stage cur moves to target: only
// forward in HubSpot's order, and never from a custom stage.
func advances(cur, target string) bool {
	c, t := slices.Index(lifecycleOrder, cur), slices.Index(lifecycleOrder, target)
	if cur != "" && c < 0 {
		return false
	}
	return c < t
}

// lifecycleFacts is what a lifecycle decision reads.
type lifecycleFacts struct {
	opp      crmsync.RecordRef
	roles    crmsync.Roles
	settings crmsync.Settings
	// contacts are the HubSpot contacts concerned, with their stage; via
	// says why each is (keyed by HubSpot id); links their link ids.
	contacts []crmsync.Record
	via      map[string]string
	links    map[string]string
}

// readLifecycle reads an opportunity's roles and the HubSpot contacts of
// its synced contacts (and, to propagate, of their companies).
func (e *Engine) readLifecycle(ctx context.Context, t crmsync.Trigger, s crmsync.Settings) (*lifecycleFacts, error) {
	lf := &lifecycleFacts{settings: s, via: map[string]string{}, links: map[string]string{}}
	oppID := t.Record.ID
	if t.Record.Object == crmsync.SFContactRole {
		id, err := e.Salesforce.OpportunityOfRole(ctx, t.Record.ID)
		if errors.Is(err, crmsync.ErrNotFound) {
			return lf, nil // a removed role moves no stage (never backwards)
		}
		if err != nil {
			return lf, opError{"read contact role " + t.Record.ID, err}
		}
		oppID = id
	}
	lf.opp = crmsync.RecordRef{Side: crmsync.Salesforce, Object: crmsync.SFOpportunity, ID: oppID}
	roles, err := e.Salesforce.OpportunityRoles(ctx, oppID)
	if err != nil {
		return lf, opError{"read the contact roles of " + lf.opp.String(), err}
	}
	lf.roles = roles
	if target, _ := lifecycleTarget(roles, s); target == "" {
		return lf, nil
	}
	var ids []string
	for _, c := range roles.ContactIDs {
		l, err := e.Store.GetLink(ctx, crmsync.RecordRef{Side: crmsync.Salesforce, Object: crmsync.SFContact, ID: c})
		if errors.Is(err, crmsync.ErrNotFound) || err == nil && (l.Status != crmsync.LinkActive || l.HubSpot.IsZero()) {
			continue
		}
		if err != nil {
			return lf, fmt.Errorf("get link of contact %s: %w", c, err)
		}
		ids = append(ids, l.HubSpot.ID)
		lf.via[l.HubSpot.ID], lf.links[l.HubSpot.ID] = "contact role of "+l.Salesforce.String(), l.ID
	}
	if s.Lifecycle.PropagateToCompanyContacts {
		if ids, err = e.companyContacts(ctx, lf, ids); err != nil {
			return lf, err
		}
	}
	return lf, e.readStages(ctx, lf, ids)
}

// companyContacts adds the other contacts of each contact's primary
// company to ids.
func (e *Engine) companyContacts(ctx context.Context, lf *lifecycleFacts, ids []string) ([]string, error) {
	out := slices.Clone(ids)
	for _, id := range ids {
		ref := crmsync.RecordRef{Side: crmsync.HubSpot, Object: crmsync.HSContact, ID: id}
		_, company, err := e.HubSpot.Associated(ctx, ref, crmsync.HSCompany)
		if err != nil || company == "" {
			if err != nil {
				return nil, opError{"read the company of " + ref.String(), err}
			}
			continue
		}
		cref := crmsync.RecordRef{Side: crmsync.HubSpot, Object: crmsync.HSCompany, ID: company}
		others, _, err := e.HubSpot.Associated(ctx, cref, crmsync.HSContact)
		if err != nil {
			return nil, opError{"read the contacts of " + cref.String(), err}
		}
		for _, o := range others {
			if !slices.Contains(out, o) {
				out = append(out, o)
				lf.via[o] = fmt.Sprintf("a contact of %s, the company of hubspot/contact/%s", cref, id)
			}
		}
	}
	return out, nil
}

// readStages reads the HubSpot contacts' lifecycle stages.
func (e *Engine) readStages(ctx context.Context, lf *lifecycleFacts, ids []string) error {
	if len(ids) == 0 {
		return nil
	}
	got, err := e.HubSpot.GetMany(ctx, crmsync.HSContact, ids, []string{lifecycleProperty})
	if err != nil {
		return opError{"read the lifecycle stages of the contacts of " + lf.opp.String(), err}
	}
	for _, id := range ids {
		if rec, ok := got[id]; ok {
			lf.contacts = append(lf.contacts, rec)
		}
	}
	return nil
}

// decideLifecycle is the lifecycle decision: pure.
func decideLifecycle(lf *lifecycleFacts) Plan {
	p := Plan{Decision: DecisionNoChange, Ledger: ledgerPlan{Target: lf.opp, Result: "lifecycle"}}
	if lf.opp.IsZero() {
		p.Reason = "lifecycle: the contact role no longer exists; removing a role moves no stage back"
		return p
	}
	target, why := lifecycleTarget(lf.roles, lf.settings)
	if target == "" {
		p.Reason = fmt.Sprintf("lifecycle: %s is closed and not won, or the transition is off: no stage changes", lf.opp)
		return p
	}
	var moved, kept []string
	for _, c := range lf.contacts {
		cur := c.Properties[lifecycleProperty]
		if !advances(cur, target) {
			kept = append(kept, fmt.Sprintf("%s stays %q", c.Ref, cur))
			continue
		}
		p.Writes.Updates = append(p.Writes.Updates, recordWrite{Ref: c.Ref, Props: map[string]string{lifecycleProperty: target}})
		moved = append(moved, fmt.Sprintf("%s %q → %q (%s)", c.Ref, cur, target, lf.via[c.Ref.ID]))
	}
	p.Reason = fmt.Sprintf("lifecycle: %s of %s: %d contact(s) to %q", why, lf.opp, len(moved), target)
	if len(moved) > 0 {
		p.Decision = DecisionSynced
		p.Notes = append(p.Notes, "moved: "+strings.Join(moved, "; "))
	}
	if len(kept) > 0 {
		p.Notes = append(p.Notes, "never backwards, custom stages left alone: "+strings.Join(kept, "; "))
	}
	if len(lf.roles.ContactIDs) == 0 {
		p.Notes = append(p.Notes, "the opportunity has no contact roles")
	}
	return p
}

// resolveLifecycle reads, decides and applies the lifecycle part of an
// opportunity's or contact role's trigger: the HubSpot contacts' stages
// (one batch update), a ledger entry per moved contact and one for the
// trigger's record. A contact HubSpot refuses gets a sync error of its
// own; a transient failure retries the trigger (moving stages again is
// harmless: never backwards).
func (e *Engine) resolveLifecycle(ctx context.Context, j *job) (Plan, []Write, error) {
	lf, err := e.readLifecycle(ctx, j.t, j.settings)
	var p Plan
	if err != nil {
		p = failureOf(&facts{t: j.t, settings: j.settings, now: e.now()}, err)
	} else {
		p = decideLifecycle(lf)
	}
	if p.Retry != nil {
		return p, nil, p.Retry
	}
	if p.Error != nil {
		prev, gerr := e.Store.GetSyncError(ctx, j.t.Record)
		var pp *crmsync.SyncError
		if gerr == nil {
			pp = &prev
		}
		if err := e.Store.PutSyncError(ctx, nextSyncError(pp, *p.Error, j.settings.Retry, e.now())); err != nil {
			return p, nil, fmt.Errorf("put sync error: %w", err)
		}
	}
	writes, err := e.writeStages(ctx, j, lf, p.Writes.Updates)
	if err != nil {
		return p, writes, err
	}
	key := LedgerKey(j.t.Record)
	if j.link != nil {
		key = j.link.ID
	}
	entry := crmsync.LedgerEntry{LinkID: key, At: e.now(), Trigger: j.t, Target: p.Ledger.Target, Result: p.Ledger.Result,
		Note: strings.Join(append([]string{p.Reason}, p.Notes...), "; ")}
	if err := e.Store.AppendLedger(ctx, entry); err != nil {
		return p, writes, fmt.Errorf("append ledger: %w", err)
	}
	return p, writes, nil
}

// writeStages writes the planned stages and each moved contact's ledger.
func (e *Engine) writeStages(ctx context.Context, j *job, lf *lifecycleFacts, ws []recordWrite) ([]Write, error) {
	if len(ws) == 0 {
		return nil, nil
	}
	updates := make([]crmsync.Update, len(ws))
	for i, w := range ws {
		updates[i] = crmsync.Update{ID: w.Ref.ID, Properties: w.Props}
	}
	results, err := e.HubSpot.UpdateMany(ctx, crmsync.HSContact, updates)
	if err != nil {
		return nil, fmt.Errorf("update lifecycle stages: %w", err)
	}
	var done []Write
	for i, w := range ws {
		if err := e.stageWritten(ctx, j, lf, w, results[i]); err != nil {
			return done, err
		}
		if results[i] == nil {
			done = append(done, Write{Op: "update", Ref: w.Ref, Properties: w.Props})
		}
	}
	return done, nil
}

// stageWritten records one contact's stage write: a ledger entry, or the
// contact's sync error when HubSpot refused it.
func (e *Engine) stageWritten(ctx context.Context, j *job, lf *lifecycleFacts, w recordWrite, werr error) error {
	if werr != nil {
		c := crmsync.Classify(werr)
		if c.Class.Retry() {
			return fmt.Errorf("update lifecycle stage of %s: %w", w.Ref, werr)
		}
		se := crmsync.SyncError{Record: w.Ref, LinkID: lf.links[w.Ref.ID], Category: c.Category, Code: c.Code, Hint: c.Hint,
			Message: fmt.Sprintf("set lifecycle stage %q (%s): %v", w.Props[lifecycleProperty], lf.opp, werr)}
		prev, err := e.Store.GetSyncError(ctx, w.Ref)
		var pp *crmsync.SyncError
		if err == nil {
			pp = &prev
		}
		return e.Store.PutSyncError(ctx, nextSyncError(pp, se, j.settings.Retry, e.now()))
	}
	key := lf.links[w.Ref.ID]
	if key == "" {
		key = LedgerKey(w.Ref)
	}
	var before string
	for _, c := range lf.contacts {
		if c.Ref == w.Ref {
			before = c.Properties[lifecycleProperty]
		}
	}
	return e.Store.AppendLedger(ctx, crmsync.LedgerEntry{LinkID: key, At: e.now(), Trigger: j.t, Target: w.Ref,
		Call: "update " + w.Ref.String(), Result: "lifecycle",
		Changes: []crmsync.FieldChange{{Field: lifecycleProperty, Rule: "lifecycle", Before: before, After: w.Props[lifecycleProperty]}},
		Note:    fmt.Sprintf("lifecycle stage from %s (%s)", lf.opp, lf.via[w.Ref.ID])})
}
