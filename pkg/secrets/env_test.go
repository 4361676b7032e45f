package secrets

import (
	"context"
	"strings"
	"testing"
)

func TestEnvConfig(t *testing.T) {
	env := map[string]string{
		"AWS_REGION": "eu-west-1", "AWS_ACCESS_KEY_ID": "ASIAEXAMPLE", "AWS_SECRET_ACCESS_KEY": "s3cr3t", "AWS_SESSION_TOKEN": "t0ken",
	}
	getenv := func(k string) string { return env[k] }
	cfg, err := EnvConfig(getenv)
	if err != nil {
		t.Fatal(err)
	}
	creds, err := cfg.Credentials.Retrieve(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Region != "eu-west-1" || creds.AccessKeyID != "ASIAEXAMPLE" || creds.SecretAccessKey != "s3cr3t" || creds.SessionToken != "t0ken" {
		t.Errorf("config = region %q, credentials %+v", cfg.Region, creds)
	}
	if cfg.BaseEndpoint != nil {
		t.Errorf("BaseEndpoint = %q without AWS_ENDPOINT_URL", *cfg.BaseEndpoint)
	}
	env["AWS_ENDPOINT_URL"] = "http://127.0.0.1:4566"
	if cfg, err = EnvConfig(getenv); err != nil || cfg.BaseEndpoint == nil || *cfg.BaseEndpoint != "http://127.0.0.1:4566" {
		t.Errorf("with AWS_ENDPOINT_URL: %v, %v", cfg.BaseEndpoint, err)
	}
	env["AWS_ENDPOINT_URL"] = "127.0.0.1:4566"
	if _, err := EnvConfig(getenv); err == nil {
		t.Error("an endpoint without a scheme is accepted")
	}
	_, err = EnvConfig(func(k string) string {
		if k == "AWS_REGION" || k == "AWS_SECRET_ACCESS_KEY" {
			return ""
		}
		return env[k]
	})
	if err == nil || !strings.Contains(err.Error(), "AWS_REGION, AWS_SECRET_ACCESS_KEY not set") || strings.Contains(err.Error(), "ASIAEXAMPLE") {
		t.Errorf("missing variables: %v", err)
	}
}
