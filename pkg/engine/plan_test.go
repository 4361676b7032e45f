package engine

import (
	"context"
	"fmt"
	"math"
	"testing"

	"github.com/crmsync/crmsync/pkg/crmsync"
	"github.com/crmsync/crmsync/pkg/mapping"
)

// A settings change's plan — which pairs and fields would change, and
// the write calls — agrees with what resolving every pair under the new
// settings then does, within 5 %.
func TestPlanSettingsMatchesTheRun(t *testing.T) {
	ctx := context.Background()
	h := newHarness(t, nil) // prefer Salesforce unless blank
	const n = 137
	for i := range n {
		c := h.hs.Put(hsContact(fmt.Sprint(i), map[string]string{"email": fmt.Sprintf("p%d@example.com", i), "lastname": "P", "company": "C"}))
		h.resolve(c.Ref)
	}
	// HubSpot titles change; Salesforce has none for most (those would
	// sync anyway) and one for every third (refused by the default rule).
	for i := range n {
		ref := crmsync.RecordRef{Side: crmsync.HubSpot, Object: crmsync.HSContact, ID: fmt.Sprint(i)}
		l, _ := h.store.GetLink(ctx, ref)
		if i%3 == 0 {
			h.sf.Edit(l.Salesforce, map[string]string{"Title": "Old"})
			h.resolve(l.Salesforce)
		}
		h.hs.Edit(ref, map[string]string{"jobtitle": "New"})
	}
	// The proposed change: titles become Two-way.
	proposed, _ := h.eng.Settings(ctx)
	proposed.Mappings = mapping.DefaultMappings(crmsync.RuleTwoWay)
	sfBefore := h.sf.Calls("update") + h.sf.Calls("updatemany")
	plan, err := h.eng.PlanSettings(ctx, proposed, 10)
	if err != nil {
		t.Fatal(err)
	}
	if sfAfterPlan := h.sf.Calls("update") + h.sf.Calls("updatemany"); sfAfterPlan != sfBefore {
		t.Fatalf("the plan wrote to Salesforce")
	}
	if plan.Pairs != n || plan.Writes["update salesforce/Lead"] != n || plan.Fields["salesforce Title"] != n {
		t.Fatalf("plan %+v, want every pair's Title written", plan)
	}
	// Apply the settings and resolve every pair, in batches of 10.
	if _, err := h.store.PutSettings(ctx, proposed); err != nil {
		t.Fatal(err)
	}
	var ts []crmsync.Trigger
	for i := range n {
		ts = append(ts, h.trigger(crmsync.RecordRef{Side: crmsync.HubSpot, Object: crmsync.HSContact, ID: fmt.Sprint(i)}, crmsync.KindManualResync))
	}
	for lo := 0; lo < n; lo += 10 {
		_, errs := h.eng.ResolveBatch(ctx, ts[lo:min(lo+10, n)])
		for _, err := range errs {
			if err != nil {
				t.Fatal(err)
			}
		}
	}
	actual := h.sf.Calls("update") + h.sf.Calls("updatemany") - sfBefore
	predicted := plan.Calls[crmsync.Salesforce]
	if math.Abs(float64(actual-predicted)) > 0.05*float64(actual) {
		t.Errorf("Salesforce write calls: plan %d, run %d (more than 5 %% apart)", predicted, actual)
	}
	t.Logf("Salesforce write calls: plan %d, run %d", predicted, actual)
}
