package sweep_test

import (
	"context"
	"sync/atomic"
	"testing"
	"time"

	"github.com/crmsync/crmsync/pkg/crmsync"
	"github.com/crmsync/crmsync/pkg/crmsynctest"
	"github.com/crmsync/crmsync/pkg/engine"
	"github.com/crmsync/crmsync/pkg/mapping"
)

// typedHS and typedSF give the fakes the field metadata of a typed
// Two-way mapping: date, date-time, number, boolean and multi-select.
type typedHS struct{ *crmsynctest.CRM }

func (typedHS) MappingProperties(context.Context, crmsync.ObjectType) (map[string]mapping.HubSpotProperty, error) {
	return map[string]mapping.HubSpotProperty{
		"email":     {Name: "email", Type: "string", FieldType: "text"},
		"closedate": {Name: "closedate", Type: "date", FieldType: "date"},
		"last_seen": {Name: "last_seen", Type: "datetime", FieldType: "date"},
		"score":     {Name: "score", Type: "number", FieldType: "number"},
		"vip":       {Name: "vip", Type: "bool", FieldType: "booleancheckbox", Options: []string{"true", "false"}},
		"tags":      {Name: "tags", Type: "enumeration", FieldType: "checkbox", Options: []string{"a", "b", "c"}},
	}, nil
}

type typedSF struct{ *crmsynctest.CRM }

func (typedSF) MappingFields(context.Context, crmsync.ObjectType) (map[string]mapping.SalesforceField, error) {
	return map[string]mapping.SalesforceField{
		"Email":        {Name: "Email", Type: "email", Updateable: true, Nillable: true, Length: 80},
		"Close__c":     {Name: "Close__c", Type: "date", Updateable: true, Nillable: true},
		"Last_Seen__c": {Name: "Last_Seen__c", Type: "datetime", Updateable: true, Nillable: true},
		"Score__c":     {Name: "Score__c", Type: "double", Updateable: true, Nillable: true},
		"VIP__c":       {Name: "VIP__c", Type: "boolean", Updateable: true},
		"Tags__c":      {Name: "Tags__c", Type: "multipicklist", Updateable: true, Nillable: true, PicklistValues: []string{"a", "b", "c"}},
	}, nil
}

// A Two-way pair of every type, each side holding its own vendor's form
// of equal values, is converged: five sweeps find no drift, and the
// link's version does not move.
func TestTypedTwoWayPairIsNeverDrifted(t *testing.T) {
	h := newHarness(t)
	h.putSettings(t, func(s *crmsync.Settings) {
		s.NewContactsAs = crmsync.CreateAsContact
		s.Mappings = nil
		for hs, sf := range map[string]string{"email": "Email", "closedate": "Close__c", "last_seen": "Last_Seen__c",
			"score": "Score__c", "vip": "VIP__c", "tags": "Tags__c"} {
			s.Mappings = append(s.Mappings, crmsync.FieldMapping{HubSpotObject: crmsync.HSContact, SalesforceObject: crmsync.SFContact,
				HubSpotProperty: hs, SalesforceField: sf, Rule: crmsync.RuleTwoWay})
		}
	})
	h.sw.Sources = nil // only the drift check
	eng := &engine.Engine{Store: h.store, HubSpot: typedHS{h.hs}, Salesforce: typedSF{h.sf}, Now: h.clk.Now, Logger: discardLogger}
	h.sw.Drift = eng
	c := hsContact("900")
	put(h.hs, c, t0.Add(-time.Hour), map[string]string{"email": "typed@x", "closedate": "2026-12-31T00:00:00.000Z",
		"last_seen": "2026-11-01T09:30:00.000Z", "score": "42", "vip": "true", "tags": "a;b"})
	out, err := eng.Resolve(t.Context(), crmsync.Trigger{Record: c, Kind: crmsync.KindCreated, OccurredAt: t0, DedupeKey: "typed-create"})
	if err != nil || out.Decision != engine.DecisionSynced {
		t.Fatalf("create: %+v %v", out, err)
	}
	sf := h.sf.Records(crmsync.SFContact)[0]
	// Salesforce's own forms of the same values, as its API returns them.
	h.sf.Put(crmsync.Record{Ref: sf.Ref, LastModified: t0.Add(-time.Minute), Properties: map[string]string{"Email": "typed@x",
		"Close__c": "2026-12-31", "Last_Seen__c": "2026-11-01T09:30:00.000+0000", "Score__c": "42.0", "VIP__c": "true", "Tags__c": "b;a"}})
	before, _ := h.store.GetLink(t.Context(), c)
	for i := range 5 {
		h.clk.Add(15 * time.Minute)
		rep := h.run(t)
		if rep.Drift.Checked != 1 || rep.Drift.Drifted != 0 || rep.Drift.Skipped != 0 {
			t.Fatalf("sweep %d: drift %+v, want the pair checked and converged", i+1, rep.Drift)
		}
	}
	if after, _ := h.store.GetLink(t.Context(), c); after.Version != before.Version {
		t.Errorf("link version %d → %d without a write", before.Version, after.Version)
	}
}

// flaky is a transient vendor failure.
type flaky struct{}

func (flaky) Error() string   { return "injected: 503 service unavailable" }
func (flaky) Transient() bool { return true }

// Under 10 % injected read faults every drift check completes: a pair
// that cannot be read is skipped and counted, the others are checked, and
// the check moves on through every page.
func TestDriftUnderReadFaultsCompletes(t *testing.T) {
	h := newHarness(t)
	h.putSettings(t, twoWay)
	h.sw.Sources = nil
	h.sw.DriftLimit = 10
	const pairs = 40
	for i := range pairs {
		h.linkPair(t, i)
	}
	var n atomic.Int64
	fault := func(op string, ref crmsync.RecordRef) error {
		if (op == "get" || op == "getmany") && n.Add(1)%10 == 0 {
			return flaky{}
		}
		return nil
	}
	h.hs.Fail, h.sf.Fail = fault, fault
	checked, skipped := 0, 0
	for run := range 8 { // two full passes
		rep := h.run(t)
		if len(rep.Errors) != 0 {
			t.Fatalf("run %d did not complete: %v", run, rep.Errors)
		}
		if rep.Drift.Checked+rep.Drift.Skipped != 10 {
			t.Errorf("run %d: checked %d + skipped %d, want the page of 10", run, rep.Drift.Checked, rep.Drift.Skipped)
		}
		if rep.Drift.Skipped > 0 && len(rep.Drift.SkippedErrors) == 0 {
			t.Errorf("run %d: %d skipped but none reported", run, rep.Drift.Skipped)
		}
		checked += rep.Drift.Checked
		skipped += rep.Drift.Skipped
		if rep.Drift.Drifted != 0 {
			t.Errorf("run %d: %d converged pairs drifted", run, rep.Drift.Drifted)
		}
	}
	if skipped == 0 || checked+skipped != 2*pairs {
		t.Errorf("checked %d, skipped %d over two passes of %d pairs", checked, skipped, pairs)
	}
}

// A creation reservation whose worker died is enqueued again by the
// sweep once its lease is over, once; a fresh one is left to its worker.
func TestSweepEnqueuesStaleReservations(t *testing.T) {
	h := newHarness(t)
	ctx := t.Context()
	stale := crmsync.RecordRef{Side: crmsync.Salesforce, Object: crmsync.SFOpportunity, ID: "006000000000001AAA"}
	fresh := crmsync.RecordRef{Side: crmsync.HubSpot, Object: crmsync.HSContact, ID: "77"}
	for _, c := range []struct {
		ref crmsync.RecordRef
		at  time.Time
	}{{stale, t0.Add(-10 * time.Minute)}, {fresh, t0.Add(-30 * time.Second)}} {
		l := crmsync.Link{Status: crmsync.LinkPending, PendingKey: "k", CreatedAt: c.at, UpdatedAt: c.at}
		if c.ref.Side == crmsync.HubSpot {
			l.HubSpot = c.ref
		} else {
			l.Salesforce = c.ref
		}
		if _, err := h.store.CreateLink(ctx, l); err != nil {
			t.Fatal(err)
		}
	}
	rep := h.run(t)
	got := h.rec.take()
	if rep.Drift.Stale != 1 || len(got) != 1 || got[0].Record != stale || got[0].Kind != crmsync.KindSweep {
		t.Fatalf("stale %d, sent %+v; want one sweep trigger for %s", rep.Drift.Stale, got, stale)
	}
	h.clk.Add(15 * time.Minute)
	h.run(t)
	for _, tr := range h.rec.take() {
		if tr.Record == stale && tr.DedupeKey != got[0].DedupeKey {
			t.Errorf("the same stale reservation was enqueued with a new dedupe key")
		}
	}
}
