package chaos

import (
	"fmt"
	"sort"

	"github.com/crmsync/crmsync/pkg/crmsync"
)

// Pair is an object pair the checker compares: a HubSpot object type, the
// Salesforce object types its records may be (a contact is a Lead or a
// Contact), and the identity field on each side (the value that names
// one record: an email, a company or deal name).
type Pair struct {
	HubSpot       crmsync.ObjectType
	Salesforce    []crmsync.ObjectType
	HubSpotKey    string
	SalesforceKey string
}

// Record is one CRM record as read from a simulator.
type Record struct {
	Ref    crmsync.RecordRef
	Values map[string]string
}

// Snapshot is what the checker compares: every record of both CRMs and
// every link of the store.
type Snapshot struct {
	Records []Record
	Links   []crmsync.Link
}

// Value is the last value the load wrote to a field, and the side it
// wrote it on.
type Value struct {
	Value string
	From  crmsync.Side
}

// Expected is what the load knows of one record: its identity and the
// last value it wrote to each field it changed (HubSpot property names).
type Expected struct {
	Pair   Pair
	Key    string
	Fields map[string]Value
}

// Finding kinds.
const (
	// FindingLost: the last value written to a field is not on a side
	// where the field's rule says it must be.
	FindingLost = "lost update"
	// FindingDuplicate: more than one record of one identity on a side,
	// or more than one active link to one record.
	FindingDuplicate = "duplicate"
	// FindingUnlinked: the record is missing on one side, or its two
	// records are not linked to each other.
	FindingUnlinked = "unlinked"
)

// Finding is one thing the checker found wrong.
type Finding struct {
	Kind   string `json:"kind"`
	Object string `json:"object"`
	Key    string `json:"key"`
	Field  string `json:"field,omitempty"`
	Want   string `json:"want,omitempty"`
	// HubSpot and Salesforce are the values found (record ids for
	// duplicates).
	HubSpot    string `json:"hubspot,omitempty"`
	Salesforce string `json:"salesforce,omitempty"`
	Detail     string `json:"detail,omitempty"`
}

// Result is the checker's answer.
type Result struct {
	Expected  int       `json:"expected"`
	Converged int       `json:"converged"`
	Findings  []Finding `json:"findings,omitempty"`
}

// Count returns the number of findings of kind.
func (r Result) Count(kind string) int {
	n := 0
	for _, f := range r.Findings {
		if f.Kind == kind {
			n++
		}
	}
	return n
}

// OK reports whether every expected record converged and nothing is
// duplicated.
func (r Result) OK() bool { return len(r.Findings) == 0 && r.Converged == r.Expected }

// Check compares every expected record's pair per the mapping rules:
// exactly one record of its identity on each side, the two linked to each
// other by an active link and no other, and the last value the load wrote
// to each field on every side the field's rule carries it to:
//
//   - Two-way: both sides;
//   - Always use Salesforce, Prefer Salesforce unless blank: both sides
//     when written in Salesforce; only HubSpot when written in HubSpot
//     (the rule may hold it back: a refusal, not a lost update);
//   - Don't sync: only the side written.
//
// Values are compared as the CRMs' wire strings, so the load changes only
// fields whose values both CRMs spell alike (text). Check is pure.
func Check(snap Snapshot, mappings []crmsync.FieldMapping, want []Expected) Result {
	res := Result{Expected: len(want)}
	type idKey struct {
		side   crmsync.Side
		object crmsync.ObjectType
		value  string
	}
	keyField := map[crmsync.RecordRef]string{} // (side, object) → identity field; ID unused
	for _, e := range want {
		keyField[crmsync.RecordRef{Side: crmsync.HubSpot, Object: e.Pair.HubSpot}] = e.Pair.HubSpotKey
		for _, o := range e.Pair.Salesforce {
			keyField[crmsync.RecordRef{Side: crmsync.Salesforce, Object: o}] = e.Pair.SalesforceKey
		}
	}
	byID := map[idKey][]Record{}
	for _, r := range snap.Records {
		f, ok := keyField[crmsync.RecordRef{Side: r.Ref.Side, Object: r.Ref.Object}]
		if !ok || r.Values[f] == "" {
			continue
		}
		k := idKey{r.Ref.Side, r.Ref.Object, r.Values[f]}
		byID[k] = append(byID[k], r)
	}
	linkOf := map[string][]crmsync.Link{} // record key → active links
	for _, l := range snap.Links {
		if l.Status != crmsync.LinkActive {
			continue
		}
		linkOf[l.HubSpot.Key()] = append(linkOf[l.HubSpot.Key()], l)
		linkOf[l.Salesforce.Key()] = append(linkOf[l.Salesforce.Key()], l)
	}
	for _, e := range want {
		before := len(res.Findings)
		add := func(f Finding) {
			f.Object, f.Key = string(e.Pair.HubSpot), e.Key
			res.Findings = append(res.Findings, f)
		}
		hs := byID[idKey{crmsync.HubSpot, e.Pair.HubSpot, e.Key}]
		var sf []Record
		for _, o := range e.Pair.Salesforce {
			sf = append(sf, byID[idKey{crmsync.Salesforce, o, e.Key}]...)
		}
		if len(hs) > 1 {
			add(Finding{Kind: FindingDuplicate, HubSpot: ids(hs), Detail: fmt.Sprintf("%d HubSpot records", len(hs))})
		}
		if len(sf) > 1 {
			add(Finding{Kind: FindingDuplicate, Salesforce: ids(sf), Detail: fmt.Sprintf("%d Salesforce records", len(sf))})
		}
		if len(hs) == 0 || len(sf) == 0 {
			add(Finding{Kind: FindingUnlinked, Detail: fmt.Sprintf("%d HubSpot and %d Salesforce records", len(hs), len(sf))})
			continue
		}
		h, s := hs[0], sf[0]
		for _, r := range []Record{h, s} {
			if ls := linkOf[r.Ref.Key()]; len(ls) > 1 {
				add(Finding{Kind: FindingDuplicate, Detail: fmt.Sprintf("%d active links to %s", len(ls), r.Ref)})
			}
		}
		if ls := linkOf[h.Ref.Key()]; len(ls) == 0 || ls[0].Salesforce != s.Ref {
			add(Finding{Kind: FindingUnlinked, HubSpot: h.Ref.ID, Salesforce: s.Ref.ID, Detail: "the two records are not linked to each other"})
		}
		byProp := map[string]crmsync.FieldMapping{}
		for _, m := range mappings {
			if m.HubSpotObject == e.Pair.HubSpot && m.SalesforceObject == s.Ref.Object {
				byProp[m.HubSpotProperty] = m
			}
		}
		for _, prop := range sortedKeys(e.Fields) {
			v := e.Fields[prop]
			m, ok := byProp[prop]
			if !ok {
				add(Finding{Kind: FindingLost, Field: prop, Want: v.Value, Detail: "no mapping for this property"})
				continue
			}
			hv, sv := h.Values[m.HubSpotProperty], s.Values[m.SalesforceField]
			wantHS, wantSF := carries(m.Rule, v.From)
			if (wantHS && hv != v.Value) || (wantSF && sv != v.Value) {
				add(Finding{Kind: FindingLost, Field: prop, Want: v.Value, HubSpot: hv, Salesforce: sv,
					Detail: fmt.Sprintf("written in %s; rule %s", v.From, m.Rule)})
			}
		}
		if len(res.Findings) == before {
			res.Converged++
		}
	}
	return res
}

// carries says on which sides a value written on side from must be, per
// rule.
func carries(rule crmsync.FieldRule, from crmsync.Side) (hubspot, salesforce bool) {
	switch rule {
	case crmsync.RuleTwoWay:
		return true, true
	case crmsync.RuleAlwaysSalesforce, crmsync.RulePreferSalesforce:
		return true, from == crmsync.Salesforce
	}
	return from == crmsync.HubSpot, from == crmsync.Salesforce
}

func ids(rs []Record) string {
	s := ""
	for i, r := range rs {
		if i > 0 {
			s += ","
		}
		s += r.Ref.ID
	}
	return s
}

func sortedKeys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}
