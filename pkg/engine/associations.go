package engine

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/crmsync/crmsync/pkg/crmsync"
)

// Associations: a contact's primary company ⇄ Contact.AccountId and a
// deal's (primary) company ⇄ Opportunity.AccountId.
//
// They are merged like a field, as the owner is (ownerKey): a synthetic
// two-way property accountKey, present for contact⇄Contact and
// deal⇄Opportunity pairs (not Lead: a lead has a Company text field)
// while company sync is on. Being a field, an association gets the
// merge's shadow, echo suppression, the later-change-wins rule, conflicts
// and ledger lines for free, instead of a second decision path. Its value,
// in Salesforce's terms on both sides, is:
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
// association under settings.
func accountsFor(settings crmsync.Settings, o crmsync.ObjectType) bool {
	return settings.Objects.Companies && (o == crmsync.SFContact || o == crmsync.SFOpportunity)
}

func (f *facts) accountsOn() bool { return accountsFor(f.settings, f.pair.sf) }

// needAccountRead reports whether this resolution reads HubSpot's
// association (see the cost note above).
func (f *facts) needAccountRead() bool {
	sh := f.shadow()
	if _, ok := sh[accountShadowKey]; !ok {
		return true
	}
	if _, ok := sh[accountPendingKey]; ok {
		return true
	}
	for _, t := range f.triggers() {
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

// readAccounts reads what the association's merge and writes need: the
// HubSpot record's primary company and its Account, and — when it may be
// written to HubSpot — the company of the Salesforce record's Account.
func (e *Engine) readAccounts(ctx context.Context, f *facts) error {
	if !f.accountsOn() {
		return nil
	}
	f.look.companyOf = map[string]string{}
	if err := e.readHubSpotAccount(ctx, f); err != nil {
		return err
	}
	sf, ok := f.recs[crmsync.Salesforce]
	if !ok {
		return nil
	}
	hsValue := f.shadow()[accountShadowKey].Value
	if f.look.hsAccount != nil {
		hsValue = *f.look.hsAccount
	}
	if v := sf.Properties[accountField]; v != hsValue {
		return e.readCompanyOf(ctx, f, v)
	}
	return nil
}

// readHubSpotAccount reads the HubSpot record's primary company and its
// Account when needAccountRead says so.
func (e *Engine) readHubSpotAccount(ctx context.Context, f *facts) error {
	hs, ok := f.recs[crmsync.HubSpot]
	if !ok { // not created yet: no associations
		none := ""
		f.look.hsPrimary, f.look.hsAccount = &none, &none
		return nil
	}
	if !f.needAccountRead() {
		return nil
	}
	ids, primary, err := e.HubSpot.Associated(ctx, hs.Ref, crmsync.HSCompany)
	if err != nil {
		return opError{"read the company of " + hs.Ref.String(), err}
	}
	if primary == "" && len(ids) > 1 {
		if primary, err = e.lastSyncedCompany(ctx, f, ids); err != nil {
			return err
		}
	}
	v, err := e.accountOfCompany(ctx, primary)
	if err != nil {
		return err
	}
	f.look.hsPrimary, f.look.hsAccount = &primary, &v
	return nil
}

// readCompanyOf looks up the company linked to Account id.
func (e *Engine) readCompanyOf(ctx context.Context, f *facts, id string) error {
	if id == "" || strings.HasPrefix(id, unlinkedPrefix) {
		return nil
	}
	l, err := e.Store.GetLink(ctx, crmsync.RecordRef{Side: crmsync.Salesforce, Object: crmsync.SFAccount, ID: id})
	switch {
	case errors.Is(err, crmsync.ErrNotFound):
		f.look.companyOf[id] = ""
	case err != nil:
		return fmt.Errorf("get link of account %s: %w", id, err)
	case l.Status != crmsync.LinkActive || l.HubSpot.IsZero():
		f.look.companyOf[id] = ""
	default:
		f.look.companyOf[id] = l.HubSpot.ID
	}
	return nil
}

// lastSyncedCompany returns the company linked to the Account in the
// shadow when it is among ids, else "".
func (e *Engine) lastSyncedCompany(ctx context.Context, f *facts, ids []string) (string, error) {
	sh, ok := f.shadow()[accountShadowKey]
	if !ok || sh.Value == "" {
		return "", nil
	}
	l, err := e.Store.GetLink(ctx, crmsync.RecordRef{Side: crmsync.Salesforce, Object: crmsync.SFAccount, ID: sh.Value})
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

// accountOfCompany is the association value of company id.
func (e *Engine) accountOfCompany(ctx context.Context, id string) (string, error) {
	if id == "" {
		return "", nil
	}
	l, err := e.Store.GetLink(ctx, crmsync.RecordRef{Side: crmsync.HubSpot, Object: crmsync.HSCompany, ID: id})
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

// withAccount adds accountKey to the pair's merge records (copies made by
// withOwner).
func (f *facts) withAccount(hs, sf crmsync.Record) {
	if !f.accountsOn() {
		return
	}
	if sf.Ref.ID != "" {
		sf.Properties[accountKey] = sf.Properties[accountField]
	}
	if hs.Ref.ID == "" {
		return
	}
	if f.look.hsAccount != nil {
		hs.Properties[accountKey] = *f.look.hsAccount
	} else {
		hs.Properties[accountKey] = f.shadow()[accountShadowKey].Value
	}
}

// mergeShadow is the shadow the merge starts from: the link's, without
// the pending mark (accountWrite sets it again when still pending).
func (f *facts) mergeShadow() map[string]crmsync.FieldShadow {
	sh := f.shadow()
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

// accountWrite turns a planned accountKey write to side s into the
// vendor's: AccountId on Salesforce; on HubSpot, the company to make
// primary (p.Writes.Account). A value that cannot be written is left out,
// noted, its shadow kept and marked pending. Pure.
func (f *facts) accountWrite(s crmsync.Side, props map[string]string, p *Plan) {
	v, ok := props[accountKey]
	if !ok {
		return
	}
	delete(props, accountKey)
	keep := func(note string) {
		p.keep(f, accountShadowKey, note)
		p.Link.Next.Shadow[accountPendingKey] = crmsync.NewFieldShadow(v, f.now)
	}
	if s == crmsync.Salesforce {
		if id, ok := strings.CutPrefix(v, unlinkedPrefix); ok {
			keep(fmt.Sprintf("company %s is not synced to an Account yet: %s not changed", id, accountField))
			return
		}
		props[accountField] = v
		return
	}
	company := ""
	if v != "" {
		c, ok := f.look.companyOf[v]
		if !ok || c == "" {
			keep(fmt.Sprintf("account %s is not synced to a HubSpot company yet: company association not changed", v))
			return
		}
		company = c
	}
	ch := &crmsync.PrimaryChange{To: crmsync.HSCompany, ToID: company}
	if f.look.hsPrimary != nil {
		ch.Known, ch.Previous = true, *f.look.hsPrimary
	}
	p.Writes.Account = ch
}

// accountOfContacts finds the Account of a new HubSpot company through its
// contacts already synced to Salesforce Contacts: the AccountId most of
// them hold (ties: the smallest id) among Accounts not linked to another
// company. nil when there is none.
func (e *Engine) accountOfContacts(ctx context.Context, f *facts) (*crmsync.Record, error) {
	company := f.src()
	ids, _, err := e.HubSpot.Associated(ctx, company, crmsync.HSContact)
	if err != nil {
		return nil, opError{"read the contacts of " + company.String(), err}
	}
	var sfIDs []string
	for _, id := range ids[:min(len(ids), maxContactsForAccount)] {
		l, err := e.Store.GetLink(ctx, crmsync.RecordRef{Side: crmsync.HubSpot, Object: crmsync.HSContact, ID: id})
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
	contacts, err := e.Salesforce.GetMany(ctx, crmsync.SFContact, sfIDs, []string{accountField})
	if err != nil {
		return nil, opError{"read the Salesforce contacts of " + company.String(), err}
	}
	return e.pickAccount(ctx, f, contacts)
}

// pickAccount returns the Account most of contacts hold that is not linked
// to another company and still exists.
func (e *Engine) pickAccount(ctx context.Context, f *facts, contacts map[string]crmsync.Record) (*crmsync.Record, error) {
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
		if _, err := e.Store.GetLink(ctx, ref); err == nil {
			f.found.notes = append(f.found.notes, fmt.Sprintf("account %s of the company's contacts is linked to another company", a))
			continue
		} else if !errors.Is(err, crmsync.ErrNotFound) {
			return nil, fmt.Errorf("get link of account %s: %w", a, err)
		}
		rec, err := e.Salesforce.Get(ctx, ref, readProperties(f.settings, crmsync.Salesforce, crmsync.SFAccount))
		if errors.Is(err, crmsync.ErrNotFound) {
			continue
		}
		if err != nil {
			return nil, opError{"read " + ref.String(), err}
		}
		f.found.notes = append(f.found.notes, fmt.Sprintf("linked to %s, the account of %d of the company's synced contacts", a, counts[a]))
		return &rec, nil
	}
	return nil, nil
}
