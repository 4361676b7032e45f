package crmclients

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"

	"github.com/crmsync/crmsync/pkg/crmsync"
)

type fakeSecrets map[string]string

func (s fakeSecrets) GetSecretValue(ctx context.Context, in *secretsmanager.GetSecretValueInput, _ ...func(*secretsmanager.Options)) (*secretsmanager.GetSecretValueOutput, error) {
	v, ok := s[*in.SecretId]
	if !ok {
		return nil, errors.New("ResourceNotFoundException")
	}
	return &secretsmanager.GetSecretValueOutput{SecretString: &v}, nil
}

type usage struct{}

func (usage) AddAPIUsage(context.Context, crmsync.Side, time.Time, int) error { return nil }

func TestLoadConfig(t *testing.T) {
	env := map[string]string{"HUBSPOT_CREDENTIALS_SECRET_ID": "hs", "SALESFORCE_CREDENTIALS_SECRET_ID": "sf", "CRMSYNC_HTTP_TIMEOUT": "5s"}
	c, errs := LoadConfig(func(k string) string { return env[k] })
	if len(errs) != 0 || c.HTTPTimeout != 5*time.Second || c.SalesforceClientID != "crmsync" {
		t.Fatalf("config %+v, errors %v", c, errs)
	}
	_, errs = LoadConfig(func(k string) string { return map[string]string{"CRMSYNC_HTTP_TIMEOUT": "soon"}[k] })
	if len(errs) != 3 {
		t.Fatalf("want 3 problems (two secrets missing, bad timeout), got %v", errs)
	}
}

func TestNew(t *testing.T) {
	sm := fakeSecrets{
		"hs": `{"private_app_token":"pat-na1-secret"}`,
		"sf": `{"login_url":"https://login.salesforce.com","client_id":"cid","client_secret":"csecret","refresh_token":"rtoken"}`,
	}
	cfg := Config{HubSpotSecretID: "hs", SalesforceSecretID: "sf", SalesforceClientID: "crmsync", HTTPTimeout: time.Second}
	c, err := New(context.Background(), sm, cfg, usage{})
	if err != nil {
		t.Fatal(err)
	}
	if c.HubSpot == nil || c.Salesforce == nil || c.HubSpotAuth == "" || c.SalesforceFlow == "" {
		t.Errorf("clients %+v", c)
	}
	// A missing or malformed secret names the secret, never a value.
	cfg.SalesforceSecretID = "nope"
	if _, err := New(context.Background(), sm, cfg, usage{}); err == nil || !strings.Contains(err.Error(), "nope") {
		t.Errorf("missing secret: %v", err)
	}
	sm["bad"] = `{"client_id":"cid","client_secret":"leak-me"}`
	cfg.SalesforceSecretID = "bad"
	_, err = New(context.Background(), sm, cfg, usage{})
	if err == nil || strings.Contains(err.Error(), "leak-me") || !strings.Contains(err.Error(), "bad") {
		t.Errorf("malformed secret: %v", err)
	}
}
