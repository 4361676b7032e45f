package salesforce

import (
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"golang.org/x/oauth2"
)

func credKeys(t *testing.T) (*rsa.PrivateKey, string, string) {
	t.Helper()
	k, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	der, err := x509.MarshalPKCS8PrivateKey(k)
	if err != nil {
		t.Fatal(err)
	}
	pkcs8 := string(pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}))
	pkcs1 := string(pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Bytes: x509.MarshalPKCS1PrivateKey(k)}))
	return k, pkcs8, pkcs1
}

func secretJSON(t *testing.T, m map[string]any) string {
	t.Helper()
	b, err := json.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func TestParseCredentials(t *testing.T) {
	_, pkcs8, pkcs1 := credKeys(t)
	const login = "https://login.salesforce.com"
	jwtSecret := map[string]any{"login_url": login + "/", "client_id": "3MVG9-app", "username": "sync@acme.example", "private_key": pkcs8}
	c, err := ParseCredentials(secretJSON(t, jwtSecret))
	if err != nil {
		t.Fatal(err)
	}
	if c.Flow() != "jwt_bearer" || c.LoginURL != login || c.ClientID != "3MVG9-app" || c.Username != "sync@acme.example" || string(c.PrivateKey) != strings.TrimSpace(pkcs8) {
		t.Errorf("jwt credentials parsed as %v", c)
	}
	// PKCS#1, and line breaks stored as the two characters \n.
	escaped := strings.ReplaceAll(strings.TrimSpace(pkcs1), "\n", `\n`)
	c, err = ParseCredentials(secretJSON(t, map[string]any{"login_url": "https://test.salesforce.com", "client_id": "app", "username": "u", "private_key": escaped}))
	if err != nil || string(c.PrivateKey) != strings.TrimSpace(pkcs1) {
		t.Errorf("escaped PKCS#1 key: %v (key restored: %v)", err, string(c.PrivateKey) == strings.TrimSpace(pkcs1))
	}
	c, err = ParseCredentials(`{"login_url":"https://acme.my.salesforce.com","client_id":"app","client_secret":" TOPSECRET1 ","refresh_token":"TOPSECRET2"}`)
	if err != nil || c.Flow() != "refresh_token" || c.ClientSecret != "TOPSECRET1" || c.RefreshToken != "TOPSECRET2" {
		t.Errorf("refresh credentials: %v, %v", c, err)
	}

	ec, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	ecDER, _ := x509.MarshalPKCS8PrivateKey(ec)
	ecPEM := string(pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: ecDER}))
	with := func(k string, v any) string {
		m := map[string]any{}
		for a, b := range jwtSecret {
			m[a] = b
		}
		if v == nil {
			delete(m, k)
		} else {
			m[k] = v
		}
		return secretJSON(t, m)
	}
	bad := []struct {
		name, in string
		want     []string
	}{
		{"empty", "", []string{"empty"}},
		{"not json", "TOPSECRET", []string{"not a JSON object"}},
		{"broken", `{"client_secret":"TOPSECRET`, []string{"not a JSON object", "byte"}},
		{"nothing", `{}`, []string{"login_url is missing", "client_id is missing", "username and private_key are missing"}},
		{"no login url", with("login_url", nil), []string{"login_url is missing"}},
		{"http login url", with("login_url", "http://login.salesforce.com"), []string{"must be https"}},
		{"login url with query", with("login_url", "https://login.salesforce.com?x=1"), []string{"not a URL"}},
		{"no client id", with("client_id", ""), []string{"client_id is missing"}},
		{"no username", with("username", nil), []string{"JWT bearer flow lacks username"}},
		{"no key", with("private_key", nil), []string{"JWT bearer flow lacks private_key"}},
		{"key not pem", with("private_key", "TOPSECRET-not-a-key"), []string{"private_key is not PEM"}},
		{"key garbage pem", with("private_key", "-----BEGIN PRIVATE KEY-----\nVE9QU0VDUkVU\n-----END PRIVATE KEY-----\n"), []string{"not a PKCS#1 or PKCS#8"}},
		{"ec key", with("private_key", ecPEM), []string{"not an RSA key"}},
		{"both flows", with("refresh_token", "TOPSECRET"), []string{"both JWT keys (private_key, username) and refresh-token keys (refresh_token)"}},
		{"refresh without secret", `{"login_url":"https://login.salesforce.com","client_id":"a","refresh_token":"TOPSECRET"}`, []string{"refresh token flow lacks client_secret"}},
		{"typo", with("privateKey", "TOPSECRET"), []string{`unknown key "privateKey"`}},
		{"number", with("client_secret", 42), []string{"client_secret is not a string"}},
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
		if strings.Contains(err.Error(), "TOPSECRET") || strings.Contains(err.Error(), "PRIVATE KEY--") && !strings.Contains(tt.want[0], "PEM") {
			t.Errorf("%s: error repeats a secret: %q", tt.name, err)
		}
	}
}

func TestCredentialsNeverPrint(t *testing.T) {
	_, pkcs8, _ := credKeys(t)
	for _, c := range []Credentials{
		{LoginURL: LoginURL, ClientID: "app", Username: "u@x", PrivateKey: SecretBytes(pkcs8)},
		{LoginURL: LoginURL, ClientID: "app", ClientSecret: "TOPSECRET1", RefreshToken: "TOPSECRET2"},
	} {
		var log strings.Builder
		slog.New(slog.NewJSONHandler(&log, nil)).Info("creds", "credentials", c)
		for _, s := range []string{fmt.Sprint(c), fmt.Sprintf("%+v", c), fmt.Sprintf("%#v", c), log.String()} {
			if strings.Contains(s, "TOPSECRET") || strings.Contains(s, "PRIVATE KEY") {
				t.Errorf("secret printed: %s", s)
			}
			if !strings.Contains(s, c.Flow()) || !strings.Contains(s, "app") {
				t.Errorf("%s does not say the flow %q and the client id", s, c.Flow())
			}
		}
	}
}

// fakeLogin is a Salesforce login server and instance in one: it checks
// JWT bearer assertions against pub and refresh tokens, and answers a REST
// call with the Authorization header it got.
type fakeLogin struct {
	pub *rsa.PublicKey
	srv *httptest.Server

	mu     sync.Mutex
	grants []string
	auths  []string
}

func newFakeLogin(t *testing.T, pub *rsa.PublicKey) *fakeLogin {
	f := &fakeLogin{pub: pub}
	mux := http.NewServeMux()
	mux.HandleFunc("POST /services/oauth2/token", f.token)
	mux.HandleFunc("GET "+dataPath+"limits", func(w http.ResponseWriter, r *http.Request) {
		f.mu.Lock()
		f.auths = append(f.auths, r.Header.Get("Authorization"))
		f.mu.Unlock()
		w.Header().Set("Content-Type", "application/json")
		fmt.Fprint(w, `{"DailyApiRequests":{"Max":15000,"Remaining":14000}}`)
	})
	f.srv = httptest.NewServer(mux)
	t.Cleanup(f.srv.Close)
	return f
}

func (f *fakeLogin) token(w http.ResponseWriter, r *http.Request) {
	_ = r.ParseForm()
	grant := r.PostForm.Get("grant_type")
	ok := false
	switch grant {
	case "urn:ietf:params:oauth:grant-type:jwt-bearer":
		ok = f.checkAssertion(r.PostForm.Get("assertion"))
	case "refresh_token":
		ok = r.PostForm.Get("client_id") == "app" && r.PostForm.Get("client_secret") == "TOPSECRET1" &&
			r.PostForm.Get("refresh_token") == "TOPSECRET2"
	}
	f.mu.Lock()
	f.grants = append(f.grants, grant)
	f.mu.Unlock()
	w.Header().Set("Content-Type", "application/json")
	if !ok {
		w.WriteHeader(http.StatusBadRequest)
		fmt.Fprint(w, `{"error":"invalid_grant","error_description":"authentication failure"}`)
		return
	}
	fmt.Fprintf(w, `{"access_token":"00Dx!%s","instance_url":%q,"token_type":"Bearer"}`, grant[len(grant)-6:], f.srv.URL)
}

// checkAssertion verifies an RS256 JWT with iss app, sub the user and aud
// the login URL.
func (f *fakeLogin) checkAssertion(a string) bool {
	parts := strings.Split(a, ".")
	if len(parts) != 3 {
		return false
	}
	sig, err := base64.RawURLEncoding.DecodeString(parts[2])
	if err != nil {
		return false
	}
	sum := sha256.Sum256([]byte(parts[0] + "." + parts[1]))
	if rsa.VerifyPKCS1v15(f.pub, crypto.SHA256, sum[:], sig) != nil {
		return false
	}
	body, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil {
		return false
	}
	var claims struct{ Iss, Sub, Aud string }
	if err := json.Unmarshal(body, &claims); err != nil {
		return false
	}
	return claims.Iss == "app" && claims.Sub == "sync@acme.example" && claims.Aud == f.srv.URL
}

// TestCredentialsTokenSource authenticates a real client with each flow
// against a fake login server, through the ctx's HTTP client.
func TestCredentialsTokenSource(t *testing.T) {
	key, pkcs8, _ := credKeys(t)
	f := newFakeLogin(t, &key.PublicKey)
	for _, tt := range []struct {
		secret   map[string]any
		flow     string
		wantAuth string
	}{
		{map[string]any{"login_url": f.srv.URL, "client_id": "app", "username": "sync@acme.example", "private_key": pkcs8}, "jwt_bearer", "Bearer 00Dx!bearer"},
		{map[string]any{"login_url": f.srv.URL, "client_id": "app", "client_secret": "TOPSECRET1", "refresh_token": "TOPSECRET2"}, "refresh_token", "Bearer 00Dx!_token"},
	} {
		creds, err := ParseCredentials(secretJSON(t, tt.secret))
		if err != nil {
			t.Fatal(err)
		}
		if creds.Flow() != tt.flow {
			t.Errorf("flow %q, want %q", creds.Flow(), tt.flow)
		}
		ctx := context.WithValue(context.Background(), oauth2.HTTPClient, f.srv.Client())
		ts, err := creds.TokenSource(ctx)
		if err != nil {
			t.Fatal(err)
		}
		c, err := NewClient(WithTokenSource(ts), WithHTTPClient(f.srv.Client()))
		if err != nil {
			t.Fatal(err)
		}
		f.mu.Lock()
		f.grants, f.auths = nil, nil
		f.mu.Unlock()
		for range 2 {
			if _, err := c.Limits(context.Background()); err != nil {
				t.Fatalf("%s: limits: %v", tt.flow, err)
			}
		}
		f.mu.Lock()
		if len(f.grants) != 1 {
			t.Errorf("%s: %d token requests (%v), want 1: the token is cached", tt.flow, len(f.grants), f.grants)
		}
		if len(f.auths) != 2 || f.auths[0] != tt.wantAuth {
			t.Errorf("%s: Authorization %q, want %q", tt.flow, f.auths, tt.wantAuth)
		}
		f.mu.Unlock()
	}

	// The wrong key is refused by the login server, as a terminal auth error.
	_, otherPEM, _ := credKeys(t)
	creds, err := ParseCredentials(secretJSON(t, map[string]any{"login_url": f.srv.URL, "client_id": "app", "username": "sync@acme.example", "private_key": otherPEM}))
	if err != nil {
		t.Fatal(err)
	}
	ts, err := creds.TokenSource(context.WithValue(context.Background(), oauth2.HTTPClient, f.srv.Client()))
	if err != nil {
		t.Fatal(err)
	}
	c, err := NewClient(WithTokenSource(ts), WithHTTPClient(f.srv.Client()))
	if err != nil {
		t.Fatal(err)
	}
	_, err = c.Limits(context.Background())
	var ae *AuthError
	if !errors.As(err, &ae) || ae.ErrorCode != "invalid_grant" || ae.Transient() {
		t.Errorf("wrong key: %v, want a terminal invalid_grant AuthError", err)
	}

	if _, err := (Credentials{ClientID: "app"}).TokenSource(context.Background()); err == nil {
		t.Error("TokenSource of incomplete credentials: no error")
	}
}
