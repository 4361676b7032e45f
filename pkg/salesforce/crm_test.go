package salesforce_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"golang.org/x/oauth2"

	"github.com/crmsync/crmsync/pkg/crmsync"
	"github.com/crmsync/crmsync/pkg/salesforce"
	"github.com/crmsync/crmsync/pkg/sandbox/salesforcesim"
)

// newSimCRM returns the client, as crmsync.CRM, against a simulated org
// mounted under /sf.
func newSimCRM(t *testing.T) (*salesforcesim.Org, *salesforce.Client) {
	t.Helper()
	now := time.Date(2026, 11, 23, 12, 0, 0, 0, time.UTC)
	org := salesforcesim.New(salesforcesim.Config{Now: func() time.Time { now = now.Add(time.Second); return now }})
	mux := http.NewServeMux()
	mux.Handle("/sf/", http.StripPrefix("/sf", org))
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	c, err := salesforce.NewClient(salesforce.WithBaseURL(srv.URL+"/sf"), salesforce.WithHTTPClient(srv.Client()),
		salesforce.WithTokenSource(oauth2.StaticTokenSource(&oauth2.Token{AccessToken: org.Session("")})))
	if err != nil {
		t.Fatal(err)
	}
	return org, c
}

func TestCRMAgainstSimulator(t *testing.T) {
	org, c := newSimCRM(t)
	var crm crmsync.CRM = c
	ctx := context.Background()
	rec, err := crm.Create(ctx, crmsync.SFLead, map[string]string{"LastName": "Silva", "Company": "Silva Lda",
		"Email": "Ana.Silva@example.com", "Score__c": "42.5", "Phone": ""})
	if err != nil {
		t.Fatal(err)
	}
	if rec.Ref.Side != crmsync.Salesforce || rec.Ref.Object != crmsync.SFLead || len(rec.Ref.ID) != 18 ||
		rec.Properties["Score__c"] != "42.5" || rec.Properties["Phone"] != "" || rec.OwnerEmail != "integration@crmsync.example" ||
		rec.LastModified.IsZero() {
		t.Errorf("created = %+v", rec)
	}
	if used, _ := org.APIUsage(); used != 2 {
		t.Errorf("create used %d calls, want 2 (describe once, then one composite)", used)
	}
	got, err := crm.Get(ctx, rec.Ref, []string{"Email", "Score__c", "Score_Band__c"})
	if err != nil || got.Properties["Email"] != "Ana.Silva@example.com" || got.Properties["Score_Band__c"] != "Cold" || !got.LastModified.Equal(rec.LastModified) {
		t.Errorf("get = %+v, %v", got, err)
	}
	if err := crm.Update(ctx, rec.Ref, map[string]string{"Score__c": "77", "Email": ""}); err != nil {
		t.Fatal(err)
	}
	got, _ = crm.Get(ctx, rec.Ref, []string{"Email", "Score_Band__c"})
	if got.Properties["Email"] != "" || got.Properties["Score_Band__c"] != "Hot" || !got.LastModified.After(rec.LastModified) {
		t.Errorf("after update = %+v", got)
	}
	if err := crm.Update(ctx, rec.Ref, map[string]string{"Email": "ana@example.com"}); err != nil {
		t.Fatal(err)
	}
	second, err := crm.Create(ctx, crmsync.SFLead, map[string]string{"LastName": "Silva2", "Company": "S", "Email": "ANA@example.com"})
	if err != nil {
		t.Fatal(err)
	}
	found, err := crm.FindByEmail(ctx, crmsync.SFLead, "ana@EXAMPLE.com", []string{"LastName"})
	if err != nil || len(found) != 2 || found[0].Ref.ID != second.Ref.ID || found[1].Ref.ID != rec.Ref.ID {
		t.Errorf("find by email = %+v, %v", found, err)
	}
	if _, err := crm.FindByEmail(ctx, crmsync.SFAccount, "a@b.c", nil); !errors.Is(err, crmsync.ErrInvalid) {
		t.Errorf("accounts by email: %v", err)
	}

	// Terminal failures reach the engine as vendor errors.
	_, err = crm.Create(ctx, crmsync.SFLead, map[string]string{"LastName": "NoCompany"})
	var v crmsync.VendorError
	if !errors.As(err, &v) || v.Code() != salesforce.CodeRequiredFieldMissing || v.Category() != crmsync.CategoryPropertyValues || crmsync.IsTransient(err) {
		t.Errorf("create without a required field: %v", err)
	}
	if err := crm.Update(ctx, rec.Ref, map[string]string{"Score__c": "lots"}); !errors.Is(err, crmsync.ErrInvalid) {
		t.Errorf("non-numeric number: %v", err)
	}
	// Invisible and deleted records are not found.
	rep := org.AddUser("rep@acme.example", "Rep")
	hidden, _ := org.CreateAs(rep, "Lead", map[string]any{"LastName": "h", "Company": "h"})
	if _, err := crm.Get(ctx, crmsync.RecordRef{Side: crmsync.Salesforce, Object: crmsync.SFLead, ID: hidden}, nil); !errors.Is(err, crmsync.ErrNotFound) {
		t.Errorf("invisible record: %v", err)
	}
	if err := org.DeleteAs("", second.Ref.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := crm.Get(ctx, second.Ref, nil); !errors.Is(err, crmsync.ErrNotFound) {
		t.Errorf("deleted record: %v", err)
	}
	if _, err := crm.Get(ctx, crmsync.RecordRef{Side: crmsync.Salesforce, Object: crmsync.SFLead, ID: "x' OR Id != '"}, nil); !errors.Is(err, crmsync.ErrInvalid) {
		t.Errorf("id with SOQL in it: %v", err)
	}
}

// The client's crmsync.BatchCRM against the org: reads by id in one query
// per 200, updates in one collection call with per-record results.
func TestBatchCRMAgainstSimulator(t *testing.T) {
	org, c := newSimCRM(t)
	ctx := context.Background()
	var ids []string
	for i := range 250 {
		id, err := org.CreateAs("", "Lead", map[string]any{"LastName": fmt.Sprintf("L%d", i), "Company": "C"})
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, id)
	}
	used, _ := org.APIUsage()
	got, err := c.GetMany(ctx, crmsync.SFLead, ids, []string{"LastName"})
	if err != nil {
		t.Fatal(err)
	}
	if got[ids[249]].Properties["LastName"] != "L249" || got[ids[0]].OwnerEmail == "" {
		t.Errorf("GetMany: %+v", got[ids[249]])
	}
	if after, _ := org.APIUsage(); after-used != 2 {
		t.Errorf("GetMany of 250 ids used %d calls, want 2", after-used)
	}
	errs, err := c.UpdateMany(ctx, crmsync.SFLead, []crmsync.Update{
		{ID: ids[0], Properties: map[string]string{"LastName": "First"}},
		{ID: ids[1], Properties: map[string]string{"LastName": ""}}, // required: refused
		{ID: ids[2], Properties: map[string]string{"Score__c": "lots"}},
	})
	if err != nil {
		t.Fatal(err)
	}
	var v crmsync.VendorError
	if errs[0] != nil || !errors.As(errs[1], &v) || v.Code() != salesforce.CodeRequiredFieldMissing || !errors.Is(errs[2], crmsync.ErrInvalid) {
		t.Fatalf("per-update errors = %v", errs)
	}
	if r, _ := org.Get(ids[0]); r["LastName"] != "First" {
		t.Errorf("update not applied: %v", r["LastName"])
	}
}

func TestMergedIntoAgainstSimulator(t *testing.T) {
	org, c := newSimCRM(t)
	ctx := context.Background()
	m, _ := org.CreateAs("", "Contact", map[string]any{"LastName": "M"})
	l, _ := org.CreateAs("", "Contact", map[string]any{"LastName": "L"})
	d, _ := org.CreateAs("", "Contact", map[string]any{"LastName": "D"})
	if err := org.Merge("", m, l); err != nil {
		t.Fatal(err)
	}
	if err := org.DeleteAs("", d); err != nil {
		t.Fatal(err)
	}
	ref := func(id string) crmsync.RecordRef {
		return crmsync.RecordRef{Side: crmsync.Salesforce, Object: crmsync.SFContact, ID: id}
	}
	if got, ok, err := c.MergedInto(ctx, ref(l)); err != nil || !ok || got != ref(m) {
		t.Errorf("merged loser: %v %v %v", got, ok, err)
	}
	for _, id := range []string{d, m} { // deleted without a merge; alive
		if _, ok, err := c.MergedInto(ctx, ref(id)); err != nil || ok {
			t.Errorf("%s: ok=%v err=%v", id, ok, err)
		}
	}
}
