package hubspot

import (
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"

	"golang.org/x/oauth2"
)

// Credentials are how crmsync authenticates to a HubSpot portal, as kept
// in a Secrets Manager secret's SecretString, one of:
//
//	{"private_app_token": "pat-na1-…"}
//	{"client_id": "…", "client_secret": "…", "refresh_token": "…"}
//
// the first for a private app (or a legacy app's static token), the second
// for an OAuth app installed in the portal. Values are trimmed. The type
// never prints or logs its secrets (String, GoString and LogValue redact
// them), and no error of this file repeats a value.
type Credentials struct {
	PrivateAppToken string
	ClientID        string
	ClientSecret    string
	RefreshToken    string
}

// credentialKeys are the JSON keys of Credentials.
var credentialKeys = []string{"private_app_token", "client_id", "client_secret", "refresh_token"}

// ParseCredentials reads a credentials secret (see Credentials) and checks
// that it names exactly one complete way to authenticate. Errors name the
// missing, unknown or mistyped keys, never a value.
func ParseCredentials(secret string) (Credentials, error) {
	secret = strings.TrimSpace(secret)
	if secret == "" {
		return Credentials{}, errors.New("hubspot credentials: secret is empty")
	}
	var raw map[string]json.RawMessage
	if err := json.Unmarshal([]byte(secret), &raw); err != nil {
		// json's messages quote the offending character; keep only where.
		var se *json.SyntaxError
		if errors.As(err, &se) {
			return Credentials{}, fmt.Errorf("hubspot credentials: secret is not a JSON object (syntax error at byte %d)", se.Offset)
		}
		return Credentials{}, errors.New("hubspot credentials: secret is not a JSON object")
	}
	var c Credentials
	fields := map[string]*string{"private_app_token": &c.PrivateAppToken, "client_id": &c.ClientID,
		"client_secret": &c.ClientSecret, "refresh_token": &c.RefreshToken}
	var errs []error
	for _, k := range sortedKeys(raw) {
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
		return Credentials{}, fmt.Errorf("hubspot credentials: %w", err)
	}
	if err := c.Validate(); err != nil {
		return Credentials{}, err
	}
	return c, nil
}

func sortedKeys(m map[string]json.RawMessage) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

// Validate reports whether c is one complete way to authenticate: a
// private app token alone, or all three OAuth keys.
func (c Credentials) Validate() error {
	oauth := map[string]string{"client_id": c.ClientID, "client_secret": c.ClientSecret, "refresh_token": c.RefreshToken}
	var have, missing []string
	for _, k := range credentialKeys[1:] {
		if oauth[k] != "" {
			have = append(have, k)
		} else {
			missing = append(missing, k)
		}
	}
	switch {
	case c.PrivateAppToken != "" && len(have) > 0:
		return fmt.Errorf("hubspot credentials: both private_app_token and OAuth keys (%s) are set; keep one way to authenticate", strings.Join(have, ", "))
	case c.PrivateAppToken != "":
		return nil
	case len(have) == 0:
		return errors.New("hubspot credentials: private_app_token is missing (or set client_id, client_secret and refresh_token for an OAuth app)")
	case len(missing) > 0:
		return fmt.Errorf("hubspot credentials: OAuth app credentials lack %s", strings.Join(missing, ", "))
	}
	return nil
}

// Option returns the client Option that authenticates with c:
// WithPrivateAppToken, or WithOAuth2 against OAuthEndpoint (access tokens
// are refreshed through the client's own HTTP client).
func (c Credentials) Option() (Option, error) {
	if err := c.Validate(); err != nil {
		return nil, err
	}
	if c.PrivateAppToken != "" {
		return WithPrivateAppToken(c.PrivateAppToken), nil
	}
	return WithOAuth2(&oauth2.Config{ClientID: c.ClientID, ClientSecret: c.ClientSecret, Endpoint: OAuthEndpoint}, c.RefreshToken), nil
}

// Kind names the way c authenticates: "private_app", "oauth" or "" when
// incomplete. It is safe to log.
func (c Credentials) Kind() string {
	switch {
	case c.Validate() != nil:
		return ""
	case c.PrivateAppToken != "":
		return "private_app"
	}
	return "oauth"
}

// String redacts the secrets; the OAuth client id is not one.
func (c Credentials) String() string {
	return fmt.Sprintf("hubspot.Credentials{kind: %q, client_id: %q, secrets: [redacted]}", c.Kind(), c.ClientID)
}

// GoString redacts the secrets, for %#v.
func (c Credentials) GoString() string { return c.String() }

// LogValue redacts the secrets in slog output.
func (c Credentials) LogValue() slog.Value {
	return slog.GroupValue(slog.String("kind", c.Kind()), slog.String("client_id", c.ClientID))
}
