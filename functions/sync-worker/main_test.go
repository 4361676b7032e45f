package main

import (
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/crmsync/crmsync/pkg/crmclients"
)

func env(m map[string]string) func(string) string {
	return func(k string) string { return m[k] }
}

func TestLoadConfig(t *testing.T) {
	full := map[string]string{
		"CRMSYNC_TABLE":                    "crmsync-dev",
		"TRIGGER_QUEUE_URL":                "https://sqs.eu-west-1.amazonaws.com/123456789012/crmsync-dev-triggers.fifo",
		"HUBSPOT_CREDENTIALS_SECRET_ID":    "crmsync/hubspot",
		"SALESFORCE_CREDENTIALS_SECRET_ID": " arn:aws:secretsmanager:eu-west-1:123456789012:secret:crmsync/salesforce-AbCdEf ",
	}
	c, err := loadConfig(env(full))
	if err != nil {
		t.Fatal(err)
	}
	want := config{Table: "crmsync-dev", QueueURL: full["TRIGGER_QUEUE_URL"], Config: crmclients.Config{HubSpotSecretID: "crmsync/hubspot",
		SalesforceSecretID: strings.TrimSpace(full["SALESFORCE_CREDENTIALS_SECRET_ID"]),
		SalesforceClientID: "crmsync", HTTPTimeout: 30 * time.Second}, Drain: 200}
	if !reflect.DeepEqual(c, want) {
		t.Fatalf("defaults:\n got %+v\nwant %+v", c, want)
	}

	with := func(kv ...string) map[string]string {
		m := map[string]string{}
		for a, b := range full {
			m[a] = b
		}
		for i := 0; i < len(kv); i += 2 {
			m[kv[i]] = kv[i+1]
		}
		return m
	}
	c, err = loadConfig(env(with("SALESFORCE_CLIENT_ID", "acme-sync", "CRMSYNC_HTTP_TIMEOUT", "10s",
		"HUBSPOT_BASE_URL", "http://127.0.0.1:9001/", "SALESFORCE_INSTANCE_URL", "http://127.0.0.1:9002")))
	if err != nil {
		t.Fatal(err)
	}
	if c.SalesforceClientID != "acme-sync" || c.HTTPTimeout != 10*time.Second || c.HubSpotBaseURL != "http://127.0.0.1:9001/" ||
		c.SalesforceInstanceURL != "http://127.0.0.1:9002" {
		t.Errorf("overrides: %+v", c)
	}

	bad := []struct {
		name string
		env  map[string]string
		want []string
	}{
		{"nothing", map[string]string{}, []string{"CRMSYNC_TABLE is not set", "TRIGGER_QUEUE_URL is not set",
			"HUBSPOT_CREDENTIALS_SECRET_ID is not set", "SALESFORCE_CREDENTIALS_SECRET_ID is not set"}},
		{"no table", with("CRMSYNC_TABLE", " "), []string{"CRMSYNC_TABLE is not set"}},
		{"no hubspot secret", with("HUBSPOT_CREDENTIALS_SECRET_ID", ""), []string{"HUBSPOT_CREDENTIALS_SECRET_ID is not set"}},
		{"timeout without unit", with("CRMSYNC_HTTP_TIMEOUT", "30"), []string{"CRMSYNC_HTTP_TIMEOUT"}},
		{"negative timeout", with("CRMSYNC_HTTP_TIMEOUT", "-1s"), []string{"CRMSYNC_HTTP_TIMEOUT"}},
	}
	for _, tt := range bad {
		_, err := loadConfig(env(tt.env))
		for _, w := range tt.want {
			if err == nil || !strings.Contains(err.Error(), w) {
				t.Errorf("%s: error %v, want it to mention %q", tt.name, err, w)
			}
		}
	}
}
