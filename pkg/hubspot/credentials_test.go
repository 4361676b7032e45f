package hubspot

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"

	"github.com/crmsync/crmsync/pkg/crmsync"
)

const (
	credToken   = "pat-na1-TOPSECRET-token"
	credSecret  = "client-TOPSECRET-secret"
	credRefresh = "refresh-TOPSECRET-token"
)

func TestParseCredentials(t *testing.T) {
	good := []struct {
		in   string
		want Credentials
		kind string
	}{
		{`{"private_app_token":"` + credToken + `"}`, Credentials{PrivateAppToken: credToken}, "private_app"},
		{` {"private_app_token":" ` + credToken + `\n"} `, Credentials{PrivateAppToken: credToken}, "private_app"},
		{`{"client_id":"cid","client_secret":"` + credSecret + `","refresh_token":"` + credRefresh + `"}`,
			Credentials{ClientID: "cid", ClientSecret: credSecret, RefreshToken: credRefresh}, "oauth"},
		{`{"private_app_token":"` + credToken + `","client_id":null}`, Credentials{PrivateAppToken: credToken}, "private_app"},
	}
	for _, tt := range good {
		c, err := ParseCredentials(tt.in)
		if err != nil {
			t.Errorf("ParseCredentials(%d bytes): %v", len(tt.in), err)
			continue
		}
		if c != tt.want || c.Kind() != tt.kind {
			t.Errorf("got kind %q %+v, want kind %q", c.Kind(), c == tt.want, tt.kind)
		}
	}

	bad := []struct {
		name, in string
		want     []string // every one must be in the error
	}{
		{"empty", "  ", []string{"empty"}},
		{"not json", "pat-na1-TOPSECRET-token", []string{"not a JSON object"}},
		{"broken json", `{"private_app_token":"TOPSECRET`, []string{"not a JSON object"}},
		{"array", `["TOPSECRET"]`, []string{"not a JSON object"}},
		{"nothing", `{}`, []string{"private_app_token is missing", "client_id, client_secret and refresh_token"}},
		{"blank token", `{"private_app_token":"  "}`, []string{"private_app_token is missing"}},
		{"oauth without refresh", `{"client_id":"cid","client_secret":"TOPSECRET"}`, []string{"lack refresh_token"}},
		{"oauth only id", `{"client_id":"cid"}`, []string{"lack client_secret, refresh_token"}},
		{"both ways", `{"private_app_token":"TOPSECRET","refresh_token":"TOPSECRET2"}`, []string{"both private_app_token and OAuth keys (refresh_token)"}},
		{"typo", `{"privateAppToken":"TOPSECRET"}`, []string{`unknown key "privateAppToken"`, "private_app_token"}},
		{"number", `{"private_app_token":12345}`, []string{"private_app_token is not a string"}},
	}
	for _, tt := range bad {
		_, err := ParseCredentials(tt.in)
		if err == nil {
			t.Errorf("%s: no error", tt.name)
			continue
		}
		for _, w := range tt.want {
			if !strings.Contains(err.Error(), w) {
				t.Errorf("%s: error %q does not say %q", tt.name, err, w)
			}
		}
		if strings.Contains(err.Error(), "TOPSECRET") || strings.Contains(err.Error(), "12345") {
			t.Errorf("%s: error repeats a secret: %q", tt.name, err)
		}
	}
}

func TestCredentialsNeverPrint(t *testing.T) {
	for _, c := range []Credentials{{PrivateAppToken: credToken}, {ClientID: "cid", ClientSecret: credSecret, RefreshToken: credRefresh}} {
		var log strings.Builder
		slog.New(slog.NewJSONHandler(&log, nil)).Info("creds", "credentials", c)
		for _, s := range []string{fmt.Sprint(c), fmt.Sprintf("%+v", c), fmt.Sprintf("%#v", c), log.String()} {
			if strings.Contains(s, "TOPSECRET") {
				t.Errorf("secret printed: %s", s)
			}
			if !strings.Contains(s, c.Kind()) {
				t.Errorf("%s does not say the kind %q", s, c.Kind())
			}
		}
	}
}

// redirect sends every request to srv, keeping the path, so that the
// fixed OAuth token URL can be served by a test server.
type redirect struct{ srv *httptest.Server }

func (r redirect) RoundTrip(req *http.Request) (*http.Response, error) {
	u, _ := url.Parse(r.srv.URL)
	out := req.Clone(req.Context())
	out.URL.Scheme, out.URL.Host, out.Host = u.Scheme, u.Host, ""
	return r.srv.Client().Transport.RoundTrip(out)
}

// TestCredentialsOption authenticates a real client with each kind of
// credentials against a test HubSpot.
func TestCredentialsOption(t *testing.T) {
	var mu sync.Mutex
	var auths []string
	refreshes := 0
	mux := http.NewServeMux()
	mux.HandleFunc("POST /oauth/v1/token", func(w http.ResponseWriter, r *http.Request) {
		if err := r.ParseForm(); err != nil {
			t.Error(err)
		}
		if r.Form.Get("grant_type") != "refresh_token" || r.Form.Get("refresh_token") != credRefresh ||
			r.Form.Get("client_id") != "cid" || r.Form.Get("client_secret") != credSecret {
			w.WriteHeader(http.StatusBadRequest)
			fmt.Fprint(w, `{"status":"BAD_REFRESH_TOKEN","message":"bad"}`)
			return
		}
		mu.Lock()
		refreshes++
		mu.Unlock()
		w.Header().Set("Content-Type", "application/json")
		fmt.Fprint(w, `{"access_token":"access-from-refresh","refresh_token":"`+credRefresh+`","expires_in":1800,"token_type":"bearer"}`)
	})
	mux.HandleFunc("GET /api/crm/v3/objects/contacts/{id}", func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		auths = append(auths, r.Header.Get("Authorization"))
		mu.Unlock()
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(map[string]any{"id": r.PathValue("id"),
			"properties": map[string]string{"email": "a@example.com", "lastmodifieddate": "2026-11-23T12:00:00Z"}})
	})
	srv := httptest.NewServer(mux)
	defer srv.Close()

	for _, tt := range []struct {
		secret, wantAuth string
		refreshes        int
	}{
		{`{"private_app_token":"` + credToken + `"}`, "Bearer " + credToken, 0},
		{`{"client_id":"cid","client_secret":"` + credSecret + `","refresh_token":"` + credRefresh + `"}`, "Bearer access-from-refresh", 1},
	} {
		creds, err := ParseCredentials(tt.secret)
		if err != nil {
			t.Fatal(err)
		}
		opt, err := creds.Option()
		if err != nil {
			t.Fatal(err)
		}
		c, err := NewClient(opt, WithBaseURL(srv.URL+"/api"), WithHTTPClient(&http.Client{Transport: redirect{srv}}))
		if err != nil {
			t.Fatal(err)
		}
		mu.Lock()
		auths, refreshes = nil, 0
		mu.Unlock()
		for range 2 {
			if _, err := c.Get(context.Background(), crmsync.RecordRef{Side: crmsync.HubSpot, Object: crmsync.HSContact, ID: "101"}, []string{"email"}); err != nil {
				t.Fatalf("%s: get: %v", creds.Kind(), err)
			}
		}
		mu.Lock()
		if len(auths) != 2 || auths[0] != tt.wantAuth || auths[1] != tt.wantAuth {
			t.Errorf("%s: Authorization headers %q, want %q twice", creds.Kind(), auths, tt.wantAuth)
		}
		if refreshes != tt.refreshes {
			t.Errorf("%s: %d token refreshes, want %d (the access token is reused)", creds.Kind(), refreshes, tt.refreshes)
		}
		mu.Unlock()
	}

	if _, err := (Credentials{ClientID: "cid"}).Option(); err == nil {
		t.Error("Option of incomplete credentials: no error")
	}
}
