package engine

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/crmsync/crmsync/pkg/crmsync"
	"github.com/crmsync/crmsync/pkg/mapping"
)

// Associations: a contact's primary company ⇄ Contact.AccountId and a
// deal's (primary) company ⇄ Opportunity.AccountId.
//
// They are merged like a field, as the owner is (ownerKey): a synthetic
// two-way property accountKey, present for contact⇄Contact and
// deal⇄Opportunity pairs (not Lead: a lead has a Company text field)
// while company sync is on and the HubSpot client can read associations
// (crmsync.Associations). Being a field, an association gets the merge's
// shadow, echo suppression, the later-change-wins rule, conflicts and
// ledger lines for free, instead of a second decision path. Its value, in
// Salesforce's terms on both sides, is:
//
//   - Salesforce: the record's AccountId;
//   - HubSpot: the Salesforce Account linked to the record's primary
//     company; "" without one; unlinkedPrefix + the company id when that
//     company is not synced (yet) — not "", so a contact moved to an
//     unsynced company is not mistaken for one whose company was removed.
//     With several companies and none primary, the one synced last while
//     it is still among them, else none.
//
// A value that cannot be written — an account or company not synced yet —
// is left out, noted in the ledger and its shadow kept (as for an owner),
// so it is neither retried as a write nor mistaken for a change; the
// shadow also gets accountPendingKey, which makes the record's next
// resolution re-read the association and write it once the company is
// synced. (Nothing enqueues that resolution when the company syncs: the
// record's next change, association change or the sweep does.)
//
// API cost: HubSpot's associations are read (one v4 batch read) only when
// they may have changed or matter: when the link has no account shadow
// yet (first sync, creation), when a write is pending, and for triggers
// other than property changes (association changes, HubSpot creations,
// sweeps, resyncs, merges, restores) — including any such trigger a batch
// resolves together with a property change. A property change, and so
// every echo of crmsync's own property writes, assumes the association is
// as last synced. The Salesforce side costs nothing: AccountId is read
// with the record. Writing an association costs the HubSpot client's
// SetPrimary: a create, and an archive of the previous primary if there
// was one, plus a read of the current one unless this resolution read it
// (or created the record) — so a resolution reads associations once.
//
// A new HubSpot company first looks for the Account of its synced
// contacts (accountOfContacts) and links to it instead of creating one;
// companies are never matched by domain or name.

// accountKey is the synthetic property associations are merged under.
const accountKey = "@account"

// accountPendingKey is a shadow entry no mapping has: the last resolution
// could not write the association.
const accountPendingKey = "@account-pending"

// unlinkedPrefix starts the HubSpot value of a company not linked to an
// Account.
const unlinkedPrefix = "hubspot-company:"

// accountField is the Salesforce field the association is held in.
const accountField = "AccountId"

// maxContactsForAccount bounds how many of a new company's contacts are
// consulted for its Account.
const maxContactsForAccount = 200

func accountMapping(hs, sf crmsync.ObjectType) crmsync.FieldMapping {
	return crmsync.FieldMapping{HubSpotObject: hs, SalesforceObject: sf,
		HubSpotProperty: accountKey, SalesforceField: accountKey, Rule: crmsync.RuleTwoWay}
}

var accountShadowKey = accountMapping("", "").Key()

// accountsFor reports whether records of Salesforce type o carry the
// association.
func (r *run) accountsFor(o crmsync.ObjectType) bool {
	if !r.settings.Objects.Companies || (o != crmsync.SFContact && o != crmsync.SFOpportunity) {
		return false
	}
	_, ok := r.e.HubSpot.(crmsync.Associations)
	return ok
}

func (r *run) accountsOn() bool { return r.accountsFor(r.pair.sf) }

// needAccountRead reports whether this resolution reads HubSpot's
// association (see the cost note above).
func (r *run) needAccountRead() bool {
	sh := r.shadow()
	if _, ok := sh[accountShadowKey]; !ok {
		return true
	}
	if _, ok := sh[accountPendingKey]; ok {
		return true
	}
	for _, t := range append([]crmsync.Trigger{r.t}, r.covered...) {
		switch t.Kind {
		case crmsync.KindPropertyChanged:
		case crmsync.KindCreated:
			if t.Record.Side == crmsync.HubSpot {
				return true
			}
		default:
			return true
		}
	}
	return false
}

// withAccount adds accountKey to the pair's records (copies, as withOwner
// returns them).
func (r *run) withAccount(ctx context.Context, hs, sf crmsync.Record) (crmsync.Record, crmsync.Record, error) {
	if !r.accountsOn() {
		return hs, sf, nil
	}
	if sf.Ref.ID != "" {
		sf.Properties[accountKey] = sf.Properties[accountField]
	}
	if hs.Ref.ID == "" { // not created yet: no associations
		none := ""
		r.hsPrimary = &none
		return hs, sf, nil
	}
	if !r.needAccountRead() {
		hs.Properties[accountKey] = r.shadow()[accountShadowKey].Value
		return hs, sf, nil
	}
	as := r.e.HubSpot.(crmsync.Associations)
	ids, primary, err := as.Associated(ctx, hs.Ref, crmsync.HSCompany)
	if err != nil {
		return hs, sf, fmt.Errorf("read company of %s: %w", hs.Ref, err)
	}
	if primary == "" && len(ids) > 1 {
		// Several companies, none primary: the one synced last while it
		// is still among them, else none.
		if primary, err = r.lastSyncedCompany(ctx, ids); err != nil {
			return hs, sf, err
		}
	}
	r.hsPrimary = &primary
	v, err := r.accountOfCompany(ctx, primary)
	if err != nil {
		return hs, sf, err
	}
	hs.Properties[accountKey] = v
	return hs, sf, nil
}

// lastSyncedCompany returns the company linked to the Account in the
// shadow when it is among ids, else "".
func (r *run) lastSyncedCompany(ctx context.Context, ids []string) (string, error) {
	sh, ok := r.shadow()[accountShadowKey]
	if !ok || sh.Value == "" {
		return "", nil
	}
	l, err := r.e.Store.GetLink(ctx, crmsync.RecordRef{Side: crmsync.Salesforce, Object: crmsync.SFAccount, ID: sh.Value})
	if errors.Is(err, crmsync.ErrNotFound) {
		return "", nil
	}
	if err != nil {
		return "", fmt.Errorf("get link of account %s: %w", sh.Value, err)
	}
	if slices.Contains(ids, l.HubSpot.ID) {
		return l.HubSpot.ID, nil
	}
	return "", nil
}

// accountOfCompany is the HubSpot value of company id.
func (r *run) accountOfCompany(ctx context.Context, id string) (string, error) {
	if id == "" {
		return "", nil
	}
	l, err := r.e.Store.GetLink(ctx, crmsync.RecordRef{Side: crmsync.HubSpot, Object: crmsync.HSCompany, ID: id})
	switch {
	case errors.Is(err, crmsync.ErrNotFound):
		return unlinkedPrefix + id, nil
	case err != nil:
		return "", fmt.Errorf("get link of company %s: %w", id, err)
	case l.Status != crmsync.LinkActive || l.Salesforce.IsZero():
		return unlinkedPrefix + id, nil
	}
	return l.Salesforce.ID, nil
}

// mergeShadow is the shadow the merge starts from: the link's, without
// the pending mark (accountProps sets it again when still pending).
func (r *run) mergeShadow() map[string]crmsync.FieldShadow {
	sh := r.shadow()
	if _, ok := sh[accountPendingKey]; !ok {
		return sh
	}
	out := make(map[string]crmsync.FieldShadow, len(sh))
	for k, v := range sh {
		if k != accountPendingKey {
			out[k] = v
		}
	}
	return out
}

// accountProps turns a planned accountKey write to side s into the
// vendor's: AccountId on Salesforce; on HubSpot, the company to make
// primary, kept in r.accountWrite for writeAccount. A value that cannot
// be written is left out, noted, its shadow kept and marked pending.
func (r *run) accountProps(ctx context.Context, s crmsync.Side, props map[string]string, plan *mapping.Plan) error {
	v, ok := props[accountKey]
	if !ok {
		return nil
	}
	delete(props, accountKey)
	keep := func(note string) {
		r.notes = append(r.notes, note)
		if old, ok := r.shadow()[accountShadowKey]; ok {
			plan.Shadow[accountShadowKey] = old
		} else {
			delete(plan.Shadow, accountShadowKey)
		}
		plan.Shadow[accountPendingKey] = crmsync.NewFieldShadow(v, r.e.now())
		// Not written: the ledger must not list it as a change.
		for i := range plan.Fields {
			if plan.Fields[i].Mapping.Key() == accountShadowKey {
				plan.Fields[i].Action, plan.Fields[i].Why = mapping.Keep, note
			}
		}
	}
	if s == crmsync.Salesforce {
		if id, ok := strings.CutPrefix(v, unlinkedPrefix); ok {
			keep(fmt.Sprintf("company %s is not synced to an Account yet: %s not changed", id, accountField))
			return nil
		}
		props[accountField] = v
		return nil
	}
	company := ""
	if v != "" {
		l, err := r.e.Store.GetLink(ctx, crmsync.RecordRef{Side: crmsync.Salesforce, Object: crmsync.SFAccount, ID: v})
		if err != nil && !errors.Is(err, crmsync.ErrNotFound) {
			return fmt.Errorf("get link of account %s: %w", v, err)
		}
		if err != nil || l.Status != crmsync.LinkActive || l.HubSpot.IsZero() {
			keep(fmt.Sprintf("account %s is not synced to a HubSpot company yet: company association not changed", v))
			return nil
		}
		company = l.HubSpot.ID
	}
	r.accountWrite = &company
	return nil
}

// writeAccount makes the planned company ref's primary one. It returns
// the vendor's error as it is (callers turn it into the run's result).
func (r *run) writeAccount(ctx context.Context, ref crmsync.RecordRef) error {
	if r.accountWrite == nil {
		return nil
	}
	company := *r.accountWrite
	ch := crmsync.PrimaryChange{To: crmsync.HSCompany, ToID: company}
	if r.hsPrimary != nil {
		ch.Known, ch.Previous = true, *r.hsPrimary
	}
	if err := r.e.HubSpot.(crmsync.Associations).SetPrimary(ctx, ref, ch); err != nil {
		return err
	}
	r.accountWrite = nil
	r.out.Writes = append(r.out.Writes, Write{Op: "associate", Ref: ref, Properties: map[string]string{string(crmsync.HSCompany): company}})
	return nil
}

// accountOfContacts finds the Account of a new HubSpot company through its
// contacts already synced to Salesforce Contacts: the AccountId most of
// them hold (ties: the smallest id) among Accounts not linked to another
// company. nil when there is none. Errors are returned as they are.
func (r *run) accountOfContacts(ctx context.Context, company crmsync.RecordRef) (*crmsync.Record, error) {
	as, ok := r.e.HubSpot.(crmsync.Associations)
	if !ok {
		return nil, nil
	}
	ids, _, err := as.Associated(ctx, company, crmsync.HSContact)
	if err != nil {
		return nil, fmt.Errorf("read contacts of %s: %w", company, err)
	}
	var sfIDs []string
	for _, id := range ids[:min(len(ids), maxContactsForAccount)] {
		l, err := r.e.Store.GetLink(ctx, crmsync.RecordRef{Side: crmsync.HubSpot, Object: crmsync.HSContact, ID: id})
		if errors.Is(err, crmsync.ErrNotFound) {
			continue
		}
		if err != nil {
			return nil, fmt.Errorf("get link of contact %s: %w", id, err)
		}
		if l.Status == crmsync.LinkActive && l.Salesforce.Object == crmsync.SFContact {
			sfIDs = append(sfIDs, l.Salesforce.ID)
		}
	}
	if len(sfIDs) == 0 {
		return nil, nil
	}
	contacts, err := r.readMany(ctx, crmsync.SFContact, sfIDs, []string{accountField})
	if err != nil {
		return nil, fmt.Errorf("read the Salesforce contacts of %s: %w", company, err)
	}
	counts := map[string]int{}
	for _, c := range contacts {
		if a := c.Properties[accountField]; a != "" {
			counts[a]++
		}
	}
	accounts := make([]string, 0, len(counts))
	for a := range counts {
		accounts = append(accounts, a)
	}
	slices.SortFunc(accounts, func(a, b string) int {
		if counts[a] != counts[b] {
			return counts[b] - counts[a]
		}
		return strings.Compare(a, b)
	})
	for _, a := range accounts {
		ref := crmsync.RecordRef{Side: crmsync.Salesforce, Object: crmsync.SFAccount, ID: a}
		if _, err := r.e.Store.GetLink(ctx, ref); err == nil {
			r.notes = append(r.notes, fmt.Sprintf("account %s of the company's contacts is linked to another company", a))
			continue
		} else if !errors.Is(err, crmsync.ErrNotFound) {
			return nil, fmt.Errorf("get link of account %s: %w", a, err)
		}
		rec, err := r.get(ctx, ref)
		if errors.Is(err, crmsync.ErrNotFound) {
			continue
		}
		if err != nil {
			return nil, fmt.Errorf("read %s: %w", ref, err)
		}
		r.notes = append(r.notes, fmt.Sprintf("linked to %s, the account of %d of the company's synced contacts", a, counts[a]))
		return &rec, nil
	}
	return nil, nil
}

// readMany reads Salesforce records by id: one batch call when the CRM can
// (crmsync.BatchCRM), else one by one. Records not found are left out.
func (r *run) readMany(ctx context.Context, o crmsync.ObjectType, ids []string, props []string) ([]crmsync.Record, error) {
	if b, ok := r.e.Salesforce.(crmsync.BatchCRM); ok && len(ids) > 1 {
		got, err := b.GetMany(ctx, o, ids, props)
		if err != nil {
			return nil, err
		}
		out := make([]crmsync.Record, 0, len(got))
		for _, id := range ids {
			if rec, ok := got[id]; ok {
				out = append(out, rec)
			}
		}
		return out, nil
	}
	var out []crmsync.Record
	for _, id := range ids {
		rec, err := r.e.Salesforce.Get(ctx, crmsync.RecordRef{Side: crmsync.Salesforce, Object: o, ID: id}, props)
		if errors.Is(err, crmsync.ErrNotFound) {
			continue
		}
		if err != nil {
			return nil, err
		}
		out = append(out, rec)
	}
	return out, nil
}
