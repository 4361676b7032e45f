package hubspotsim_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/crmsync/crmsync/pkg/crmsync"
	"github.com/crmsync/crmsync/pkg/sandbox/hubspotsim"
)

// call sends an authenticated request and decodes a JSON answer into a
// generic value (nil for an empty body).
func (e *env) call(t *testing.T, method, path, body string) (int, http.Header, any) {
	t.Helper()
	resp, b := e.raw(t, method, path, body)
	var v any
	if len(b) > 0 {
		dec := json.NewDecoder(strings.NewReader(string(b)))
		dec.UseNumber()
		if err := dec.Decode(&v); err != nil {
			t.Fatalf("%s %s: %d, body is not JSON (%s): %q", method, path, resp.StatusCode, resp.Header.Get("Content-Type"), b)
		}
	}
	return resp.StatusCode, resp.Header, v
}

func field(v any, path ...string) any {
	for _, k := range path {
		m, _ := v.(map[string]any)
		v = m[k]
	}
	return v
}

func TestPropertiesRepeatedAndCommaSeparated(t *testing.T) {
	e := newEnv(t, hubspotsim.Config{})
	c, err := e.portal.CreateAsUser(crmsync.HSContact, map[string]string{"email": "q@example.com", "firstname": "Q", "lastname": "R", "phone": "1"})
	if err != nil {
		t.Fatal(err)
	}
	for _, q := range []string{"properties=firstname&properties=lastname", "properties=firstname,lastname", "properties=firstname&properties=lastname,firstname"} {
		for _, path := range []string{"/crm/v3/objects/contacts/" + c.ID + "?" + q, "/crm/v3/objects/contacts?limit=5&" + q} {
			status, _, v := e.call(t, "GET", path, "")
			rec := v
			if !strings.Contains(path, c.ID) {
				rec = field(v, "results").([]any)[0]
			}
			props, _ := field(rec, "properties").(map[string]any)
			if status != 200 || props["firstname"] != "Q" || props["lastname"] != "R" {
				t.Errorf("GET %s = %d %v", path, status, props)
			}
			if _, has := props["phone"]; has {
				t.Errorf("GET %s returned an unrequested property: %v", path, props)
			}
		}
	}
}

func TestAssociationRoutesOfOnePair(t *testing.T) {
	e := newEnv(t, hubspotsim.Config{})
	c, _ := e.portal.CreateAsUser(crmsync.HSContact, map[string]string{"email": "a@example.com"})
	co, _ := e.portal.CreateAsUser(crmsync.HSCompany, map[string]string{"name": "Acme"})

	status, _, v := e.call(t, "PUT", "/crm/v4/objects/contacts/"+c.ID+"/associations/default/companies/"+co.ID, "")
	res, _ := field(v, "results").([]any)
	if status != 200 || len(res) != 1 || field(res[0], "associationSpec", "associationTypeId") != json.Number("279") || field(res[0], "to", "id") != co.ID {
		t.Fatalf("PUT default = %d %v", status, v)
	}
	if got := e.portal.Associations(crmsync.HSCompany, co.ID, crmsync.HSContact); len(got) != 1 || got[0] != c.ID {
		t.Fatalf("reverse association %v", got)
	}
	status, _, v = e.call(t, "GET", "/crm/v3/objects/contacts/"+c.ID+"?associations=companies", "")
	ar, _ := field(v, "associations", "companies", "results").([]any)
	if status != 200 || len(ar) != 1 || field(ar[0], "id") != co.ID || field(ar[0], "type") != "contact_to_company" {
		t.Errorf("GET with associations = %d %v", status, v)
	}

	status, _, v = e.call(t, "PUT", "/crm/v4/objects/contacts/"+c.ID+"/associations/companies/"+co.ID, `[{"associationCategory":"USER_DEFINED","associationTypeId":7}]`)
	if status != 201 || fmt.Sprint(field(v, "toObjectId")) != co.ID {
		t.Fatalf("PUT labels = %d %v", status, v)
	}
	status, _, v = e.call(t, "GET", "/crm/v4/objects/contacts/"+c.ID+"/associations/companies", "")
	types, _ := field(field(v, "results").([]any)[0], "associationTypes").([]any)
	if status != 200 || len(types) != 2 {
		t.Errorf("labels after PUT = %v", v)
	}
	status, _, v = e.call(t, "PUT", "/crm/v4/objects/contacts/"+c.ID+"/associations/companies/999", `[{"associationCategory":"HUBSPOT_DEFINED","associationTypeId":279}]`)
	if status != 400 || field(v, "subCategory") != "crm.associations.INVALID_OBJECT_IDS" {
		t.Errorf("PUT to unknown id = %d %v", status, v)
	}
	status, _, _ = e.call(t, "DELETE", "/crm/v4/objects/contacts/"+c.ID+"/associations/companies/"+co.ID, "")
	if status != 204 || len(e.portal.Associations(crmsync.HSContact, c.ID, crmsync.HSCompany)) != 0 {
		t.Errorf("DELETE pair = %d", status)
	}

	status, _, v = e.call(t, "POST", "/crm/v4/associations/contacts/companies/batch/associate/default",
		`{"inputs":[{"from":{"id":"`+c.ID+`"},"to":{"id":"`+co.ID+`"}},{"from":{"id":"1"},"to":{"id":"2"}}]}`)
	if status != 207 || field(v, "numErrors") != json.Number("1") || field(field(v, "results").([]any)[0], "associationSpec", "associationCategory") != "HUBSPOT_DEFINED" {
		t.Errorf("batch associate default = %d %v", status, v)
	}
}

func TestUnknownRoutesAnswerJSON(t *testing.T) {
	e := newEnv(t, hubspotsim.Config{})
	for _, tc := range []struct {
		method, path string
		status       int
	}{
		{"GET", "/crm/v3/nothing-here", 404},
		{"GET", "/crm/v9/objects/contacts", 404},
		{"PATCH", "/crm/v3/objects/contacts", 405},
	} {
		status, h, v := e.call(t, tc.method, tc.path, "")
		if status != tc.status || field(v, "status") != "error" || field(v, "correlationId") == "" || field(v, "category") == nil ||
			!strings.HasPrefix(h.Get("Content-Type"), "application/json") {
			t.Errorf("%s %s = %d %v", tc.method, tc.path, status, v)
		}
		if tc.status == 405 && !strings.Contains(h.Get("Allow"), "GET") {
			t.Errorf("405 without Allow: %v", h)
		}
	}
}

func TestUsersBecomeOwners(t *testing.T) {
	e := newEnv(t, hubspotsim.Config{})
	status, _, u := e.call(t, "POST", "/settings/v3/users/", `{"email":"new.rep@example.com","firstName":"New","lastName":"Rep","sendWelcomeEmail":false}`)
	if status != 201 || field(u, "id") == nil || field(u, "email") != "new.rep@example.com" || field(u, "roleIds") == nil {
		t.Fatalf("create user = %d %v", status, u)
	}
	userID := field(u, "id").(string)
	for _, bad := range []string{`{"email":"new.rep@example.com","sendWelcomeEmail":false}`, `{"email":"nope","sendWelcomeEmail":false}`, `{"email":"x@example.com"}`} {
		if status, _, v := e.call(t, "POST", "/settings/v3/users", bad); status < 400 || field(v, "category") == nil {
			t.Errorf("create %s = %d %v", bad, status, v)
		}
	}
	for _, path := range []string{"/crm/v3/owners/?email=NEW.REP@example.com", "/crm/v3/owners?email=new.rep@example.com"} {
		status, _, v := e.call(t, "GET", path, "")
		res, _ := field(v, "results").([]any)
		if status != 200 || len(res) != 1 || fmt.Sprint(field(res[0], "userId")) != userID ||
			field(res[0], "firstName") != "New" || field(res[0], "type") != "PERSON" {
			t.Fatalf("GET %s = %d %v", path, status, v)
		}
	}
	owners, err := e.client.Owners(ctx, "new.rep@example.com")
	if err != nil || len(owners) != 1 || owners[0].UserID == 0 {
		t.Fatalf("crmsync client Owners = %+v, %v", owners, err)
	}
	status, _, v := e.call(t, "GET", "/crm/v3/owners/"+userID+"?idProperty=userId", "")
	if status != 200 || field(v, "id") != owners[0].ID {
		t.Errorf("owner by userId = %d %v", status, v)
	}
	status, _, v = e.call(t, "GET", "/settings/v3/users/new.rep@example.com?idProperty=EMAIL", "")
	if status != 200 || field(v, "id") != userID {
		t.Errorf("user by email = %d %v", status, v)
	}
	status, _, _ = e.call(t, "PUT", "/settings/v3/users/"+userID, `{"firstName":"Renamed"}`)
	if s, _, o := e.call(t, "GET", "/crm/v3/owners/"+owners[0].ID, ""); status != 200 || s != 200 || field(o, "firstName") != "Renamed" {
		t.Errorf("rename = %d; owner %d %v", status, s, o)
	}
	if status, _, _ := e.call(t, "DELETE", "/settings/v3/users/"+userID, ""); status != 204 {
		t.Fatalf("delete user = %d", status)
	}
	if status, _, v := e.call(t, "GET", "/crm/v3/owners/?email=new.rep@example.com", ""); status != 200 || len(field(v, "results").([]any)) != 0 {
		t.Errorf("removed user still an active owner: %v", v)
	}
	if status, _, v := e.call(t, "GET", "/crm/v3/owners/?archived=true", ""); status != 200 || len(field(v, "results").([]any)) != 1 {
		t.Errorf("archived owners = %v", v)
	}
}

func TestListsAPI(t *testing.T) {
	e := newEnv(t, hubspotsim.Config{})
	c, _ := e.portal.CreateAsUser(crmsync.HSContact, map[string]string{"email": "l@example.com"})
	status, _, v := e.call(t, "POST", "/crm/v3/lists/", `{"name":"Customers","objectTypeId":"0-1","processingType":"MANUAL"}`)
	id, _ := field(v, "list", "listId").(string)
	if status != 200 || id == "" || field(v, "list", "processingType") != "MANUAL" {
		t.Fatalf("create = %d %v", status, v)
	}
	status, _, v = e.call(t, "PUT", "/crm/v3/lists/"+id+"/memberships/add", `["`+c.ID+`","1"]`)
	if status != 200 || fmt.Sprint(field(v, "recordsIdsAdded")) != "["+c.ID+"]" || fmt.Sprint(field(v, "recordIdsMissing")) != "[1]" {
		t.Fatalf("add = %d %v", status, v)
	}
	in, err := e.client.InList(ctx, id, crmsync.RecordRef{Side: crmsync.HubSpot, Object: crmsync.HSContact, ID: c.ID})
	if err != nil || !in {
		t.Errorf("crmsync client's InList = %v, %v", in, err)
	}
	if status, _, v := e.call(t, "POST", "/crm/v3/lists", `{"name":"D","objectTypeId":"0-1","processingType":"DYNAMIC"}`); status != 400 {
		t.Errorf("DYNAMIC = %d %v", status, v)
	}
	if status, _, _ := e.call(t, "DELETE", "/crm/v3/lists/"+id, ""); status != 204 {
		t.Errorf("delete = %d", status)
	}
	if status, _, _ := e.call(t, "GET", "/crm/v3/lists/"+id, ""); status != 404 {
		t.Errorf("deleted list = %d", status)
	}
}

func TestSearchAsClientsSendIt(t *testing.T) {
	e := newEnv(t, hubspotsim.Config{})
	for _, n := range []string{"Ada Lovelace", "Grace Hopper", "Alan Turing"} {
		first, last, _ := strings.Cut(n, " ")
		if _, err := e.portal.CreateAsUser(crmsync.HSContact, map[string]string{"firstname": first, "lastname": last, "email": strings.ToLower(first) + "@example.com"}); err != nil {
			t.Fatal(err)
		}
	}
	names := func(v any) []string {
		var out []string
		res, _ := field(v, "results").([]any)
		for _, r := range res {
			out = append(out, fmt.Sprint(field(r, "properties", "firstname")))
		}
		return out
	}
	for _, tc := range []struct {
		body string
		want string
	}{
		{`{"sorts":["-firstname"],"properties":["firstname"],"after":0,"limit":10}`, "[Grace Alan Ada]"},
		{`{"sorts":["firstname"],"properties":["firstname"],"after":"1","limit":10}`, "[Alan Grace]"},
		{`{"sorts":[{"propertyName":"firstname","direction":"DESCENDING"}],"properties":["firstname"]}`, "[Grace Alan Ada]"},
		{`{"query":"gra","properties":["firstname"]}`, "[Grace]"},
		{`{"query":"lovelace ada","properties":["firstname"]}`, "[Ada]"},
		{`{"query":"ovelace","properties":["firstname"]}`, "[]"},
	} {
		status, _, v := e.call(t, "POST", "/crm/v3/objects/contacts/search", tc.body)
		if got := fmt.Sprint(names(v)); status != 200 || got != tc.want {
			t.Errorf("%s = %d %s, want %s", tc.body, status, got, tc.want)
		}
	}
	if status, _, v := e.call(t, "POST", "/crm/v3/objects/contacts/search", `{"sorts":[{"propertyName":"firstname","direction":"UP"}]}`); status != 400 {
		t.Errorf("bad direction = %d %v", status, v)
	}
}

func TestGetArchived(t *testing.T) {
	e := newEnv(t, hubspotsim.Config{})
	c, _ := e.portal.CreateAsUser(crmsync.HSContact, map[string]string{"email": "gone@example.com"})
	if err := e.portal.DeleteAsUser(crmsync.HSContact, c.ID); err != nil {
		t.Fatal(err)
	}
	if status, _, _ := e.call(t, "GET", "/crm/v3/objects/contacts/"+c.ID, ""); status != 404 {
		t.Errorf("archived without archived=true = %d", status)
	}
	if status, _, v := e.call(t, "GET", "/crm/v3/objects/contacts/"+c.ID+"?archived=true", ""); status != 200 || field(v, "archived") != true {
		t.Errorf("archived=true = %d %v", status, v)
	}
}
