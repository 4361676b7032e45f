package main

import (
	"reflect"
	"strings"
	"testing"

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
	}
	for _, tt := range bad {
		if _, err := loadConfig(env(tt.env)); err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%s: err = %v, want it to mention %q", tt.name, err, tt.want)
		}
	}
}

func TestParseToken(t *testing.T) {
	for in, want := range map[string]string{
		"plain-token\n":             "plain-token",
		`{"token": " json-token "}`: "json-token",
		`{"token":"t","other":"x"}`: "t",
	} {
		if got, err := parseToken(in); err != nil || got != want {
			t.Errorf("parseToken(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
	for _, in := range []string{"", "  ", `{"token": ""}`, `{"tok`, `{"secret":"x"}`} {
		if got, err := parseToken(in); err == nil {
			t.Errorf("parseToken(%q) = %q, want an error", in, got)
		}
	}
}
