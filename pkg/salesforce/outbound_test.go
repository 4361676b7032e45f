package salesforce

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/crmsync/crmsync/pkg/crmsync"
)

func readTestdata(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile("testdata/" + name)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestParseOutboundMessageFixture(t *testing.T) {
	m, err := ParseOutboundMessage(readTestdata(t, "outbound-aspnet-contacts.xml"))
	if err != nil {
		t.Fatal(err)
	}
	if m.OrganizationID != "012345678901234" || m.ActionID != "04k1I000000bmsHQAQ" {
		t.Errorf("org, action = %q, %q", m.OrganizationID, m.ActionID)
	}
	if !strings.HasPrefix(string(m.SessionID), "00D1I000003qqqE!") {
		t.Errorf("session id not kept")
	}
	if m.EnterpriseURL != "https://na73.salesforce.com/services/Soap/c/41.0/00D1I000003qqqE" ||
		m.PartnerURL != "https://na73.salesforce.com/services/Soap/u/41.0/00D1I000003qqqE" {
		t.Errorf("urls = %q, %q", m.EnterpriseURL, m.PartnerURL)
	}
	want := []Notification{
		{ID: "04l1I000000fztEQAQ", SObject: SObject{Type: "Contact", Fields: []Field{
			{Name: "Id", Value: "0031I0000081tbPQAQ"},
			{Name: "CreatedDate", Value: "2017-12-11T21:49:24.000Z"},
			{Name: "FirstName", Value: "Jeraldine"},
			{Name: "LastName", Value: "Black"},
			{Name: "Title", Value: "White"},
		}}},
		{ID: "04l1I000000fzt9QAA", SObject: SObject{Type: "Contact", Fields: []Field{
			{Name: "Id", Value: "0031I0000081tb0QAA"},
			{Name: "CreatedDate", Value: "2017-12-11T21:44:55.000Z"},
			{Name: "Email", Value: "drb24@cornell.edu"},
			{Name: "FirstName", Value: "Doug"},
			{Name: "LastName", Value: "Bunting"},
			{Name: "Title", Value: "Supreme Being"},
		}}},
	}
	if !reflect.DeepEqual(m.Notifications, want) {
		t.Errorf("notifications =\n%+v\nwant\n%+v", m.Notifications, want)
	}
	if s := fmt.Sprintf("%v %+v %#v", m, *m, m.SessionID); strings.Contains(s, "AQsAQOjGFnFJzGPA") {
		t.Errorf("session id printed: %s", s)
	}
}

// envelope wraps notifications XML in an envelope using the given
// prefixes; p.env "" means the default namespace is the envelope's.
func envelope(body string) string {
	return `<soapenv:Envelope xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"><soapenv:Body>` +
		body + `</soapenv:Body></soapenv:Envelope>`
}

const header = `<OrganizationId>00D5e000000AbCdEAK</OrganizationId><ActionId>04k5e000000XyZaAAC</ActionId>` +
	`<SessionId xsi:nil="true"/><EnterpriseUrl>https://example.my.salesforce.com/services/Soap/c/62.0/00D5e000000AbCd</EnterpriseUrl>` +
	`<PartnerUrl>https://example.my.salesforce.com/services/Soap/u/62.0/00D5e000000AbCd</PartnerUrl>`

func TestParseOutboundMessageVariants(t *testing.T) {
	lead := `<Notification><Id>04l5e00000AbCdEAAV</Id><sObject xsi:type="sf:Lead" xmlns:sf="urn:sobject.enterprise.soap.sforce.com">` +
		`<sf:Id>00Q5e00000Ab1CdEAF</sf:Id><sf:Email>ana@example.com</sf:Email></sObject></Notification>`
	tests := []struct {
		name     string
		body     string
		wantType string
		want     []Field
		session  Secret
	}{
		{
			name:     "bom and declaration",
			body:     "\xEF\xBB\xBF<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n" + envelope(`<notifications xmlns="http://soap.sforce.com/2005/09/outbound">`+header+lead+`</notifications>`),
			wantType: "Lead",
			want:     []Field{{Name: "Id", Value: "00Q5e00000Ab1CdEAF"}, {Name: "Email", Value: "ana@example.com"}},
		},
		{
			name: "other prefixes everywhere",
			body: `<S:Envelope xmlns:S="http://schemas.xmlsoap.org/soap/envelope/" xmlns:i="http://www.w3.org/2001/XMLSchema-instance"><S:Body>` +
				`<out:notifications xmlns:out="http://soap.sforce.com/2005/09/outbound"><out:OrganizationId>00D5e000000AbCd</out:OrganizationId>` +
				`<out:ActionId>04k5e000000XyZaAAC</out:ActionId><out:SessionId>00D!secret</out:SessionId>` +
				`<out:Notification><out:Id>04l5e00000AbCdEAAV</out:Id><out:sObject i:type="ns9:Contact" xmlns:ns9="urn:sobject.enterprise.soap.sforce.com">` +
				`<ns9:Id>0035e00000Ab1CdAAJ</ns9:Id><ns9:Phone>+1 555 0100</ns9:Phone></out:sObject></out:Notification></out:notifications></S:Body></S:Envelope>`,
			wantType: "Contact",
			want:     []Field{{Name: "Id", Value: "0035e00000Ab1CdAAJ"}, {Name: "Phone", Value: "+1 555 0100"}},
			session:  "00D!secret",
		},
		{
			name: "nil values, custom fields, escapes",
			body: envelope(`<notifications xmlns="http://soap.sforce.com/2005/09/outbound">` + header +
				`<Notification><Id>04l5e00000AbCdEAAV</Id><sObject xsi:type="sf:Lead" xmlns:sf="urn:sobject.enterprise.soap.sforce.com">` +
				`<sf:Id>00Q5e00000Ab1CdEAF</sf:Id><sf:Phone xsi:nil="true"/><sf:Score__c>42.0</sf:Score__c>` +
				`<sf:Company>Smith &amp; Sons &lt;GmbH&gt;</sf:Company><sf:Description></sf:Description></sObject></Notification></notifications>`),
			wantType: "Lead",
			want: []Field{{Name: "Id", Value: "00Q5e00000Ab1CdEAF"}, {Name: "Phone", Nil: true},
				{Name: "Score__c", Value: "42.0"}, {Name: "Company", Value: "Smith & Sons <GmbH>"}, {Name: "Description"}},
		},
		{
			name: "custom object type",
			body: envelope(`<notifications xmlns="http://soap.sforce.com/2005/09/outbound">` + header +
				`<Notification><Id>04l5e00000AbCdEAAV</Id><sObject xsi:type="sf:Invoice__c" xmlns:sf="urn:sobject.enterprise.soap.sforce.com">` +
				`<sf:Id>a015e00000Ab1CdAAJ</sf:Id></sObject></Notification></notifications>`),
			wantType: "Invoice__c",
			want:     []Field{{Name: "Id", Value: "a015e00000Ab1CdAAJ"}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m, err := ParseOutboundMessage([]byte(tt.body))
			if err != nil {
				t.Fatal(err)
			}
			if len(m.Notifications) != 1 {
				t.Fatalf("%d notifications", len(m.Notifications))
			}
			got := m.Notifications[0].SObject
			if got.Type != tt.wantType || !reflect.DeepEqual(got.Fields, tt.want) {
				t.Errorf("sObject = %+v, want type %s fields %+v", got, tt.wantType, tt.want)
			}
			if m.SessionID != tt.session {
				t.Errorf("session id = %q, want %q", string(m.SessionID), string(tt.session))
			}
		})
	}
}

func TestParseOutboundMessageErrors(t *testing.T) {
	note := func(id, obj string) string {
		return `<Notification><Id>` + id + `</Id>` + obj + `</Notification>`
	}
	lead := `<sObject xsi:type="sf:Lead" xmlns:sf="urn:sobject.enterprise.soap.sforce.com"><sf:Id>00Q5e00000Ab1CdEAF</sf:Id></sObject>`
	notes := func(body string) string {
		return envelope(`<notifications xmlns="http://soap.sforce.com/2005/09/outbound">` + header + body + `</notifications>`)
	}
	tests := []struct {
		name  string
		body  string
		empty bool
	}{
		{name: "not xml", body: `{"hello": "json"}`},
		{name: "truncated", body: notes(note("04l5e00000AbCdEAAV", lead))[:200]},
		{name: "soap 1.2 envelope", body: strings.ReplaceAll(notes(note("04l5e00000AbCdEAAV", lead)),
			"http://schemas.xmlsoap.org/soap/envelope/", "http://www.w3.org/2003/05/soap-envelope")},
		{name: "notifications in another namespace", body: strings.ReplaceAll(notes(note("04l5e00000AbCdEAAV", lead)),
			"http://soap.sforce.com/2005/09/outbound", "http://example.com/outbound")},
		{name: "no notifications element", body: envelope(``)},
		{name: "zero notifications", body: notes(``), empty: true},
		{name: "101 notifications", body: notes(strings.Repeat(note("04l5e00000AbCdEAAV", lead), 101))},
		{name: "no organization id", body: strings.Replace(notes(note("04l5e00000AbCdEAAV", lead)), "00D5e000000AbCdEAK", "", 1)},
		{name: "notification without id", body: notes(note("", lead))},
		{name: "notification without sObject", body: notes(note("04l5e00000AbCdEAAV", ""))},
		{name: "sObject without type", body: notes(note("04l5e00000AbCdEAAV", strings.Replace(lead, `xsi:type="sf:Lead" `, "", 1)))},
		{name: "sObject without Id", body: notes(note("04l5e00000AbCdEAAV", strings.Replace(lead, "<sf:Id>00Q5e00000Ab1CdEAF</sf:Id>", "<sf:Email>a@b.c</sf:Email>", 1)))},
		{name: "sObject with a bad Id", body: notes(note("04l5e00000AbCdEAAV", strings.Replace(lead, "00Q5e00000Ab1CdEAF", "00Q-5e", 1)))},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m, err := ParseOutboundMessage([]byte(tt.body))
			if !errors.Is(err, ErrMalformedMessage) {
				t.Fatalf("err = %v (message %+v), want ErrMalformedMessage", err, m)
			}
			if errors.Is(err, ErrNoNotifications) != tt.empty {
				t.Errorf("errors.Is(err, ErrNoNotifications) = %v, want %v", !tt.empty, tt.empty)
			}
		})
	}
}

// testMessage returns an Outbound Message of n Lead notifications.
func testMessage(n int) *OutboundMessage {
	m := &OutboundMessage{
		OrganizationID: "00D5e000000AbCdEAK",
		ActionID:       "04k5e000000XyZaAAC",
		SessionID:      "00D5e000000AbCd!AQ4AQFakeSessionForTests",
		EnterpriseURL:  "https://example.my.salesforce.com/services/Soap/c/62.0/00D5e000000AbCd",
		PartnerURL:     "https://example.my.salesforce.com/services/Soap/u/62.0/00D5e000000AbCd",
	}
	for i := range n {
		m.Notifications = append(m.Notifications, Notification{
			ID: ID18(fmt.Sprintf("04l5e00000A%04d", i)),
			SObject: SObject{Type: "Lead", Fields: []Field{
				{Name: "Id", Value: ID18(fmt.Sprintf("00Q5e00000B%04d", i))},
				{Name: "Email", Value: fmt.Sprintf("lead%d@example.com", i)},
				{Name: "Phone", Nil: true},
				{Name: "Status", Value: "Working - Contacted"},
				{Name: "Rating__c", Value: "Hot & <Sticky>"},
				{Name: "SystemModstamp", Value: "2026-11-23T10:15:30.000Z"},
			}},
		})
	}
	return m
}

func TestMarshalSOAPRoundTrip(t *testing.T) {
	for _, session := range []Secret{"", "00D!abc"} {
		m := testMessage(3)
		m.SessionID = session
		got, err := ParseOutboundMessage(m.MarshalSOAP())
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(got, m) {
			t.Errorf("round trip =\n%+v\nwant\n%+v", got, m)
		}
	}
}

func TestTriggers(t *testing.T) {
	received := time.Date(2026, 11, 23, 17, 0, 0, 0, time.UTC)
	m := testMessage(3)
	// A repeated notification Id, a record without modification times and
	// an object type crmsync does not sync.
	m.Notifications = append(m.Notifications, m.Notifications[1],
		Notification{ID: "04l5e00000AbCdEAAV", SObject: SObject{Type: "Contact", Fields: []Field{
			{Name: "Id", Value: "0035e00000Ab1CdAAJ"}, {Name: "LastModifiedDate", Value: "2026-11-22T09:00:00.000Z"}}}},
		Notification{ID: "04l5e00000AbCdFAAV", SObject: SObject{Type: "Account", Fields: []Field{{Name: "Id", Value: "0015e00000Ab1CdAAJ"}}}},
		Notification{ID: "04l5e00000AbCdGAAV", SObject: SObject{Type: "Invoice__c", Fields: []Field{{Name: "Id", Value: "a015e00000Ab1CdAAJ"}}}},
	)
	triggers, skipped := m.Triggers(received)
	if len(triggers) != 5 {
		t.Fatalf("%d triggers, want 5 (3 leads, contact, account): %+v", len(triggers), triggers)
	}
	if len(skipped) != 1 || skipped[0].SObject.Type != "Invoice__c" {
		t.Errorf("skipped = %+v", skipped)
	}
	keys := map[string]bool{}
	for _, tr := range triggers {
		if err := tr.Validate(); err != nil {
			t.Errorf("trigger invalid: %v", err)
		}
		keys[tr.DedupeKey] = true
	}
	if len(keys) != 5 {
		t.Errorf("%d distinct dedupe keys, want 5", len(keys))
	}
	want0 := crmsync.Trigger{
		Record:     crmsync.RecordRef{Side: crmsync.Salesforce, Object: crmsync.SFLead, ID: m.Notifications[0].SObject.ID()},
		Kind:       crmsync.KindPropertyChanged,
		Properties: []string{"Email", "Phone", "Status", "Rating__c", "SystemModstamp"},
		OccurredAt: time.Date(2026, 11, 23, 10, 15, 30, 0, time.UTC),
		DeliveryID: m.Notifications[0].ID,
		DedupeKey:  DedupeKey(m.Notifications[0].ID),
	}
	if !reflect.DeepEqual(triggers[0], want0) {
		t.Errorf("trigger 0 =\n%+v\nwant\n%+v", triggers[0], want0)
	}
	if got := triggers[3].OccurredAt; !got.Equal(time.Date(2026, 11, 22, 9, 0, 0, 0, time.UTC)) {
		t.Errorf("contact occurred at %v, want its LastModifiedDate", got)
	}
	if got := triggers[4].OccurredAt; !got.Equal(received) {
		t.Errorf("account occurred at %v, want the receive time", got)
	}
	if DedupeKey("04l5e00000AbCdEAAV") != crmsync.DedupeKeyOf("salesforce", "outbound", "04l5e00000AbCdEAAV") ||
		DedupeKey("04l5e00000AbCdEAAV") == DedupeKey("04l5e00000AbCdFAAV") {
		t.Error("dedupe key is not derived from the notification id alone")
	}
}

func TestAckAndFault(t *testing.T) {
	if want := readTestdata(t, "ack-aspnet.xml"); AckResponse != string(want) {
		t.Errorf("AckResponse differs from the documented ack:\n%s\nwant\n%s", AckResponse, want)
	}
	if ok, err := ParseAck([]byte(AckResponse)); !ok || err != nil {
		t.Errorf("ParseAck(AckResponse) = %v, %v", ok, err)
	}
	falseAck := strings.Replace(AckResponse, "<Ack>true</Ack>", "<Ack>false</Ack>", 1)
	if ok, err := ParseAck([]byte(falseAck)); ok || err != nil {
		t.Errorf("ParseAck(Ack false) = %v, %v", ok, err)
	}
	var fe *FaultError
	_, err := ParseAck(readTestdata(t, "fault-aspnet.xml"))
	if !errors.As(err, &fe) || fe.Code != "soapenv:Client" || fe.Message != "{0}" || fe.Transient() {
		t.Errorf("ParseAck(fixture fault) = %v", err)
	}
	// Our fault has the fixture's shape (after the BOM) with the message
	// escaped in place of the placeholder.
	want := bytes.TrimPrefix(readTestdata(t, "fault-aspnet.xml"), utf8BOM)
	want = bytes.Replace(want, []byte("{0}"), []byte("a &lt;b&gt; &amp; c"), 1)
	if got := FaultResponse(FaultClient, "a <b> & c"); !bytes.Equal(got, want) {
		t.Errorf("FaultResponse =\n%s\nwant\n%s", got, want)
	}
	_, err = ParseAck(FaultResponse(FaultServer, "queue down"))
	if !errors.As(err, &fe) || fe.Code != "soapenv:Server" || fe.Message != "queue down" || !fe.Transient() {
		t.Errorf("ParseAck(server fault) = %v", err)
	}
	if _, err := ParseAck([]byte("<html>502 Bad Gateway</html>")); !errors.Is(err, ErrMalformedMessage) {
		t.Errorf("ParseAck(html) = %v", err)
	}
}

func TestIDs(t *testing.T) {
	// Pairs from the fixture: the 18-character forms Salesforce sent.
	for _, id := range []string{"0031I0000081tbPQAQ", "0031I0000081tb0QAA", "04l1I000000fztEQAQ", "04k1I000000bmsHQAQ"} {
		if got := ID18(ID15(id)); got != id {
			t.Errorf("ID18(%s) = %s, want %s", ID15(id), got, id)
		}
	}
	tests := []struct {
		a, b string
		want bool
	}{
		{"012345678901234", "012345678901234AAA", true},
		{"00D5e000000AbCdEAK", "00D5e000000AbCd", true},
		{"00D5e000000AbCd", "00D5e000000abcd", false}, // 15-char ids are case-sensitive
		{"00D5e000000AbCd", "00D5e000000AbCe", false},
		{"", "", false},
		{"00D5e000000AbC", "00D5e000000AbC", false},
	}
	for _, tt := range tests {
		if got := SameID(tt.a, tt.b); got != tt.want {
			t.Errorf("SameID(%q, %q) = %v", tt.a, tt.b, got)
		}
	}
}
