package hubspotsim_test

import (
	"context"
	"errors"
	"fmt"
	"testing"

	"github.com/crmsync/crmsync/pkg/crmsync"
	"github.com/crmsync/crmsync/pkg/sandbox/hubspotsim"
)

// The client's crmsync.BatchCRM against the portal: 150 contacts read in
// two batch calls, unknown ids left out; updates with one failing input.
func TestClientBatchCRM(t *testing.T) {
	e := newEnv(t, hubspotsim.Config{})
	ctx := context.Background()
	var ids []string
	for i := range 150 {
		o, err := e.portal.CreateAsUser(crmsync.HSContact, map[string]string{"email": fmt.Sprintf("b%d@example.com", i), "lastname": "B"})
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, o.ID)
	}
	calls := e.portal.Calls()
	got, err := e.client.GetMany(ctx, crmsync.HSContact, append(ids, "999999"), []string{"email"})
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 150 || got[ids[7]].Properties["email"] != "b7@example.com" || got[ids[7]].LastModified.IsZero() {
		t.Fatalf("GetMany: %d records, e.g. %+v", len(got), got[ids[7]])
	}
	if _, ok := got["999999"]; ok {
		t.Error("an unknown id was answered")
	}
	if n := e.portal.Calls() - calls; n != 2 {
		t.Errorf("GetMany of 151 ids made %d calls, want 2", n)
	}
	errs, err := e.client.UpdateMany(ctx, crmsync.HSContact, []crmsync.Update{
		{ID: ids[0], Properties: map[string]string{"lastname": "One"}},
		{ID: "999999", Properties: map[string]string{"lastname": "Ghost"}},
		{ID: ids[2], Properties: map[string]string{"lastname": "Three"}},
	})
	if err != nil {
		t.Fatal(err)
	}
	if errs[0] != nil || errs[2] != nil || errs[1] == nil {
		t.Fatalf("per-update errors = %v", errs)
	}
	var v crmsync.VendorError
	if !errors.As(errs[1], &v) && !errors.Is(errs[1], crmsync.ErrNotFound) {
		t.Errorf("unknown id's error is neither a vendor error nor not-found: %v", errs[1])
	}
	if o, _ := e.portal.Object(crmsync.HSContact, ids[2]); o.Properties["lastname"] != "Three" {
		t.Errorf("update not applied: %+v", o.Properties)
	}
}

// ListObjects pages archived and live objects apart, in id order.
func TestClientListObjects(t *testing.T) {
	e := newEnv(t, hubspotsim.Config{})
	ctx := context.Background()
	var ids []string
	for i := range 250 {
		o, err := e.portal.CreateAsUser(crmsync.HSContact, map[string]string{"email": fmt.Sprintf("l%d@example.com", i)})
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, o.ID)
	}
	for _, id := range ids[:120] {
		if err := e.portal.DeleteAsUser(crmsync.HSContact, id); err != nil {
			t.Fatal(err)
		}
	}
	for _, archived := range []bool{true, false} {
		var got []string
		after := ""
		for {
			page, err := e.client.ListObjects(ctx, crmsync.HSContact, archived, after, 0, nil)
			if err != nil {
				t.Fatal(err)
			}
			for _, o := range page.Objects {
				if archived && o.ArchivedAt.IsZero() {
					t.Errorf("archived %s without archivedAt", o.ID)
				}
				got = append(got, o.ID)
			}
			if after = page.Next; after == "" {
				break
			}
		}
		want := ids[120:]
		if archived {
			want = ids[:120]
		}
		if fmt.Sprint(got) != fmt.Sprint(want) {
			t.Errorf("archived=%v: %d objects, want %d in id order", archived, len(got), len(want))
		}
	}
}
