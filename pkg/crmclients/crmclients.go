// Package crmclients builds crmsync's HubSpot and Salesforce clients from
// credentials held in AWS Secrets Manager: the wiring the sync-worker and
// sweep Lambdas share (read once, at cold start).
//
// Environment, read by LoadConfig:
//
//	HUBSPOT_CREDENTIALS_SECRET_ID     Secrets Manager name or ARN of the HubSpot credentials (required;
//	                                  JSON, see hubspot.Credentials)
//	SALESFORCE_CREDENTIALS_SECRET_ID  Secrets Manager name or ARN of the Salesforce credentials (required;
//	                                  JSON, see salesforce.Credentials)
//	SALESFORCE_CLIENT_ID              Sforce-Call-Options client id on every call (default "crmsync"),
//	                                  how crmsync recognises its own writes
//	CRMSYNC_HTTP_TIMEOUT              timeout of one vendor HTTP call (default 30s)
//	HUBSPOT_BASE_URL                  HubSpot API base URL (default https://api.hubapi.com/)
//	SALESFORCE_INSTANCE_URL           Salesforce instance URL (default: the token's instance_url)
package crmclients

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"time"

	"golang.org/x/oauth2"

	"github.com/crmsync/crmsync/pkg/hubspot"
	"github.com/crmsync/crmsync/pkg/salesforce"
	"github.com/crmsync/crmsync/pkg/secrets"
)

// DefaultHTTPTimeout bounds one vendor HTTP call.
const DefaultHTTPTimeout = 30 * time.Second

// Config says where the credentials are and how to reach the CRMs.
type Config struct {
	HubSpotSecretID       string
	SalesforceSecretID    string
	SalesforceClientID    string
	HTTPTimeout           time.Duration
	HubSpotBaseURL        string
	SalesforceInstanceURL string
}

// LoadConfig reads the variables above; it returns every problem found.
func LoadConfig(getenv func(string) string) (Config, []error) {
	get := func(k string) string { return strings.TrimSpace(getenv(k)) }
	c := Config{
		HubSpotSecretID:       get("HUBSPOT_CREDENTIALS_SECRET_ID"),
		SalesforceSecretID:    get("SALESFORCE_CREDENTIALS_SECRET_ID"),
		SalesforceClientID:    get("SALESFORCE_CLIENT_ID"),
		HTTPTimeout:           DefaultHTTPTimeout,
		HubSpotBaseURL:        get("HUBSPOT_BASE_URL"),
		SalesforceInstanceURL: get("SALESFORCE_INSTANCE_URL"),
	}
	var errs []error
	if c.HubSpotSecretID == "" {
		errs = append(errs, fmt.Errorf("HUBSPOT_CREDENTIALS_SECRET_ID is not set"))
	}
	if c.SalesforceSecretID == "" {
		errs = append(errs, fmt.Errorf("SALESFORCE_CREDENTIALS_SECRET_ID is not set"))
	}
	if c.SalesforceClientID == "" {
		c.SalesforceClientID = salesforce.DefaultClientID
	}
	if s := get("CRMSYNC_HTTP_TIMEOUT"); s != "" {
		d, err := time.ParseDuration(s)
		if err != nil || d <= 0 {
			errs = append(errs, fmt.Errorf("CRMSYNC_HTTP_TIMEOUT: %q is not a positive duration like 30s", s))
		} else {
			c.HTTPTimeout = d
		}
	}
	return c, errs
}

// Usage counts API calls; crmsync.Store is one.
type Usage interface {
	hubspot.UsageCounter
	salesforce.UsageCounter
}

// Clients are both CRM clients, with what authenticates them (for logs).
type Clients struct {
	HubSpot        *hubspot.Client
	Salesforce     *salesforce.Client
	HubSpotAuth    string
	SalesforceFlow string
}

// New reads both secrets and builds the clients; every call they make is
// counted into usage. Salesforce token requests go through the same HTTP
// client (with its timeout).
func New(ctx context.Context, sm secrets.Reader, cfg Config, usage Usage) (*Clients, error) {
	hc := &http.Client{Timeout: cfg.HTTPTimeout}
	hsSecret, err := secrets.Read(ctx, sm, cfg.HubSpotSecretID)
	if err != nil {
		return nil, err
	}
	hsCreds, err := hubspot.ParseCredentials(hsSecret)
	if err != nil {
		return nil, fmt.Errorf("secret %s: %w", cfg.HubSpotSecretID, err)
	}
	sfSecret, err := secrets.Read(ctx, sm, cfg.SalesforceSecretID)
	if err != nil {
		return nil, err
	}
	sfCreds, err := salesforce.ParseCredentials(sfSecret)
	if err != nil {
		return nil, fmt.Errorf("secret %s: %w", cfg.SalesforceSecretID, err)
	}
	hsAuth, err := hsCreds.Option()
	if err != nil {
		return nil, err
	}
	hsOpts := []hubspot.Option{hsAuth, hubspot.WithHTTPClient(hc), hubspot.WithUsageCounter(usage)}
	if cfg.HubSpotBaseURL != "" {
		hsOpts = append(hsOpts, hubspot.WithBaseURL(cfg.HubSpotBaseURL))
	}
	hs, err := hubspot.NewClient(hsOpts...)
	if err != nil {
		return nil, err
	}
	// The token source's context outlives every call: it only carries hc.
	tokens, err := sfCreds.TokenSource(context.WithValue(context.Background(), oauth2.HTTPClient, hc))
	if err != nil {
		return nil, err
	}
	sfOpts := []salesforce.Option{salesforce.WithTokenSource(tokens), salesforce.WithHTTPClient(hc),
		salesforce.WithClientID(cfg.SalesforceClientID), salesforce.WithUsageCounter(usage)}
	if cfg.SalesforceInstanceURL != "" {
		sfOpts = append(sfOpts, salesforce.WithBaseURL(cfg.SalesforceInstanceURL))
	}
	sf, err := salesforce.NewClient(sfOpts...)
	if err != nil {
		return nil, err
	}
	return &Clients{HubSpot: hs, Salesforce: sf, HubSpotAuth: hsCreds.Kind(), SalesforceFlow: sfCreds.Flow()}, nil
}
