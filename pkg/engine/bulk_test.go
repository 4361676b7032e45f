package engine

import (
	"context"
	"fmt"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/crmsync/crmsync/pkg/crmsync"
	"github.com/crmsync/crmsync/pkg/crmsynctest"
)

// batchFake gives a fake CRM the bulk abilities: CreateMany (one call,
// each record through Create, so Fail decides per record) and
// FindByEmails (one call, each email through FindByEmail).
type batchFake struct {
	*crmsynctest.CRM
	creates, finds atomic.Int64
}

func (b *batchFake) CreateMany(ctx context.Context, o crmsync.ObjectType, records []map[string]string) ([]crmsync.CreateResult, error) {
	b.creates.Add(1)
	out := make([]crmsync.CreateResult, len(records))
	for i, r := range records {
		rec, err := b.CRM.Create(ctx, o, r)
		out[i] = crmsync.CreateResult{ID: rec.Ref.ID, Err: err}
	}
	return out, nil
}

func (b *batchFake) FindByEmails(ctx context.Context, o crmsync.ObjectType, emails []string, properties []string) (map[string][]crmsync.Record, error) {
	b.finds.Add(1)
	out := map[string][]crmsync.Record{}
	for _, e := range emails {
		found, err := b.CRM.FindByEmail(ctx, o, e, properties)
		if err != nil {
			return nil, err
		}
		if len(found) > 0 {
			out[e] = found
		}
	}
	return out, nil
}

func (h *harness) page(refs []crmsync.RecordRef) []crmsync.Trigger {
	ts := make([]crmsync.Trigger, len(refs))
	for i, ref := range refs {
		ts[i] = h.trigger(ref, crmsync.KindManualResync)
		ts[i].DeliveryID = crmsync.DeliveryBackfill
	}
	return ts
}

// A page of new HubSpot contacts — some already in Salesforce by email —
// is resolved with a batch read, one bulk identity match per match type
// and one batch create: the same outcome as one by one, a few calls.
func TestResolvePageBatchesReadsMatchesAndCreates(t *testing.T) {
	ctx := context.Background()
	h := newHarness(t, nil)
	sf := &batchFake{CRM: h.sf}
	var refs []crmsync.RecordRef
	for i := range 150 {
		c := h.hs.Put(hsContact(fmt.Sprint(i), map[string]string{"email": fmt.Sprintf("P%d@Example.com", i), "lastname": "P", "jobtitle": "Dev"}))
		refs = append(refs, c.Ref)
	}
	for i := range 20 { // already leads: adopted, not created
		h.sf.Put(sfRecord(crmsync.SFLead, fmt.Sprintf("00Q%d", i), map[string]string{"Email": fmt.Sprintf("p%d@example.com", i), "LastName": "P", "Company": "C"}))
	}
	outs, errs := h.eng.ResolvePage(ctx, h.page(refs), Bulk{Find: map[crmsync.Side]EmailFinder{crmsync.Salesforce: sf},
		Create: map[crmsync.Side]crmsync.BatchCreator{crmsync.Salesforce: sf}})
	for i, err := range errs {
		if err != nil || outs[i].Decision != DecisionSynced {
			t.Fatalf("record %d: %+v %v", i, outs[i], err)
		}
	}
	if n := len(h.sf.Records(crmsync.SFLead)); n != 150 {
		t.Errorf("%d leads, want 150 (130 created, 20 adopted)", n)
	}
	if c, f := sf.creates.Load(), sf.finds.Load(); c != 1 || f != 2 {
		t.Errorf("%d batch creates and %d bulk matches, want 1 and 2 (Lead, Contact)", c, f)
	}
	if n := h.sf.Calls("create") - 130; n != 0 {
		t.Errorf("%d creates outside the batch", n)
	}
	if n := h.sf.Calls("find"); n != 150*2 { // each email once per type, all through the two bulk matches
		t.Errorf("%d email lookups, want 300 inside the bulk matches", n)
	}
	if n := h.hs.Calls("get"); n != 0 {
		t.Errorf("%d single reads of the page's records, want 0 (one batch read)", n)
	}
	for _, ref := range refs {
		if l, err := h.store.GetLink(ctx, ref); err != nil || l.Salesforce.IsZero() || l.Status != crmsync.LinkActive {
			t.Fatalf("%s: link %+v %v", ref, l, err)
		}
	}
}

// Two records of one page with one email: the first is created, the
// second is resolved after it and finds it — a duplicate is refused, not
// created.
func TestResolvePageResolvesASharedEmailAfterTheFirst(t *testing.T) {
	ctx := context.Background()
	h := newHarness(t, nil)
	a := h.sf.Put(sfRecord(crmsync.SFLead, "00QA", map[string]string{"Email": "same@example.com", "LastName": "A", "Company": "C"}))
	b := h.sf.Put(sfRecord(crmsync.SFLead, "00QB", map[string]string{"Email": "Same@example.com", "LastName": "B", "Company": "C"}))
	hs := &batchFake{CRM: h.hs}
	outs, errs := h.eng.ResolvePage(ctx, h.page([]crmsync.RecordRef{a.Ref, b.Ref}), Bulk{
		Find: map[crmsync.Side]EmailFinder{crmsync.HubSpot: hs}, Create: map[crmsync.Side]crmsync.BatchCreator{crmsync.HubSpot: hs}})
	if errs[0] != nil || errs[1] != nil {
		t.Fatal(errs)
	}
	if n := len(h.hs.Records(crmsync.HSContact)); n != 1 {
		t.Fatalf("%d HubSpot contacts for one email, want 1", n)
	}
	if outs[0].Decision != DecisionSynced || outs[1].Decision != DecisionNotEligible || outs[1].Category == "" {
		t.Errorf("outcomes %+v / %+v: want the first synced, the second refused as a duplicate", outs[0], outs[1])
	}
}

// A record a batch create refuses gets its sync error and its reservation
// is released; the others of the batch are created.
func TestResolvePageRecordsAFailedCreate(t *testing.T) {
	ctx := context.Background()
	h := newHarness(t, nil)
	sf := &batchFake{CRM: h.sf}
	var refs []crmsync.RecordRef
	for i := range 5 {
		refs = append(refs, h.hs.Put(hsContact(fmt.Sprint(i), map[string]string{"email": fmt.Sprintf("f%d@example.com", i), "lastname": fmt.Sprint(i)})).Ref)
	}
	n := 0
	h.sf.Fail = func(op string, ref crmsync.RecordRef) error {
		if op == "create" {
			if n++; n == 3 {
				return vendorErr{code: "FIELD_CUSTOM_VALIDATION_EXCEPTION", cat: crmsync.CategoryPropertyValues}
			}
		}
		return nil
	}
	outs, errs := h.eng.ResolvePage(ctx, h.page(refs), Bulk{Create: map[crmsync.Side]crmsync.BatchCreator{crmsync.Salesforce: sf}})
	failed := 0
	for i := range refs {
		if errs[i] != nil {
			t.Fatalf("record %d retried: %v", i, errs[i])
		}
		if outs[i].Decision == DecisionFailed {
			failed++
			if se, err := h.store.GetSyncError(ctx, refs[i]); err != nil || !strings.Contains(se.Message, "FIELD_CUSTOM_VALIDATION_EXCEPTION") {
				t.Errorf("sync error %+v %v", se, err)
			}
			if _, err := h.store.GetLink(ctx, refs[i]); err == nil {
				t.Errorf("the failed record keeps its reservation")
			}
		}
	}
	if failed != 1 || len(h.sf.Records(crmsync.SFLead)) != 4 {
		t.Errorf("%d failed, %d leads; want 1 and 4", failed, len(h.sf.Records(crmsync.SFLead)))
	}
}

// A backfill page is P3: it waits while the budget pauses P3, and the
// page is retried whole, never dropped.
func TestResolvePageWaitsForTheBudget(t *testing.T) {
	ctx := context.Background()
	h := newHarness(t, nil)
	org := &orgUsage{CRM: h.sf, used: 80} // P3 pauses at 75 %
	h.eng.Salesforce = org
	c := h.hs.Put(hsContact("1", map[string]string{"email": "w@example.com", "lastname": "W"}))
	ts := h.page([]crmsync.RecordRef{c.Ref})
	if _, errs := h.eng.ResolvePage(ctx, ts, Bulk{}); errs[0] == nil || crmsync.Classify(errs[0]).Class != crmsync.ClassBudget {
		t.Fatalf("at 80%% a backfill page must wait: %v", errs[0])
	}
	if err := h.eng.CheckBudget(ctx, ts[0]); crmsync.Classify(err).Class != crmsync.ClassBudget {
		t.Errorf("CheckBudget at 80%%: %v", err)
	}
	org.used = 60
	if outs, errs := h.eng.ResolvePage(ctx, ts, Bulk{}); errs[0] != nil || outs[0].Decision != DecisionSynced {
		t.Fatalf("below 70%% the same page resolves: %+v %v", outs[0], errs[0])
	}
}
