package hubspot

import (
	"context"
	"errors"
	"io"
	"net/http"
	"slices"
	"testing"

	"github.com/crmsync/crmsync/pkg/crmsync"
)

type assocRequest struct {
	Inputs []struct {
		From  AssociationTarget `json:"from"`
		To    any               `json:"to"`
		Types []AssociationType `json:"types"`
	} `json:"inputs"`
}

func TestPrimaryAssociation(t *testing.T) {
	ctx := context.Background()
	h := newHarness(t)
	h.handle("POST /crm/v4/associations/contacts/companies/batch/read", func(w http.ResponseWriter, r *http.Request) {
		serve(t, w, 207, "associations-batch-read.json")
	})
	h.handle("GET /crm/v4/objects/contacts/{id}/associations/companies", func(w http.ResponseWriter, r *http.Request) {
		serve(t, w, 200, "associations-page.json")
	})
	contact := crmsync.RecordRef{Side: crmsync.HubSpot, Object: crmsync.HSContact, ID: "512"}
	ids, primary, err := h.c.Associated(ctx, contact, crmsync.HSCompany)
	if err != nil || !slices.Equal(ids, []string{"4711", "4712"}) || primary != "4711" {
		t.Fatalf("Associated = %v, %q, %v; want [4711 4712], the one labelled Primary", ids, primary, err)
	}

	var created, archived []assocRequest
	h.handle("POST /crm/v4/associations/contacts/companies/batch/create", func(w http.ResponseWriter, r *http.Request) {
		var req assocRequest
		decodeBody(t, r, &req)
		created = append(created, req)
		w.WriteHeader(201)
		io.WriteString(w, `{"status":"COMPLETE","results":[]}`)
	})
	h.handle("POST /crm/v4/associations/contacts/companies/batch/archive", func(w http.ResponseWriter, r *http.Request) {
		var req assocRequest
		decodeBody(t, r, &req)
		archived = append(archived, req)
		w.WriteHeader(204)
	})
	// The current primary: nothing is written.
	if err := h.c.SetPrimary(ctx, contact, crmsync.PrimaryChange{To: crmsync.HSCompany, ToID: "4711"}); err != nil || len(created)+len(archived) != 0 {
		t.Fatalf("SetPrimary(current) = %v, wrote %d", err, len(created)+len(archived))
	}
	// Another company: associated as Primary, the old primary removed.
	if err := h.c.SetPrimary(ctx, contact, crmsync.PrimaryChange{To: crmsync.HSCompany, ToID: "4712"}); err != nil {
		t.Fatal(err)
	}
	want := []AssociationType{{Category: "HUBSPOT_DEFINED", TypeID: 1}, {Category: "HUBSPOT_DEFINED", TypeID: 279}}
	if len(created) != 1 || len(created[0].Inputs) != 1 || created[0].Inputs[0].From.ID != "512" ||
		!slices.Equal(created[0].Inputs[0].Types, want) {
		t.Errorf("create requests %+v, want 512 → 4712 with types %v", created, want)
	}
	if len(archived) != 1 || len(archived[0].Inputs) != 1 || archived[0].Inputs[0].From.ID != "512" {
		t.Fatalf("archive requests %+v", archived)
	}
	if to, _ := archived[0].Inputs[0].To.([]any); len(to) != 1 || to[0].(map[string]any)["id"] != "4711" {
		t.Errorf("archived %v, want the old primary 4711", archived[0].Inputs[0].To)
	}

	// The caller read the associations: no read, the previous it names
	// is replaced.
	reads := h.hitCount("POST /crm/v4/associations/contacts/companies/batch/read")
	err = h.c.SetPrimary(ctx, contact, crmsync.PrimaryChange{To: crmsync.HSCompany, ToID: "4711", Known: true, Previous: "4712"})
	if err != nil {
		t.Fatal(err)
	}
	if got := h.hitCount("POST /crm/v4/associations/contacts/companies/batch/read"); got != reads {
		t.Errorf("SetPrimary with the previous primary known read associations %d times", got-reads)
	}
	if len(created) != 2 || len(archived) != 2 {
		t.Fatalf("%d creates, %d archives; want 2 of each", len(created), len(archived))
	}
	if to, _ := archived[1].Inputs[0].To.([]any); len(to) != 1 || to[0].(map[string]any)["id"] != "4712" {
		t.Errorf("archived %v, want the previous primary the caller named, 4712", archived[1].Inputs[0].To)
	}
}

func TestPrimaryOfSoleCompanyAndRemoval(t *testing.T) {
	ctx := context.Background()
	h := newHarness(t)
	h.handle("POST /crm/v4/associations/deals/companies/batch/read", func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(200)
		io.WriteString(w, `{"status":"COMPLETE","results":[{"from":{"id":"77"},"to":[{"toObjectId":900,"associationTypes":[{"category":"HUBSPOT_DEFINED","typeId":341,"label":null}]}]}]}`)
	})
	var archived int
	h.handle("POST /crm/v4/associations/deals/companies/batch/archive", func(w http.ResponseWriter, r *http.Request) {
		archived++
		w.WriteHeader(204)
	})
	deal := crmsync.RecordRef{Side: crmsync.HubSpot, Object: crmsync.HSDeal, ID: "77"}
	if _, primary, err := h.c.Associated(ctx, deal, crmsync.HSCompany); err != nil || primary != "900" {
		t.Fatalf("primary = %q, %v; want the sole company 900", primary, err)
	}
	if err := h.c.SetPrimary(ctx, deal, crmsync.PrimaryChange{To: crmsync.HSCompany}); err != nil || archived != 1 {
		t.Fatalf("SetPrimary(\"\") = %v, %d archive calls; want 1", err, archived)
	}
	if h.hitCount("POST /crm/v4/associations/deals/companies/batch/create") != 0 {
		t.Error("removing the primary created an association")
	}
	err := h.c.SetPrimary(ctx, crmsync.RecordRef{Side: crmsync.HubSpot, Object: crmsync.HSContact, ID: "1"}, crmsync.PrimaryChange{To: crmsync.HSDeal, ToID: "2"})
	if !errors.Is(err, crmsync.ErrInvalid) {
		t.Errorf("SetPrimary(contact → deal) = %v, want ErrInvalid", err)
	}
}
