package engine

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/crmsync/crmsync/pkg/crmsync"
)

// A trigger for an object type whose sync is off is a skip the ledger
// records, under the record's own key (explain shows it).
func TestObjectToggleOffIsARecordedSkip(t *testing.T) {
	ctx := context.Background()
	h := newHarness(t, func(s *crmsync.Settings) { s.Objects.Contacts = false })
	c := h.hs.Put(hsContact("1", map[string]string{"email": "off@example.com", "lastname": "Off"}))
	out := h.resolve(c.Ref)
	if out.Decision != DecisionSkipped || !strings.Contains(out.Reason, "contacts sync is off") {
		t.Fatalf("%+v", out)
	}
	if n := len(h.sf.Writes()); n != 0 {
		t.Errorf("%d writes to Salesforce", n)
	}
	entries, _, err := h.store.ListLedger(ctx, LedgerKey(c.Ref), crmsync.PageRequest{})
	if err != nil || len(entries) != 1 || entries[0].Result != "skipped" || !strings.Contains(entries[0].Note, "contacts sync is off") {
		t.Fatalf("ledger = %+v, %v; want one skipped entry with the reason", entries, err)
	}
}

// Attempts count failed retries, not deliveries: the 20 other webhooks of
// one failed creation (and repeated deliveries) leave the record's retry
// schedule as the first failure set it.
func TestTriggersBeforeTheRetryLeaveTheScheduleAlone(t *testing.T) {
	ctx := context.Background()
	h := newHarness(t, nil)
	h.sf.Fail = func(op string, ref crmsync.RecordRef) error {
		if op == "create" {
			return vendorErr{code: "REQUIRED_FIELD_MISSING", cat: crmsync.CategoryPropertyValues}
		}
		return nil
	}
	c := h.hs.Put(hsContact("1", map[string]string{"email": "r@example.com", "lastname": "R"}))
	if out := h.resolve(c.Ref); out.Decision != DecisionFailed {
		t.Fatalf("%+v", out)
	}
	first, err := h.store.GetSyncError(ctx, c.Ref)
	if err != nil || first.Attempts != 1 {
		t.Fatalf("sync error %+v %v", first, err)
	}
	dup := h.trigger(c.Ref, crmsync.KindPropertyChanged)
	for i := range 20 {
		tr := h.trigger(c.Ref, crmsync.KindPropertyChanged)
		if i%2 == 1 {
			tr = dup // a repeated delivery
		}
		if _, err := h.eng.Resolve(ctx, tr); err != nil {
			t.Fatal(err)
		}
	}
	se, _ := h.store.GetSyncError(ctx, c.Ref)
	if se.Attempts != 1 || !se.NextRetry.Equal(first.NextRetry) || !se.FirstSeen.Equal(first.FirstSeen) {
		t.Errorf("after 20 triggers: attempts %d next %s, want 1 and %s", se.Attempts, se.NextRetry, first.NextRetry)
	}
}

// A linked pair resolved with nothing to write keeps its link version:
// 20 no-change triggers write nothing, set no error and leave the link.
func TestNoChangeTriggersLeaveTheLinkAlone(t *testing.T) {
	ctx := context.Background()
	h := newHarness(t, nil)
	c := h.hs.Put(hsContact("1", map[string]string{"email": "n@example.com", "lastname": "N"}))
	h.resolve(c.Ref)
	before, err := h.store.GetLink(ctx, c.Ref)
	if err != nil {
		t.Fatal(err)
	}
	for range 20 {
		if out := h.resolve(c.Ref); out.Decision != DecisionNoChange {
			t.Fatalf("%+v", out)
		}
	}
	after, _ := h.store.GetLink(ctx, c.Ref)
	if after.Version != before.Version {
		t.Errorf("link version %d → %d after no-change triggers", before.Version, after.Version)
	}
	if _, err := h.store.GetSyncError(ctx, c.Ref); !errors.Is(err, crmsync.ErrNotFound) {
		t.Errorf("sync error after no-change triggers: %v", err)
	}
}

// crmsync's own write coming back as a HubSpot webhook (change source
// INTEGRATION/<its app id>) is named an echo of its own write.
func TestEchoOfOwnWriteIsNamed(t *testing.T) {
	h := newHarness(t, nil)
	h.eng.OwnHubSpotAppID = "1160452"
	c := h.hs.Put(hsContact("1", map[string]string{"email": "e@example.com", "lastname": "E"}))
	h.resolve(c.Ref)
	tr := h.trigger(c.Ref, crmsync.KindPropertyChanged)
	tr.ChangeSource = "INTEGRATION/1160452"
	out, err := h.eng.Resolve(context.Background(), tr)
	if err != nil || out.Decision != DecisionNoChange || !strings.Contains(out.Reason, "echo of crmsync's own write") {
		t.Fatalf("%+v %v", out, err)
	}
	tr = h.trigger(c.Ref, crmsync.KindPropertyChanged)
	tr.ChangeSource = "INTEGRATION/999"
	if out, _ := h.eng.Resolve(context.Background(), tr); strings.Contains(out.Reason, "echo") {
		t.Errorf("another app's change called an echo: %+v", out)
	}
}

// A HubSpot contact without a company becomes a Lead with the default
// company ("[not provided]", as web-to-lead does), which reads back as
// blank: no echo writes it into HubSpot.
func TestContactWithoutCompanyBecomesLeadWithDefaultCompany(t *testing.T) {
	h := newHarness(t, nil)
	c := h.hs.Put(hsContact("1", map[string]string{"email": "nc@example.com", "lastname": "NoCo"}))
	if out := h.resolve(c.Ref); out.Decision != DecisionSynced {
		t.Fatalf("%+v", out)
	}
	lead := h.sf.Records(crmsync.SFLead)[0]
	if got := lead.Properties["Company"]; got != crmsync.DefaultLeadCompany {
		t.Fatalf("lead Company = %q, want %q", got, crmsync.DefaultLeadCompany)
	}
	if out := h.resolve(lead.Ref); out.Decision != DecisionNoChange {
		t.Errorf("the lead's echo: %+v", out)
	}
	if got, _ := h.hs.Record(c.Ref); got.Properties["company"] != "" {
		t.Errorf("HubSpot company = %q, want blank", got.Properties["company"])
	}
	// A real company later replaces the placeholder.
	h.hs.Edit(c.Ref, map[string]string{"company": "Acme"})
	h.resolve(c.Ref)
	if got, _ := h.sf.Record(lead.Ref); got.Properties["Company"] != "Acme" {
		t.Errorf("lead Company = %q, want Acme", got.Properties["Company"])
	}
}

// Preview answers "will this record sync, and why (not)" with the
// engine's own decision, and changes nothing.
func TestPreviewAppliesNothing(t *testing.T) {
	ctx := context.Background()
	h := newHarness(t, nil)
	noMail := h.hs.Put(hsContact("1", map[string]string{"lastname": "NoMail"}))
	p, err := h.eng.Preview(ctx, noMail.Ref)
	if err != nil || p.Decision != DecisionNotEligible || p.Error == nil || p.Error.Reason != crmsync.ReasonNoEmail {
		t.Fatalf("%+v %v", p, err)
	}
	ok := h.hs.Put(hsContact("2", map[string]string{"email": "p@example.com", "lastname": "P"}))
	p, err = h.eng.Preview(ctx, ok.Ref)
	if err != nil || p.Decision != DecisionSynced || len(p.Writes) != 1 || p.Writes[0].Op != "create" {
		t.Fatalf("%+v %v", p, err)
	}
	if n := len(h.sf.Writes()); n != 0 {
		t.Errorf("a preview wrote %d records", n)
	}
	if _, err := h.store.GetSyncError(ctx, noMail.Ref); err == nil {
		t.Error("a preview stored a sync error")
	}
	if _, err := h.store.GetLink(ctx, ok.Ref); err == nil {
		t.Error("a preview stored a link")
	}
}
