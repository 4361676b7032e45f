package localstack

import (
	"context"
	"testing"

	"github.com/crmsync/crmsync/pkg/crmsync"
	"github.com/crmsync/crmsync/pkg/engine"
)

// A Salesforce record the integration user cannot see (sharing) is a
// Permissions card "not visible to the integration user", never
// source_gone; a deleted one is still a deletion.
func TestNotVisibleIsNotGone(t *testing.T) {
	for _, b := range backends(t) {
		t.Run(b.name, func(t *testing.T) {
			t.Parallel()
			ctx := context.Background()
			w := start(t, b)
			w.Salesforce.SetIntegrationUserModifyAll(false)
			rep := w.Salesforce.AddUser("rep@example.com", "Rep")
			hidden, err := w.Salesforce.CreateAs(rep, "Lead", map[string]any{"LastName": "Hidden", "Company": "H", "Email": "hidden@example.com"})
			if err != nil {
				t.Fatal(err)
			}
			w.settle()
			ref := crmsync.RecordRef{Side: crmsync.Salesforce, Object: crmsync.SFLead, ID: hidden}
			se, err := w.store.GetSyncError(ctx, ref)
			if err != nil || se.Reason != crmsync.ReasonNotVisible || se.Category != crmsync.CategoryPermissions || se.Hint == "" {
				t.Fatalf("hidden lead: %+v %v", se, err)
			}
			_, outs := w.writesSince(0)
			for _, o := range outs {
				if o.Trigger.Record == ref && o.Decision == engine.DecisionSourceGone {
					t.Errorf("a hidden lead was called gone: %+v", o)
				}
			}
		})
	}
}
