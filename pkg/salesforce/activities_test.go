package salesforce

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"strings"
	"testing"

	"github.com/crmsync/crmsync/pkg/crmsync"
)

const campaignID = "7015e000000Xy1ZAAS"

func TestCampaign(t *testing.T) {
	f := newFakeInstance(t)
	f.on("GET", dp+"query", reply{status: 200, body: "query-campaign.json"},
		reply{status: 200, body: `{"totalSize":0,"done":true,"records":[]}`})
	c := newTestClient(t, f)
	ctx := context.Background()
	got, err := c.Campaign(ctx, campaignID)
	if err != nil || got != (crmsync.Campaign{ID: campaignID, Name: "Webinar: Pipeline hygiene", Active: true}) {
		t.Errorf("campaign = %+v, %v", got, err)
	}
	q, _ := url.ParseQuery(f.requests()[0].RawQuery)
	if want := "SELECT Id, Name, IsActive FROM Campaign WHERE Id = '" + campaignID + "'"; q.Get("q") != want {
		t.Errorf("soql = %q, want %q", q.Get("q"), want)
	}
	if _, err := c.Campaign(ctx, campaignID); !errors.Is(err, crmsync.ErrNotFound) {
		t.Errorf("absent campaign: %v", err)
	}
	if _, err := c.Campaign(ctx, "701' OR Name != '"); !errors.Is(err, crmsync.ErrInvalid) || len(f.requests()) != 2 {
		t.Errorf("bad id: %v (%d requests)", err, len(f.requests()))
	}
}

func TestAddCampaignMember(t *testing.T) {
	f := newFakeInstance(t)
	f.on("POST", dp+"sobjects/CampaignMember/",
		reply{status: 201, body: `{"id":"00v5e00000Cd1EfAAJ","success":true,"errors":[]}`},
		reply{status: 400, body: "error-campaign-member-duplicate.json"},
		reply{status: 201, body: `{"id":"00v5e00000Cd1EgAAJ","success":true,"errors":[]}`},
		reply{status: 400, body: "error-task-whoid.json"})
	f.on("GET", dp+"query", reply{status: 200, body: "query-campaign-member-statuses.json"})
	c := newTestClient(t, f)
	ctx := context.Background()
	lead := crmsync.RecordRef{Side: crmsync.Salesforce, Object: crmsync.SFLead, ID: "00Q5e00000Ab1CdEAJ"}
	contact := crmsync.RecordRef{Side: crmsync.Salesforce, Object: crmsync.SFContact, ID: "0035e00000Ab1CfAAJ"}

	if added, err := c.AddCampaignMember(ctx, campaignID, lead, ""); !added || err != nil {
		t.Errorf("first add = %v, %v", added, err)
	}
	if added, err := c.AddCampaignMember(ctx, campaignID, lead, ""); added || err != nil {
		t.Errorf("already a member = %v, %v; want false, nil", added, err)
	}
	// A named status is checked against the campaign's statuses, read
	// once: the second add with a known status reads nothing more.
	if added, err := c.AddCampaignMember(ctx, campaignID, contact, "Registered"); !added || err != nil {
		t.Errorf("add with a status = %v, %v", added, err)
	}
	reqs := f.requests()
	if len(reqs) != 4 || reqs[2].Method != "GET" || !strings.Contains(reqs[2].RawQuery, "CampaignMemberStatus") {
		t.Fatalf("requests = %+v", reqs)
	}
	var body map[string]any
	if err := json.Unmarshal(reqs[3].Body, &body); err != nil || body["CampaignId"] != campaignID ||
		body["ContactId"] != contact.ID || body["Status"] != "Registered" || body["LeadId"] != nil {
		t.Errorf("member body = %s", reqs[3].Body)
	}
	body = nil
	if err := json.Unmarshal(reqs[0].Body, &body); err != nil || body["LeadId"] != lead.ID || body["Status"] != nil {
		t.Errorf("lead member body = %s", reqs[0].Body)
	}
	for _, r := range reqs {
		if r.Method == "POST" && r.Header.Get("Sforce-Call-Options") != "client=crmsync-test" {
			t.Errorf("write not tagged: %v", r.Header)
		}
	}

	// Other refusals are typed vendor errors with a hint.
	_, err := c.AddCampaignMember(ctx, campaignID, contact, "")
	var ae *APIError
	if !errors.As(err, &ae) || ae.Code() != CodeFieldIntegrity || ae.Category() != crmsync.CategoryPropertyValues ||
		!strings.Contains(ae.Hint(), "lead or contact") || crmsync.IsTransient(err) {
		t.Errorf("refused member: %v", err)
	}

	// A status the campaign does not have is refused before writing:
	// Salesforce would quietly use the default. The statuses are read
	// again first (someone may have added it).
	n := len(f.requests())
	_, err = c.AddCampaignMember(ctx, campaignID, contact, "Attended")
	var mse *MemberStatusError
	if !errors.As(err, &mse) || !errors.Is(err, crmsync.ErrInvalid) || mse.Code() != CodeUnknownMemberStatus ||
		crmsync.Classify(err).Class != crmsync.ClassTerminal || crmsync.Classify(err).Hint == "" ||
		strings.Join(mse.Known, ",") != "Sent,Responded,Registered" {
		t.Errorf("unknown status: %v", err)
	}
	if reqs := f.requests()[n:]; len(reqs) != 1 || reqs[0].Method != "GET" {
		t.Errorf("unknown status sent %+v", reqs)
	}

	for _, who := range []crmsync.RecordRef{
		{Side: crmsync.Salesforce, Object: crmsync.SFAccount, ID: "0015e00000Ab1CdAAJ"},
		{Side: crmsync.HubSpot, Object: crmsync.HSContact, ID: "101"},
		{Side: crmsync.Salesforce, Object: crmsync.SFLead, ID: "nope"},
	} {
		if _, err := c.AddCampaignMember(ctx, campaignID, who, ""); !errors.Is(err, crmsync.ErrInvalid) {
			t.Errorf("member %v: %v", who, err)
		}
	}
}

func TestCreateManyTasks(t *testing.T) {
	f := newFakeInstance(t)
	f.on("GET", dp+"sobjects/Task/describe", reply{status: 200, body: "describe-task.json"})
	f.on("POST", dp+"composite/sobjects", reply{status: 200, body: "collections-tasks-partial.json"})
	c := newTestClient(t, f)
	ctx := context.Background()
	in := []map[string]string{
		{"WhoId": "0035e00000Ab1CfAAJ", "Subject": "Call", "CallDurationInSeconds": "90", "TaskSubtype": "Call", "Description": ""},
		{"WhoId": "0015w000029KTYHAA4", "Subject": "Email: hello"},
		{"Subject": "Call", "CallDurationInSeconds": "ninety"},
		{"WhoId": "00Q5e00000Ab1CdEAJ", "Subject": "Form: Contact us", "ActivityDate": "2026-11-23"},
		{"WhoId": "00Q5e00000Ab1CdEAJ", "Subject": "Form: Contact us"},
	}
	res, err := c.CreateMany(ctx, crmsync.SFTask, in)
	if err != nil || len(res) != 5 {
		t.Fatalf("results = %+v, %v", res, err)
	}
	if res[0].ID != "00T5e00000Bc1DeEAJ" || res[0].Err != nil || res[3].ID != "00T5e00000Bc1DfEAJ" || res[3].Err != nil {
		t.Errorf("created = %+v", res)
	}
	var re *RecordError
	if !errors.As(res[1].Err, &re) || re.Code() != CodeFieldIntegrity || re.Fields[0] != "WhoId" || re.Hint() == "" {
		t.Errorf("wrong WhoId: %v", res[1].Err)
	}
	if !errors.Is(res[2].Err, crmsync.ErrInvalid) || res[2].ID != "" {
		t.Errorf("value that does not convert: %+v", res[2])
	}
	if !errors.As(res[4].Err, &re) || re.Code() != CodeConvertedLead || re.Category() != crmsync.CategoryAssociations {
		t.Errorf("converted lead: %v", res[4].Err)
	}
	var sent collectionBody
	reqs := f.requests()
	if len(reqs) != 2 || json.Unmarshal(reqs[1].Body, &sent) != nil || sent.AllOrNone || len(sent.Records) != 4 {
		t.Fatalf("sent %d requests, body %s", len(reqs), reqs[len(reqs)-1].Body)
	}
	first := sent.Records[0]
	if first.Type != "Task" || first.Fields["CallDurationInSeconds"] != json.Number("90") || first.Fields["TaskSubtype"] != "Call" {
		t.Errorf("first record = %+v", first)
	}
	if _, ok := first.Fields["Description"]; ok {
		t.Error("an empty value was sent on create")
	}
	if reqs[1].Header.Get("Sforce-Call-Options") != "client=crmsync-test" {
		t.Errorf("collection not tagged: %v", reqs[1].Header)
	}
}

// More than 200 records are split; a failing second call leaves the
// first call's results and marks the rest unknown (and transient).
func TestCreateManySplitAndCallFailure(t *testing.T) {
	f := newFakeInstance(t)
	f.on("GET", dp+"sobjects/Task/describe", reply{status: 200, body: "describe-task.json"})
	calls := 0
	f.on("POST", dp+"composite/sobjects", reply{fn: func(r recorded) (int, string) {
		calls++
		if calls == 2 {
			return 503, "error-server.json"
		}
		var body collectionBody
		_ = json.Unmarshal(r.Body, &body)
		out := make([]string, len(body.Records))
		for i := range out {
			out[i] = fmt.Sprintf(`{"id":"00T5e00000Bc%03dAAA","success":true,"errors":[]}`, i)
		}
		return 200, "[" + strings.Join(out, ",") + "]"
	}})
	c := newTestClient(t, f)
	in := make([]map[string]string, 250)
	for i := range in {
		in[i] = map[string]string{"Subject": fmt.Sprintf("Email %d", i)}
	}
	res, err := c.CreateMany(context.Background(), crmsync.SFTask, in)
	if err == nil || !crmsync.IsTransient(err) || len(res) != 250 {
		t.Fatalf("err = %v, %d results", err, len(res))
	}
	if res[199].ID == "" || res[199].Err != nil || res[200].ID != "" || !crmsync.IsTransient(res[200].Err) || res[249].Err == nil {
		t.Errorf("results around the split: %+v %+v %+v", res[199], res[200], res[249])
	}
	if calls != 2 {
		t.Errorf("%d collection calls, want 2", calls)
	}
	if empty, err := c.CreateMany(context.Background(), crmsync.SFTask, nil); err != nil || len(empty) != 0 {
		t.Errorf("no records: %v, %v", empty, err)
	}
	if _, err := c.CreateMany(context.Background(), crmsync.HSContact, in[:1]); !errors.Is(err, crmsync.ErrInvalid) {
		t.Errorf("a HubSpot object type: %v", err)
	}
}
