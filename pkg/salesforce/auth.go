package salesforce

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"time"

	"golang.org/x/oauth2"
	"golang.org/x/oauth2/jwt"

	"github.com/crmsync/crmsync/pkg/crmsync"
)

// Login URLs of production and sandbox orgs (a My Domain URL works too).
const (
	LoginURL        = "https://login.salesforce.com"
	SandboxLoginURL = "https://test.salesforce.com"
)

const tokenPath = "/services/oauth2/token"

// JWTConfig is a connected app's OAuth 2.0 JWT bearer flow: the app's
// consumer key signs in as Username with the certificate's private key.
type JWTConfig struct {
	// LoginURL is the authorization server and the JWT audience
	// (LoginURL, SandboxLoginURL or a Experience Cloud site URL).
	LoginURL string
	ClientID string
	Username string
	// PrivateKey is the PEM-encoded RSA key of the app's certificate.
	PrivateKey SecretBytes
}

// SecretBytes are bytes that do not print.
type SecretBytes []byte

func (SecretBytes) String() string   { return "[redacted]" }
func (SecretBytes) GoString() string { return "[redacted]" }

// TokenSource returns a source that asks for a new token each time it is
// called (Transport caches). Tokens carry the instance_url extra.
func (c JWTConfig) TokenSource(ctx context.Context) oauth2.TokenSource {
	cfg := &jwt.Config{
		Email:      c.ClientID,
		Subject:    c.Username,
		PrivateKey: c.PrivateKey,
		TokenURL:   strings.TrimSuffix(c.LoginURL, "/") + tokenPath,
		Audience:   strings.TrimSuffix(c.LoginURL, "/"),
		// Salesforce refuses assertions valid for more than 3 minutes.
		Expires: 3 * time.Minute,
	}
	return jwtSource{ctx: ctx, cfg: cfg}
}

type jwtSource struct {
	ctx context.Context
	cfg *jwt.Config
}

// Token fetches a new token; jwt.Config's source reuses tokens that never
// expire (Salesforce sends no expires_in), so a fresh one is built per call.
func (s jwtSource) Token() (*oauth2.Token, error) { return s.cfg.TokenSource(s.ctx).Token() }

// RefreshTokenConfig is a connected app's refresh token flow.
type RefreshTokenConfig struct {
	LoginURL     string
	ClientID     string
	ClientSecret Secret
	RefreshToken Secret
}

// TokenSource returns a source that redeems the refresh token each time it
// is called (Transport caches). A rotated refresh token is kept.
func (c RefreshTokenConfig) TokenSource(ctx context.Context) oauth2.TokenSource {
	return &refreshSource{ctx: ctx, refresh: c.RefreshToken, cfg: &oauth2.Config{
		ClientID:     c.ClientID,
		ClientSecret: string(c.ClientSecret),
		Endpoint: oauth2.Endpoint{
			TokenURL:  strings.TrimSuffix(c.LoginURL, "/") + tokenPath,
			AuthStyle: oauth2.AuthStyleInParams,
		},
	}}
}

type refreshSource struct {
	ctx     context.Context
	cfg     *oauth2.Config
	mu      sync.Mutex
	refresh Secret
}

func (s *refreshSource) Token() (*oauth2.Token, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	tok, err := s.cfg.TokenSource(s.ctx, &oauth2.Token{RefreshToken: string(s.refresh)}).Token()
	if err != nil {
		return nil, err
	}
	if tok.RefreshToken != "" {
		s.refresh = Secret(tok.RefreshToken)
	}
	return tok, nil
}

// AuthError is a failed token request. It holds only the OAuth error code
// and description, never the request (which carries the secrets).
type AuthError struct {
	StatusCode int
	// ErrorCode is the OAuth error ("invalid_grant"), when sent.
	ErrorCode   string
	Description string
	err         error
}

func (e *AuthError) Error() string {
	if e.ErrorCode == "" && e.err != nil {
		return "salesforce: authenticate: " + e.err.Error()
	}
	return fmt.Sprintf("salesforce: authenticate: %d %s: %s", e.StatusCode, e.ErrorCode, e.Description)
}

// Code is the OAuth error code, or "AUTHENTICATION_FAILED" when none came.
func (e *AuthError) Code() string {
	if e.ErrorCode == "" {
		return "AUTHENTICATION_FAILED"
	}
	return e.ErrorCode
}

// Category is Permissions: the connected app's authorisation is broken and
// a person must fix it.
func (e *AuthError) Category() crmsync.Category { return crmsync.CategoryPermissions }

// Transient reports whether asking again may help (the server failed or
// could not be reached); a refused grant is not transient.
func (e *AuthError) Transient() bool { return e.StatusCode == 0 || e.StatusCode >= 500 }

func authError(err error) error {
	var re *oauth2.RetrieveError
	if errors.As(err, &re) {
		ae := &AuthError{ErrorCode: re.ErrorCode, Description: re.ErrorDescription}
		if re.Response != nil {
			ae.StatusCode = re.Response.StatusCode
		}
		if ae.ErrorCode == "" {
			var body struct {
				Error       string `json:"error"`
				Description string `json:"error_description"`
			}
			_ = json.Unmarshal(re.Body, &body)
			ae.ErrorCode, ae.Description = body.Error, body.Description
		}
		return ae
	}
	// Transport failures of the token request: the URL holds no secret
	// (the assertion and client secret travel in the form body).
	return &AuthError{err: err}
}

// Transport is an http.RoundTripper that authenticates requests with a
// bearer token from Source, caches the token (Salesforce tokens carry no
// expiry) and, when Salesforce answers 401 INVALID_SESSION_ID, fetches a
// new token and retries the request once.
type Transport struct {
	Source oauth2.TokenSource
	// Base is the underlying transport (nil = http.DefaultTransport).
	Base http.RoundTripper

	mu  sync.Mutex
	tok *oauth2.Token
}

// NewTransport returns a Transport for src over base.
func NewTransport(src oauth2.TokenSource, base http.RoundTripper) *Transport {
	return &Transport{Source: src, Base: base}
}

// token returns the cached token, fetching one when there is none or when
// the cached one is stale (the one a 401 was answered with).
func (t *Transport) token(stale *oauth2.Token) (*oauth2.Token, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.tok != nil && t.tok != stale && t.tok.Valid() {
		return t.tok, nil
	}
	tok, err := t.Source.Token()
	if err != nil {
		return nil, authError(err)
	}
	if tok.AccessToken == "" {
		return nil, &AuthError{ErrorCode: "no_access_token", Description: "token response had no access_token"}
	}
	t.tok = tok
	return tok, nil
}

// InstanceURL returns the instance_url of the current token, fetching a
// token if needed.
func (t *Transport) InstanceURL() (string, error) {
	tok, err := t.token(nil)
	if err != nil {
		return "", err
	}
	u, _ := tok.Extra("instance_url").(string)
	if u == "" {
		return "", &AuthError{ErrorCode: "no_instance_url", Description: "token response had no instance_url"}
	}
	return strings.TrimSuffix(u, "/"), nil
}

// RoundTrip implements http.RoundTripper.
func (t *Transport) RoundTrip(req *http.Request) (*http.Response, error) {
	tok, err := t.token(nil)
	if err != nil {
		return nil, err
	}
	resp, err := t.send(req, tok)
	if err != nil || resp.StatusCode != http.StatusUnauthorized {
		return resp, err
	}
	body, _ := io.ReadAll(io.LimitReader(resp.Body, maxErrorBody))
	resp.Body.Close()
	resp.Body = io.NopCloser(bytes.NewReader(body))
	if !hasCode(body, CodeInvalidSessionID) || (req.Body != nil && req.GetBody == nil) {
		return resp, nil
	}
	if tok, err = t.token(tok); err != nil {
		return nil, err
	}
	retry := req.Clone(req.Context())
	if req.GetBody != nil {
		if retry.Body, err = req.GetBody(); err != nil {
			return nil, err
		}
	}
	return t.send(retry, tok)
}

func (t *Transport) send(req *http.Request, tok *oauth2.Token) (*http.Response, error) {
	r := req.Clone(req.Context())
	r.Header.Set("Authorization", "Bearer "+tok.AccessToken)
	base := t.Base
	if base == nil {
		base = http.DefaultTransport
	}
	return base.RoundTrip(r)
}

func hasCode(body []byte, code string) bool {
	for _, it := range parseErrorBody(body) {
		if it.ErrorCode == code {
			return true
		}
	}
	return false
}
