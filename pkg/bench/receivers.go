package bench

import (
	"context"
	"fmt"
	"log/slog"
	"strconv"
	"strings"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/crmsync/crmsync/pkg/crmsync"
	"github.com/crmsync/crmsync/pkg/hubspot"
	"github.com/crmsync/crmsync/pkg/salesforce"
)

type discardQueue struct{}

func (discardQueue) Send(context.Context, []crmsync.Trigger) error { return nil }

// receivers measures each receiver's handling of a full delivery —
// verify, parse, enqueue (to a queue that only counts), acknowledge — in
// process, n times: HubSpot's 100 signed events, Salesforce's 100
// notifications.
func receivers(n int) (hs, sf Sample, err error) {
	const secret, domain, orgID = "bench-secret", "bench.lambda-url.eu-west-1.on.aws", "00D5e000000AbCdEAK"
	evs := make([]string, 100)
	for i := range evs {
		evs[i] = fmt.Sprintf(`{"eventId":%d,"subscriptionId":25,"portalId":33,"appId":1160452,"occurredAt":%d,"subscriptionType":"contact.propertyChange","attemptNumber":0,"objectId":%d,"changeSource":"CRM_UI","propertyName":"phone","propertyValue":"+1 555 %04d"}`,
			3816279340+i, time.Now().UnixMilli(), 2147483648+i, i)
	}
	body := "[" + strings.Join(evs, ",") + "]"
	hr := &hubspot.WebhookReceiver{Secrets: []string{secret}, Queue: discardQueue{}, Logger: slog.New(slog.DiscardHandler)}
	hsReq := func() events.APIGatewayV2HTTPRequest {
		ts := strconv.FormatInt(time.Now().UnixMilli(), 10)
		return events.APIGatewayV2HTTPRequest{Version: "2.0", RawPath: "/", Body: body,
			Headers: map[string]string{"content-type": "application/json",
				"x-hubspot-signature-v3":      hubspot.SignV3(secret, "POST", hubspot.SignedURI(domain, "/", ""), []byte(body), ts),
				"x-hubspot-request-timestamp": ts},
			RequestContext: events.APIGatewayV2HTTPRequestContext{DomainName: domain,
				HTTP: events.APIGatewayV2HTTPRequestContextHTTPDescription{Method: "POST", Path: "/"}}}
	}
	m := &salesforce.OutboundMessage{OrganizationID: orgID, ActionID: "04k5e000000XyZaAAC",
		EnterpriseURL: "https://example.my.salesforce.com/services/Soap/c/62.0/00D5e000000AbCd",
		PartnerURL:    "https://example.my.salesforce.com/services/Soap/u/62.0/00D5e000000AbCd"}
	for i := range 100 {
		m.Notifications = append(m.Notifications, salesforce.Notification{ID: salesforce.ID18(fmt.Sprintf("04l5e00000A%04d", i)),
			SObject: salesforce.SObject{Type: "Lead", Fields: []salesforce.Field{
				{Name: "Id", Value: salesforce.ID18(fmt.Sprintf("00Q5e00000B%04d", i))},
				{Name: "Email", Value: fmt.Sprintf("lead%d@example.com", i)},
				{Name: "Phone", Nil: true},
				{Name: "Status", Value: "Working - Contacted"},
				{Name: "SystemModstamp", Value: "2026-11-23T10:15:30.000Z"},
			}}})
	}
	sfReq := events.APIGatewayV2HTTPRequest{Version: "2.0", RawPath: "/", Body: string(m.MarshalSOAP()),
		Headers: map[string]string{"content-type": "text/xml; charset=utf-8", "soapaction": `""`},
		RequestContext: events.APIGatewayV2HTTPRequestContext{DomainName: domain,
			HTTP: events.APIGatewayV2HTTPRequestContextHTTPDescription{Method: "POST", Path: "/", SourceIP: "13.108.0.1"}}}
	sr := &salesforce.OutboundReceiver{OrgID: orgID, Queue: discardQueue{}, Logger: slog.New(slog.DiscardHandler)}
	ctx := context.Background()
	time1 := func(f func() int, want int) (Sample, error) {
		var s Sample
		for i := range n + n/10 {
			start := time.Now()
			if got := f(); got != want {
				return s, fmt.Errorf("bench: receiver answered %d, want %d", got, want)
			}
			if i >= n/10 { // the first tenth warms up
				s.Add(time.Since(start).Seconds() * 1000)
			}
		}
		return s, nil
	}
	hs, err = time1(func() int {
		req := hsReq()
		resp, _ := hr.Handle(ctx, req)
		return resp.StatusCode
	}, 204)
	if err != nil {
		return hs, sf, err
	}
	sf, err = time1(func() int {
		resp, _ := sr.Handle(ctx, sfReq)
		return resp.StatusCode
	}, 200)
	return hs, sf, err
}
