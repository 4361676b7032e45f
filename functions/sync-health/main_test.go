package main

import (
	"context"
	"net/http"
	"strings"
	"testing"

	"github.com/aws/aws-lambda-go/events"
)

func env(m map[string]string) func(string) string { return func(k string) string { return m[k] } }

func TestLoadConfig(t *testing.T) {
	full := map[string]string{"CRMSYNC_TABLE": "crmsync-dev", "TRIGGER_QUEUE_URL": "https://sqs.eu-west-1.amazonaws.com/1/t.fifo",
		"TRIGGER_DLQ_URL": "https://sqs.eu-west-1.amazonaws.com/1/t-dlq.fifo", "SYNC_HEALTH_TOKEN_SECRET_ID": "crmsync/dev/sync-health-token",
		"SALESFORCE_ORG_ID": "00D5e000000AbCd", "SALESFORCE_ORG_KIND": "sandbox"}
	c, err := loadConfig(env(full))
	if err != nil {
		t.Fatal(err)
	}
	if c.DLQURL == "" || c.OrgKind != "sandbox" || c.TokenSecretID != "crmsync/dev/sync-health-token" {
		t.Errorf("config = %+v", c)
	}
	_, err = loadConfig(env(map[string]string{"SALESFORCE_ORG_KIND": "staging"}))
	for _, want := range []string{"CRMSYNC_TABLE", "TRIGGER_QUEUE_URL", "SYNC_HEALTH_TOKEN_SECRET_ID", "SALESFORCE_ORG_KIND"} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("error %v does not name %s", err, want)
		}
	}
}

func TestParseToken(t *testing.T) {
	if tok, err := parseToken("  " + eventsToken + "\n"); err != nil || tok != eventsToken {
		t.Errorf("parseToken = %q, %v", tok, err)
	}
	for _, bad := range []string{"", "short", `{"token":"` + eventsToken + `"}`} {
		if _, err := parseToken(bad); err == nil {
			t.Errorf("parseToken(%q) accepted", bad)
		}
	}
}

// TestAuth: no token and a wrong token are 401, the right one 200, on
// the page and on the JSON alike.
func TestAuth(t *testing.T) {
	fx := newFixture(t)
	for _, c := range []struct {
		path, auth string
		want       int
	}{
		{"/health", "", http.StatusUnauthorized},
		{"/health.json", "", http.StatusUnauthorized},
		{"/health", "Bearer wrong-token-0123456789abcdef0123456789", http.StatusUnauthorized},
		{"/health.json", "Bearer " + eventsToken[:len(eventsToken)-1], http.StatusUnauthorized},
		{"/health.json", "Basic " + eventsToken, http.StatusUnauthorized},
		{"/health", "Bearer " + eventsToken, http.StatusOK},
		{"/health.json", "Bearer " + eventsToken, http.StatusOK},
		{"/health/card", "Bearer " + eventsToken, http.StatusNotFound}, // authorised, but no such card
	} {
		req := events.APIGatewayV2HTTPRequest{RawPath: c.path, Headers: map[string]string{"authorization": c.auth}}
		req.RequestContext.HTTP.Method = http.MethodGet
		resp, err := fx.handle(context.Background(), req)
		if err != nil {
			t.Fatal(err)
		}
		if resp.StatusCode != c.want {
			t.Errorf("GET %s with %q: %d, want %d", c.path, c.auth, resp.StatusCode, c.want)
		}
	}
}
