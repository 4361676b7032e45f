package hubspotsim_test

import (
	"bytes"
	"cmp"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/crmsync/crmsync/pkg/crmsync"
	"github.com/crmsync/crmsync/pkg/hubspot"
	"github.com/crmsync/crmsync/pkg/sandbox/hubspotsim"
)

const (
	token  = "pat-sim-token"
	prefix = "/portal"
)

// clock is a settable clock for the portal.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) Add(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

type env struct {
	portal *hubspotsim.Portal
	srv    *httptest.Server
	client *hubspot.Client
	clock  *clock
}

// newEnv mounts a portal under a path prefix and returns a client for it
// with the client's own limits off unless opts set them.
func newEnv(t *testing.T, cfg hubspotsim.Config, opts ...hubspot.Option) *env {
	t.Helper()
	e := &env{clock: &clock{t: time.Date(2026, 11, 23, 12, 0, 0, 0, time.UTC)}}
	if cfg.Now == nil {
		cfg.Now = e.clock.Now
	}
	cfg.Token = token
	e.portal = hubspotsim.New(cfg)
	e.srv = httptest.NewServer(http.StripPrefix(prefix, e.portal))
	t.Cleanup(e.srv.Close)
	all := append([]hubspot.Option{hubspot.WithBaseURL(e.srv.URL + prefix), hubspot.WithHTTPClient(e.srv.Client()),
		hubspot.WithPrivateAppToken(token), hubspot.WithRateLimit(0, 0), hubspot.WithSearchRateLimit(0, 0)}, opts...)
	c, err := hubspot.NewClient(all...)
	if err != nil {
		t.Fatal(err)
	}
	e.client = c
	return e
}

func (e *env) post(t *testing.T, path, body string) (int, string) {
	t.Helper()
	resp, b := e.raw(t, http.MethodPost, path, body)
	return resp.StatusCode, string(b)
}

// raw sends an authenticated JSON request and returns the answer with
// its body read.
func (e *env) raw(t *testing.T, method, path, body string) (*http.Response, []byte) {
	t.Helper()
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req, _ := http.NewRequest(method, e.srv.URL+prefix+path, rd)
	req.Header.Set("Authorization", "Bearer "+token)
	req.Header.Set("Content-Type", "application/json")
	resp, err := e.srv.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp, b
}

var ctx = context.Background()

func TestObjectLifecycle(t *testing.T) {
	e := newEnv(t, hubspotsim.Config{})
	obj, err := e.client.CreateObject(ctx, crmsync.HSContact, map[string]string{"email": "ada@example.com", "firstname": "Ada", "lifecyclestage": "lead"}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if id, _ := strconv.ParseInt(obj.ID, 10, 64); id <= 1<<31-1-1000 {
		t.Errorf("id %s", obj.ID)
	}
	if obj.Properties["hs_object_id"] != obj.ID || obj.Properties["lastmodifieddate"] == "" || obj.Properties["createdate"] == "" {
		t.Errorf("maintained properties %v", obj.Properties)
	}
	got, err := e.client.GetObjectBy(ctx, crmsync.HSContact, "email", "ADA@example.com", []string{"firstname", "phone"})
	if err != nil || got.ID != obj.ID || got.Properties["firstname"] != "Ada" {
		t.Fatalf("GetObjectBy = %+v, %v", got, err)
	}
	if v, ok := got.Properties["phone"]; !ok || v != "" {
		t.Errorf("absent requested property: %q %v", v, ok)
	}

	e.clock.Add(1500 * time.Millisecond)
	upd, err := e.client.UpdateObject(ctx, crmsync.HSContact, obj.ID, map[string]string{"firstname": "Augusta", "lifecyclestage": "customer"})
	if err != nil {
		t.Fatal(err)
	}
	if !upd.UpdatedAt.Equal(e.clock.Now()) || upd.Properties["lastmodifieddate"] != "2026-11-23T12:00:01.500Z" {
		t.Errorf("lastmodifieddate not maintained: %v %q", upd.UpdatedAt, upd.Properties["lastmodifieddate"])
	}

	// Lifecycle stage never moves backwards unless cleared first.
	_, err = e.client.UpdateObject(ctx, crmsync.HSContact, obj.ID, map[string]string{"lifecyclestage": "lead"})
	var apiErr *hubspot.APIError
	if !errors.As(err, &apiErr) || apiErr.Status != 400 || apiErr.Category() != crmsync.CategoryPropertyValues || apiErr.Code() != "INVALID_OPTION" {
		t.Fatalf("backwards lifecycle: %v", err)
	}
	if _, err := e.client.UpdateObject(ctx, crmsync.HSContact, obj.ID, map[string]string{"lifecyclestage": ""}); err != nil {
		t.Fatal(err)
	}
	if _, err := e.client.UpdateObject(ctx, crmsync.HSContact, obj.ID, map[string]string{"lifecyclestage": "lead"}); err != nil {
		t.Fatalf("after clearing: %v", err)
	}

	// Contact emails are unique.
	_, err = e.client.CreateObject(ctx, crmsync.HSContact, map[string]string{"email": "Ada@Example.com"}, nil)
	if !errors.As(err, &apiErr) || apiErr.Status != 409 || apiErr.Category() != crmsync.CategoryDuplicates {
		t.Fatalf("duplicate email: %v", err)
	}
	_, err = e.client.CreateObject(ctx, crmsync.HSContact, map[string]string{"email": "not-an-email"}, nil)
	if !errors.As(err, &apiErr) || apiErr.Code() != "INVALID_EMAIL" {
		t.Fatalf("invalid email: %v", err)
	}
	_, err = e.client.UpdateObject(ctx, crmsync.HSContact, obj.ID, map[string]string{"hs_object_id": "1"})
	if !errors.As(err, &apiErr) || apiErr.Code() != "READ_ONLY_VALUE" {
		t.Fatalf("read-only property: %v", err)
	}

	if err := e.client.ArchiveObject(ctx, crmsync.HSContact, obj.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := e.client.GetObject(ctx, crmsync.HSContact, obj.ID, nil); !errors.Is(err, crmsync.ErrNotFound) {
		t.Fatalf("archived: %v", err)
	}
	if o, ok := e.portal.Object(crmsync.HSContact, obj.ID); !ok || !o.Archived {
		t.Errorf("admin view of the archived contact: %+v", o)
	}
	// The email is free again once the holder is archived.
	if _, err := e.client.CreateObject(ctx, crmsync.HSContact, map[string]string{"email": "ada@example.com"}, nil); err != nil {
		t.Fatal(err)
	}
}

func TestAuthRequired(t *testing.T) {
	e := newEnv(t, hubspotsim.Config{})
	c, _ := hubspot.NewClient(hubspot.WithBaseURL(e.srv.URL+prefix), hubspot.WithPrivateAppToken("wrong"))
	_, err := c.GetObject(ctx, crmsync.HSContact, "1", nil)
	var apiErr *hubspot.APIError
	if !errors.As(err, &apiErr) || apiErr.Status != 401 || apiErr.Category() != crmsync.CategoryPermissions {
		t.Fatalf("wrong token: %v", err)
	}
}

func TestBatches(t *testing.T) {
	e := newEnv(t, hubspotsim.Config{})
	if _, err := e.portal.CreateAsUser(crmsync.HSContact, map[string]string{"email": "taken@example.com"}); err != nil {
		t.Fatal(err)
	}
	inputs := make([]hubspot.CreateInput, 230)
	for i := range inputs {
		inputs[i].Properties = map[string]string{"email": fmt.Sprintf("c%03d@example.com", i), "firstname": strconv.Itoa(i)}
	}
	inputs[17].Properties["email"] = "taken@example.com"
	inputs[150].Properties["email"] = "bad@"
	res, err := e.client.BatchCreate(ctx, crmsync.HSContact, inputs)
	var be *hubspot.BatchError
	if !errors.As(err, &be) || be.Failed != 2 {
		t.Fatalf("BatchCreate error %v, want 2 failed", err)
	}
	var ids []string
	for i, r := range res {
		switch i {
		case 17, 150:
			var apiErr *hubspot.APIError
			if !errors.As(r.Err, &apiErr) {
				t.Errorf("input %d: %+v", i, r)
			} else if want := map[int]crmsync.Category{17: crmsync.CategoryDuplicates, 150: crmsync.CategoryPropertyValues}[i]; apiErr.Category() != want {
				t.Errorf("input %d: category %s, want %s", i, apiErr.Category(), want)
			}
		default:
			if r.Err != nil || r.Object.Properties["firstname"] != strconv.Itoa(i) {
				t.Errorf("input %d: %+v", i, r)
			}
			ids = append(ids, r.Object.ID)
		}
	}
	// More than 100 inputs in one request is refused.
	var big strings.Builder
	big.WriteString(`{"inputs":[`)
	for i := 0; i < 101; i++ {
		if i > 0 {
			big.WriteString(",")
		}
		fmt.Fprintf(&big, `{"id":"%d"}`, i)
	}
	big.WriteString(`]}`)
	if status, body := e.post(t, "/crm/v3/objects/contacts/batch/read", big.String()); status != 400 || !strings.Contains(body, "VALIDATION_ERROR") {
		t.Errorf("101 inputs: %d %s", status, body)
	}

	read, err := e.client.BatchRead(ctx, crmsync.HSContact, append([]string{"1"}, ids[:150]...), "", []string{"firstname"})
	if err == nil || !errors.Is(read[0].Err, crmsync.ErrNotFound) {
		t.Fatalf("BatchRead missing id: %v / %+v", err, read[0])
	}
	for i, r := range read[1:] {
		if r.Err != nil || r.Object.ID != ids[i] {
			t.Fatalf("BatchRead %d: %+v", i, r)
		}
	}
	byEmail, err := e.client.BatchRead(ctx, crmsync.HSContact, []string{"C005@example.com", "c007@example.com"}, "email", []string{"firstname"})
	if err != nil || byEmail[0].Object.Properties["firstname"] != "5" || byEmail[1].Object.Properties["firstname"] != "7" {
		t.Fatalf("BatchRead by email: %+v %v", byEmail, err)
	}

	upd := []hubspot.UpdateInput{{ID: ids[0], Properties: map[string]string{"lifecyclestage": "lead"}}, {ID: "42", Properties: map[string]string{"firstname": "x"}}}
	ures, err := e.client.BatchUpdate(ctx, crmsync.HSContact, upd)
	if err == nil || ures[0].Err != nil || ures[0].Object.Properties["lifecyclestage"] != "lead" || !errors.Is(ures[1].Err, crmsync.ErrNotFound) {
		t.Fatalf("BatchUpdate: %+v %v", ures, err)
	}

	ups, err := e.client.BatchUpsert(ctx, crmsync.HSContact, "email", []hubspot.UpsertInput{
		{ID: "C001@Example.com", Properties: map[string]string{"firstname": "one"}},
		{ID: "fresh@example.com", Properties: map[string]string{"firstname": "fresh"}},
	})
	if err != nil || ups[0].New || ups[0].Object.ID != ids[1] || !ups[1].New || ups[1].Object.Properties["email"] != "fresh@example.com" {
		t.Fatalf("BatchUpsert: %+v %v", ups, err)
	}

	if err := e.client.BatchArchive(ctx, crmsync.HSContact, ids); err != nil {
		t.Fatal(err)
	}
	live := 0
	for _, o := range e.portal.Objects(crmsync.HSContact) {
		if !o.Archived {
			live++
		}
	}
	if live != 2 { // "taken@" and the upserted "fresh@"
		t.Errorf("%d live contacts after archiving, want 2", live)
	}
}

func TestBatchCreateWithoutTraceIDsIsAllOrNothing(t *testing.T) {
	e := newEnv(t, hubspotsim.Config{})
	status, body := e.post(t, "/crm/v3/objects/contacts/batch/create",
		`{"inputs":[{"properties":{"email":"a@example.com"}},{"properties":{"email":"bad@"}}]}`)
	if status != 400 || len(e.portal.Objects(crmsync.HSContact)) != 0 {
		t.Errorf("status %d (%s), %d created", status, body, len(e.portal.Objects(crmsync.HSContact)))
	}
}

func TestSearch(t *testing.T) {
	e := newEnv(t, hubspotsim.Config{})
	for i := 0; i < 25; i++ {
		stage := "lead"
		if i%5 == 0 {
			stage = "customer"
		}
		if _, err := e.portal.CreateAsUser(crmsync.HSContact, map[string]string{"email": fmt.Sprintf("s%02d@example.com", i), "lifecyclestage": stage}); err != nil {
			t.Fatal(err)
		}
		e.clock.Add(time.Second)
	}
	req := hubspot.SearchRequest{
		FilterGroups: []hubspot.FilterGroup{{Filters: []hubspot.Filter{{PropertyName: "lifecyclestage", Operator: "EQ", Value: "lead"}}}},
		Sorts:        []hubspot.Sort{{PropertyName: "lastmodifieddate", Direction: "DESCENDING"}},
		Properties:   []string{"email"}, Limit: 7,
	}
	var emails []string
	for {
		page, err := e.client.Search(ctx, crmsync.HSContact, req)
		if err != nil {
			t.Fatal(err)
		}
		if page.Total != 20 {
			t.Fatalf("total %d, want 20", page.Total)
		}
		for _, o := range page.Results {
			emails = append(emails, o.Properties["email"])
		}
		if page.Next == "" {
			break
		}
		req.After = page.Next
	}
	if len(emails) != 20 || emails[0] != "s24@example.com" || emails[19] != "s01@example.com" {
		t.Errorf("emails %v", emails)
	}
	recs, err := e.client.FindByEmail(ctx, crmsync.HSContact, "S05@EXAMPLE.COM", []string{"lifecyclestage"})
	if err != nil || len(recs) != 1 || recs[0].Properties["lifecyclestage"] != "customer" {
		t.Errorf("FindByEmail %+v %v", recs, err)
	}
	for name, body := range map[string]string{
		"limit over 200": `{"filterGroups":[],"limit":201}`,
		"past the cap":   `{"filterGroups":[],"limit":200,"after":"9900"}`,
		"two sorts":      `{"filterGroups":[],"sorts":[{"propertyName":"email","direction":"ASCENDING"},{"propertyName":"hs_object_id","direction":"ASCENDING"}]}`,
	} {
		if status, resp := e.post(t, "/crm/v3/objects/contacts/search", body); status != 400 {
			t.Errorf("%s: %d %s", name, status, resp)
		}
	}
}

// TestScanThirtyThousandAtOneTimestamp: 30 000 contacts imported in the
// same millisecond (plus records before and after) are each read exactly
// once by the client's ScanModified against the portal's 10 000 cap.
func TestScanThirtyThousandAtOneTimestamp(t *testing.T) {
	e := newEnv(t, hubspotsim.Config{})
	for i := 0; i < 300; i++ {
		if _, err := e.portal.CreateAsUser(crmsync.HSContact, map[string]string{"firstname": "early"}); err != nil {
			t.Fatal(err)
		}
		if i%3 == 0 {
			e.clock.Add(time.Millisecond)
		}
	}
	e.clock.Add(time.Minute)
	for i := 0; i < 30000; i++ {
		if _, err := e.portal.CreateAsUser(crmsync.HSContact, map[string]string{"firstname": "import"}); err != nil {
			t.Fatal(err)
		}
	}
	e.clock.Add(time.Minute)
	for i := 0; i < 300; i++ {
		if _, err := e.portal.CreateAsUser(crmsync.HSContact, map[string]string{"firstname": "late"}); err != nil {
			t.Fatal(err)
		}
	}
	seen := map[string]int{}
	_, err := e.client.ScanModified(ctx, crmsync.HSContact, hubspot.ScanCursor{}, []string{"firstname"}, func(o hubspot.Object) error {
		seen[o.ID]++
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	all := e.portal.Objects(crmsync.HSContact)
	if len(seen) != len(all) {
		t.Fatalf("read %d distinct of %d", len(seen), len(all))
	}
	for id, n := range seen {
		if n != 1 {
			t.Fatalf("%s read %d times", id, n)
		}
	}
}

func TestAssociationsListsOwners(t *testing.T) {
	e := newEnv(t, hubspotsim.Config{})
	contact, _ := e.portal.CreateAsUser(crmsync.HSContact, map[string]string{"email": "a@example.com", "hubspot_owner_id": "41629779"})
	company, _ := e.portal.CreateAsUser(crmsync.HSCompany, map[string]string{"name": "Biglytics"})
	var pairs []hubspot.AssociationPair
	for i := 0; i < 130; i++ {
		d, _ := e.portal.CreateAsUser(crmsync.HSDeal, map[string]string{"dealname": fmt.Sprint("deal ", i)})
		pairs = append(pairs, hubspot.AssociationPair{FromID: contact.ID, ToID: d.ID})
	}
	if err := e.client.CreateDefaultAssociations(ctx, crmsync.HSContact, crmsync.HSDeal, pairs); err != nil {
		t.Fatal(err)
	}
	err := e.client.CreateAssociations(ctx, crmsync.HSContact, crmsync.HSCompany, []hubspot.AssociationPair{
		{FromID: contact.ID, ToID: company.ID, Types: []hubspot.AssociationType{{Category: "HUBSPOT_DEFINED", TypeID: 1}}},
		{FromID: contact.ID, ToID: "12345"},
	})
	var apiErr *hubspot.APIError
	if !errors.As(err, &apiErr) || apiErr.Category() != crmsync.CategoryAssociations {
		t.Fatalf("association to a missing company: %v", err)
	}
	got, err := e.client.BatchReadAssociations(ctx, crmsync.HSContact, crmsync.HSDeal, []string{contact.ID, company.ID})
	if err != nil {
		t.Fatal(err)
	}
	if len(got[contact.ID]) != 130 || got[contact.ID][0].Types[0].TypeID != 4 {
		t.Errorf("contact has %d deals (want 130, paged)", len(got[contact.ID]))
	}
	companies, err := e.client.BatchReadAssociations(ctx, crmsync.HSCompany, crmsync.HSContact, []string{company.ID})
	if err != nil || len(companies[company.ID]) != 1 || companies[company.ID][0].ToID != contact.ID {
		t.Errorf("reverse association %+v %v", companies, err)
	}
	if err := e.client.DeleteAssociations(ctx, crmsync.HSContact, crmsync.HSCompany, []hubspot.AssociationPair{{FromID: contact.ID, ToID: company.ID}}); err != nil {
		t.Fatal(err)
	}
	if ids := e.portal.Associations(crmsync.HSCompany, company.ID, crmsync.HSContact); len(ids) != 0 {
		t.Errorf("after delete: %v", ids)
	}

	ref := crmsync.RecordRef{Side: crmsync.HubSpot, Object: crmsync.HSContact, ID: contact.ID}
	e.portal.AddToList("77", crmsync.HSContact, contact.ID)
	if in, err := e.client.InList(ctx, "77", ref); err != nil || !in {
		t.Errorf("InList 77: %v %v", in, err)
	}
	if in, err := e.client.InList(ctx, "78", ref); err != nil || in {
		t.Errorf("InList 78: %v %v", in, err)
	}
	if ids, next, err := e.client.ListMembers(ctx, "77", "", 10); err != nil || len(ids) != 1 || ids[0] != contact.ID || next != "" {
		t.Errorf("ListMembers %v %q %v", ids, next, err)
	}

	e.portal.AddOwner(hubspot.Owner{ID: "41629779", Email: "amelia@example.com", FirstName: "Amelia", UserID: 9586504})
	e.portal.AddOwner(hubspot.Owner{ID: "41629780", Email: "rory@example.com", UserID: 9586505})
	rec, err := e.client.Get(ctx, ref, []string{"email"})
	if err != nil || rec.OwnerEmail != "amelia@example.com" {
		t.Errorf("Get with owner: %+v %v", rec, err)
	}
	if o, err := e.client.OwnerByEmail(ctx, "RORY@example.com"); err != nil || o.ID != "41629780" {
		t.Errorf("OwnerByEmail %+v %v", o, err)
	}
	props, err := e.client.Properties(ctx, crmsync.HSContact)
	if err != nil || len(props) < 5 {
		t.Fatalf("Properties %v %v", len(props), err)
	}
	for _, p := range props {
		if p.Name == "lifecyclestage" && (len(p.Options) != 8 || p.ReadOnly()) {
			t.Errorf("lifecyclestage %+v", p)
		}
		if p.Name == "lastmodifieddate" && !p.ReadOnly() {
			t.Errorf("lastmodifieddate writable")
		}
	}
}

// TestRateLimits: a client whose limiter matches the portal's never sees
// a 429; concurrent callers without a limiter are answered 429 and retry
// through it; a spent daily allowance is not retried.
func TestRateLimits(t *testing.T) {
	cfg := hubspotsim.Config{BurstLimit: 4, BurstWindow: time.Second, Now: time.Now}
	e := newEnv(t, cfg)
	id := mustCreate(t, e)
	var wg sync.WaitGroup
	errs := make(chan error, 8)
	for i := 0; i < 8; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, err := e.client.GetObject(ctx, crmsync.HSContact, id, nil)
			errs <- err
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatalf("unpaced concurrent call: %v", err)
		}
	}
	if n := e.portal.Calls(); n <= 8 {
		t.Errorf("%d calls answered: 8 concurrent calls on a limit of 4 should have met 429s and retried", n)
	}

	// The client's windows are a little longer than the portal's: request
	// and arrival times differ by the network's jitter.
	paced := newEnv(t, cfg, hubspot.WithRateLimit(4, 1100*time.Millisecond))
	id = mustCreate(t, paced)
	for i := 0; i < 8; i++ {
		if _, err := paced.client.GetObject(ctx, crmsync.HSContact, id, nil); err != nil {
			t.Fatal(err)
		}
	}
	if n := paced.portal.Calls(); n != 8 {
		t.Errorf("paced client: %d calls answered, want 8 (no 429)", n)
	}

	daily := newEnv(t, hubspotsim.Config{DailyLimit: 2})
	id = mustCreate(t, daily)
	for i := 0; i < 2; i++ {
		if _, err := daily.client.GetObject(ctx, crmsync.HSContact, id, nil); err != nil {
			t.Fatal(err)
		}
	}
	_, err := daily.client.GetObject(ctx, crmsync.HSContact, id, nil)
	var rl *hubspot.RateLimitError
	if !errors.As(err, &rl) || !rl.Daily() {
		t.Fatalf("third call of 2 a day: %v", err)
	}
	// The second answer said Daily-Remaining 0: the third is not even sent.
	if daily.portal.Calls() != 2 {
		t.Errorf("%d calls reached the portal, want 2", daily.portal.Calls())
	}
	// A client that did not see the headers is answered 429 DAILY and
	// does not retry.
	fresh, err := hubspot.NewClient(hubspot.WithBaseURL(daily.srv.URL+prefix), hubspot.WithPrivateAppToken(token))
	if err != nil {
		t.Fatal(err)
	}
	_, err = fresh.GetObject(ctx, crmsync.HSContact, id, nil)
	if !errors.As(err, &rl) || !rl.Daily() || daily.portal.Calls() != 3 {
		t.Errorf("fresh client: %v, %d calls", err, daily.portal.Calls())
	}

	search := newEnv(t, hubspotsim.Config{SearchLimit: 2, Now: time.Now}, hubspot.WithSearchRateLimit(2, 1100*time.Millisecond))
	for i := 0; i < 5; i++ {
		if _, err := search.client.Search(ctx, crmsync.HSContact, hubspot.SearchRequest{}); err != nil {
			t.Fatalf("paced search %d: %v", i, err)
		}
	}
	if search.portal.Calls() != 5 {
		t.Errorf("paced searches: %d calls answered, want 5", search.portal.Calls())
	}
}

func mustCreate(t *testing.T, e *env) string {
	t.Helper()
	o, err := e.portal.CreateAsUser(crmsync.HSContact, map[string]string{"email": "rl@example.com"})
	if err != nil {
		t.Fatal(err)
	}
	return o.ID
}

// TestFaultsAreRetried: with a seeded 50 % rate of 5xx and 429 answers,
// idempotent reads still succeed through the client's retries, and the
// portal shows the extra calls.
func TestFaultsAreRetried(t *testing.T) {
	e := newEnv(t, hubspotsim.Config{Seed: 42}, hubspot.WithMaxRetries(8))
	id := mustCreate(t, e)
	e.portal.SetFaults(hubspotsim.Faults{ServerError: 0.3, RateLimit: 0.2})
	for i := 0; i < 6; i++ {
		if _, err := e.client.GetObject(ctx, crmsync.HSContact, id, nil); err != nil {
			t.Fatalf("read %d: %v", i, err)
		}
	}
	if e.portal.Calls() <= 6 {
		t.Errorf("%d calls: no fault was injected", e.portal.Calls())
	}
}

func TestAdminHTTP(t *testing.T) {
	e := newEnv(t, hubspotsim.Config{})
	do := func(method, path, body string) (int, string) {
		req, _ := http.NewRequest(method, e.srv.URL+prefix+path, bytes.NewBufferString(body))
		resp, err := e.srv.Client().Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	status, body := do("POST", "/_admin/objects/contacts", `{"properties":{"email":"admin@example.com","lifecyclestage":"customer"}}`)
	if status != 201 || !strings.Contains(body, `"admin@example.com"`) {
		t.Fatalf("admin create: %d %s", status, body)
	}
	id := e.portal.Objects(crmsync.HSContact)[0].ID
	if status, body := do("PATCH", "/_admin/objects/contacts/"+id, `{"properties":{"lifecyclestage":"lead"}}`); status != 400 {
		t.Errorf("admin backwards lifecycle: %d %s", status, body)
	}
	if status, _ := do("POST", "/_admin/objects/contacts", `{"properties":{"email":"ADMIN@example.com"}}`); status != 409 {
		t.Errorf("admin duplicate: %d", status)
	}
	if status, _ := do("DELETE", "/_admin/objects/contacts/"+id, ""); status != 204 {
		t.Errorf("admin delete: %d", status)
	}
	if status, _ := do("POST", "/_admin/objects/contacts/"+id+"/restore", ""); status != 204 {
		t.Errorf("admin restore: %d", status)
	}
	if status, body := do("GET", "/_admin/objects/contacts", ""); status != 200 || !strings.Contains(body, id) {
		t.Errorf("admin list: %d %s", status, body)
	}
	if status, _ := do("PUT", "/_admin/faults", `{"ServerError":1}`); status != 204 {
		t.Errorf("faults: %d", status)
	}
	req, _ := http.NewRequest("GET", e.srv.URL+prefix+"/crm/v3/objects/contacts/"+id, nil)
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := e.srv.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode < 500 {
		t.Errorf("ServerError 1 injected nothing: %d", resp.StatusCode)
	}
	// Admin calls never fail by injection.
	if status, _ := do("GET", "/_admin/objects/contacts", ""); status != 200 {
		t.Errorf("admin under faults: %d", status)
	}
}

// TestLockedWriteIsRetried: a 423 on a write is waited out (≥ 2 s) and
// the write goes through once.
func TestLockedWriteIsRetried(t *testing.T) {
	e := newEnv(t, hubspotsim.Config{Seed: 1})
	id := mustCreate(t, e)
	e.portal.SetFaults(hubspotsim.Faults{Locked: 1})
	done := make(chan error, 1)
	go func() {
		_, err := e.client.UpdateObject(ctx, crmsync.HSContact, id, map[string]string{"firstname": "Locked"})
		done <- err
	}()
	// Let the first attempt meet the lock, then lift it.
	for e.portal.Calls() == 0 {
		time.Sleep(time.Millisecond)
	}
	e.portal.SetFaults(hubspotsim.Faults{})
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if o, _ := e.portal.Object(crmsync.HSContact, id); o.Properties["firstname"] != "Locked" || e.portal.Calls() != 2 {
		t.Errorf("after the lock: %v, %d calls", o.Properties, e.portal.Calls())
	}
}

func TestCRMPortAndListPaging(t *testing.T) {
	e := newEnv(t, hubspotsim.Config{})
	var crm crmsync.CRM = e.client
	rec, err := crm.Create(ctx, crmsync.HSCompany, map[string]string{"name": "Biglytics", "domain": "biglytics.net"})
	if err != nil || rec.Ref.Side != crmsync.HubSpot || rec.Ref.Object != crmsync.HSCompany || rec.LastModified.IsZero() {
		t.Fatalf("Create %+v %v", rec, err)
	}
	e.clock.Add(time.Second)
	if err := crm.Update(ctx, rec.Ref, map[string]string{"domain": ""}); err != nil {
		t.Fatal(err)
	}
	got, err := crm.Get(ctx, rec.Ref, []string{"name", "domain"})
	if err != nil || got.Properties["domain"] != "" || got.Properties["name"] != "Biglytics" || !got.LastModified.Equal(e.clock.Now()) {
		t.Fatalf("Get %+v %v", got, err)
	}
	if _, err := crm.Get(ctx, crmsync.RecordRef{Side: crmsync.HubSpot, Object: crmsync.HSCompany, ID: "1"}, nil); !errors.Is(err, crmsync.ErrNotFound) {
		t.Errorf("missing company: %v", err)
	}
	for i := 0; i < 130; i++ {
		o, _ := e.portal.CreateAsUser(crmsync.HSContact, map[string]string{"firstname": "m"})
		e.portal.AddToList("9", crmsync.HSContact, o.ID)
	}
	var all []string
	after := ""
	for {
		ids, next, err := e.client.ListMembers(ctx, "9", after, 50)
		if err != nil {
			t.Fatal(err)
		}
		all = append(all, ids...)
		if next == "" {
			break
		}
		after = next
	}
	if len(all) != 130 {
		t.Errorf("%d list members, want 130", len(all))
	}
	// HubSpot orders /memberships by recordId, numerically ascending.
	if !slices.IsSortedFunc(all, func(a, b string) int {
		na, _ := strconv.ParseInt(a, 10, 64)
		nb, _ := strconv.ParseInt(b, 10, 64)
		return cmp.Compare(na, nb)
	}) {
		t.Errorf("list members not in record-id order: %v", all)
	}
}

// TestTimeoutFault: a held request becomes the client's transient
// NetworkError; a create is not repeated (its answer was lost, not
// refused).
func TestTimeoutFault(t *testing.T) {
	e := newEnv(t, hubspotsim.Config{}, hubspot.WithHTTPClient(&http.Client{Timeout: 100 * time.Millisecond}))
	e.portal.SetFaults(hubspotsim.Faults{Timeout: 1})
	_, err := e.client.CreateObject(ctx, crmsync.HSContact, map[string]string{"email": "slow@example.com"}, nil)
	var ne *hubspot.NetworkError
	if !errors.As(err, &ne) || !crmsync.IsTransient(err) {
		t.Fatalf("error %T %v, want a transient NetworkError", err, err)
	}
	if e.portal.Calls() != 1 {
		t.Errorf("create sent %d times", e.portal.Calls())
	}
}
