package main

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/crmsync/crmsync/pkg/boltstore"
	"github.com/crmsync/crmsync/pkg/crmsync"
	"github.com/crmsync/crmsync/pkg/localqueue"
)

// eventsToken is the access token the events/sync-health-*.json files
// were made for (the signed-in file's cookie is derived from it).
const eventsToken = "sync-health-sample-token-0123456789abcdef"

// fixture is the handler over an embedded store holding one sync error,
// and its queue.
type fixture struct {
	handle func(context.Context, events.APIGatewayV2HTTPRequest) (events.APIGatewayV2HTTPResponse, error)
	queue  *localqueue.Queue
}

func newFixture(t *testing.T) fixture {
	t.Helper()
	st, err := boltstore.Open(filepath.Join(t.TempDir(), "state.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	now := time.Now()
	if err := st.PutSyncError(t.Context(), crmsync.SyncError{
		Record:   crmsync.RecordRef{Side: crmsync.HubSpot, Object: crmsync.HSContact, ID: "101"},
		Category: crmsync.CategoryDuplicates, Code: "DUPLICATES_DETECTED", Message: "=HYPERLINK(\"x\") Use one of these records?",
		FirstSeen: now, LastSeen: now, Attempts: 2}); err != nil {
		t.Fatal(err)
	}
	q := localqueue.New(localqueue.Options{MaxReceives: 5})
	cfg := config{Table: "t", QueueURL: "q", TokenSecretID: "s", OrgID: "00D5e000000AbCdEAK", OrgKind: "production"}
	h := newHandler(cfg, eventsToken, st, q, q.DeadLetters(), slog.New(slog.NewTextHandler(io.Discard, nil)))
	return fixture{handle: h.HandleLambda, queue: q}
}

// TestEventFiles runs every events/sync-health-<scenario>-<status>.json
// file and checks the status its name ends in: without or with a wrong
// token 401, with the right token (header or session cookie) 200, and a
// cross-site POST refused however signed in.
func TestEventFiles(t *testing.T) {
	files, err := filepath.Glob(filepath.Join("..", "..", "events", "sync-health-*.json"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no events/sync-health-*.json files (%v)", err)
	}
	for _, f := range files {
		name := strings.TrimSuffix(filepath.Base(f), ".json")
		t.Run(name, func(t *testing.T) {
			want, err := strconv.Atoi(name[strings.LastIndex(name, "-")+1:])
			if err != nil {
				t.Fatalf("the file name does not end in a status: %v", err)
			}
			raw, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			var req events.APIGatewayV2HTTPRequest
			if err := json.Unmarshal(raw, &req); err != nil {
				t.Fatalf("decode: %v", err)
			}
			fx := newFixture(t)
			resp, err := fx.handle(t.Context(), req)
			if err != nil {
				t.Fatalf("handler error: %v", err)
			}
			if resp.StatusCode != want {
				t.Fatalf("status %d, want %d; body:\n%.600s", resp.StatusCode, want, resp.Body)
			}
			checkBody(t, name, resp)
			st, err := fx.queue.Stats(t.Context())
			if err != nil {
				t.Fatal(err)
			}
			if st.Visible != 0 {
				t.Errorf("%d triggers enqueued; no sample event may enqueue one", st.Visible)
			}
		})
	}
}

// checkBody checks what each scenario answers beyond its status.
func checkBody(t *testing.T, name string, resp events.APIGatewayV2HTTPResponse) {
	t.Helper()
	switch {
	case strings.Contains(name, "-401"):
		if resp.Headers["Www-Authenticate"] == "" {
			t.Error("a 401 without WWW-Authenticate")
		}
		if strings.Contains(resp.Body, "DUPLICATES_DETECTED") || strings.Contains(resp.Body, "api_usage") {
			t.Error("a 401 shows data")
		}
	case strings.HasPrefix(name, "sync-health-json-"):
		var rep struct {
			Cards []struct {
				Key     string `json:"key"`
				Records int    `json:"records"`
				Errors  int    `json:"errors"`
			} `json:"error_cards"`
			Connection struct {
				OrgKind string `json:"salesforce_org_kind"`
			} `json:"connection"`
		}
		if err := json.Unmarshal([]byte(resp.Body), &rep); err != nil {
			t.Fatalf("not JSON: %v", err)
		}
		found := false
		for _, c := range rep.Cards {
			if c.Key == "duplicates" {
				found = c.Records == 1 && c.Errors == 2
			}
		}
		if !found || rep.Connection.OrgKind != "production" {
			t.Errorf("report = %+v, want the duplicates card with 1 record and 2 errors, org kind production", rep)
		}
	case strings.HasPrefix(name, "sync-health-page-"):
		if !strings.Contains(resp.Body, "<h1>Sync Health</h1>") || !strings.HasPrefix(resp.Headers["Content-Type"], "text/html") {
			t.Errorf("not the page: %.300s", resp.Body)
		}
	case strings.HasPrefix(name, "sync-health-card-csv-"):
		lines := strings.Split(strings.TrimSpace(resp.Body), "\n")
		if len(lines) != 2 || !strings.HasPrefix(lines[1], "hubspot,contact,101,Duplicates,,DUPLICATES_DETECTED,") ||
			!strings.Contains(lines[1], `"'=HYPERLINK(""x"")`) {
			t.Errorf("CSV = %q, want the header and the one record with its formula defused", lines)
		}
	case strings.HasPrefix(name, "sync-health-login-"):
		if len(resp.Cookies) != 1 || !strings.Contains(resp.Cookies[0], "HttpOnly") || !strings.Contains(resp.Cookies[0], "Secure") ||
			!strings.Contains(resp.Cookies[0], "SameSite=Strict") || strings.Contains(resp.Cookies[0], eventsToken) {
			t.Errorf("cookies = %q, want one HttpOnly, Secure, SameSite=Strict session cookie that is not the token", resp.Cookies)
		}
	}
}
