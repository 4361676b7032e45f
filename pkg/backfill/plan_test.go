package backfill_test

import (
	"context"
	"fmt"
	"math"
	"testing"
	"time"

	"github.com/crmsync/crmsync/pkg/backfill"
	"github.com/crmsync/crmsync/pkg/crmsync"
	"github.com/crmsync/crmsync/pkg/engine"
)

// crmsync plan -backfill says what the backfill will create and update
// and what it costs on each side: within 5 % of the run's calls, on both
// simulators. The scenario: 2 000 HubSpot contacts, 700 Salesforce leads —
// 500 of them the same people (adopted, their fields merged), 50 only in
// Salesforce (created in HubSpot).
func TestPlanBackfillMatchesTheRun(t *testing.T) {
	ctx := context.Background()
	w := newWorld(t, 100_000, false, nil)
	w.contacts(t, 0, 2000)
	for i := 1500; i < 2200; i++ {
		if _, err := w.org.CreateAs("", "Lead", map[string]any{"Email": fmt.Sprintf("c%d@example.com", i),
			"LastName": fmt.Sprint(i), "Company": "Acme", "Title": "Buyer"}); err != nil {
			t.Fatal(err)
		}
	}
	plan, err := w.job.Plan(ctx, w.eng, w.store)
	if err != nil {
		t.Fatal(err)
	}
	if got := len(w.org.Records("Lead")); got != 700 || len(w.portal.Objects(crmsync.HSContact)) != 2000 {
		t.Fatalf("the plan wrote: %d leads", got)
	}
	if plan.Writes["create salesforce/Lead"] != 1500 || plan.Writes["create hubspot/contact"] != 200 || plan.Writes["update hubspot/contact"] != 500 {
		t.Errorf("plan writes %v, want 1 500 leads and 200 contacts created, 500 contacts updated", plan.Writes)
	}
	if plan.Fields["hubspot jobtitle"] < 500 {
		t.Errorf("plan fields %v, want the 500 adopted leads' titles written to HubSpot", plan.Fields)
	}
	sfBefore, hsBefore := w.refuse.calls.Load(), w.portal.Calls()
	p, err := w.job.Run(ctx, time.Minute, backfill.Sleep, nil)
	if err != nil || !p.Finished {
		t.Fatalf("run: %+v %v", p, err)
	}
	actual := map[crmsync.Side]int{crmsync.Salesforce: int(w.refuse.calls.Load() - sfBefore), crmsync.HubSpot: w.portal.Calls() - hsBefore}
	for _, s := range crmsync.Sides {
		predicted := plan.Total(s)
		t.Logf("%s calls: plan %d (reads %d, writes %d), run %d", s, predicted, plan.Reads[s], plan.Calls[s], actual[s])
		if math.Abs(float64(actual[s]-predicted)) > 0.05*float64(actual[s]) {
			t.Errorf("%s calls: plan %d, run %d (more than 5 %% apart)", s, predicted, actual[s])
		}
	}
	if got := len(w.org.Records("Lead")); got != 2200 {
		t.Errorf("%d leads after the run, want 2 200", got)
	}
	if got := len(w.portal.Objects(crmsync.HSContact)); got != 2200 {
		t.Errorf("%d contacts after the run, want 2 200", got)
	}
	if p.Decisions[engine.DecisionSynced] != 2200 {
		t.Errorf("decisions %v", p.Decisions)
	}
}

// crmsync plan -resync says what resyncing records through the queue
// will write and cost — the worker's batches of 10, linked pairs read in
// batches, new records one by one — within 5 % of the run's calls: 300
// linked contacts, 200 of them changed in Salesforce while nothing
// told crmsync, and 50 new HubSpot contacts.
func TestPlanResyncMatchesTheRun(t *testing.T) {
	ctx := context.Background()
	w := newWorld(t, 100_000, false, nil)
	w.contacts(t, 0, 300)
	if p, err := w.job.Run(ctx, time.Minute, backfill.Sleep, nil); err != nil || !p.Finished {
		t.Fatalf("backfill: %+v %v", p, err)
	}
	for i, lead := range w.org.Records("Lead")[:200] {
		if err := w.org.UpdateAs("", lead["Id"].(string), map[string]any{"Phone": fmt.Sprintf("+1 555 %04d", i)}); err != nil {
			t.Fatal(err)
		}
	}
	w.contacts(t, 300, 50)
	var ts []crmsync.Trigger
	for _, c := range w.portal.Objects(crmsync.HSContact) {
		ts = append(ts, w.trigger(crmsync.RecordRef{Side: crmsync.HubSpot, Object: crmsync.HSContact, ID: c.ID}, crmsync.KindManualResync))
	}
	plan, err := w.eng.PlanTriggers(ctx, ts, 10)
	if err != nil {
		t.Fatal(err)
	}
	if plan.Pairs != 350 || plan.Writes["update hubspot/contact"] != 200 || plan.Writes["create salesforce/Lead"] != 50 {
		t.Errorf("plan: %d records, writes %v; want 350, 200 HubSpot updates and 50 leads created", plan.Pairs, plan.Writes)
	}
	sfBefore, hsBefore := w.refuse.calls.Load(), w.portal.Calls()
	for lo := 0; lo < len(ts); lo += 10 {
		_, errs := w.eng.ResolveBatch(ctx, ts[lo:min(lo+10, len(ts))])
		for _, err := range errs {
			if err != nil {
				t.Fatal(err)
			}
		}
	}
	actual := map[crmsync.Side]int{crmsync.Salesforce: int(w.refuse.calls.Load() - sfBefore), crmsync.HubSpot: w.portal.Calls() - hsBefore}
	for _, s := range crmsync.Sides {
		predicted := plan.Total(s)
		t.Logf("%s calls: plan %d (reads %d, writes %d), run %d", s, predicted, plan.Reads[s], plan.Calls[s], actual[s])
		if math.Abs(float64(actual[s]-predicted)) > 0.05*float64(actual[s]) {
			t.Errorf("%s calls: plan %d, run %d (more than 5 %% apart)", s, predicted, actual[s])
		}
	}
}
