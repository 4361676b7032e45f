package engine

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/crmsync/crmsync/pkg/crmsync"
	"github.com/crmsync/crmsync/pkg/mapping"
)

// opError is a failed vendor call during a resolution, named by what it
// was for; failure classifies it.
type opError struct {
	op  string
	err error
}

func (e opError) Error() string { return e.op + ": " + e.err.Error() }
func (e opError) Unwrap() error { return e.err }

// prefetch holds records a batch read ahead of its resolutions.
type prefetch struct {
	records map[crmsync.RecordRef]crmsync.Record
	missing map[crmsync.RecordRef]bool
	// matches are identity matches a bulk page asked for by many emails
	// at once (bulk.go); an email absent was not asked.
	matches map[emailKey][]crmsync.Record
}

// get reads a record: from what the batch read ahead, else with a Get.
func (e *Engine) get(ctx context.Context, pre *prefetch, f *facts, ref crmsync.RecordRef) (crmsync.Record, error) {
	if rec, ok := pre.records[ref]; ok {
		return rec, nil
	}
	if pre.missing[ref] {
		return crmsync.Record{}, fmt.Errorf("read %s: %w", ref, crmsync.ErrNotFound)
	}
	return e.crm(ref.Side).Get(ctx, ref, readProperties(f.settings, ref.Side, ref.Object))
}

// read gathers the facts of one resolution, stopping as soon as what was
// read decides it (a gone record, a refusal, a reservation held
// elsewhere). Errors are store failures (retried) or opErrors.
func (e *Engine) read(ctx context.Context, j *job, pre *prefetch) (*facts, error) {
	f := &facts{t: j.t, also: j.also, settings: j.settings, pair: j.pair.withLink(j.link), link: j.link,
		recs: map[crmsync.Side]crmsync.Record{}, now: e.now()}
	src := f.src()
	f.found.notes = append(f.found.notes, j.notes...)
	f.found.ownChange = src.Side == crmsync.HubSpot && e.OwnHubSpotAppID != "" &&
		j.t.ChangeSource == "INTEGRATION/"+e.OwnHubSpotAppID
	rec, err := e.get(ctx, pre, f, src)
	if errors.Is(err, crmsync.ErrNotFound) {
		return f, e.readGone(ctx, f)
	}
	if err != nil {
		return f, opError{"read " + src.String(), err}
	}
	f.recs[src.Side] = rec
	if convertedInto(rec) != "" && f.link != nil {
		if err := e.readConversion(ctx, f, rec); err != nil || f.found.converted.contactLink != nil {
			return f, err
		}
	} else if err := e.readEligibility(ctx, f); err != nil || eligibility(f) != nil || reservationHeld(f) {
		return f, err
	}
	if other := f.linkedOther(); !other.IsZero() {
		if err := e.readOther(ctx, f, pre, other); err != nil || !f.found.gone.ref.IsZero() || conversionRefusal(f) != nil {
			return f, err
		}
	} else if err := e.readIdentity(ctx, f, pre); err != nil || f.found.matchLink != nil {
		return f, err
	}
	return f, e.readLookups(ctx, f)
}

// readOther reads the linked record on the other side (and, for a
// converted lead, the contact it became).
func (e *Engine) readOther(ctx context.Context, f *facts, pre *prefetch, other crmsync.RecordRef) error {
	orec, err := e.get(ctx, pre, f, other)
	if errors.Is(err, crmsync.ErrNotFound) {
		f.found.gone.ref = other
		return e.readVisibility(ctx, f, other)
	}
	if err != nil {
		return opError{"read " + other.String(), err}
	}
	f.recs[other.Side] = orec
	if convertedInto(orec) != "" {
		return e.readConversion(ctx, f, orec)
	}
	return nil
}

// readGone reads what a gone source needs: whether it was merged away
// (crmsync.MergeResolver) and whether the survivor has a link.
func (e *Engine) readGone(ctx context.Context, f *facts) error {
	src := f.src()
	f.found.gone.ref = src
	if err := e.readVisibility(ctx, f, src); err != nil || f.found.gone.invisible {
		return err
	}
	if f.link == nil || f.link.Status == crmsync.LinkPending {
		return nil
	}
	mr, ok := e.crm(src.Side).(crmsync.MergeResolver)
	if !ok {
		return nil
	}
	survivor, ok, err := mr.MergedInto(ctx, src)
	if err != nil {
		return opError{"look up the merge of " + src.String(), err}
	}
	if !ok {
		return nil
	}
	f.found.gone.survivor = survivor
	_, err = e.Store.GetLink(ctx, survivor)
	f.found.gone.survivorLinked = err == nil
	if err != nil && !errors.Is(err, crmsync.ErrNotFound) {
		return fmt.Errorf("get link of %s: %w", survivor, err)
	}
	return nil
}

// readVisibility tells a record the CRM did not return because the
// integration user cannot see it from a deleted one (crmsync.DeletionCheck),
// unless the trigger says the vendor deleted it.
func (e *Engine) readVisibility(ctx context.Context, f *facts, ref crmsync.RecordRef) error {
	dc, ok := e.crm(ref.Side).(crmsync.DeletionCheck)
	if !ok || (ref == f.src() && deletedByVendor(f.t)) {
		return nil
	}
	deleted, err := dc.Deleted(ctx, ref)
	if err != nil {
		return opError{"ask whether " + ref.String() + " was deleted", err}
	}
	f.found.gone.invisible = !deleted
	return nil
}

// readEligibility asks HubSpot about the inclusion list when the rule
// needs it.
func (e *Engine) readEligibility(ctx context.Context, f *facts) error {
	src, listID := f.src(), f.settings.InclusionListID
	if src.Side != crmsync.HubSpot || !f.pair.isContact() || listID == "" || emailOf(f.recs[src.Side]) == "" {
		return nil
	}
	in, err := e.HubSpot.InList(ctx, listID, src)
	if err != nil {
		return opError{"read inclusion list", err}
	}
	f.found.inList = &in
	return nil
}

// readIdentity finds the other side's record of an unlinked source:
// contacts by email (the most recently modified), a new HubSpot company
// by the Account of its synced contacts. It reads the match's own link.
func (e *Engine) readIdentity(ctx context.Context, f *facts, pre *prefetch) error {
	src := f.src()
	var err error
	switch {
	case f.pair.isContact():
		f.found.match, err = e.findByEmail(ctx, f, pre, emailOf(f.recs[src.Side]))
	case f.pair.hs == crmsync.HSCompany && src.Side == crmsync.HubSpot:
		f.found.match, err = e.accountOfContacts(ctx, f)
	}
	if err != nil || f.found.match == nil {
		return err
	}
	m := *f.found.match
	l, err := e.Store.GetLink(ctx, m.Ref)
	switch {
	case err == nil && l.Ref(src.Side) != src:
		f.found.matchLink = &l
	case err == nil:
	case !errors.Is(err, crmsync.ErrNotFound):
		return fmt.Errorf("get link of %s: %w", m.Ref, err)
	}
	if err := e.readConvertedFrom(ctx, f); err != nil {
		return err
	}
	f.recs[m.Ref.Side] = m
	if m.Ref.Side == crmsync.Salesforce {
		f.pair.sf = m.Ref.Object
	}
	return nil
}

// findByEmail returns the most recently modified record with that email
// on the other side among the pair's types, or nil: as a bulk page read
// it (pre), else asked of the CRM.
func (e *Engine) findByEmail(ctx context.Context, f *facts, pre *prefetch, email string) (*crmsync.Record, error) {
	s := f.other()
	var best *crmsync.Record
	for _, o := range f.pair.matchTypes(s) {
		found, ok := pre.matches[emailKey{s, o, normalEmail(email)}]
		if !ok {
			var err error
			found, err = e.crm(s).FindByEmail(ctx, o, email, readProperties(f.settings, s, o))
			if err != nil {
				return nil, opError{fmt.Sprintf("find %s by email", o), err}
			}
		}
		for i := range found {
			if best == nil || found[i].LastModified.After(best.LastModified) {
				best = &found[i]
			}
		}
	}
	return best, nil
}

// readLookups reads what turning a merge into writes needs: the
// converter's metadata, the associations and the owners' user ids.
func (e *Engine) readLookups(ctx context.Context, f *facts) error {
	if f.pair.sf == "" {
		f.pair.sf = f.pair.createType(crmsync.Salesforce, f.settings)
	}
	conv, sfFields, err := e.converter(ctx, f)
	if err != nil {
		return err
	}
	f.conv = conv
	f.readAddress(sfFields)
	if err := e.readAccounts(ctx, f); err != nil {
		return err
	}
	return e.readOwners(ctx, f)
}

// converter converts values between the CRMs' types for the pair, from
// the CRMs' field metadata when both offer it (HubSpotSchema,
// SalesforceSchema); otherwise values are compared and written as text.
// It also returns the Salesforce object's field metadata (nil without).
func (e *Engine) converter(ctx context.Context, f *facts) (*mapping.Converter, map[string]mapping.SalesforceField, error) {
	hsS, ok1 := e.crm(crmsync.HubSpot).(HubSpotSchema)
	sfS, ok2 := e.crm(crmsync.Salesforce).(SalesforceSchema)
	if !ok1 || !ok2 {
		return mapping.NewConverter(f.mappings(), nil, nil), nil, nil
	}
	hs, err := hsS.MappingProperties(ctx, f.pair.hs)
	if err != nil {
		return nil, nil, opError{"read HubSpot " + string(f.pair.hs) + " properties", err}
	}
	sf, err := sfS.MappingFields(ctx, f.pair.sf)
	if err != nil {
		return nil, nil, opError{"describe Salesforce " + string(f.pair.sf), err}
	}
	return mapping.NewConverter(f.mappings(), hs, sf), sf, nil
}

// readOwners looks up, on each side, the user of the other side's owner
// email — only when the owners differ, so a write may follow.
func (e *Engine) readOwners(ctx context.Context, f *facts) error {
	hs, hok := f.recs[crmsync.HubSpot]
	sf, sok := f.recs[crmsync.Salesforce]
	if hok && sok && ownerEmail(hs) == ownerEmail(sf) {
		return nil
	}
	f.look.owners = map[crmsync.Side]map[string]string{}
	f.look.ownerProp = map[crmsync.Side]string{crmsync.HubSpot: e.HubSpot.OwnerProperty(f.pair.hs),
		crmsync.Salesforce: e.Salesforce.OwnerProperty(f.pair.sf)}
	for _, s := range crmsync.Sides {
		from, ok := f.recs[s.Other()]
		email := ownerEmail(from)
		if !ok || email == "" {
			continue
		}
		id, err := e.crm(s).OwnerID(ctx, email)
		if errors.Is(err, crmsync.ErrNotFound) {
			id, err = "", nil
		}
		if err != nil {
			return opError{"look up owner " + email, err}
		}
		f.look.owners[s] = map[string]string{email: id}
	}
	return nil
}

// reservationHeld reports whether another worker holds a young
// reservation of the source: a creation is in progress elsewhere.
func reservationHeld(f *facts) bool {
	l := f.link
	if l == nil || l.Status != crmsync.LinkPending || l.PendingKey == f.t.DedupeKey {
		return false
	}
	return f.now.Sub(l.UpdatedAt) < PendingLease
}

// reservationAge is how old the source's reservation is.
func reservationAge(f *facts) time.Duration { return f.now.Sub(f.link.UpdatedAt).Round(time.Second) }
