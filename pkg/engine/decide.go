package engine

import (
	"fmt"
	"strings"

	"github.com/crmsync/crmsync/pkg/crmsync"
	"github.com/crmsync/crmsync/pkg/mapping"
)

// Plan is a decision: what to write where, the link to keep, what the
// ledger says and the sync error to set or clear. decide makes plans from
// facts without any I/O; apply performs them.
type Plan struct {
	Decision Decision
	Reason   string
	// Retry, when set, is why the trigger is retried later: nothing of
	// the plan is applied.
	Retry  error
	Link   linkPlan
	Writes writePlan
	// Fields are the merge's decisions per mapping, for the ledger.
	Fields []mapping.FieldPlan
	Notes  []string
	Ledger ledgerPlan
	// Error is the source record's sync error to set; ClearError clears
	// it instead (a sync that succeeded).
	Error      *crmsync.SyncError
	ClearError bool
}

// linkPlan is what happens to the link, in apply's order: claim a stale
// reservation, reserve the source id (before a create), write the refs
// of an adopted match (before the record writes), create Also and store
// Next (after).
type linkPlan struct {
	Claim, Reserve, Adopt, Store bool
	Next                         crmsync.Link
	// Also is another link to create (a converted lead's Account and its
	// contact's company), nil when there is none.
	Also *crmsync.Link
}

// writePlan are the record writes: a create on the other side, updates,
// the HubSpot record's primary company, a mirrored delete.
type writePlan struct {
	Create  *recordWrite
	Updates []recordWrite
	// Account is the HubSpot record's new primary company (its record is
	// the link's HubSpot record, or the one created).
	Account *crmsync.PrimaryChange
	Delete  crmsync.RecordRef
	// Member is a campaign member to add (a form submission's).
	Member *memberWrite
}

// recordWrite is one record's properties to write (for a create, Ref
// names the side and object only).
type recordWrite struct {
	Ref   crmsync.RecordRef
	Props map[string]string
}

// ledgerPlan is the ledger entry's target and result (the call is what
// apply did).
type ledgerPlan struct {
	Target crmsync.RecordRef
	Result string
	// Changes are field changes beyond the merge's (an activity's Task).
	Changes []crmsync.FieldChange
}

// failed reports whether the plan is a failure or refusal (its sync error
// replaces the resolution), rather than a sync that also reports an error
// (a value a value map lacks).
func (p *Plan) failed() bool {
	return p.Error != nil && (p.Decision == DecisionFailed || p.Decision == DecisionNotEligible)
}

// count is the number of record writes the plan makes.
func (w writePlan) count() int {
	n := len(w.Updates)
	if w.Create != nil {
		n++
	}
	if w.Account != nil {
		n++
	}
	if !w.Delete.IsZero() {
		n++
	}
	if w.Member != nil {
		n++
	}
	return n
}

// decide is the whole decision of one resolution: pure, from facts.
func decide(f *facts) Plan {
	if !f.found.gone.ref.IsZero() {
		return decideGone(f)
	}
	if p := eligibility(f); p != nil {
		return *p
	}
	if reservationHeld(f) {
		return Plan{Retry: errRetry{fmt.Sprintf("another worker is creating the record linked to %s (reserved %s ago)", f.src(), reservationAge(f))}}
	}
	if p := conversionRefusal(f); p != nil {
		return *p
	}
	switch {
	case !f.linkedOther().IsZero():
		return decideMerge(f, false)
	case f.found.matchLink != nil:
		return duplicateOfLinked(f)
	case f.found.match != nil:
		return decideMerge(f, true)
	}
	return decideCreate(f)
}

// eligibility applies the eligibility rules; nil means eligible.
func eligibility(f *facts) *Plan {
	src, s := f.src(), f.settings
	rec := f.recs[src.Side]
	if c := convertedInto(rec); c != "" && f.link == nil {
		p := skip(fmt.Sprintf("%s was converted into contact %s, which syncs in its place", src, c))
		return &p
	}
	if f.pair.isContact() && emailOf(rec) == "" {
		p := refusal(f, crmsync.ReasonNoEmail, fmt.Sprintf("%s has no email address; contacts sync by email", src))
		return &p
	}
	if why := f.notSelected(); why != "" {
		p := refusal(f, crmsync.ReasonNotSelected, why)
		return &p
	}
	if f.found.inList != nil && !*f.found.inList {
		p := refusal(f, crmsync.ReasonNotInInclusionList, fmt.Sprintf("%s is not in the inclusion list %s", src, s.InclusionListID))
		return &p
	}
	if src.Side == crmsync.Salesforce && f.pair.isContact() {
		action := s.ContactsToHubSpot
		if src.Object == crmsync.SFLead {
			action = s.LeadsToHubSpot
		}
		if action == crmsync.InboundNothing {
			p := skip(fmt.Sprintf("settings: Salesforce %s records do nothing in HubSpot", src.Object))
			return &p
		}
	}
	return nil
}

// skip is a plan that does nothing but say why in the ledger.
func skip(reason string) Plan {
	return Plan{Decision: DecisionSkipped, Reason: reason, Ledger: ledgerPlan{Result: "skipped"}}
}

// refusal is a not-eligible plan: a sync error with the reason.
func refusal(f *facts, r crmsync.Reason, msg string) Plan {
	se := crmsync.SyncError{Category: r.Category(), Reason: r, Message: msg, Hint: r.Hint()}
	return errorPlan(f, se, DecisionNotEligible)
}

// errorPlan sets se as the source's sync error.
func errorPlan(f *facts, se crmsync.SyncError, d Decision) Plan {
	se.Record = f.src()
	result := "sync error: " + string(se.Category)
	if se.Code != "" {
		result += " " + se.Code
	}
	return Plan{Decision: d, Reason: se.Message, Error: &se, Ledger: ledgerPlan{Result: result}, Notes: f.found.notes}
}

// failure turns a failed call into a plan: a retry for what may succeed
// later (crmsync.Classify), else the record's sync error.
func failure(f *facts, op string, err error) Plan {
	c := crmsync.Classify(err)
	if c.Class.Retry() {
		return Plan{Retry: fmt.Errorf("%s: %w", op, err)}
	}
	se := crmsync.SyncError{Category: c.Category, Code: c.Code, Message: fmt.Sprintf("%s: %v", op, err), Hint: c.Hint}
	return errorPlan(f, se, DecisionFailed)
}

// failureOf is failure for an error from read: opErrors name their call.
func failureOf(f *facts, err error) Plan {
	if oe, ok := err.(opError); ok {
		return failure(f, oe.op, oe.err)
	}
	return Plan{Retry: err}
}

// duplicateOfLinked refuses to link the source to a record that is
// already linked to another one.
func duplicateOfLinked(f *facts) Plan {
	m, l := f.found.match.Ref, f.found.matchLink
	msg := fmt.Sprintf("%s shares its email with %s, which is already linked to %s", f.src(), m, l.Ref(f.src().Side))
	return refusal(f, crmsync.ReasonFlaggedDuplicate, msg)
}

// mergeInput is the pair in the merge's form: owner emails and the
// association added, values converted to one comparable form. A value
// that cannot be read is an error wrapping crmsync.ErrInvalid.
func (f *facts) mergeInput() (mapping.Input, error) {
	hs, sf := withOwner(f.recs[crmsync.HubSpot]), withOwner(f.recs[crmsync.Salesforce])
	if sf.Ref.Object == crmsync.SFLead && sf.Properties[leadCompanyField] == f.settings.LeadCompany {
		sf.Properties[leadCompanyField] = "" // the placeholder of a contact without a company
	}
	f.withAccount(hs, sf)
	hs, sf, err := f.conv.ForMerge(hs, sf)
	if err != nil {
		return mapping.Input{}, err
	}
	f.valuesToSalesforce(hs, sf)
	f.addressToMergeForm(hs, sf)
	return mapping.Input{Mappings: f.mappings(), HubSpot: hs, Salesforce: sf, Shadow: f.firstSyncShadow(hs), Now: f.now}, nil
}

// firstSyncShadow is the shadow the merge starts from. On the first sync
// with an existing Salesforce record (an identity match), the Salesforce
// record keeps its owner: the owner is taken as unchanged in HubSpot, so
// the Salesforce owner wins; after that the most recent change wins.
func (f *facts) firstSyncShadow(hs crmsync.Record) map[string]crmsync.FieldShadow {
	sh := f.mergeShadow()
	if f.found.match == nil {
		return sh
	}
	if _, ok := sh[ownerShadowKey]; ok {
		return sh
	}
	out := make(map[string]crmsync.FieldShadow, len(sh)+1)
	for k, v := range sh {
		out[k] = v
	}
	out[ownerShadowKey] = crmsync.NewFieldShadow(hs.Properties[ownerKey], f.now)
	return out
}

// values are the value maps of the pair.
func (f *facts) values() mapping.Values {
	f.mappings()
	return f.look.memo.vs
}

// valuesToSalesforce puts the HubSpot record's value-mapped values in
// Salesforce's terms, so the merge compares one vocabulary. A value the
// map lacks is reported (f.found.unmapped) and taken as unchanged, so it
// is never written and the record's other fields still sync.
func (f *facts) valuesToSalesforce(hs, sf crmsync.Record) {
	vs := f.values()
	for _, m := range f.mappings() {
		k := m.Key()
		v, present := hs.Properties[m.HubSpotProperty]
		if !vs.Has(k) || !present {
			continue
		}
		out, ok := vs.ToSalesforce(k, v)
		if !ok {
			f.found.unmapped = append(f.found.unmapped, vs.Unmapped(k, v, crmsync.HubSpot))
			out = f.asLastSynced(m.HubSpotProperty, m.SalesforceField, sf)
		}
		hs.Properties[m.HubSpotProperty] = out
	}
}

// asLastSynced is the value a HubSpot property that cannot be read into
// the merge's form is taken to have — as last synced, else the Salesforce
// value — so the merge sees no HubSpot change and writes nothing of it.
func (f *facts) asLastSynced(prop, field string, sf crmsync.Record) string {
	if sh, ok := f.shadow()[crmsync.FieldMapping{HubSpotProperty: prop, SalesforceField: field}.Key()]; ok {
		return sh.Value
	}
	return sf.Properties[field]
}

// valuesToHubSpot turns the Salesforce-terms values of writes to HubSpot
// into HubSpot's; a value the map lacks is not written, kept and reported.
func (f *facts) valuesToHubSpot(w map[string]string, p *Plan) {
	vs := f.values()
	for _, m := range f.mappings() {
		k := m.Key()
		v, present := w[m.HubSpotProperty]
		if !vs.Has(k) || !present {
			continue
		}
		out, ok := vs.ToHubSpot(k, v)
		if !ok {
			delete(w, m.HubSpotProperty)
			f.found.unmapped = append(f.found.unmapped, vs.Unmapped(k, v, crmsync.Salesforce))
			p.keep(f, k, fmt.Sprintf("%s not written: no value map entry", m.HubSpotProperty))
			continue
		}
		w[m.HubSpotProperty] = out
	}
}

// unmappedError makes values that a value map lacks the record's
// Property values error, while the plan's writes of the other fields go
// ahead.
func (f *facts) unmappedError(p *Plan) {
	if len(f.found.unmapped) == 0 || p.Error != nil {
		return
	}
	se := crmsync.SyncError{Record: f.src(), Category: crmsync.CategoryPropertyValues, Code: "UNMAPPED_VALUE",
		Message: strings.Join(f.found.unmapped, "; "),
		Hint:    "add the value to value_maps in the settings (crmsync settings export / import), then resync"}
	p.Error, p.ClearError = &se, false
	p.Notes = append(p.Notes, se.Message)
}

// nextLink is the link after a successful sync with shadow.
func (f *facts) nextLink(base crmsync.Link, shadow map[string]crmsync.FieldShadow) crmsync.Link {
	l := base
	l.Shadow = shadow
	l.Status = crmsync.LinkActive
	l.PendingKey = ""
	l.UpdatedAt = f.now
	if rec, ok := f.recs[crmsync.HubSpot]; ok {
		l.HubSpotSeen = rec.LastModified
	}
	if rec, ok := f.recs[crmsync.Salesforce]; ok {
		l.SalesforceSeen = rec.LastModified
	}
	return l
}

// baseLink is the link a merge starts from: the link (or reservation),
// with the adopted match; a new one when there is none.
func (f *facts) baseLink(adopt bool) crmsync.Link {
	var l crmsync.Link
	if f.link != nil {
		l = *f.link
	} else {
		l = crmsync.Link{CreatedAt: f.now}
		l = linkWith(l, f.src())
	}
	if adopt {
		l = linkWith(l, f.found.match.Ref)
	}
	if c := f.found.converted; c != nil {
		l = linkWith(l, c.contact)
	}
	return l
}

// claims reports whether the source's reservation must be claimed
// first: one left by a dead worker, or by this delivery's own earlier
// attempt (reservationHeld excludes one held elsewhere).
func (f *facts) claims() bool { return f.link != nil && f.link.Status == crmsync.LinkPending }

// decideMerge merges a linked (or just matched) pair field by field
// against the shadow and plans the writes to each side.
func decideMerge(f *facts, adopt bool) Plan {
	also := f.companyOfConversion()
	in, err := f.mergeInput()
	if err != nil {
		return failure(f, "read values of "+f.src().String()+" and its linked record", err)
	}
	mp := mapping.Merge(in)
	base := f.baseLink(adopt)
	p := Plan{Fields: mp.Fields, Notes: f.found.notes, ClearError: true,
		Link: linkPlan{Claim: f.claims(), Adopt: adopt, Next: f.nextLink(base, mp.Shadow), Also: also}}
	for _, s := range crmsync.Sides {
		ref := base.Ref(s)
		props, err := f.vendorWrites(s, ref.Object, false, &p)
		if err != nil {
			return failure(f, "convert values for "+string(s), err)
		}
		if len(props) > 0 {
			p.Writes.Updates = append(p.Writes.Updates, recordWrite{Ref: ref, Props: props})
		}
	}
	p.Link.Store = adopt || linkChanged(f.link, p.Link.Next)
	f.outcomeOfMerge(&p, base)
	f.unmappedError(&p)
	return p
}

// outcomeOfMerge sets a merge plan's decision, reason and ledger target.
func (f *facts) outcomeOfMerge(p *Plan, base crmsync.Link) {
	n := p.Writes.count()
	p.Ledger.Target = base.Ref(f.other())
	if n == 1 && len(p.Writes.Updates) == 1 {
		p.Ledger.Target = p.Writes.Updates[0].Ref
	} else if n == 1 && p.Writes.Account != nil {
		p.Ledger.Target = base.HubSpot
	}
	var refused []string
	for _, fp := range p.Fields {
		if fp.Refused {
			refused = append(refused, fmt.Sprintf("%s (%s)", fp.Mapping.Key(), fp.Why))
		}
	}
	if c := f.found.converted; c != nil {
		p.Notes = append(p.Notes, fmt.Sprintf("lead %s was converted into %s: link re-pointed", c.lead, c.contact))
		if p.Link.Also != nil {
			p.Notes = append(p.Notes, fmt.Sprintf("%s linked to %s, the contact's company", p.Link.Also.Salesforce, p.Link.Also.HubSpot))
		}
	}
	switch {
	case n == 0 && f.found.converted != nil:
		p.Decision, p.Reason = DecisionConverted, "lead converted"
	case n > 0:
		p.Decision, p.Reason = DecisionSynced, fmt.Sprintf("%d write(s)", n)
		if len(refused) > 0 {
			p.Notes = append(p.Notes, "refused by rule: "+strings.Join(refused, ", "))
		}
	case len(refused) > 0:
		p.Decision, p.Reason = DecisionRefused, "refused by rule: "+strings.Join(refused, ", ")
	default:
		p.Decision, p.Reason = DecisionNoChange, "no mapped field changed since the last sync"+f.changeSource()
	}
	p.Ledger.Result = string(p.Decision)
}

// changeSource says who made the change that found nothing to write:
// crmsync itself (an echo of its own write), or what the vendor said.
func (f *facts) changeSource() string {
	t := f.t
	switch {
	case f.found.ownChange:
		return " (echo of crmsync's own write: " + t.ChangeSource + ")"
	case t.ChangeSource != "" && t.AppID != "":
		return fmt.Sprintf(" (change source %s, app %s)", t.ChangeSource, t.AppID)
	case t.ChangeSource != "":
		return fmt.Sprintf(" (change source %s)", t.ChangeSource)
	case t.AppID != "":
		return fmt.Sprintf(" (app %s)", t.AppID)
	}
	return ""
}

// linkChanged reports whether next differs from the stored link in what
// a sync keeps: refs, status and shadow values. A resolution that changes
// none of them leaves the link (and its version) alone.
func linkChanged(old *crmsync.Link, next crmsync.Link) bool {
	if old == nil || old.HubSpot != next.HubSpot || old.Salesforce != next.Salesforce ||
		old.Status != next.Status || old.PendingKey != next.PendingKey || len(old.Shadow) != len(next.Shadow) {
		return true
	}
	for k, v := range next.Shadow {
		if o, ok := old.Shadow[k]; !ok || o.Value != v.Value {
			return true
		}
	}
	return false
}

// decideCreate plans the creation of the source's counterpart.
func decideCreate(f *facts) Plan {
	other := f.other()
	target := f.pair.createType(other, f.settings)
	in, err := f.mergeInput()
	if err != nil {
		return failure(f, "read values of "+f.src().String(), err)
	}
	mp := mapping.Merge(in)
	p := Plan{Fields: mp.Fields, Notes: f.found.notes, ClearError: true, Decision: DecisionSynced,
		Link:   linkPlan{Claim: f.claims(), Reserve: f.link == nil, Store: true, Next: f.nextLink(f.baseLink(false), mp.Shadow)},
		Ledger: ledgerPlan{Result: "created"}}
	props, err := f.vendorWrites(other, target, true, &p)
	if err != nil {
		return failure(f, "convert values for "+string(other), err)
	}
	p.Writes.Create = &recordWrite{Ref: crmsync.RecordRef{Side: other, Object: target}, Props: props}
	f.unmappedError(&p)
	return p
}

// vendorWrites turns the merge's writes for side s into the vendor's
// properties: values converted to s's types, the owner email turned into
// s's user id, the association into AccountId or a primary company. An
// owner or association that cannot be written is left out and noted, its
// shadow kept (Plan.keep).
func (f *facts) vendorWrites(s crmsync.Side, o crmsync.ObjectType, create bool, p *Plan) (map[string]string, error) {
	mp := mapping.Plan{Fields: p.Fields}
	var props map[string]string
	var err error
	if s == crmsync.HubSpot {
		w := mp.Writes(s)
		f.valuesToHubSpot(w, p)
		props, err = f.conv.HubSpotWrites(w)
	} else {
		w := mp.Writes(s)
		f.addressWrite(w, p)
		props, err = f.conv.SalesforceWrites(w)
	}
	if err != nil {
		return nil, err
	}
	f.accountWrite(s, props, p)
	f.ownerWrite(s, props, p)
	if v, ok := props[leadCompanyField]; o == crmsync.SFLead && (ok || create) && v == "" {
		props[leadCompanyField] = f.settings.LeadCompany
		p.Notes = append(p.Notes, fmt.Sprintf("no company: the lead's Company is %q", f.settings.LeadCompany))
	}
	return props, nil
}

// leadCompanyField is the Lead field Salesforce requires; a contact
// without a company gets settings.LeadCompany there.
const leadCompanyField = "Company"

// ownerWrite turns a planned owner email for side s into s's owner id.
func (f *facts) ownerWrite(s crmsync.Side, props map[string]string, p *Plan) {
	email, ok := props[ownerKey]
	if !ok {
		return
	}
	delete(props, ownerKey)
	if email == "" {
		p.keep(f, ownerShadowKey, fmt.Sprintf("owner cleared on %s: not cleared on %s", s.Other(), s))
		return
	}
	id := f.look.owners[s][email]
	switch {
	case id != "":
		props[f.look.ownerProp[s]] = id
	case s == crmsync.Salesforce && f.resetHubSpotOwner(email, p):
	case f.recs[s].Ref.IsZero():
		p.keep(f, ownerShadowKey, fmt.Sprintf("owner %s has no user on %s: the new record is the integration user's", email, s))
	default:
		p.keep(f, ownerShadowKey, fmt.Sprintf("owner %s has no user on %s: owner not changed", email, s))
	}
}

// resetHubSpotOwner puts the HubSpot owner back to the Salesforce
// record's owner when the owner set in HubSpot has no Salesforce user (as
// HubSpot's connector does), and reports it. It reports whether it did.
func (f *facts) resetHubSpotOwner(email string, p *Plan) bool {
	hs, sf := f.recs[crmsync.HubSpot], f.recs[crmsync.Salesforce]
	sfEmail := ownerEmail(sf)
	id := f.look.owners[crmsync.HubSpot][sfEmail]
	if sf.Ref.IsZero() || hs.Ref.IsZero() || sfEmail == "" || id == "" {
		return false
	}
	for i := range p.Writes.Updates {
		if p.Writes.Updates[i].Ref.Side == crmsync.HubSpot {
			p.Writes.Updates[i].Props[f.look.ownerProp[crmsync.HubSpot]] = id
			id = ""
		}
	}
	if id != "" {
		p.Writes.Updates = append(p.Writes.Updates, recordWrite{Ref: hs.Ref, Props: map[string]string{f.look.ownerProp[crmsync.HubSpot]: id}})
	}
	p.Link.Next.Shadow[ownerShadowKey] = crmsync.NewFieldShadow(sfEmail, f.now)
	p.Notes = append(p.Notes, fmt.Sprintf("owner %s set in HubSpot has no Salesforce user: HubSpot owner reset to %s, the Salesforce owner", email, sfEmail))
	for i := range p.Fields {
		if p.Fields[i].Mapping.Key() == ownerShadowKey {
			p.Fields[i].Action, p.Fields[i].Value, p.Fields[i].Why = mapping.WriteHubSpot, sfEmail, "owner reset: no Salesforce user for "+email
		}
	}
	return true
}

// keep takes a planned write of the field with shadow key back: noted,
// its shadow kept, and not listed as a change in the ledger.
func (p *Plan) keep(f *facts, key, note string) {
	p.Notes = append(p.Notes, note)
	if old, ok := f.shadow()[key]; ok {
		p.Link.Next.Shadow[key] = old
	} else {
		delete(p.Link.Next.Shadow, key)
	}
	for i := range p.Fields {
		if p.Fields[i].Mapping.Key() == key {
			p.Fields[i].Action, p.Fields[i].Why = mapping.Keep, note
		}
	}
}
