package salesforce

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"golang.org/x/oauth2"

	"github.com/crmsync/crmsync/pkg/crmsync"
)

// tokenEndpoint answers token requests at /login/services/oauth2/token on
// the fake instance, issuing tok1, tok2, … with instance_url pointing at
// the fake's prefix.
type tokenEndpoint struct {
	mu    sync.Mutex
	forms []url.Values
	fail  string // an OAuth error to answer with, when set
}

// mount serves the token endpoint beside the fake instance's routes.
func (te *tokenEndpoint) mount(f *fakeInstance) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.extra = func(w http.ResponseWriter, r *http.Request) bool {
		if r.URL.Path != "/login/services/oauth2/token" {
			return false
		}
		_ = r.ParseForm()
		te.mu.Lock()
		te.forms = append(te.forms, r.PostForm)
		n := len(te.forms)
		fail := te.fail
		te.mu.Unlock()
		w.Header().Set("Content-Type", "application/json")
		if fail != "" {
			w.WriteHeader(400)
			fmt.Fprintf(w, `{"error":%q,"error_description":"expired access/refresh token"}`, fail)
			return true
		}
		fmt.Fprintf(w, `{"access_token":"00D5e000000AbCd!tok%d","signature":"c2lnbmF0dXJl","scope":"api","instance_url":%q,"id":"https://login.salesforce.com/id/00D5e000000AbCdEAK/0055e000001AbCdAAK","token_type":"Bearer","issued_at":"1795453091000"}`,
			n, "http://"+r.Host+prefix)
		return true
	}
}

func (te *tokenEndpoint) requests() []url.Values {
	te.mu.Lock()
	defer te.mu.Unlock()
	return append([]url.Values(nil), te.forms...)
}

func testKey(t *testing.T) []byte {
	t.Helper()
	k, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	der, err := x509.MarshalPKCS8PrivateKey(k)
	if err != nil {
		t.Fatal(err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der})
}

func TestJWTBearerReauthOnInvalidSession(t *testing.T) {
	f := newFakeInstance(t)
	te := &tokenEndpoint{}
	te.mount(f)
	f.on("PATCH", dp+"sobjects/Lead/00Q5e00000Ab1CdEAF",
		reply{status: 204},
		reply{status: 401, body: "error-invalid-session.json"},
		reply{status: 204})
	ctx := context.WithValue(context.Background(), oauth2.HTTPClient, f.srv.Client())
	cfg := JWTConfig{LoginURL: f.srv.URL + "/login", ClientID: "3MVG9-consumer-key", Username: "integration@acme.example", PrivateKey: testKey(t)}
	if s := fmt.Sprintf("%v %+v %#v %s", cfg, cfg, cfg, cfg.PrivateKey); strings.Contains(s, "PRIVATE KEY") {
		t.Errorf("private key printed: %s", s)
	}
	src := cfg.TokenSource(ctx)
	c, err := NewClient(WithTokenSource(src), WithHTTPClient(f.srv.Client()), WithClientID("crmsync-test"))
	if err != nil {
		t.Fatal(err)
	}
	for i := range 2 {
		if err := c.UpdateRecord(context.Background(), "Lead", "00Q5e00000Ab1CdEAF", map[string]any{"Company": "Globex"}); err != nil {
			t.Fatalf("update %d: %v", i, err)
		}
	}
	forms := te.requests()
	if len(forms) != 2 {
		t.Fatalf("%d token requests, want 2 (first call, then once after INVALID_SESSION_ID)", len(forms))
	}
	if g := forms[0].Get("grant_type"); g != "urn:ietf:params:oauth:grant-type:jwt-bearer" {
		t.Errorf("grant_type = %q", g)
	}
	parts := strings.Split(forms[0].Get("assertion"), ".")
	if len(parts) != 3 {
		t.Fatalf("assertion is not a JWT")
	}
	claimsJSON, _ := base64.RawURLEncoding.DecodeString(parts[1])
	var claims struct {
		Iss, Sub, Aud string
		Exp, Iat      int64
	}
	if err := json.Unmarshal(claimsJSON, &claims); err != nil {
		t.Fatal(err)
	}
	if claims.Iss != "3MVG9-consumer-key" || claims.Sub != "integration@acme.example" || claims.Aud != f.srv.URL+"/login" ||
		claims.Exp > time.Now().Unix()+180 || claims.Exp <= time.Now().Unix() {
		t.Errorf("claims = %+v", claims)
	}
	reqs := f.requests()
	auths := []string{}
	for _, r := range reqs {
		if strings.HasPrefix(r.Path, prefix) {
			auths = append(auths, r.Header.Get("Authorization"))
			if r.Header.Get("Sforce-Call-Options") != "client=crmsync-test" {
				t.Errorf("no call options on %s", r.Path)
			}
			if string(r.Body) != `{"Company":"Globex"}` {
				t.Errorf("retried body = %q", r.Body)
			}
		}
	}
	want := []string{"Bearer 00D5e000000AbCd!tok1", "Bearer 00D5e000000AbCd!tok1", "Bearer 00D5e000000AbCd!tok2"}
	if fmt.Sprint(auths) != fmt.Sprint(want) {
		t.Errorf("authorization headers = %v, want %v", auths, want)
	}
}

func TestReauthOnlyOnce(t *testing.T) {
	f := newFakeInstance(t)
	te := &tokenEndpoint{}
	te.mount(f)
	f.on("GET", dp+"limits", reply{status: 401, body: "error-invalid-session.json"})
	ctx := context.WithValue(context.Background(), oauth2.HTTPClient, f.srv.Client())
	src := RefreshTokenConfig{LoginURL: f.srv.URL + "/login", ClientID: "3MVG9-consumer-key",
		ClientSecret: "client-secret-value", RefreshToken: "5Aep861-refresh-token-value"}.TokenSource(ctx)
	c, err := NewClient(WithTokenSource(src), WithHTTPClient(f.srv.Client()))
	if err != nil {
		t.Fatal(err)
	}
	_, err = c.Limits(context.Background())
	var ae *APIError
	if !errors.As(err, &ae) || ae.Code() != CodeInvalidSessionID || crmsync.IsTransient(err) {
		t.Errorf("err = %v", err)
	}
	forms := te.requests()
	if len(forms) != 2 {
		t.Errorf("%d token requests, want 2", len(forms))
	}
	if f0 := forms[0]; f0.Get("grant_type") != "refresh_token" || f0.Get("refresh_token") != "5Aep861-refresh-token-value" ||
		f0.Get("client_id") != "3MVG9-consumer-key" || f0.Get("client_secret") != "client-secret-value" {
		t.Errorf("refresh form = %v", f0)
	}
	if n := len(f.requests()); n != 2 {
		t.Errorf("%d API requests, want 2 (one retry)", n)
	}
}

func TestAuthFailureHidesSecrets(t *testing.T) {
	f := newFakeInstance(t)
	te := &tokenEndpoint{fail: "invalid_grant"}
	te.mount(f)
	ctx := context.WithValue(context.Background(), oauth2.HTTPClient, f.srv.Client())
	rcfg := RefreshTokenConfig{LoginURL: f.srv.URL + "/login", ClientID: "3MVG9-consumer-key",
		ClientSecret: "client-secret-value", RefreshToken: "5Aep861-refresh-token-value"}
	src := rcfg.TokenSource(ctx)
	c, err := NewClient(WithTokenSource(src), WithHTTPClient(f.srv.Client()))
	if err != nil {
		t.Fatal(err)
	}
	_, err = c.Limits(context.Background())
	if s := fmt.Sprintf("%v %+v %#v", rcfg, rcfg, rcfg); strings.Contains(s, "client-secret-value") || strings.Contains(s, "5Aep861") {
		t.Errorf("secrets printed: %s", s)
	}
	var ae *AuthError
	if !errors.As(err, &ae) || ae.ErrorCode != "invalid_grant" || ae.Transient() {
		t.Fatalf("err = %#v", err)
	}
	for _, secret := range []string{"client-secret-value", "5Aep861-refresh-token-value"} {
		if strings.Contains(err.Error(), secret) || strings.Contains(fmt.Sprintf("%+v %#v", err, err), secret) {
			t.Errorf("secret %q in %v", secret, err)
		}
	}
}
