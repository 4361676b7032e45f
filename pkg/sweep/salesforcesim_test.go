package sweep_test

import (
	"context"
	"fmt"
	"net/http/httptest"
	"testing"
	"time"

	"golang.org/x/oauth2"

	"github.com/crmsync/crmsync/pkg/crmsync"
	"github.com/crmsync/crmsync/pkg/salesforce"
	"github.com/crmsync/crmsync/pkg/sandbox/salesforcesim"
	"github.com/crmsync/crmsync/pkg/sweep"
)

// One sweep over 20 000 leads made within a second on the Salesforce
// simulator enqueues each exactly once. (It once enqueued 20 469: the
// simulator compared date-times to the millisecond while the keyset's
// literal is to the second, so a page re-read the rest of its second;
// Salesforce compares to the second.)
func TestSweepOfTwentyThousandLeadsEnqueuesEachOnce(t *testing.T) {
	if testing.Short() {
		t.Skip("20 000 records")
	}
	org := salesforcesim.New(salesforcesim.Config{DailyLimit: 100_000_000, IntegrationUserModifyAll: true})
	srv := httptest.NewServer(org)
	defer srv.Close()
	org.SetInstanceURL(srv.URL)
	sf, err := salesforce.NewClient(salesforce.WithBaseURL(srv.URL),
		salesforce.WithTokenSource(oauth2.StaticTokenSource(&oauth2.Token{AccessToken: org.Session("")})))
	if err != nil {
		t.Fatal(err)
	}
	for i := range 20000 {
		if _, err := org.CreateAs("", "Lead", map[string]any{"LastName": fmt.Sprint(i), "Company": "C", "Email": fmt.Sprintf("l%d@example.com", i)}); err != nil {
			t.Fatal(err)
		}
	}
	h := newHarness(t)
	h.clk.Add(time.Since(t0) + time.Hour)
	h.sw.Sources = map[crmsync.Side]sweep.Source{crmsync.Salesforce: &sweep.SalesforceSource{Client: sf}}
	h.sw.Drift = nil
	if _, err := h.sw.Run(context.Background()); err != nil {
		t.Fatal(err)
	}
	seen := map[string]bool{}
	for _, tr := range h.rec.take() {
		if seen[tr.Record.ID] {
			t.Fatalf("%s enqueued twice", tr.Record)
		}
		seen[tr.Record.ID] = true
	}
	if len(seen) != 20000 {
		t.Errorf("%d leads enqueued, want 20 000", len(seen))
	}
}
