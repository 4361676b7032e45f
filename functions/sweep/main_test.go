package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/crmsync/crmsync/pkg/boltstore"
	"github.com/crmsync/crmsync/pkg/crmclients"
	"github.com/crmsync/crmsync/pkg/crmsync"
	"github.com/crmsync/crmsync/pkg/emf"
	"github.com/crmsync/crmsync/pkg/sweep"

	"github.com/aws/aws-lambda-go/events"
)

func env(m map[string]string) func(string) string {
	return func(k string) string { return m[k] }
}

func TestLoadConfig(t *testing.T) {
	full := map[string]string{
		"CRMSYNC_TABLE":                    "crmsync-dev",
		"TRIGGER_QUEUE_URL":                "https://sqs.eu-west-1.amazonaws.com/123456789012/crmsync-dev-triggers.fifo",
		"HUBSPOT_CREDENTIALS_SECRET_ID":    "crmsync/hubspot",
		"SALESFORCE_CREDENTIALS_SECRET_ID": "crmsync/salesforce",
	}
	c, err := loadConfig(env(full))
	if err != nil {
		t.Fatal(err)
	}
	want := config{Table: "crmsync-dev", QueueURL: full["TRIGGER_QUEUE_URL"], Config: crmclients.Config{HubSpotSecretID: "crmsync/hubspot",
		SalesforceSecretID: "crmsync/salesforce", SalesforceClientID: "crmsync", HTTPTimeout: 30 * time.Second},
		DeadlineMargin: 30 * time.Second}
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
	c, err = loadConfig(env(with("SALESFORCE_API_ALLOCATION", "15000", "SWEEP_DEADLINE_MARGIN", "45s",
		"SWEEP_DRIFT_LIMIT", "-1", "SALESFORCE_CLIENT_ID", "acme")))
	if err != nil {
		t.Fatal(err)
	}
	if c.APIAllocation != 15000 || c.DeadlineMargin != 45*time.Second || c.DriftLimit != -1 || c.SalesforceClientID != "acme" {
		t.Errorf("overrides: %+v", c)
	}
	bad := []struct {
		name string
		env  map[string]string
		want []string
	}{
		{"nothing", map[string]string{}, []string{"CRMSYNC_TABLE is not set", "TRIGGER_QUEUE_URL is not set",
			"HUBSPOT_CREDENTIALS_SECRET_ID is not set", "SALESFORCE_CREDENTIALS_SECRET_ID is not set"}},
		{"allocation", with("SALESFORCE_API_ALLOCATION", "15k"), []string{"SALESFORCE_API_ALLOCATION"}},
		{"negative allocation", with("SALESFORCE_API_ALLOCATION", "-5"), []string{"SALESFORCE_API_ALLOCATION"}},
		{"margin", with("SWEEP_DEADLINE_MARGIN", "30"), []string{"SWEEP_DEADLINE_MARGIN"}},
		{"drift", with("SWEEP_DRIFT_LIMIT", "all"), []string{"SWEEP_DRIFT_LIMIT"}},
		{"http timeout", with("CRMSYNC_HTTP_TIMEOUT", "0s"), []string{"CRMSYNC_HTTP_TIMEOUT"}},
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

// metricValues parses EMF lines into metric name → value.
func metricValues(t *testing.T, out string) map[string]float64 {
	t.Helper()
	m := map[string]float64{}
	sc := bufio.NewScanner(strings.NewReader(out))
	for sc.Scan() {
		var line map[string]any
		if err := json.Unmarshal(sc.Bytes(), &line); err != nil {
			t.Fatalf("metrics line %q: %v", sc.Text(), err)
		}
		aws, _ := line["_aws"].(map[string]any)
		cw, _ := aws["CloudWatchMetrics"].([]any)
		for _, d := range cw {
			d := d.(map[string]any)
			if d["Namespace"] != emf.Namespace {
				t.Errorf("namespace %v", d["Namespace"])
			}
			for _, mt := range d["Metrics"].([]any) {
				name := mt.(map[string]any)["Name"].(string)
				v, ok := line[name].(float64)
				if !ok {
					t.Errorf("metric %s has value %v", name, line[name])
				}
				m[name] = v
			}
		}
	}
	return m
}

func quiet() *slog.Logger { return slog.New(slog.DiscardHandler) }

func TestHandlerDeadline(t *testing.T) {
	var gotDeadline time.Time
	var gotBudget time.Duration
	calls := 0
	var metrics bytes.Buffer
	h := &handler{
		run: func(ctx context.Context, budget time.Duration) (sweep.Report, error) {
			calls++
			gotDeadline, _ = ctx.Deadline()
			gotBudget = budget
			return sweep.Report{}, nil
		},
		store: newStore(t), margin: 30 * time.Second, metrics: emf.New(&metrics), logger: quiet(), now: time.Now,
	}
	lambdaDeadline := time.Now().Add(10 * time.Minute)
	ctx, cancel := context.WithDeadline(context.Background(), lambdaDeadline)
	defer cancel()
	if err := h.Handle(ctx, events.CloudWatchEvent{}); err != nil {
		t.Fatal(err)
	}
	if want := lambdaDeadline.Add(-30 * time.Second); !gotDeadline.Equal(want) {
		t.Errorf("sweep deadline %v, want the Lambda's minus the margin %v", gotDeadline, want)
	}
	if gotBudget <= 0 || gotBudget > 9*time.Minute+30*time.Second {
		t.Errorf("budget %v, want at most the time to the sweep deadline", gotBudget)
	}

	// Less time left than the margin: no sweep, an error.
	ctx, cancel = context.WithDeadline(context.Background(), time.Now().Add(10*time.Second))
	defer cancel()
	if err := h.Handle(ctx, events.CloudWatchEvent{}); err == nil || calls != 1 {
		t.Errorf("with 10 s left: err %v, %d runs; want an error and no run", err, calls)
	}

	// A failed run is an error of the invocation, and still reports metrics.
	metrics.Reset()
	h.run = func(context.Context, time.Duration) (sweep.Report, error) {
		return sweep.Report{Errors: []string{"hubspot changes contact: 401"}}, errors.New("hubspot changes contact: 401")
	}
	if err := h.Handle(context.Background(), events.CloudWatchEvent{}); err == nil {
		t.Error("failed sweep: no error")
	}
	if _, ok := metricValues(t, metrics.String())[emf.SweepEnqueued]; !ok {
		t.Errorf("failed sweep emitted no SweepEnqueued:\n%s", metrics.String())
	}

	// A skipped run (another sweep holds the lease) reports no sweep metrics.
	metrics.Reset()
	h.run = func(context.Context, time.Duration) (sweep.Report, error) { return sweep.Report{Skipped: true}, nil }
	if err := h.Handle(context.Background(), events.CloudWatchEvent{}); err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{emf.SweepEnqueued, emf.SweepLagSeconds, emf.SweepBehindDeletedWindow} {
		if _, ok := metricValues(t, metrics.String())[name]; ok {
			t.Errorf("skipped sweep emitted %s", name)
		}
	}
}

func newStore(t *testing.T) *boltstore.Store {
	t.Helper()
	s, err := boltstore.Open(filepath.Join(t.TempDir(), "crmsync.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func TestUsagePercent(t *testing.T) {
	now := time.Date(2026, 11, 23, 12, 0, 0, 0, time.UTC)
	ctx := context.Background()
	for _, tt := range []struct {
		name       string
		allocation int64
		settings   int // budget.salesforce_daily_limit stored (0 = no settings stored)
		org        int64
		want       float64 // -1 = not emitted
	}{
		{"configured", 1000, 2000, 5000, 30},
		{"from settings", 0, 2000, 5000, 15},
		{"from the org", 0, 0, 6000, 5},
		{"unknown", 0, 0, 0, -1},
	} {
		store := newStore(t)
		if err := store.AddAPIUsage(ctx, crmsync.Salesforce, now.Add(-time.Hour), 300); err != nil {
			t.Fatal(err)
		}
		if err := store.AddAPIUsage(ctx, crmsync.HubSpot, now.Add(-time.Hour), 9999); err != nil {
			t.Fatal(err)
		}
		if tt.settings > 0 {
			s := crmsync.DefaultSettings()
			s.Budget.SalesforceDailyLimit = tt.settings
			if _, err := store.PutSettings(ctx, s); err != nil {
				t.Fatal(err)
			}
		}
		var metrics bytes.Buffer
		h := &handler{store: store, allocation: tt.allocation, orgAllocation: func() int64 { return tt.org },
			metrics: emf.New(&metrics), logger: quiet(), now: func() time.Time { return now }}
		h.report(ctx, sweep.Report{Skipped: true})
		if err := h.metrics.Flush(); err != nil {
			t.Fatal(err)
		}
		got, ok := metricValues(t, metrics.String())[emf.SalesforceAPIUsagePercent]
		if tt.want < 0 && ok || tt.want >= 0 && (!ok || got != tt.want) {
			t.Errorf("%s: SalesforceAPIUsagePercent = %v (emitted %v), want %v", tt.name, got, ok, tt.want)
		}
	}
}
