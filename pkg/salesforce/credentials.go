package salesforce

import (
	"context"
	"crypto/rsa"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/url"
	"slices"
	"strings"

	"golang.org/x/oauth2"
)

// Credentials are how crmsync authenticates to a Salesforce org through a
// connected app, as kept in a Secrets Manager secret's SecretString, one
// of:
//
//	{"login_url": "https://login.salesforce.com", "client_id": "3MVG…",
//	 "username": "integration@acme.com", "private_key": "-----BEGIN PRIVATE KEY-----\n…"}
//	{"login_url": "https://login.salesforce.com", "client_id": "3MVG…",
//	 "client_secret": "…", "refresh_token": "…"}
//
// the first for the OAuth 2.0 JWT bearer flow (the connected app holds the
// certificate of private_key, an RSA key in PEM, PKCS#1 or PKCS#8), the
// second for the refresh token flow. login_url is https://login.salesforce.com,
// https://test.salesforce.com (sandboxes) or the org's My Domain URL.
// Values are trimmed; a private key whose line breaks were stored as the
// two characters \n is accepted. The type never prints its secrets, and no
// error of this file repeats a value other than login_url.
type Credentials struct {
	LoginURL     string
	ClientID     string
	Username     string
	PrivateKey   SecretBytes
	ClientSecret Secret
	RefreshToken Secret
}

var credentialKeys = []string{"login_url", "client_id", "username", "private_key", "client_secret", "refresh_token"}

// ParseCredentials reads a credentials secret (see Credentials) and checks
// that it names exactly one complete flow with a usable login URL and, for
// JWT, a parsable RSA key. Errors name the missing, unknown or mistyped
// keys, never a secret.
func ParseCredentials(secret string) (Credentials, error) {
	secret = strings.TrimSpace(secret)
	if secret == "" {
		return Credentials{}, errors.New("salesforce credentials: secret is empty")
	}
	var raw map[string]json.RawMessage
	if err := json.Unmarshal([]byte(secret), &raw); err != nil {
		var se *json.SyntaxError
		if errors.As(err, &se) {
			return Credentials{}, fmt.Errorf("salesforce credentials: secret is not a JSON object (syntax error at byte %d)", se.Offset)
		}
		return Credentials{}, errors.New("salesforce credentials: secret is not a JSON object")
	}
	var v struct{ loginURL, clientID, username, privateKey, clientSecret, refreshToken string }
	fields := map[string]*string{"login_url": &v.loginURL, "client_id": &v.clientID, "username": &v.username,
		"private_key": &v.privateKey, "client_secret": &v.clientSecret, "refresh_token": &v.refreshToken}
	keys := make([]string, 0, len(raw))
	for k := range raw {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	var errs []error
	for _, k := range keys {
		dst, ok := fields[k]
		if !ok {
			errs = append(errs, fmt.Errorf("unknown key %q (want %s)", k, strings.Join(credentialKeys, ", ")))
			continue
		}
		if err := json.Unmarshal(raw[k], dst); err != nil {
			errs = append(errs, fmt.Errorf("%s is not a string", k))
			continue
		}
		*dst = strings.TrimSpace(*dst)
	}
	if err := errors.Join(errs...); err != nil {
		return Credentials{}, fmt.Errorf("salesforce credentials: %w", err)
	}
	key := v.privateKey
	if !strings.Contains(key, "\n") && strings.Contains(key, `\n`) {
		key = strings.ReplaceAll(key, `\n`, "\n")
	}
	c := Credentials{LoginURL: strings.TrimSuffix(v.loginURL, "/"), ClientID: v.clientID, Username: v.username,
		ClientSecret: Secret(v.clientSecret), RefreshToken: Secret(v.refreshToken)}
	if key != "" {
		c.PrivateKey = SecretBytes(key)
	}
	if err := c.Validate(); err != nil {
		return Credentials{}, err
	}
	return c, nil
}

// Validate reports whether c is one complete flow: login_url and client_id
// with either username and private_key (JWT bearer) or client_secret and
// refresh_token.
func (c Credentials) Validate() error {
	var errs []error
	if c.LoginURL == "" {
		errs = append(errs, errors.New("login_url is missing (https://login.salesforce.com, https://test.salesforce.com or the org's My Domain URL)"))
	} else if err := checkLoginURL(c.LoginURL); err != nil {
		errs = append(errs, err)
	}
	if c.ClientID == "" {
		errs = append(errs, errors.New("client_id is missing (the connected app's consumer key)"))
	}
	jwtKeys := map[string]bool{"username": c.Username != "", "private_key": len(c.PrivateKey) > 0}
	refreshKeys := map[string]bool{"client_secret": c.ClientSecret != "", "refresh_token": c.RefreshToken != ""}
	jwt, refresh := present(jwtKeys), present(refreshKeys)
	switch {
	case len(jwt) > 0 && len(refresh) > 0:
		errs = append(errs, fmt.Errorf("both JWT keys (%s) and refresh-token keys (%s) are set; keep one flow",
			strings.Join(jwt, ", "), strings.Join(refresh, ", ")))
	case len(jwt) == 0 && len(refresh) == 0:
		errs = append(errs, errors.New("username and private_key are missing (JWT bearer flow; or set client_secret and refresh_token)"))
	case len(jwt) > 0:
		if m := missing(jwtKeys); len(m) > 0 {
			errs = append(errs, fmt.Errorf("JWT bearer flow lacks %s", strings.Join(m, ", ")))
		} else if err := checkPrivateKey(c.PrivateKey); err != nil {
			errs = append(errs, err)
		}
	default:
		if m := missing(refreshKeys); len(m) > 0 {
			errs = append(errs, fmt.Errorf("refresh token flow lacks %s", strings.Join(m, ", ")))
		}
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("salesforce credentials: %w", err)
	}
	return nil
}

func present(keys map[string]bool) []string {
	var out []string
	for k, ok := range keys {
		if ok {
			out = append(out, k)
		}
	}
	slices.Sort(out)
	return out
}

func missing(keys map[string]bool) []string {
	var out []string
	for k, ok := range keys {
		if !ok {
			out = append(out, k)
		}
	}
	slices.Sort(out)
	return out
}

// checkLoginURL accepts an https URL without query or fragment; http only
// for a loopback host (a simulator).
func checkLoginURL(raw string) error {
	u, err := url.Parse(raw)
	if err != nil || u.Host == "" || u.RawQuery != "" || u.Fragment != "" || u.User != nil {
		return fmt.Errorf("login_url %q is not a URL like https://login.salesforce.com", raw)
	}
	switch u.Scheme {
	case "https":
		return nil
	case "http":
		if ip := net.ParseIP(u.Hostname()); u.Hostname() == "localhost" || ip != nil && ip.IsLoopback() {
			return nil
		}
	}
	return fmt.Errorf("login_url %q must be https", raw)
}

// checkPrivateKey checks the key is an RSA private key in PEM, as the JWT
// bearer flow signs with RS256. The messages never quote the key.
func checkPrivateKey(key []byte) error {
	block, _ := pem.Decode(key)
	if block == nil {
		return errors.New("private_key is not PEM (-----BEGIN PRIVATE KEY----- or -----BEGIN RSA PRIVATE KEY-----)")
	}
	if _, err := x509.ParsePKCS1PrivateKey(block.Bytes); err == nil {
		return nil
	}
	k, err := x509.ParsePKCS8PrivateKey(block.Bytes)
	if err != nil {
		return fmt.Errorf("private_key: PEM block %q is not a PKCS#1 or PKCS#8 private key", block.Type)
	}
	if _, ok := k.(*rsa.PrivateKey); !ok {
		return errors.New("private_key is not an RSA key (the JWT bearer flow signs with RS256)")
	}
	return nil
}

// Flow names c's OAuth flow: "jwt_bearer", "refresh_token" or "" when c
// is incomplete. It is safe to log.
func (c Credentials) Flow() string {
	switch {
	case c.Validate() != nil:
		return ""
	case len(c.PrivateKey) > 0:
		return "jwt_bearer"
	}
	return "refresh_token"
}

// TokenSource returns the token source of c's flow (JWTConfig or
// RefreshTokenConfig), for WithTokenSource. Token requests are sent with
// the *http.Client in ctx under oauth2.HTTPClient (http.DefaultClient when
// absent, which has no timeout: set one), so ctx must outlive the client.
func (c Credentials) TokenSource(ctx context.Context) (oauth2.TokenSource, error) {
	if err := c.Validate(); err != nil {
		return nil, err
	}
	if len(c.PrivateKey) > 0 {
		return JWTConfig{LoginURL: c.LoginURL, ClientID: c.ClientID, Username: c.Username, PrivateKey: c.PrivateKey}.TokenSource(ctx), nil
	}
	return RefreshTokenConfig{LoginURL: c.LoginURL, ClientID: c.ClientID, ClientSecret: c.ClientSecret, RefreshToken: c.RefreshToken}.TokenSource(ctx), nil
}

// String redacts the secrets; login URL, client id and username are not.
func (c Credentials) String() string {
	return fmt.Sprintf("salesforce.Credentials{flow: %q, login_url: %q, client_id: %q, username: %q, secrets: [redacted]}",
		c.Flow(), c.LoginURL, c.ClientID, c.Username)
}

// GoString redacts the secrets, for %#v.
func (c Credentials) GoString() string { return c.String() }

// LogValue redacts the secrets in slog output.
func (c Credentials) LogValue() slog.Value {
	return slog.GroupValue(slog.String("flow", c.Flow()), slog.String("login_url", c.LoginURL),
		slog.String("client_id", c.ClientID), slog.String("username", c.Username))
}
