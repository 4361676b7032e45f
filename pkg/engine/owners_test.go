package engine

import (
	"context"
	"strings"
	"testing"

	"github.com/crmsync/crmsync/pkg/crmsync"
)

// HubSpot's documented owner rules.
func TestOwnerRules(t *testing.T) {
	ctx := context.Background()
	t.Run("a HubSpot owner without a Salesforce user is reset to the Salesforce owner", func(t *testing.T) {
		h := newHarness(t, nil)
		h.hs.AddUser("ann@corp.example")
		h.hs.AddUser("zed@corp.example") // no Salesforce user
		h.sf.AddUser("ann@corp.example")
		c := hsContact("1", map[string]string{"email": "o@example.com", "lastname": "O"})
		c.OwnerEmail = "ann@corp.example"
		c = h.hs.Put(c)
		h.resolve(c.Ref)
		h.hs.SetOwner(c.Ref, "zed@corp.example")
		out := h.resolve(c.Ref)
		if got, _ := h.hs.Record(c.Ref); got.OwnerEmail != "ann@corp.example" {
			t.Fatalf("HubSpot owner = %q, want reset to ann; %+v", got.OwnerEmail, out)
		}
		entries, _, _ := h.store.ListLedger(ctx, out.LinkID, crmsync.PageRequest{Limit: 1})
		if len(entries) != 1 || !strings.Contains(entries[0].Note, "zed@corp.example set in HubSpot has no Salesforce user") {
			t.Errorf("ledger: %+v", entries)
		}
		if again := h.resolve(c.Ref); len(again.Writes) != 0 {
			t.Errorf("after the reset: %+v", again)
		}
	})
	t.Run("an existing Salesforce record keeps its owner on its first sync", func(t *testing.T) {
		h := newHarness(t, func(s *crmsync.Settings) { s.NewContactsAs = crmsync.CreateAsContact })
		for _, u := range []string{"ann@corp.example", "bob@corp.example"} {
			h.hs.AddUser(u)
			h.sf.AddUser(u)
		}
		existing := sfRecord(crmsync.SFContact, "003X", map[string]string{"Email": "e@example.com", "LastName": "E"})
		existing.OwnerEmail = "bob@corp.example"
		existing = h.sf.Put(existing)
		c := hsContact("1", map[string]string{"email": "e@example.com", "lastname": "E"})
		c.OwnerEmail = "ann@corp.example"
		c = h.hs.Put(c) // modified later than the Salesforce contact
		h.resolve(c.Ref)
		if got, _ := h.sf.Record(existing.Ref); got.OwnerEmail != "bob@corp.example" {
			t.Errorf("Salesforce owner = %q, want bob kept", got.OwnerEmail)
		}
		if got, _ := h.hs.Record(c.Ref); got.OwnerEmail != "bob@corp.example" {
			t.Errorf("HubSpot owner = %q, want bob (the Salesforce owner)", got.OwnerEmail)
		}
		// After the first sync the most recent change wins.
		h.hs.SetOwner(c.Ref, "ann@corp.example")
		h.resolve(c.Ref)
		if got, _ := h.sf.Record(existing.Ref); got.OwnerEmail != "ann@corp.example" {
			t.Errorf("Salesforce owner = %q, want ann", got.OwnerEmail)
		}
	})
}
