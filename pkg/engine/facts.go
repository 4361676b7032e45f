package engine

import (
	"strings"
	"time"

	"github.com/crmsync/crmsync/pkg/crmsync"
	"github.com/crmsync/crmsync/pkg/mapping"
)

// facts is what was read for one trigger: the whole input of decide.
type facts struct {
	t crmsync.Trigger
	// also are the batch's other triggers for the same record or pair,
	// resolved with t.
	also     []crmsync.Trigger
	settings crmsync.Settings
	pair     pair
	link     *crmsync.Link
	// recs are the records as read; a side absent has no record (yet).
	recs  map[crmsync.Side]crmsync.Record
	found found
	look  lookups
	// conv converts values between the CRMs' types (nil before identity).
	conv *mapping.Converter
	now  time.Time
}

// found is what the existence and identity reads found.
type found struct {
	// gone is what the reads found of a record of the pair that could
	// not be read (zero: none).
	gone gone
	// match is the other side's existing record identity found (nil:
	// none); matchLink is the link it already has (nil: none).
	match     *crmsync.Record
	matchLink *crmsync.Link
	// inList is the inclusion-list membership (nil: not asked).
	inList *bool
	// notes are what the reads found worth a ledger line.
	notes []string
	// ownChange says the trigger reports crmsync's own write.
	ownChange bool
	// unmapped are values a value map lacks (a Property values error).
	unmapped []string
	// converted is set when the pair's Salesforce Lead was converted: the
	// pair's Salesforce record is now its Contact.
	converted *conversion
}

// conversion is a converted Lead and what it became (Salesforce lead
// conversion: IsConverted, Converted…Id).
type conversion struct {
	lead, contact        crmsync.RecordRef
	account, opportunity string
	// contactLink is the link the contact already has (nil: none).
	contactLink *crmsync.Link
}

// gone is a record of the pair that could not be read.
type gone struct {
	ref crmsync.RecordRef
	// survivor is what the gone source was merged into (zero: not
	// merged); survivorLinked says whether it has a link of its own.
	survivor       crmsync.RecordRef
	survivorLinked bool
	// invisible says the CRM still has it (it was not deleted): the
	// integration user cannot read it.
	invisible bool
}

// lookups are the answers decide needs to turn a merge into writes.
type lookups struct {
	// owners maps side → owner email → that side's user id ("" = no
	// active user with that email).
	owners map[crmsync.Side]map[string]string
	// hsPrimary is the HubSpot record's primary company as read (nil =
	// not read); hsAccount its association value in Salesforce's terms
	// (nil = not read: as last synced).
	hsPrimary, hsAccount *string
	// ownerProp is each side's owner property of the pair's object.
	ownerProp map[crmsync.Side]string
	// address is the org's address picklists (nil: not handled).
	address *address
	// memo keeps the pair's mappings and value maps.
	memo memo
	// companyOf maps a Salesforce Account id to its linked HubSpot
	// company ("" = not linked to an active one).
	companyOf map[string]string
}

// src is the trigger's record.
func (f *facts) src() crmsync.RecordRef { return f.t.Record }

// other is the side opposite the trigger's.
func (f *facts) other() crmsync.Side { return f.t.Record.Side.Other() }

// linkedOther is the linked record on the other side (zero: none yet).
func (f *facts) linkedOther() crmsync.RecordRef {
	if f.link == nil {
		return crmsync.RecordRef{}
	}
	return f.link.Ref(f.other())
}

// shadow is the link's shadow (nil without a link).
func (f *facts) shadow() map[string]crmsync.FieldShadow {
	if f.link == nil {
		return nil
	}
	return f.link.Shadow
}

// triggers are the triggers this resolution covers.
func (f *facts) triggers() []crmsync.Trigger { return append([]crmsync.Trigger{f.t}, f.also...) }

// ownerKey is the synthetic property the owner's user email is merged
// under: owners are two-way, matched by email.
const ownerKey = "@owner"

var ownerShadowKey = crmsync.FieldMapping{HubSpotProperty: ownerKey, SalesforceField: ownerKey}.Key()

// mappings are the pair's field mappings plus the synthetic owner and
// association mappings.
func (f *facts) mappings() []crmsync.FieldMapping {
	if m := &f.look.memo; m.ms != nil && m.sf == f.pair.sf {
		return m.ms
	}
	ms := mapping.For(f.settings.Mappings, f.pair.hs, f.pair.sf)
	ms = append(ms, crmsync.FieldMapping{HubSpotObject: f.pair.hs, SalesforceObject: f.pair.sf,
		HubSpotProperty: ownerKey, SalesforceField: ownerKey, Rule: crmsync.RuleTwoWay})
	if f.accountsOn() {
		ms = append(ms, accountMapping(f.pair.hs, f.pair.sf))
	}
	f.look.memo = memo{sf: f.pair.sf, ms: ms, vs: mapping.NewValues(f.settings.ValueMaps, f.pair.hs, f.pair.sf)}
	return ms
}

// memo keeps what the pair's mappings derive, per Salesforce type (the
// type is known only once identity is).
type memo struct {
	sf crmsync.ObjectType
	ms []crmsync.FieldMapping
	vs mapping.Values
}

// ownerEmail is a record's owner email in the merge's form.
func ownerEmail(r crmsync.Record) string { return strings.ToLower(strings.TrimSpace(r.OwnerEmail)) }

// withOwner returns a copy of rec with its owner email under ownerKey.
func withOwner(rec crmsync.Record) crmsync.Record {
	props := make(map[string]string, len(rec.Properties)+2)
	for k, v := range rec.Properties {
		props[k] = v
	}
	if !rec.Ref.IsZero() {
		props[ownerKey] = ownerEmail(rec)
	}
	rec.Properties = props
	return rec
}
