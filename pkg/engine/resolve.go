package engine

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/crmsync/crmsync/pkg/crmsync"
	"github.com/crmsync/crmsync/pkg/mapping"
)

// run is the state of one resolution.
type run struct {
	e     *Engine
	notes []string // decisions worth a line in the ledger
	conv  *mapping.Converter
	// pre holds records a batch read ahead; deferWrites makes the run stop
	// after planning, leaving pending and plan for the batch to write.
	pre         *prefetch
	preLink     *crmsync.Link // the link ResolveBatch read for this run
	deferWrites bool
	pending     []pendingWrite
	plan        *mapping.Plan
	err         error // a batch run's result
	// accountWrite is the HubSpot company to make primary (see
	// associations.go), nil when there is none to write.
	accountWrite *string
	// hsPrimary is the HubSpot record's primary company as this run read
	// it (nil = not read).
	hsPrimary *string
	// covered are the other triggers of a batch this run resolves too.
	covered  []crmsync.Trigger
	t        crmsync.Trigger
	settings crmsync.Settings
	pair     pair
	link     *crmsync.Link
	records  map[crmsync.Side]crmsync.Record
	out      Outcome
}

func (e *Engine) resolve(ctx context.Context, t crmsync.Trigger) (Outcome, error) {
	if out, skip := activitySkip(t); skip {
		return out, nil // before reading settings: activities need none
	}
	settings, err := e.Settings(ctx)
	if err != nil {
		return Outcome{}, err
	}
	return e.resolveWith(ctx, t, settings)
}

// activitySkip reports activities, which this version does not sync.
func activitySkip(t crmsync.Trigger) (Outcome, bool) {
	if !t.Record.Object.IsActivity() {
		return Outcome{}, false
	}
	return Outcome{Decision: DecisionSkipped, Reason: fmt.Sprintf("%s activities are not synced by this version", t.Record.Object)}, true
}

// resolveWith resolves t one by one under settings already loaded.
func (e *Engine) resolveWith(ctx context.Context, t crmsync.Trigger, settings crmsync.Settings) (Outcome, error) {
	if out, skip := activitySkip(t); skip {
		return out, nil
	}
	src := t.Record
	p, ok := pairFor(src, settings)
	if !ok {
		return Outcome{Decision: DecisionSkipped, Reason: fmt.Sprintf("object type %s is not synced", src.Object)}, nil
	}
	if !p.enabled {
		return Outcome{Decision: DecisionSkipped, Reason: fmt.Sprintf("%s sync is off in the settings", p.name)}, nil
	}
	r := &run{e: e, t: t, settings: settings, pair: p, records: map[crmsync.Side]crmsync.Record{}}
	err := r.do(ctx) // before reading r.out: the order of a return's operands is not specified
	return r.out, err
}

func (r *run) do(ctx context.Context) error {
	e, src := r.e, r.t.Record
	if err := e.checkBudget(ctx, r.t, r.settings); err != nil {
		return err
	}
	if r.t.Kind == crmsync.KindMerged {
		if err := r.merged(ctx); err != nil {
			return err
		}
	}
	link, err := r.loadLink(ctx)
	switch {
	case err == nil:
		r.link = &link
		r.out.LinkID = link.ID
		if other := link.Ref(src.Side.Other()); !other.IsZero() && other.Side == crmsync.Salesforce {
			r.pair.sf = other.Object
		}
	case !errors.Is(err, crmsync.ErrNotFound):
		return fmt.Errorf("get link: %w", err)
	}

	// Re-read the source: the trigger's values are only hints.
	rec, err := r.get(ctx, src)
	if errors.Is(err, crmsync.ErrNotFound) {
		return r.sourceGone(ctx)
	}
	if err != nil {
		return r.vendorFailure(ctx, src, "read "+src.String(), err)
	}
	r.records[src.Side] = rec

	if ok, err := r.eligible(ctx, rec); err != nil || !ok {
		return err
	}

	// A reservation held by another worker means a creation is in
	// progress: retry later. One older than PendingLease was left by a
	// worker that died; claim it (the version check makes one claimant win).
	if r.link != nil && r.link.Status == crmsync.LinkPending {
		own := r.link.PendingKey == r.t.DedupeKey // our own earlier attempt, which has ended
		if age := e.now().Sub(r.link.UpdatedAt); age < PendingLease && !own {
			return errRetry{fmt.Sprintf("another worker is creating the record linked to %s (reserved %s ago)", src, age.Round(time.Second))}
		}
		claimed := *r.link
		claimed.UpdatedAt = e.now()
		claimed.PendingKey = r.t.DedupeKey
		l, err := e.Store.UpdateLink(ctx, claimed)
		if errors.Is(err, crmsync.ErrVersionConflict) {
			return errRetry{"another worker claimed the stale reservation of " + src.String()}
		}
		if err != nil {
			return fmt.Errorf("claim stale reservation: %w", err)
		}
		r.link = &l
	}

	// Identity.
	if r.link == nil || r.link.Ref(src.Side.Other()).IsZero() {
		done, err := r.identify(ctx, rec)
		if err != nil || done {
			return err
		}
	} else {
		other := r.link.Ref(src.Side.Other())
		orec, err := r.get(ctx, other)
		if errors.Is(err, crmsync.ErrNotFound) {
			return r.linkedGone(ctx, other)
		}
		if err != nil {
			return r.vendorFailure(ctx, src, "read "+other.String(), err)
		}
		r.records[other.Side] = orec
	}
	return r.mergeAndWrite(ctx)
}

// loadLink reads the source's link, or takes the one a batch just read.
func (r *run) loadLink(ctx context.Context) (crmsync.Link, error) {
	if r.preLink != nil {
		l := *r.preLink
		r.preLink = nil
		return l, nil
	}
	return r.e.Store.GetLink(ctx, r.t.Record)
}

// get reads a record: from what a batch read ahead (ResolveBatch), else
// with a Get.
func (r *run) get(ctx context.Context, ref crmsync.RecordRef) (crmsync.Record, error) {
	if r.pre != nil {
		if rec, ok := r.pre.records[ref]; ok {
			return rec, nil
		}
		if r.pre.missing[ref] {
			return crmsync.Record{}, fmt.Errorf("read %s: %w", ref, crmsync.ErrNotFound)
		}
	}
	return r.e.crm(ref.Side).Get(ctx, ref, r.readProperties(ref.Side, ref.Object))
}

func (r *run) readProperties(s crmsync.Side, o crmsync.ObjectType) []string {
	props := properties(r.settings.Mappings, s, o)
	if r.accountsFor(o) && !slices.Contains(props, accountField) {
		props = append(props, accountField)
	}
	return props
}

// ownerKey is the synthetic property the owner's user email is merged
// under: owners are two-way, matched by email, whenever both CRMs can map
// owners (crmsync.Owners).
const ownerKey = "@owner"

func (r *run) mappings() []crmsync.FieldMapping {
	ms := mapping.For(r.settings.Mappings, r.pair.hs, r.pair.sf)
	_, hs := r.e.HubSpot.(crmsync.Owners)
	_, sf := r.e.Salesforce.(crmsync.Owners)
	if hs && sf {
		ms = append(ms, crmsync.FieldMapping{HubSpotObject: r.pair.hs, SalesforceObject: r.pair.sf,
			HubSpotProperty: ownerKey, SalesforceField: ownerKey, Rule: crmsync.RuleTwoWay})
	}
	if r.accountsOn() {
		ms = append(ms, accountMapping(r.pair.hs, r.pair.sf))
	}
	return ms
}

// withOwner returns rec with its owner email under ownerKey.
func withOwner(rec crmsync.Record) crmsync.Record {
	props := make(map[string]string, len(rec.Properties)+1)
	for k, v := range rec.Properties {
		props[k] = v
	}
	if !rec.Ref.IsZero() {
		props[ownerKey] = strings.ToLower(strings.TrimSpace(rec.OwnerEmail))
	}
	rec.Properties = props
	return rec
}

// vendorProps turns the plan's writes for side s into the vendor's
// properties: the owner email becomes the side's owner id. An owner that
// cannot be written (no user with that email on s, or a cleared owner) is
// left out, noted, and its shadow kept, so it is neither retried as a
// write nor mistaken for a change on s next time.
func (r *run) vendorProps(ctx context.Context, s crmsync.Side, o crmsync.ObjectType, plan *mapping.Plan) (map[string]string, error) {
	conv, err := r.converter(ctx)
	if err != nil {
		return nil, err
	}
	var props map[string]string
	if s == crmsync.HubSpot {
		props, err = conv.HubSpotWrites(plan.Writes(s))
	} else {
		props, err = conv.SalesforceWrites(plan.Writes(s))
	}
	if err != nil {
		return nil, r.vendorFailure(ctx, r.t.Record, "convert values for "+string(s), err)
	}
	if err := r.accountProps(ctx, s, props, plan); err != nil {
		return nil, err
	}
	email, ok := props[ownerKey]
	if !ok {
		return props, nil
	}
	delete(props, ownerKey)
	keep := func(note string) {
		r.notes = append(r.notes, note)
		k := crmsync.FieldMapping{HubSpotProperty: ownerKey, SalesforceField: ownerKey}.Key()
		if old, ok := r.shadow()[k]; ok {
			plan.Shadow[k] = old
		} else {
			delete(plan.Shadow, k)
		}
		// Not written: the ledger must not list it as a change.
		for i := range plan.Fields {
			if plan.Fields[i].Mapping.Key() == k {
				plan.Fields[i].Action, plan.Fields[i].Why = mapping.Keep, note
			}
		}
	}
	if email == "" {
		keep(fmt.Sprintf("owner cleared on %s: not cleared on %s", s.Other(), s))
		return props, nil
	}
	owners := r.e.crm(s).(crmsync.Owners)
	id, err := owners.OwnerID(ctx, email)
	if errors.Is(err, crmsync.ErrNotFound) {
		keep(fmt.Sprintf("owner %s has no user on %s: owner not changed", email, s))
		return props, nil
	}
	if err != nil {
		return nil, r.vendorFailure(ctx, r.t.Record, "look up owner "+email, err)
	}
	props[owners.OwnerProperty(o)] = id
	return props, nil
}

// eligible checks the eligibility rules; a refusal is recorded.
func (r *run) eligible(ctx context.Context, rec crmsync.Record) (bool, error) {
	src, s := r.t.Record, r.settings
	if r.pair.isContact() && emailOf(rec) == "" {
		return false, r.notEligible(ctx, crmsync.ReasonNoEmail, fmt.Sprintf("%s has no email address; contacts sync by email", src))
	}
	if src.Side == crmsync.HubSpot && r.pair.isContact() && s.InclusionListID != "" {
		lm, ok := r.e.HubSpot.(crmsync.ListMembership)
		if !ok {
			return false, fmt.Errorf("inclusion list %s is set but the HubSpot client cannot read lists", s.InclusionListID)
		}
		in, err := lm.InList(ctx, s.InclusionListID, src)
		if err != nil {
			return false, r.vendorFailure(ctx, src, "read inclusion list", err)
		}
		if !in {
			return false, r.notEligible(ctx, crmsync.ReasonNotInInclusionList,
				fmt.Sprintf("%s is not in the inclusion list %s", src, s.InclusionListID))
		}
	}
	if src.Side == crmsync.Salesforce {
		action := s.ContactsToHubSpot
		if src.Object == crmsync.SFLead {
			action = s.LeadsToHubSpot
		}
		if r.pair.isContact() && action == crmsync.InboundNothing {
			r.out.Decision = DecisionSkipped
			r.out.Reason = fmt.Sprintf("settings: Salesforce %s records do nothing in HubSpot", src.Object)
			return false, r.ledger(ctx, crmsync.RecordRef{}, nil, "", "skipped")
		}
	}
	return true, nil
}

// identify finds or creates the record on the other side and links it. It
// reports done when the resolution ended (refused or failed).
func (r *run) identify(ctx context.Context, rec crmsync.Record) (bool, error) {
	e, src := r.e, r.t.Record
	other := src.Side.Other()

	// Contacts match by email; nothing is created when a match exists.
	if r.pair.isContact() {
		match, err := r.findByEmail(ctx, other, emailOf(rec))
		if err != nil {
			return true, err
		}
		if match != nil {
			return r.adopt(ctx, *match)
		}
	}
	// A new company takes the Account of its synced contacts, if any.
	if r.pair.hs == crmsync.HSCompany && src.Side == crmsync.HubSpot {
		match, err := r.accountOfContacts(ctx, src)
		if err != nil {
			return true, r.vendorFailure(ctx, src, "find the account of the contacts of "+src.String(), err)
		}
		if match != nil {
			return r.adopt(ctx, *match)
		}
	}
	// Reserve the source id, so concurrent triggers create one record.
	if r.link == nil {
		now := e.now()
		res, err := e.Store.CreateLink(ctx, linkWith(crmsync.Link{Status: crmsync.LinkPending, PendingKey: r.t.DedupeKey,
			CreatedAt: now, UpdatedAt: now}, src))
		if errors.Is(err, crmsync.ErrConflict) {
			return true, errRetry{"another worker is creating the record linked to " + src.String()}
		}
		if err != nil {
			return true, fmt.Errorf("reserve link: %w", err)
		}
		r.link = &res
		r.out.LinkID = res.ID
	}

	target := r.createType(other)
	if r.pair.sf == "" {
		r.pair.sf = target
	}
	in, err := r.mergeInput(ctx, crmsync.Record{Ref: crmsync.RecordRef{Side: other, Object: target}})
	if err != nil {
		return true, r.vendorFailure(ctx, src, "read values of "+src.String(), err)
	}
	plan := mapping.Merge(in)
	props, err := r.vendorProps(ctx, other, target, &plan)
	if err != nil {
		return true, err
	}
	created, err := e.crm(other).Create(ctx, target, props)
	if err != nil {
		if !crmsync.IsTransient(err) && isVendor(err) {
			// Terminal: release the reservation so a fixed record can retry.
			if derr := e.Store.DeleteLink(ctx, r.link.ID, r.link.Version); derr != nil && !errors.Is(derr, crmsync.ErrNotFound) {
				return true, fmt.Errorf("release reservation after failed create: %w", derr)
			}
			r.out.LinkID = ""
		}
		return true, r.vendorFailure(ctx, src, fmt.Sprintf("create %s %s", other, target), err)
	}
	r.out.Writes = append(r.out.Writes, Write{Op: "create", Ref: created.Ref, Properties: props})
	r.records[other] = created

	l := linkWith(*r.link, created.Ref)
	l.Shadow = plan.Shadow
	var accountErr error
	if other == crmsync.HubSpot {
		if accountErr = r.writeAccount(ctx, created.Ref); accountErr != nil {
			// No account shadow: the next resolution reads and writes it.
			delete(l.Shadow, accountShadowKey)
		}
	}
	l.Status = crmsync.LinkActive
	l.PendingKey = ""
	r.setSeen(&l)
	l.UpdatedAt = e.now()
	updated, err := e.Store.UpdateLink(ctx, l)
	if errors.Is(err, crmsync.ErrVersionConflict) || errors.Is(err, crmsync.ErrConflict) {
		// Our reservation was claimed (we were slower than PendingLease) or
		// the new record was linked by another worker: the retry re-reads.
		return true, errRetry{fmt.Sprintf("link of %s changed while creating %s", src, created.Ref)}
	}
	if err != nil {
		return true, fmt.Errorf("complete link after creating %s: %w", created.Ref, err)
	}
	r.link = &updated
	if accountErr != nil {
		return true, r.vendorFailure(ctx, src, "set the company of "+created.Ref.String(), accountErr)
	}
	r.out.Decision = DecisionSynced
	r.out.Reason = fmt.Sprintf("created %s from %s", created.Ref, src)
	if err := r.ledger(ctx, created.Ref, plan.Fields, "create "+string(target), "created"); err != nil {
		return true, err
	}
	return true, r.clearError(ctx)
}

// adopt links the source to an existing record found by email.
func (r *run) adopt(ctx context.Context, match crmsync.Record) (bool, error) {
	e, src := r.e, r.t.Record
	if existing, err := e.Store.GetLink(ctx, match.Ref); err == nil && existing.Ref(src.Side) != src {
		msg := fmt.Sprintf("%s shares its email with %s, which is already linked to %s", src, match.Ref, existing.Ref(src.Side))
		return true, r.recordError(ctx, crmsync.SyncError{Category: crmsync.ReasonFlaggedDuplicate.Category(),
			Reason: crmsync.ReasonFlaggedDuplicate, Message: msg, Hint: crmsync.ReasonFlaggedDuplicate.Hint()}, DecisionNotEligible)
	} else if err != nil && !errors.Is(err, crmsync.ErrNotFound) {
		return true, fmt.Errorf("get link of %s: %w", match.Ref, err)
	}
	if match.Ref.Side == crmsync.Salesforce {
		r.pair.sf = match.Ref.Object
	}
	var l crmsync.Link
	var err error
	if r.link == nil {
		now := e.now()
		l, err = e.Store.CreateLink(ctx, linkWith(linkWith(crmsync.Link{Status: crmsync.LinkActive, CreatedAt: now, UpdatedAt: now}, src), match.Ref))
	} else {
		next := linkWith(*r.link, match.Ref)
		next.Status = crmsync.LinkActive
		next.PendingKey = ""
		next.UpdatedAt = e.now()
		l, err = e.Store.UpdateLink(ctx, next)
	}
	if errors.Is(err, crmsync.ErrConflict) || errors.Is(err, crmsync.ErrVersionConflict) {
		return true, errRetry{fmt.Sprintf("link %s ⇄ %s raced with another worker", src, match.Ref)}
	}
	if err != nil {
		return true, fmt.Errorf("link %s to %s: %w", src, match.Ref, err)
	}
	r.link = &l
	r.out.LinkID = l.ID
	r.records[match.Ref.Side] = match
	return false, nil
}

// findByEmail returns the most recently modified record with that email
// on side s among the pair's types, or nil.
func (r *run) findByEmail(ctx context.Context, s crmsync.Side, email string) (*crmsync.Record, error) {
	types := []crmsync.ObjectType{crmsync.HSContact}
	if s == crmsync.Salesforce {
		types = r.pair.candidates
		if r.pair.sf != "" {
			types = []crmsync.ObjectType{r.pair.sf}
		}
	}
	var best *crmsync.Record
	for _, o := range types {
		found, err := r.e.crm(s).FindByEmail(ctx, o, email, r.readProperties(s, o))
		if err != nil {
			return nil, r.vendorFailure(ctx, r.t.Record, fmt.Sprintf("find %s by email", o), err)
		}
		for i := range found {
			if best == nil || found[i].LastModified.After(best.LastModified) {
				best = &found[i]
			}
		}
	}
	return best, nil
}

func (r *run) createType(s crmsync.Side) crmsync.ObjectType {
	if s == crmsync.HubSpot {
		return r.pair.hs
	}
	if r.pair.sf != "" {
		return r.pair.sf
	}
	if r.settings.NewContactsAs == crmsync.CreateAsContact {
		return crmsync.SFContact
	}
	return crmsync.SFLead
}

// converter converts values between the CRMs' types for the pair, from
// the CRMs' field metadata when both offer it (HubSpotSchema,
// SalesforceSchema); otherwise values are compared and written as text.
func (r *run) converter(ctx context.Context) (*mapping.Converter, error) {
	if r.conv != nil {
		return r.conv, nil
	}
	hsS, ok1 := r.e.HubSpot.(HubSpotSchema)
	sfS, ok2 := r.e.Salesforce.(SalesforceSchema)
	if !ok1 || !ok2 {
		r.conv = mapping.NewConverter(r.mappings(), nil, nil)
		return r.conv, nil
	}
	hs, err := hsS.MappingProperties(ctx, r.pair.hs)
	if err != nil {
		return nil, fmt.Errorf("read HubSpot %s properties: %w", r.pair.hs, err)
	}
	sf, err := sfS.MappingFields(ctx, r.pair.sf)
	if err != nil {
		return nil, fmt.Errorf("describe Salesforce %s: %w", r.pair.sf, err)
	}
	r.conv = mapping.NewConverter(r.mappings(), hs, sf)
	return r.conv, nil
}

// mergeInput returns the pair in the merge's form: owner emails added and
// values converted to one comparable form. A value that cannot be read
// is an error wrapping crmsync.ErrInvalid.
func (r *run) mergeInput(ctx context.Context, other crmsync.Record) (mapping.Input, error) {
	hs, sf := r.records[crmsync.HubSpot], r.records[crmsync.Salesforce]
	if other.Ref.Side == crmsync.HubSpot {
		hs = other
	} else if other.Ref.Side == crmsync.Salesforce {
		sf = other
	}
	conv, err := r.converter(ctx)
	if err != nil {
		return mapping.Input{}, err
	}
	hs, sf, err = r.withAccount(ctx, withOwner(hs), withOwner(sf))
	if err != nil {
		return mapping.Input{}, err
	}
	hs, sf, err = conv.ForMerge(hs, sf)
	if err != nil {
		return mapping.Input{}, err
	}
	return mapping.Input{Mappings: r.mappings(), HubSpot: hs, Salesforce: sf, Shadow: r.mergeShadow(), Now: r.e.now()}, nil
}

// shadow is the link's shadow (nil without a link).
func (r *run) shadow() map[string]crmsync.FieldShadow {
	if r.link == nil {
		return nil
	}
	return r.link.Shadow
}

// pendingWrite is one side's write of a merged pair.
type pendingWrite struct {
	ref   crmsync.RecordRef
	props map[string]string
}

// mergeAndWrite merges a linked pair, writes what changed and finishes
// (link, ledger, sync error). When the run defers its writes (a batch),
// it stops after planning; the batch writes and calls finish.
func (r *run) mergeAndWrite(ctx context.Context) error {
	src := r.t.Record
	in, err := r.mergeInput(ctx, crmsync.Record{})
	if err != nil {
		return r.vendorFailure(ctx, src, "read values of "+src.String()+" and its linked record", err)
	}
	plan := mapping.Merge(in)
	for _, s := range crmsync.Sides {
		ref := r.link.Ref(s)
		props, err := r.vendorProps(ctx, s, ref.Object, &plan)
		if err != nil {
			return err
		}
		if len(props) > 0 {
			r.pending = append(r.pending, pendingWrite{ref: ref, props: props})
		}
	}
	r.plan = &plan
	if r.deferWrites {
		return nil
	}
	for _, w := range r.pending {
		if err := r.e.crm(w.ref.Side).Update(ctx, w.ref, w.props); err != nil {
			return r.vendorFailure(ctx, src, "update "+w.ref.String(), err)
		}
		r.wrote(w)
	}
	return r.finish(ctx)
}

// wrote records a write that succeeded.
func (r *run) wrote(w pendingWrite) {
	r.out.Writes = append(r.out.Writes, Write{Op: "update", Ref: w.ref, Properties: w.props})
}

// finish stores the new shadow, the ledger entry and clears the record's
// sync error, after every planned write succeeded.
func (r *run) finish(ctx context.Context) error {
	e, src, plan := r.e, r.t.Record, r.plan
	if err := r.writeAccount(ctx, r.link.Ref(crmsync.HubSpot)); err != nil {
		return r.vendorFailure(ctx, src, "set the company of "+r.link.Ref(crmsync.HubSpot).String(), err)
	}
	var calls []string
	for _, w := range r.out.Writes {
		calls = append(calls, w.Op+" "+w.Ref.String())
	}
	for _, f := range plan.Fields {
		if f.Conflict != nil {
			r.out.Conflicts++
		}
	}
	l := *r.link
	l.Shadow = plan.Shadow
	l.Status = crmsync.LinkActive
	l.UpdatedAt = e.now()
	r.setSeen(&l)
	updated, err := e.Store.UpdateLink(ctx, l)
	if errors.Is(err, crmsync.ErrVersionConflict) {
		return errRetry{"link " + l.ID + " changed while syncing"}
	}
	if err != nil {
		return fmt.Errorf("update link %s: %w", l.ID, err)
	}
	r.link = &updated
	if len(r.out.Writes) == 0 {
		r.out.Decision = DecisionNoChange
		r.out.Reason = "no mapped field changed since the last sync"
		switch {
		case r.t.ChangeSource != "" && r.t.AppID != "":
			r.out.Reason += fmt.Sprintf(" (change source %s, app %s)", r.t.ChangeSource, r.t.AppID)
		case r.t.ChangeSource != "":
			r.out.Reason += fmt.Sprintf(" (change source %s)", r.t.ChangeSource)
		case r.t.AppID != "":
			r.out.Reason += fmt.Sprintf(" (app %s)", r.t.AppID)
		}
	} else {
		r.out.Decision = DecisionSynced
		r.out.Reason = fmt.Sprintf("%d write(s)", len(r.out.Writes))
	}
	// The target is the record written (a Two-way change can go back to
	// the trigger's own side); with writes on both sides or none, the
	// other side's.
	target := r.link.Ref(src.Side.Other())
	if len(r.out.Writes) == 1 {
		target = r.out.Writes[0].Ref
	}
	if err := r.ledger(ctx, target, plan.Fields, joinCalls(calls), string(r.out.Decision)); err != nil {
		return err
	}
	return r.clearError(ctx)
}

func joinCalls(calls []string) string {
	out := ""
	for i, c := range calls {
		if i > 0 {
			out += "; "
		}
		out += c
	}
	return out
}

func (r *run) setSeen(l *crmsync.Link) {
	if rec, ok := r.records[crmsync.HubSpot]; ok {
		l.HubSpotSeen = rec.LastModified
	}
	if rec, ok := r.records[crmsync.Salesforce]; ok {
		l.SalesforceSeen = rec.LastModified
	}
}

// linkWith returns l with ref set on its side.
func linkWith(l crmsync.Link, ref crmsync.RecordRef) crmsync.Link {
	if ref.Side == crmsync.HubSpot {
		l.HubSpot = ref
	} else {
		l.Salesforce = ref
	}
	return l
}

// sourceGone handles a source record that no longer exists (deleted, or
// not visible): the link, if any, is marked; the linked record is deleted
// only with the mirror delete policy and only when the vendor said the
// source was deleted.
func (r *run) sourceGone(ctx context.Context) error {
	src := r.t.Record
	r.out.Decision = DecisionSourceGone
	r.out.Reason = fmt.Sprintf("%s no longer exists or is not visible", src)
	if r.deletedByVendor() {
		r.out.Reason = fmt.Sprintf("%s was deleted (%s)", src, r.t.Kind)
	}
	if r.link == nil || r.link.Status == crmsync.LinkPending {
		return r.ledger(ctx, crmsync.RecordRef{}, nil, "", "source gone")
	}
	if merged, err := r.mergedAway(ctx); merged || err != nil {
		return err
	}
	if err := r.mirrorDelete(ctx); err != nil {
		return err
	}
	return r.markGone(ctx, src)
}

// linkedGone handles a linked record on the other side that no longer
// exists: the link is marked, nothing is recreated.
func (r *run) linkedGone(ctx context.Context, other crmsync.RecordRef) error {
	r.out.Decision = DecisionSourceGone
	r.out.Reason = fmt.Sprintf("the linked record %s no longer exists or is not visible", other)
	return r.markGone(ctx, other)
}

func (r *run) markGone(ctx context.Context, gone crmsync.RecordRef) error {
	l := *r.link
	l.Status = crmsync.LinkDeletedHubSpot
	if gone.Side == crmsync.Salesforce {
		l.Status = crmsync.LinkDeletedSalesforce
	}
	// The first deletion is the one the link keeps: when a mirrored
	// delete (or a later delete of the other record) comes back, the link
	// still says which side was deleted first.
	if prev := r.link.Status; prev == crmsync.LinkDeletedHubSpot || prev == crmsync.LinkDeletedSalesforce {
		return r.ledger(ctx, crmsync.RecordRef{}, nil, "", "already marked "+string(prev))
	}
	l.UpdatedAt = r.e.now()
	updated, err := r.e.Store.UpdateLink(ctx, l)
	if errors.Is(err, crmsync.ErrVersionConflict) {
		return errRetry{"link " + l.ID + " changed while marking it"}
	}
	if err != nil {
		return fmt.Errorf("mark link %s: %w", l.ID, err)
	}
	r.link = &updated
	return r.ledger(ctx, crmsync.RecordRef{}, nil, "", "link marked "+string(l.Status))
}
