package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/crmsync/crmsync/pkg/crmsync"
	"github.com/crmsync/crmsync/pkg/sandbox/hubspotsim"
	"github.com/crmsync/crmsync/pkg/sandbox/salesforcesim"
)

func TestLocalSandboxShowsASync(t *testing.T) {
	var out syncBuffer
	data := filepath.Join(t.TempDir(), "state.db")
	err := run(context.Background(), []string{"local", "--sandbox", "-once", "-data", data,
		"-addr", "127.0.0.1:0", "-hubspot-addr", "127.0.0.1:0", "-salesforce-addr", "127.0.0.1:0"}, &out)
	if err != nil {
		t.Fatalf("local: %v\n%s", err, out.String())
	}
	for _, want := range []string{"bbolt " + data, "/webhooks/hubspot", "demo        created HubSpot contact",
		"→ synced", "create salesforce/Lead/"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("output lacks %q:\n%s", want, out.String())
		}
	}
}

func TestLocalWithoutSandboxNeedsCredentials(t *testing.T) {
	for _, k := range []string{"CRMSYNC_HUBSPOT_CREDENTIALS", "CRMSYNC_SALESFORCE_CREDENTIALS", "CRMSYNC_SALESFORCE_ORG_ID"} {
		t.Setenv(k, "")
	}
	var out bytes.Buffer
	err := run(context.Background(), []string{"local", "-data", filepath.Join(t.TempDir(), "s.db")}, &out)
	var u usageError
	if !errors.As(err, &u) || !strings.Contains(err.Error(), "CRMSYNC_SALESFORCE_ORG_ID is not set") {
		t.Fatalf("local without --sandbox or credentials = %v", err)
	}
}

// Without --sandbox the stack runs against real CRMs from credentials in
// the environment; here the "real" CRMs are the simulators served over
// HTTP, reached with a private-app token and a Salesforce refresh token,
// exactly as real ones would be. The sweep finds a contact (no webhooks).
func TestLocalAgainstRealCRMs(t *testing.T) {
	portal := hubspotsim.New(hubspotsim.Config{Token: "pat-local-test"})
	hsSrv := httptest.NewServer(portal)
	defer hsSrv.Close()
	org := salesforcesim.New(salesforcesim.Config{IntegrationUserModifyAll: true})
	sfSrv := httptest.NewServer(org)
	defer sfSrv.Close()
	org.SetInstanceURL(sfSrv.URL)
	t.Setenv("CRMSYNC_HUBSPOT_CREDENTIALS", `{"private_app_token":"pat-local-test"}`)
	t.Setenv("HUBSPOT_BASE_URL", hsSrv.URL)
	t.Setenv("CRMSYNC_SALESFORCE_CREDENTIALS", fmt.Sprintf(`{"login_url":%q,"client_id":"cid","client_secret":"cs","refresh_token":%q}`,
		sfSrv.URL, org.RefreshToken(org.IntegrationUserID)))
	t.Setenv("CRMSYNC_SALESFORCE_ORG_ID", org.OrgID())
	if _, err := portal.CreateAsUser(crmsync.HSContact, map[string]string{"email": "real@example.com", "lastname": "Real", "company": "R"}); err != nil {
		t.Fatal(err)
	}
	var out syncBuffer
	err := run(context.Background(), []string{"local", "-once", "-sweep-every", "250ms", "-data", filepath.Join(t.TempDir(), "s.db"),
		"-addr", "127.0.0.1:0"}, &out)
	if err != nil {
		t.Fatalf("local: %v\n%s", err, out.String())
	}
	if !strings.Contains(out.String(), "real org "+org.OrgID()) || len(org.Records("Lead")) != 1 {
		t.Errorf("no lead created in the org:\n%s", out.String())
	}
}

// syncBuffer is a bytes.Buffer safe for the stack's concurrent writers.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

func TestUnknownCommandIsUsageError(t *testing.T) {
	var out bytes.Buffer
	err := run(context.Background(), []string{"frobnicate"}, &out)
	var u usageError
	if !errors.As(err, &u) || !strings.Contains(out.String(), "usage:") {
		t.Fatalf("run(frobnicate) = %v, output %q", err, out.String())
	}
}
