package vendorclients_test

import (
	"bytes"
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/crmsync/crmsync/pkg/crmsynctest"
	"github.com/crmsync/crmsync/pkg/sandbox/hubspotsim"
	"github.com/crmsync/crmsync/pkg/sandbox/salesforcesim"
)

// EnvNodeModules names the node_modules directory holding the pinned
// vendor clients (install.sh prints it); unset, the tier looks in
// .testservers/vendorclients/node_modules at the repository root.
const EnvNodeModules = "CRMSYNC_TEST_NODE_MODULES"

// Versions as pinned in package.json; the report names them.
const (
	hubspotClient    = "@hubspot/api-client 13.5.0"
	salesforceClient = "jsforce 3.10.16"
)

// nodeModules returns the node_modules directory with both clients, or
// skips t saying how to get them.
func nodeModules(t *testing.T) string {
	t.Helper()
	dir := os.Getenv(EnvNodeModules)
	if dir == "" {
		root, err := filepath.Abs("../../..")
		if err != nil {
			t.Fatal(err)
		}
		dir = filepath.Join(root, ".testservers", "vendorclients", "node_modules")
	}
	for _, pkg := range []string{"@hubspot/api-client", "jsforce"} {
		if _, err := os.Stat(filepath.Join(dir, pkg, "package.json")); err != nil {
			t.Skipf("SKIPPED: vendor client %s not installed in %s — the vendor-client tier did not run "+
				"(make test installs it; or run bash pkg/sandbox/vendorclients/install.sh)", pkg, dir)
		}
	}
	if _, err := exec.LookPath("node"); err != nil {
		t.Skipf("SKIPPED: node not on PATH — the vendor-client tier did not run")
	}
	return dir
}

// runNode runs one Node test file with node's test runner and fails t
// with its output when any test in it fails.
func runNode(t *testing.T, modules, file string, env map[string]string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, "node", "--test", "--test-reporter=spec", file)
	cmd.Env = append(os.Environ(), "NODE_PATH="+modules, "NO_COLOR=1")
	for k, v := range env {
		cmd.Env = append(cmd.Env, k+"="+v)
	}
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	start := time.Now()
	err := cmd.Run()
	t.Logf("node --test %s (%s):\n%s", file, time.Since(start).Round(time.Millisecond), out.String())
	var exit *exec.ExitError
	switch {
	case errors.As(err, &exit):
		t.Fatalf("%s: vendor client tests failed (exit %d); see the output above", file, exit.ExitCode())
	case err != nil:
		t.Fatalf("%s: %v", file, err)
	}
}

const hubspotToken = "pat-na1-vendorclients"

func TestHubSpotClient(t *testing.T) {
	modules := nodeModules(t)
	portal := hubspotsim.New(hubspotsim.Config{Token: hubspotToken, Seed: 1})
	// A second portal with tiny limits for the 429 paths.
	limited := hubspotsim.New(hubspotsim.Config{Token: hubspotToken, BurstLimit: 3, SearchLimit: 2, Seed: 2})
	mux := http.NewServeMux()
	mux.Handle("/portal/", http.StripPrefix("/portal", portal))
	mux.Handle("/limited/", http.StripPrefix("/limited", limited))
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	crmsynctest.Report("vendor-client tier ("+hubspotClient+")", "hubspotsim", srv.URL)
	runNode(t, modules, "hubspot.test.cjs", map[string]string{
		"HUBSPOT_BASE_PATH":    srv.URL + "/portal",
		"HUBSPOT_LIMITED_PATH": srv.URL + "/limited",
		"HUBSPOT_ADMIN_PATH":   srv.URL + "/portal/_admin",
		"HUBSPOT_TOKEN":        hubspotToken,
	})
}

func TestSalesforceClient(t *testing.T) {
	modules := nodeModules(t)
	org := salesforcesim.New(salesforcesim.Config{Seed: 1, IntegrationUserModifyAll: true})
	limited := salesforcesim.New(salesforcesim.Config{Seed: 2, DailyLimit: 3})
	mux := http.NewServeMux()
	mux.Handle("/org/", http.StripPrefix("/org", org))
	mux.Handle("/limited/", http.StripPrefix("/limited", limited))
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	// The token endpoint answers with the org's URL under its mount prefix.
	org.SetInstanceURL(srv.URL + "/org")
	crmsynctest.Report("vendor-client tier ("+salesforceClient+")", "salesforcesim", srv.URL)
	runNode(t, modules, "salesforce.test.cjs", map[string]string{
		"SF_INSTANCE_URL":  srv.URL + "/org",
		"SF_ACCESS_TOKEN":  org.Session(""),
		"SF_REFRESH_TOKEN": org.RefreshToken(""),
		"SF_ADMIN_URL":     srv.URL + "/org/admin",
		"SF_LIMITED_URL":   srv.URL + "/limited",
		"SF_LIMITED_TOKEN": limited.Session(""),
	})
}
