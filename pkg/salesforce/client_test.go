package salesforce

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/crmsync/crmsync/pkg/crmsync"
)

// prefix is where the fake instance is mounted: a client that builds
// URLs from the host alone (dropping the base URL's path) gets 404s.
const prefix = "/sf"

// recorded is one request the fake instance received.
type recorded struct {
	Method, Path, RawQuery string
	Header                 http.Header
	Body                   []byte
}

// reply answers one request: a status and a body (a testdata/rest file
// name ending in .json, or literal text).
type reply struct {
	status int
	body   string
	header map[string]string
	fn     func(r recorded) (int, string) // computes the answer instead
}

// fakeInstance is an httptest server under prefix answering "METHOD path"
// routes (path without the prefix, without the query) with replies in
// turn (the last one repeats).
type fakeInstance struct {
	t      *testing.T
	srv    *httptest.Server
	mu     sync.Mutex
	routes map[string][]reply
	reqs   []recorded
	used   int
	// extra, when set, may answer a request first (true = answered).
	extra func(http.ResponseWriter, *http.Request) bool
}

func newFakeInstance(t *testing.T) *fakeInstance {
	f := &fakeInstance{t: t, routes: map[string][]reply{}}
	f.srv = httptest.NewServer(http.HandlerFunc(f.serve))
	t.Cleanup(f.srv.Close)
	return f
}

func (f *fakeInstance) on(method, path string, replies ...reply) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.routes[method+" "+path] = replies
}

func (f *fakeInstance) requests() []recorded {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]recorded(nil), f.reqs...)
}

func (f *fakeInstance) serve(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	extra := f.extra
	f.mu.Unlock()
	if extra != nil && extra(w, r) {
		return
	}
	body, _ := io.ReadAll(r.Body)
	rec := recorded{Method: r.Method, Path: r.URL.Path, RawQuery: r.URL.RawQuery, Header: r.Header.Clone(), Body: body}
	f.mu.Lock()
	f.reqs = append(f.reqs, rec)
	f.used++
	used := f.used
	path, ok := strings.CutPrefix(r.URL.Path, prefix)
	key := r.Method + " " + path
	replies := f.routes[key]
	var rep reply
	if ok && len(replies) > 0 {
		rep = replies[0]
		if len(replies) > 1 {
			f.routes[key] = replies[1:]
		}
	}
	f.mu.Unlock()
	w.Header().Set("Sforce-Limit-Info", fmt.Sprintf("api-usage=%d/15000", 100+used))
	if rep.status == 0 && rep.fn == nil {
		w.Header().Set("Content-Type", "application/json;charset=UTF-8")
		w.WriteHeader(http.StatusNotFound)
		io.WriteString(w, `[{"errorCode":"NOT_FOUND","message":"The requested resource does not exist"}]`)
		return
	}
	status, text := rep.status, rep.body
	if rep.fn != nil {
		status, text = rep.fn(rec)
	}
	if strings.HasSuffix(text, ".json") {
		text = string(readTestdata(f.t, "rest/"+text))
	}
	if text != "" {
		w.Header().Set("Content-Type", "application/json;charset=UTF-8")
	}
	for k, v := range rep.header {
		w.Header().Set(k, v)
	}
	w.WriteHeader(status)
	io.WriteString(w, text)
}

// usageCounter is a UsageCounter recording calls.
type usageCounter struct {
	mu    sync.Mutex
	calls int
}

func (u *usageCounter) AddAPIUsage(_ context.Context, side crmsync.Side, _ time.Time, n int) error {
	u.mu.Lock()
	defer u.mu.Unlock()
	if side != crmsync.Salesforce {
		return errors.New("wrong side")
	}
	u.calls += n
	return nil
}

var testNow = time.Date(2026, 11, 23, 17, 0, 0, 0, time.UTC)

func newTestClient(t *testing.T, f *fakeInstance, opts ...Option) *Client {
	t.Helper()
	c, err := NewClient(append([]Option{WithBaseURL(f.srv.URL + prefix + "/"), WithHTTPClient(f.srv.Client()),
		WithClientID("crmsync-test")}, opts...)...)
	if err != nil {
		t.Fatal(err)
	}
	c.now = func() time.Time { return testNow }
	return c
}

const dp = "/services/data/v62.0/"

func TestClientHeadersAndUsage(t *testing.T) {
	f := newFakeInstance(t)
	f.on("GET", dp+"sobjects/Lead/00Q5e00000Ab1CdEAF", reply{status: 200, body: "lead-get.json"})
	f.on("PATCH", dp+"sobjects/Lead/00Q5e00000Ab1CdEAF", reply{status: 204})
	f.on("POST", dp+"sobjects/Lead/", reply{status: 400, body: "error-duplicates.json"})
	var counter usageCounter
	var seen []LimitInfo
	c := newTestClient(t, f, WithUsageCounter(&counter),
		WithDuplicateRuleHeader(DuplicateRuleHeader{AllowSave: true, IncludeRecordDetails: false, RunAsCurrentUser: true}),
		WithLimitInfoFunc(func(_ context.Context, li LimitInfo) { seen = append(seen, li) }))
	ctx := context.Background()
	if _, err := c.GetRecord(ctx, "Lead", "00Q5e00000Ab1CdEAF"); err != nil {
		t.Fatal(err)
	}
	if err := c.UpdateRecord(ctx, "Lead", "00Q5e00000Ab1CdEAF", map[string]any{"Phone": nil}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.CreateRecord(ctx, "Lead", map[string]any{"LastName": "Silva"}); err == nil {
		t.Fatal("create of a duplicate succeeded")
	}
	reqs := f.requests()
	if len(reqs) != 3 {
		t.Fatalf("%d requests", len(reqs))
	}
	for _, r := range reqs {
		if got := r.Header.Get("Sforce-Call-Options"); got != "client=crmsync-test" {
			t.Errorf("%s %s: Sforce-Call-Options = %q", r.Method, r.Path, got)
		}
		wantDup := ""
		if r.Method != "GET" {
			wantDup = "allowSave=true; includeRecordDetails=false; runAsCurrentUser=true"
		}
		if got := r.Header.Get("Sforce-Duplicate-Rule-Header"); got != wantDup {
			t.Errorf("%s %s: Sforce-Duplicate-Rule-Header = %q, want %q", r.Method, r.Path, got, wantDup)
		}
	}
	if string(reqs[1].Body) != `{"Phone":null}` {
		t.Errorf("update body = %s; a nil value must be sent as null to clear the field", reqs[1].Body)
	}
	if counter.calls != 3 {
		t.Errorf("usage counter got %d calls, want 3", counter.calls)
	}
	want := []LimitInfo{{Used: 101, Max: 15000}, {Used: 102, Max: 15000}, {Used: 103, Max: 15000}}
	if !reflect.DeepEqual(seen, want) {
		t.Errorf("limit infos = %+v, want %+v", seen, want)
	}
	if li, calls := c.LimitInfo(); li.Used != 103 || calls != 3 {
		t.Errorf("LimitInfo() = %+v, %d", li, calls)
	}
}

func TestParseLimitInfo(t *testing.T) {
	tests := []struct {
		in   string
		want LimitInfo
		ok   bool
	}{
		{"api-usage=18/5000", LimitInfo{Used: 18, Max: 5000}, true},
		{"api-usage=25/5000; per-app-api-usage=17/250(appName=sample-connected-app)",
			LimitInfo{Used: 25, Max: 5000, PerApp: []AppUsage{{App: "sample-connected-app", Used: 17, Max: 250}}}, true},
		{"api-usage=110018/100000; api-bursts=1/750", LimitInfo{Used: 110018, Max: 100000}, true},
		{"", LimitInfo{}, false},
		{"api-usage=abc/5000", LimitInfo{}, false},
	}
	for _, tt := range tests {
		got, ok := ParseLimitInfo(tt.in)
		if ok != tt.ok || !reflect.DeepEqual(got, tt.want) {
			t.Errorf("ParseLimitInfo(%q) = %+v, %v; want %+v, %v", tt.in, got, ok, tt.want, tt.ok)
		}
	}
}

func TestGetRecord(t *testing.T) {
	f := newFakeInstance(t)
	f.on("GET", dp+"sobjects/Lead/00Q5e00000Ab1CdEAF", reply{status: 200, body: "lead-get.json"})
	c := newTestClient(t, f)
	r, err := c.GetRecord(context.Background(), "Lead", "00Q5e00000Ab1CdEAF", "Email", "Phone", "Score__c")
	if err != nil {
		t.Fatal(err)
	}
	if q := f.requests()[0].RawQuery; q != "fields=Email%2CPhone%2CScore__c" {
		t.Errorf("query = %q", q)
	}
	if r.Type != "Lead" || r.ID != "00Q5e00000Ab1CdEAF" {
		t.Errorf("type, id = %q, %q", r.Type, r.ID)
	}
	for field, want := range map[string]string{"Email": "ana.silva@example.com", "Phone": "", "NumberOfEmployees": "120",
		"AnnualRevenue": "2500000.0", "Score__c": "42.5", "IsDeleted": "false", "Company": "Silva & Filhos", "Missing": ""} {
		if got := r.Text(field); got != want {
			t.Errorf("Text(%s) = %q, want %q", field, got, want)
		}
	}
	if _, ok := r.Fields["attributes"]; ok {
		t.Error("attributes kept among the fields")
	}
	if addr, ok := r.Fields["Address"].(map[string]any); !ok || addr["countryCode"] != "PT" {
		t.Errorf("compound Address = %#v", r.Fields["Address"])
	}
}

func TestSingleRecordErrors(t *testing.T) {
	f := newFakeInstance(t)
	f.on("GET", dp+"sobjects/Lead/00Q5e00000Ab1CdEAF", reply{status: 404, body: "error-not-found.json"})
	f.on("POST", dp+"sobjects/Lead/", reply{status: 400, body: "error-duplicates.json"})
	f.on("PATCH", dp+"sobjects/Lead/00Q5e00000Ab1CdEAF", reply{status: 400, body: "error-validation.json"})
	f.on("DELETE", dp+"sobjects/Lead/00Q5e00000Ab1CdEAF", reply{status: 503, body: "error-server.json"})
	c := newTestClient(t, f)
	ctx := context.Background()
	var ae *APIError

	_, err := c.GetRecord(ctx, "Lead", "00Q5e00000Ab1CdEAF")
	if !errors.Is(err, crmsync.ErrNotFound) || !errors.As(err, &ae) || ae.Category() != crmsync.CategoryPermissions || ae.Transient() {
		t.Errorf("get missing: %v", err)
	}
	_, err = c.CreateRecord(ctx, "Lead", map[string]any{"LastName": "Silva"})
	if !errors.As(err, &ae) || ae.Code() != CodeDuplicatesDetected || ae.Category() != crmsync.CategoryDuplicates ||
		!reflect.DeepEqual(ae.MatchedIDs(), []string{"00Q5e00000Ab1CdEAF"}) {
		t.Errorf("create duplicate: %v (matched %v)", err, ae.MatchedIDs())
	}
	err = c.UpdateRecord(ctx, "Lead", "00Q5e00000Ab1CdEAF", map[string]any{"Status": "Working - Contacted"})
	if !errors.As(err, &ae) || ae.Category() != crmsync.CategoryCustomCode || crmsync.IsTransient(err) {
		t.Errorf("update invalid: %v", err)
	}
	err = c.DeleteRecord(ctx, "Lead", "00Q5e00000Ab1CdEAF")
	if !crmsync.IsTransient(err) {
		t.Errorf("delete on 503 not transient: %v", err)
	}
	if err := c.DeleteRecord(ctx, "Lead", "00Q5e00000Ab1CdEAF/../../x"); !errors.Is(err, crmsync.ErrInvalid) {
		t.Errorf("delete with a path in the id: %v", err)
	}
	if len(f.requests()) != 4 {
		t.Errorf("%d requests, want 4 (the invalid id must not be sent)", len(f.requests()))
	}
}

func TestCreateUpsertDelete(t *testing.T) {
	f := newFakeInstance(t)
	f.on("POST", dp+"sobjects/Lead/", reply{status: 201, body: "create-success.json"})
	f.on("PATCH", dp+"sobjects/Contact/HubSpot_Id__c/hs 101/7", reply{status: 201, body: "upsert-created.json"},
		reply{status: 200, body: "upsert-updated.json"}, reply{status: 204},
		reply{status: 300, body: "upsert-multiple.json"})
	f.on("DELETE", dp+"sobjects/Lead/00Q5e00000Ab1CeEAF", reply{status: 204})
	c := newTestClient(t, f)
	ctx := context.Background()
	id, err := c.CreateRecord(ctx, "Lead", map[string]any{"LastName": "Silva", "Company": "Silva & Filhos"})
	if err != nil || id != "00Q5e00000Ab1CeEAF" {
		t.Fatalf("create = %q, %v", id, err)
	}
	for i, want := range []UpsertResult{{ID: "0035e00000Ab1CdAAJ", Created: true}, {ID: "0035e00000Ab1CdAAJ"}, {}} {
		got, err := c.UpsertRecord(ctx, "Contact", "HubSpot_Id__c", "hs 101/7", map[string]any{"LastName": "Wei"})
		if err != nil || got != want {
			t.Errorf("upsert %d = %+v, %v; want %+v", i, got, err, want)
		}
	}
	_, err = c.UpsertRecord(ctx, "Contact", "HubSpot_Id__c", "hs 101/7", map[string]any{"LastName": "Wei"})
	var ae *APIError
	if !errors.As(err, &ae) || ae.Code() != CodeDuplicateExternalID || ae.Category() != crmsync.CategoryDuplicates ||
		!reflect.DeepEqual(ae.MatchedIDs(), []string{"0035e00000Ab1CdAAJ", "0035e00000Ab1CeAAJ"}) {
		t.Errorf("upsert with two matches: %v", err)
	}
	if err := c.DeleteRecord(ctx, "Lead", "00Q5e00000Ab1CeEAF"); err != nil {
		t.Fatal(err)
	}
	reqs := f.requests()
	if got := reqs[1].Path; got != prefix+dp+"sobjects/Contact/HubSpot_Id__c/hs%20101%2F7" && got != prefix+dp+"sobjects/Contact/HubSpot_Id__c/hs 101/7" {
		t.Errorf("upsert path = %q", got)
	}
	var body map[string]any
	if err := json.Unmarshal(reqs[0].Body, &body); err != nil || body["LastName"] != "Silva" || reqs[0].Header.Get("Content-Type") != "application/json" {
		t.Errorf("create body = %s, %v", reqs[0].Body, err)
	}
}

func TestCollectionsPartialFailure(t *testing.T) {
	f := newFakeInstance(t)
	f.on("POST", dp+"composite/sobjects", reply{status: 200, body: "collections-partial.json"})
	c := newTestClient(t, f)
	in := []Record{
		{Type: "Contact", Fields: map[string]any{"LastName": "Wei", "Email": "li.wei@example.com"}},
		{Type: "Contact", Fields: map[string]any{"Email": "no.name@example.com"}},
		{Type: "Contact", Fields: map[string]any{"LastName": "Kowalska"}},
		{Type: "Contact", Fields: map[string]any{"LastName": "Wei", "Email": "li.wei@example.com"}},
	}
	res, err := c.CreateRecords(context.Background(), in)
	if err != nil {
		t.Fatal(err)
	}
	if len(res) != 4 || !res[0].OK() || res[1].OK() || !res[2].OK() || res[3].OK() {
		t.Fatalf("results = %+v", res)
	}
	if res[0].ID != "0035e00000Ab1CdAAJ" || res[2].ID != "0035e00000Ab1CfAAJ" {
		t.Errorf("ids = %q, %q", res[0].ID, res[2].ID)
	}
	var re *RecordError
	if err := res[1].Err(); !errors.As(err, &re) || re.StatusCode != CodeRequiredFieldMissing ||
		!reflect.DeepEqual(re.Fields, []string{"LastName"}) || re.Category() != crmsync.CategoryPropertyValues || re.Transient() {
		t.Errorf("result 1 error = %v", err)
	}
	if err := res[3].Err(); !errors.As(err, &re) || re.Category() != crmsync.CategoryDuplicates {
		t.Errorf("result 3 error = %v", err)
	}
	var sent struct {
		AllOrNone *bool `json:"allOrNone"`
		Records   []map[string]any
	}
	if err := json.Unmarshal(f.requests()[0].Body, &sent); err != nil || sent.AllOrNone == nil || *sent.AllOrNone ||
		len(sent.Records) != 4 || sent.Records[1]["attributes"].(map[string]any)["type"] != "Contact" {
		t.Errorf("request body = %s", f.requests()[0].Body)
	}
}

func TestCollectionsRollbackIsTransient(t *testing.T) {
	f := newFakeInstance(t)
	f.on("PATCH", dp+"composite/sobjects", reply{status: 200, body: "collections-rollback.json"})
	c := newTestClient(t, f)
	res, err := c.UpdateRecords(context.Background(), []Record{
		{Type: "Lead", ID: "00Q5e00000Ab1CdEAF", Fields: map[string]any{"Company": "Globex"}},
		{Type: "Lead", ID: "00Q5e00000Ab1CeEAF", Fields: map[string]any{"Email": "not-an-email"}},
	})
	if err != nil {
		t.Fatal(err)
	}
	if !crmsync.IsTransient(res[0].Err()) || crmsync.IsTransient(res[1].Err()) {
		t.Errorf("rolled back record transient = %v, bad email transient = %v", crmsync.IsTransient(res[0].Err()), crmsync.IsTransient(res[1].Err()))
	}
	if res[0].ID != "00Q5e00000Ab1CdEAF" || res[1].ID != "00Q5e00000Ab1CeEAF" {
		t.Errorf("failed updates keep their input ids: %+v", res)
	}
	var re *RecordError
	if !errors.As(res[1].Err(), &re) || re.Category() != crmsync.CategoryPropertyValues {
		t.Errorf("bad email = %v", res[1].Err())
	}
}

// collectionEcho answers a collection call with one result per record in
// the request: success with an id made from the record's Email, except
// for records whose LastName is "fail", which get REQUIRED_FIELD_MISSING.
func collectionEcho(r recorded) (int, string) {
	var body struct{ Records []map[string]any }
	if err := json.Unmarshal(r.Body, &body); err != nil || len(body.Records) > MaxCollectionSize {
		return 400, `[{"errorCode":"JSON_PARSER_ERROR","message":"bad body or too many records"}]`
	}
	var out []map[string]any
	for _, rec := range body.Records {
		if rec["LastName"] == "fail" {
			out = append(out, map[string]any{"success": false, "errors": []map[string]any{{"statusCode": "REQUIRED_FIELD_MISSING", "message": "Required fields are missing: [Company]", "fields": []string{"Company"}}}})
			continue
		}
		out = append(out, map[string]any{"id": rec["Email"], "success": true, "errors": []any{}})
	}
	b, _ := json.Marshal(out)
	return 200, string(b)
}

func TestCollectionsChunkInOrder(t *testing.T) {
	f := newFakeInstance(t)
	f.on("POST", dp+"composite/sobjects", reply{fn: collectionEcho})
	c := newTestClient(t, f)
	in := make([]Record, 450)
	for i := range in {
		in[i] = Record{Type: "Lead", Fields: map[string]any{"Email": fmt.Sprintf("id%03d", i), "LastName": "x"}}
	}
	in[201].Fields["LastName"] = "fail"
	in[449].Fields["LastName"] = "fail"
	res, err := c.CreateRecords(context.Background(), in)
	if err != nil {
		t.Fatal(err)
	}
	if n := len(f.requests()); n != 3 {
		t.Errorf("%d calls for 450 records, want 3", n)
	}
	for i, r := range res {
		fail := i == 201 || i == 449
		if r.OK() == fail || (!fail && r.ID != fmt.Sprintf("id%03d", i)) {
			t.Errorf("result %d = %+v", i, r)
		}
	}
}

func TestCollectionsChunkFailureKeepsEarlierResults(t *testing.T) {
	f := newFakeInstance(t)
	f.on("POST", dp+"composite/sobjects", reply{fn: collectionEcho}, reply{status: 500, body: "error-server.json"})
	c := newTestClient(t, f)
	in := make([]Record, 250)
	for i := range in {
		in[i] = Record{Type: "Lead", Fields: map[string]any{"Email": fmt.Sprintf("id%03d", i), "LastName": "x"}}
	}
	res, err := c.CreateRecords(context.Background(), in)
	if !crmsync.IsTransient(err) || len(res) != 200 {
		t.Errorf("err = %v, %d results; want a transient error and the first chunk's 200 results", err, len(res))
	}
}

func TestUpsertAndDeleteRecords(t *testing.T) {
	f := newFakeInstance(t)
	f.on("PATCH", dp+"composite/sobjects/Contact/HubSpot_Id__c", reply{status: 200,
		body: `[{"id":"0035e00000Ab1CdAAJ","success":true,"errors":[],"created":true},{"id":"0035e00000Ab1CeAAJ","success":true,"errors":[],"created":false}]`})
	f.on("DELETE", dp+"composite/sobjects", reply{status: 200,
		body: `[{"id":"0035e00000Ab1CdAAJ","success":true,"errors":[]},{"success":false,"errors":[{"statusCode":"ENTITY_IS_DELETED","message":"entity is deleted","fields":[]}]}]`})
	c := newTestClient(t, f)
	ctx := context.Background()
	res, err := c.UpsertRecords(ctx, "Contact", "HubSpot_Id__c", []Record{
		{Type: "Contact", Fields: map[string]any{"HubSpot_Id__c": "101", "LastName": "Wei"}},
		{Type: "Contact", Fields: map[string]any{"HubSpot_Id__c": "102", "LastName": "Kowalska"}},
	})
	if err != nil || !res[0].Created || res[1].Created || !res[1].OK() {
		t.Errorf("upsert = %+v, %v", res, err)
	}
	if _, err := c.UpsertRecords(ctx, "Contact", "HubSpot_Id__c", []Record{{Type: "Contact", Fields: map[string]any{"LastName": "x"}}}); !errors.Is(err, crmsync.ErrInvalid) {
		t.Errorf("upsert without the external id: %v", err)
	}
	res, err = c.DeleteRecords(ctx, []string{"0035e00000Ab1CdAAJ", "0035e00000Ab1CeAAJ"})
	if err != nil || !res[0].OK() || !errors.Is(res[1].Err(), crmsync.ErrNotFound) || res[1].ID != "0035e00000Ab1CeAAJ" {
		t.Errorf("delete = %+v, %v", res, err)
	}
	q, _ := url.ParseQuery(f.requests()[1].RawQuery)
	if q.Get("ids") != "0035e00000Ab1CdAAJ,0035e00000Ab1CeAAJ" || q.Get("allOrNone") != "false" {
		t.Errorf("delete query = %v", q)
	}
}

func TestQueryFollowsNextRecordsURL(t *testing.T) {
	f := newFakeInstance(t)
	f.on("GET", dp+"query", reply{status: 200, body: "query-page1.json"})
	f.on("GET", dp+"query/01gRO0000016PIAYA2-2", reply{status: 200, body: "query-page2.json"})
	c := newTestClient(t, f)
	var ids []string
	soql := "SELECT Id, Email, Account.Name FROM Contact WHERE Email != null"
	err := c.QueryEach(context.Background(), soql, func(rs []Record) error {
		for _, r := range rs {
			ids = append(ids, r.ID)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if want := []string{"0035e00000Ab1CdAAJ", "0035e00000Ab1CeAAJ", "0035e00000Ab1CfAAJ"}; !reflect.DeepEqual(ids, want) {
		t.Errorf("ids = %v, want %v", ids, want)
	}
	reqs := f.requests()
	if len(reqs) != 2 || reqs[1].Path != prefix+"/services/data/v62.0/query/01gRO0000016PIAYA2-2" || reqs[1].RawQuery != "" {
		t.Errorf("second request = %+v", reqs[len(reqs)-1])
	}
	if q, _ := url.ParseQuery(reqs[0].RawQuery); q.Get("q") != soql {
		t.Errorf("q = %q", q.Get("q"))
	}
	if _, err := c.QueryMore(context.Background(), "https://evil.example/services/data"); !errors.Is(err, crmsync.ErrInvalid) {
		t.Errorf("QueryMore with an absolute URL: %v", err)
	}
	stop := errors.New("stop")
	if err := c.QueryEach(context.Background(), soql, func([]Record) error { return stop }); err != stop {
		t.Errorf("QueryEach did not return fn's error: %v", err)
	}
	if got := QuoteSOQL(`O'Brien \ "x"`); got != `'O\'Brien \\ \"x\"'` {
		t.Errorf("QuoteSOQL = %s", got)
	}
}

func TestComposite(t *testing.T) {
	f := newFakeInstance(t)
	f.on("POST", dp+"composite", reply{status: 200, body: "composite.json"})
	c := newTestClient(t, f)
	res, err := c.Composite(context.Background(), []Subrequest{
		{Method: "POST", URL: "sobjects/Account", ReferenceID: "NewAccount", Body: map[string]any{"Name": "Globex"}},
		{Method: "POST", URL: "/services/data/v62.0/sobjects/Contact", ReferenceID: "NewContact",
			Body: map[string]any{"LastName": "Wei", "AccountId": "@{NewAccount.id}"}},
	})
	if err != nil {
		t.Fatal(err)
	}
	if res[0].Err() != nil || res[0].StatusCode != 201 {
		t.Errorf("sub 0 = %+v", res[0])
	}
	var ae *APIError
	if err := res[1].Err(); !errors.As(err, &ae) || ae.Code() != CodeFieldIntegrity || ae.Category() != crmsync.CategoryPropertyValues {
		t.Errorf("sub 1 error = %v", err)
	}
	var sent struct {
		AllOrNone bool         `json:"allOrNone"`
		Requests  []Subrequest `json:"compositeRequest"`
	}
	if err := json.Unmarshal(f.requests()[0].Body, &sent); err != nil || sent.AllOrNone || sent.Requests[0].URL != "/services/data/v62.0/sobjects/Account" ||
		sent.Requests[1].URL != "/services/data/v62.0/sobjects/Contact" {
		t.Errorf("composite body = %s", f.requests()[0].Body)
	}
	if _, err := c.Composite(context.Background(), make([]Subrequest, MaxCompositeRequests+1)); !errors.Is(err, crmsync.ErrInvalid) {
		t.Errorf("26 sub-requests: %v", err)
	}
}

func TestReplication(t *testing.T) {
	f := newFakeInstance(t)
	f.on("GET", dp+"sobjects/Lead/updated/", reply{status: 200, body: "getupdated.json"})
	f.on("GET", dp+"sobjects/Lead/deleted/", reply{status: 200, body: "getdeleted.json"})
	c := newTestClient(t, f)
	ctx := context.Background()
	start := testNow.Add(-2 * time.Hour).Add(37 * time.Second)
	up, err := c.GetUpdated(ctx, "Lead", start, testNow)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(up.IDs, []string{"00Q5e00000Ab1CdEAF", "00Q5e00000Ab1CeEAF"}) ||
		!up.LatestDateCovered.Equal(time.Date(2026, 11, 23, 16, 55, 0, 0, time.UTC)) {
		t.Errorf("updated = %+v", up)
	}
	q, _ := url.ParseQuery(f.requests()[0].RawQuery)
	if q.Get("start") != "2026-11-23T15:00:00+00:00" || q.Get("end") != "2026-11-23T17:00:00+00:00" || !strings.Contains(f.requests()[0].RawQuery, "%2B00%3A00") {
		t.Errorf("window = %v", q)
	}
	del, err := c.GetDeleted(ctx, "Lead", testNow.Add(-24*time.Hour), testNow)
	if err != nil {
		t.Fatal(err)
	}
	if len(del.DeletedRecords) != 1 || del.DeletedRecords[0].ID != "00Q5e00000Ab1CfEAF" ||
		!del.DeletedRecords[0].DeletedDate.Equal(time.Date(2026, 11, 23, 14, 7, 19, 0, time.UTC)) ||
		!del.EarliestDateAvailable.Equal(time.Date(2026, 11, 10, 15, 57, 0, 0, time.UTC)) {
		t.Errorf("deleted = %+v", del)
	}
	for name, call := range map[string]func() error{
		"updated older than 30 days": func() error { _, err := c.GetUpdated(ctx, "Lead", testNow.Add(-31*24*time.Hour), testNow); return err },
		"deleted older than 15 days": func() error { _, err := c.GetDeleted(ctx, "Lead", testNow.Add(-16*24*time.Hour), testNow); return err },
		"empty window": func() error {
			_, err := c.GetUpdated(ctx, "Lead", testNow.Add(10*time.Second), testNow.Add(50*time.Second))
			return err
		},
	} {
		if err := call(); !errors.Is(err, crmsync.ErrInvalid) {
			t.Errorf("%s: %v", name, err)
		}
	}
	if n := len(f.requests()); n != 2 {
		t.Errorf("%d requests; refused windows must not be sent", n)
	}
}

func TestDescribe(t *testing.T) {
	f := newFakeInstance(t)
	f.on("GET", dp+"sobjects/Lead/describe", reply{status: 200, body: "describe-lead.json"})
	c := newTestClient(t, f)
	d, err := c.Describe(context.Background(), "Lead")
	if err != nil {
		t.Fatal(err)
	}
	last, _ := d.Field("LastName")
	status, _ := d.Field("Status")
	band, _ := d.Field("Lead_Score_Band__c")
	ext, _ := d.Field("HubSpot_Id__c")
	state, _ := d.Field("StateCode")
	country, _ := d.Field("CountryCode")
	if !last.Required() || status.Required() || band.Required() || !band.Calculated || band.Updateable || !ext.ExternalID {
		t.Errorf("flags: last %+v status %+v band %+v ext %+v", last, status, band, ext)
	}
	if !status.RestrictedPicklist || len(status.PicklistValues) != 2 || !status.PicklistValues[0].DefaultValue {
		t.Errorf("status picklist = %+v", status)
	}
	if !state.DependentPicklist || state.ControllerName != "CountryCode" || country.PicklistValues[0].Value != "CA" {
		t.Fatalf("state/country = %+v / %+v", state, country)
	}
	// ON is valid for Canada (index 0) only, CA (California) for the US.
	on, cal := state.PicklistValues[0], state.PicklistValues[1]
	if !on.ValidForIndex(0) || on.ValidForIndex(1) || cal.ValidForIndex(0) || !cal.ValidForIndex(1) || !status.PicklistValues[0].ValidForIndex(5) {
		t.Errorf("validFor decoding wrong")
	}
}

func TestLimits(t *testing.T) {
	f := newFakeInstance(t)
	f.on("GET", dp+"limits", reply{status: 200, body: "limits.json"})
	c := newTestClient(t, f)
	l, err := c.Limits(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	api := l["DailyApiRequests"]
	if api.Max != 15000 || api.Remaining != 14108 || api.Used() != 892 {
		t.Errorf("DailyApiRequests = %+v", api)
	}
	if app := api.PerApp["crmsync (HubSpot sync)"]; app.Max != 5000 || app.Remaining != 4170 || len(api.PerApp) != 4 {
		t.Errorf("per-app = %+v", api.PerApp)
	}
	if s := l["DataStorageMB"]; s.Max != 5 || s.PerApp != nil {
		t.Errorf("DataStorageMB = %+v", s)
	}
	if li, _ := c.LimitInfo(); li.Used != 101 {
		t.Errorf("limit info not read on the limits call: %+v", li)
	}
}

func TestErrorClassification(t *testing.T) {
	tests := []struct {
		code      string
		transient bool
		category  crmsync.Category
	}{
		{CodeUnableToLockRow, true, crmsync.CategoryOther},
		{CodeAllOrNoneRolledBack, true, crmsync.CategoryOther},
		{CodeRequestLimitExceeded, false, crmsync.CategoryOther},
		{CodeCustomValidation, false, crmsync.CategoryCustomCode},
		{CodeRequiredFieldMissing, false, crmsync.CategoryPropertyValues},
		{CodeRestrictedPicklist, false, crmsync.CategoryPropertyValues},
		{CodeStringTooLong, false, crmsync.CategoryPropertyValues},
		{CodeInvalidEmailAddress, false, crmsync.CategoryPropertyValues},
		{CodeFieldIntegrity, false, crmsync.CategoryPropertyValues},
		{CodeDuplicatesDetected, false, crmsync.CategoryDuplicates},
		{CodeInsufficientAccess, false, crmsync.CategoryPermissions},
		{CodeInsufficientAccessCrossRef, false, crmsync.CategoryPermissions},
		{CodeEntityIsDeleted, false, crmsync.CategoryPermissions},
		{CodeNotFound, false, crmsync.CategoryPermissions},
		{CodeInvalidCrossReferenceKey, false, crmsync.CategoryAssociations},
		{CodeReadOnlyField, false, crmsync.CategoryPermissions},
		{CodeDuplicateValue, false, crmsync.CategoryDuplicates},
		{"SOME_CODE_FROM_A_LATER_RELEASE", false, crmsync.CategoryOther},
	}
	for _, tt := range tests {
		t.Run(tt.code, func(t *testing.T) {
			api := &APIError{StatusCode: 400, Errors: parseErrorBody([]byte(`[{"errorCode":"` + tt.code + `","message":"m"}]`))}
			bare := &APIError{StatusCode: 400, Errors: parseErrorBody([]byte(`{"errorCode":"` + tt.code + `","message":"m"}`))}
			rec := &RecordError{StatusCode: tt.code, Message: "m"}
			for _, e := range []interface {
				error
				Transient() bool
				Category() crmsync.Category
			}{api, bare, rec} {
				if e.Transient() != tt.transient || e.Category() != tt.category || !e.Category().Valid() {
					t.Errorf("%T: transient %v category %q", e, e.Transient(), e.Category())
				}
				if errors.Is(e, ErrRequestLimitExceeded) != (tt.code == CodeRequestLimitExceeded) {
					t.Errorf("%T: errors.Is(ErrRequestLimitExceeded) wrong", e)
				}
				if !strings.Contains(e.Error(), tt.code) {
					t.Errorf("%T: message %q lacks the code", e, e.Error())
				}
			}
		})
	}
	for status, transient := range map[int]bool{500: true, 502: true, 503: true, 429: true, 400: false, 403: false} {
		if got := (&APIError{StatusCode: status}).Transient(); got != transient {
			t.Errorf("status %d without body: transient %v", status, got)
		}
	}
	if got := (&APIError{StatusCode: 403, Errors: []ErrorItem{{ErrorCode: CodeRequestLimitExceeded}}}).Transient(); got {
		t.Error("REQUEST_LIMIT_EXCEEDED must wait for the budget, not be retried")
	}
	if items := parseErrorBody([]byte("<html>Service Unavailable</html>")); items != nil {
		t.Errorf("html body parsed as %+v", items)
	}
}

func TestRequestLimitAndTransportErrors(t *testing.T) {
	f := newFakeInstance(t)
	f.on("GET", dp+"limits", reply{status: 403, body: "error-request-limit.json"})
	c := newTestClient(t, f)
	_, err := c.Limits(context.Background())
	if !errors.Is(err, ErrRequestLimitExceeded) || crmsync.IsTransient(err) {
		t.Errorf("request limit: %v", err)
	}
	timeout := &url.Error{Op: "Get", URL: "https://x/services/data/v62.0/query?q=secret", Err: timeoutError{}}
	c2, err := NewClient(WithBaseURL("https://acme.my.salesforce.com"), WithHTTPClient(&http.Client{
		Transport: roundTripFunc(func(*http.Request) (*http.Response, error) { return nil, timeout })}))
	if err != nil {
		t.Fatal(err)
	}
	_, err = c2.Query(context.Background(), "SELECT Id FROM Lead WHERE Email = 'private@example.com'")
	var te *TransportError
	if !errors.As(err, &te) || !crmsync.IsTransient(err) || strings.Contains(err.Error(), "private@example.com") {
		t.Errorf("timeout: %v", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err = c.Limits(ctx)
	if !errors.Is(err, context.Canceled) || crmsync.IsTransient(err) {
		t.Errorf("canceled: %v (transient %v)", err, crmsync.IsTransient(err))
	}
}

type timeoutError struct{}

func (timeoutError) Error() string   { return "i/o timeout" }
func (timeoutError) Timeout() bool   { return true }
func (timeoutError) Temporary() bool { return true }

type roundTripFunc func(*http.Request) (*http.Response, error)

func (f roundTripFunc) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }

func TestNewClientNeedsAnInstance(t *testing.T) {
	if _, err := NewClient(); !errors.Is(err, crmsync.ErrInvalid) {
		t.Errorf("no base URL, no token source: %v", err)
	}
	if _, err := NewClient(WithBaseURL("acme.my.salesforce.com")); !errors.Is(err, crmsync.ErrInvalid) {
		t.Errorf("base URL without scheme: %v", err)
	}
}

func TestRetryAfterAndDefaultClientID(t *testing.T) {
	f := newFakeInstance(t)
	f.on("GET", dp+"limits", reply{status: 429, body: "error-server.json", header: map[string]string{"Retry-After": "7"}},
		reply{status: 503, body: "error-server.json", header: map[string]string{"Retry-After": testNow.Add(90 * time.Second).Format(http.TimeFormat)}})
	c, err := NewClient(WithBaseURL(f.srv.URL+prefix), WithHTTPClient(f.srv.Client()))
	if err != nil {
		t.Fatal(err)
	}
	c.now = func() time.Time { return testNow }
	var ae *APIError
	for _, want := range []time.Duration{7 * time.Second, 90 * time.Second} {
		_, err := c.Limits(context.Background())
		if !errors.As(err, &ae) || ae.RetryAfter != want || !ae.Transient() {
			t.Errorf("err = %v, retry after %v; want %v", err, ae.RetryAfter, want)
		}
	}
	if got := f.requests()[0].Header.Get("Sforce-Call-Options"); got != "client=crmsync" {
		t.Errorf("default Sforce-Call-Options = %q", got)
	}
}
