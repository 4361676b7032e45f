package main

import (
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"maps"
	"net/netip"
	"os"
	"reflect"
	"strings"
	"testing"

	"github.com/aws/aws-lambda-go/events"

	"github.com/crmsync/crmsync/pkg/salesforce"
)

func env(m map[string]string) func(string) string {
	return func(k string) string { return m[k] }
}

func TestLoadConfig(t *testing.T) {
	full := map[string]string{
		"SALESFORCE_ORG_ID": " 00D5e000000AbCdEAK ",
		"TRIGGER_QUEUE_URL": "https://sqs.eu-west-1.amazonaws.com/123456789012/triggers.fifo",
	}
	c, err := loadConfig(env(full))
	if err != nil {
		t.Fatal(err)
	}
	want := config{OrgID: "00D5e000000AbCdEAK", QueueURL: full["TRIGGER_QUEUE_URL"], MaxBody: salesforce.DefaultMaxBody}
	if !reflect.DeepEqual(c, want) {
		t.Fatalf("defaults:\n got %+v\nwant %+v", c, want)
	}
	with := func(k, v string) map[string]string {
		m := map[string]string{}
		for a, b := range full {
			m[a] = b
		}
		m[k] = v
		return m
	}
	c, err = loadConfig(env(with("SALESFORCE_OUTBOUND_TOKEN_SECRET_ID", "arn:aws:secretsmanager:eu-west-1:123456789012:secret:sf-outbound-AbCdEf")))
	if err != nil || c.TokenSecretID != "arn:aws:secretsmanager:eu-west-1:123456789012:secret:sf-outbound-AbCdEf" {
		t.Errorf("token secret id = %q, %v", c.TokenSecretID, err)
	}
	c, err = loadConfig(env(with("SALESFORCE_OUTBOUND_ALLOWED_CIDRS", " 13.108.0.0/14, 2a01:111::/32,,")))
	if want := []netip.Prefix{netip.MustParsePrefix("13.108.0.0/14"), netip.MustParsePrefix("2a01:111::/32")}; err != nil || !reflect.DeepEqual(c.AllowedSources, want) {
		t.Errorf("allowed sources = %v, %v; want %v", c.AllowedSources, err, want)
	}
	c, err = loadConfig(env(with("SALESFORCE_OUTBOUND_INSECURE", "true")))
	if err != nil || !c.Insecure {
		t.Errorf("insecure = %v, %v", c.Insecure, err)
	}
	c, err = loadConfig(env(with("SALESFORCE_OUTBOUND_MAX_BODY", "65536")))
	if err != nil || c.MaxBody != 65536 {
		t.Errorf("max body = %d, %v", c.MaxBody, err)
	}
	bad := []struct {
		name string
		env  map[string]string
		want string
	}{
		{"nothing set", map[string]string{}, "SALESFORCE_ORG_ID is not set"},
		{"no queue", with("TRIGGER_QUEUE_URL", " "), "TRIGGER_QUEUE_URL is not set"},
		{"bad org id", with("SALESFORCE_ORG_ID", "00D5e000000AbC"), "not a 15- or 18-character id"},
		{"bad body cap", with("SALESFORCE_OUTBOUND_MAX_BODY", "2MiB"), "SALESFORCE_OUTBOUND_MAX_BODY"},
		{"zero body cap", with("SALESFORCE_OUTBOUND_MAX_BODY", "0"), "SALESFORCE_OUTBOUND_MAX_BODY"},
		{"insecure not a boolean", with("SALESFORCE_OUTBOUND_INSECURE", "yes please"), "SALESFORCE_OUTBOUND_INSECURE"},
		{"bad range", with("SALESFORCE_OUTBOUND_ALLOWED_CIDRS", "13.108.0.0/14,13.108.0.0"), `"13.108.0.0" is not a CIDR range`},
	}
	for _, tt := range bad {
		if _, err := loadConfig(env(tt.env)); err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%s: err = %v, want it to mention %q", tt.name, err, tt.want)
		}
	}
}

// The receiver as deployed refuses messages that carry no valid token, and
// with no token secret configured (and not insecure) it refuses every
// message, valid or not; only SALESFORCE_OUTBOUND_INSECURE=true accepts
// one on the org id alone. Nothing is queued on a refusal.
func TestUnauthenticatedRefusedByDefault(t *testing.T) {
	b, err := os.ReadFile("../../events/salesforce-outbound-no-token.json")
	if err != nil {
		t.Fatal(err)
	}
	var unauthenticated events.APIGatewayV2HTTPRequest
	if err := json.Unmarshal(b, &unauthenticated); err != nil {
		t.Fatal(err)
	}
	withToken := unauthenticated
	withToken.PathParameters = map[string]string{"token": eventsToken}
	base := map[string]string{"SALESFORCE_ORG_ID": eventsOrg, "TRIGGER_QUEUE_URL": "https://sqs.example/triggers.fifo"}
	with := func(k, v string) map[string]string {
		m := maps.Clone(base)
		m[k] = v
		return m
	}
	tests := []struct {
		name   string
		env    map[string]string
		tokens []string // as read from the token secret
		req    events.APIGatewayV2HTTPRequest
		status int
		fault  salesforce.FaultCode
	}{
		{"no token secret, no token sent", base, nil, unauthenticated, 500, salesforce.FaultServer},
		{"no token secret, a token sent", base, nil, withToken, 500, salesforce.FaultServer},
		{"insecure=false, no token sent", with("SALESFORCE_OUTBOUND_INSECURE", "false"), nil, unauthenticated, 500, salesforce.FaultServer},
		{"token secret, no token sent", base, []string{eventsToken}, unauthenticated, 401, salesforce.FaultClient},
		{"token secret, token sent", base, []string{eventsToken}, withToken, 200, ""},
		{"insecure, no token sent", with("SALESFORCE_OUTBOUND_INSECURE", "true"), nil, unauthenticated, 200, ""},
		{"insecure with a token secret, no token sent", with("SALESFORCE_OUTBOUND_INSECURE", "true"), []string{eventsToken}, unauthenticated, 401, salesforce.FaultClient},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg, err := loadConfig(env(tt.env))
			if err != nil {
				t.Fatal(err)
			}
			q := &recordingQueue{}
			resp, _ := newReceiver(cfg, tt.tokens, q, slog.New(slog.DiscardHandler)).Handle(context.Background(), tt.req)
			if resp.StatusCode != tt.status {
				t.Errorf("status = %d, want %d: %s", resp.StatusCode, tt.status, resp.Body)
			}
			ack, err := salesforce.ParseAck([]byte(resp.Body))
			var fe *salesforce.FaultError
			if tt.fault == "" && !ack || tt.fault != "" && (!errors.As(err, &fe) || fe.Code != string(tt.fault)) {
				t.Errorf("answer = ack %v, err %v; want fault %q", ack, err, tt.fault)
			}
			if wantQueued := tt.status == 200; wantQueued != (len(q.sent) > 0) {
				t.Errorf("%d triggers queued on a %d", len(q.sent), resp.StatusCode)
			}
		})
	}
}
