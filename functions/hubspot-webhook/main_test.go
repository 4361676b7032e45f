package main

import (
	"reflect"
	"strings"
	"testing"

	"github.com/crmsync/crmsync/pkg/hubspot"
)

func env(m map[string]string) func(string) string {
	return func(k string) string { return m[k] }
}

func TestLoadConfig(t *testing.T) {
	full := map[string]string{
		"HUBSPOT_WEBHOOK_SECRET_ID": "arn:aws:secretsmanager:eu-west-1:123456789012:secret:hubspot-app-AbCdEf",
		"TRIGGER_QUEUE_URL":         "https://sqs.eu-west-1.amazonaws.com/123456789012/triggers.fifo",
	}
	c, err := loadConfig(env(full))
	if err != nil {
		t.Fatal(err)
	}
	want := config{SecretID: full["HUBSPOT_WEBHOOK_SECRET_ID"], QueueURL: full["TRIGGER_QUEUE_URL"],
		Versions: []hubspot.SignatureVersion{hubspot.SignatureV3}, MaxBody: hubspot.DefaultMaxBody}
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
	c, err = loadConfig(env(with("HUBSPOT_SIGNATURE_VERSIONS", " V3, v1 ")))
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(c.Versions, []hubspot.SignatureVersion{hubspot.SignatureV3, hubspot.SignatureV1}) {
		t.Errorf("versions = %v", c.Versions)
	}
	c, err = loadConfig(env(with("HUBSPOT_WEBHOOK_MAX_BODY", "2048")))
	if err != nil || c.MaxBody != 2048 {
		t.Errorf("max body = %d, %v", c.MaxBody, err)
	}

	bad := []struct {
		name string
		env  map[string]string
		want string
	}{
		{"nothing set", map[string]string{}, "HUBSPOT_WEBHOOK_SECRET_ID is not set"},
		{"no queue", with("TRIGGER_QUEUE_URL", " "), "TRIGGER_QUEUE_URL is not set"},
		{"no secret", with("HUBSPOT_WEBHOOK_SECRET_ID", ""), "HUBSPOT_WEBHOOK_SECRET_ID is not set"},
		{"unknown version", with("HUBSPOT_SIGNATURE_VERSIONS", "v3,v4"), `unknown version "v4"`},
		{"bad body cap", with("HUBSPOT_WEBHOOK_MAX_BODY", "1MiB"), "HUBSPOT_WEBHOOK_MAX_BODY"},
		{"negative body cap", with("HUBSPOT_WEBHOOK_MAX_BODY", "-1"), "HUBSPOT_WEBHOOK_MAX_BODY"},
	}
	for _, tt := range bad {
		if _, err := loadConfig(env(tt.env)); err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%s: error %v, want it to mention %q", tt.name, err, tt.want)
		}
	}
}
