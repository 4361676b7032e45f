package hubspot

import (
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
)

// ParseWebhookSecrets reads the SecretString of the webhook-signing secret:
// the app's client secrets a webhook may be signed with, current first.
// Two forms are accepted, each with one secret or several during a
// rotation:
//
//	new-client-secret,old-client-secret
//	{"client_secrets": ["new-client-secret", "old-client-secret"]}
//
// (a single "client_secret" key also works). HubSpot client secrets never
// contain a comma, so the bare form is a comma-separated list. Blanks are
// trimmed, empty entries and repeats dropped. Errors never repeat a value.
func ParseWebhookSecrets(s string) ([]string, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return nil, errors.New("hubspot webhook secret: secret is empty")
	}
	var list []string
	if strings.HasPrefix(s, "{") {
		var v struct {
			ClientSecrets []string `json:"client_secrets"`
			ClientSecret  string   `json:"client_secret"`
		}
		if err := json.Unmarshal([]byte(s), &v); err != nil {
			// json's messages may quote part of the value; keep only where.
			var se *json.SyntaxError
			if errors.As(err, &se) {
				return nil, fmt.Errorf("hubspot webhook secret: not valid JSON (syntax error at byte %d)", se.Offset)
			}
			return nil, errors.New(`hubspot webhook secret: JSON must be {"client_secrets": ["…"]}`)
		}
		list = append(v.ClientSecrets, v.ClientSecret)
	} else {
		list = strings.Split(s, ",")
	}
	var out []string
	for _, x := range list {
		if x = strings.TrimSpace(x); x != "" && !slices.Contains(out, x) {
			out = append(out, x)
		}
	}
	if len(out) == 0 {
		return nil, errors.New(`hubspot webhook secret: no client secret (want "secret[,previous]" or {"client_secrets": [...]})`)
	}
	return out, nil
}
