package salesforce

import (
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
)

// ParseOutboundTokens reads the SecretString of the Outbound Message
// endpoint-token secret: the accepted tokens, current first. Accepted
// forms, with one token or several during a rotation:
//
//	current-token,previous-token
//	{"token": "current-token"}
//	{"tokens": ["current-token", "previous-token"]}
//
// (the stack's generated secret is the {"token": …} form). A token is
// the last segment of the endpoint URL, so it may hold only the
// characters unreserved in URLs (A–Z a–z 0–9 - . _ ~). Blanks are
// trimmed, repeats dropped. Errors never repeat a value.
func ParseOutboundTokens(s string) ([]string, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return nil, errors.New("salesforce outbound token: secret is empty")
	}
	var list []string
	if strings.HasPrefix(s, "{") {
		var v struct {
			Token  string   `json:"token"`
			Tokens []string `json:"tokens"`
		}
		if err := json.Unmarshal([]byte(s), &v); err != nil {
			var se *json.SyntaxError
			if errors.As(err, &se) {
				return nil, fmt.Errorf("salesforce outbound token: not valid JSON (syntax error at byte %d)", se.Offset)
			}
			return nil, errors.New(`salesforce outbound token: JSON must be {"token": "…"} or {"tokens": ["…"]}`)
		}
		list = append([]string{v.Token}, v.Tokens...)
	} else {
		list = strings.Split(s, ",")
	}
	var out []string
	for i, x := range list {
		x = strings.TrimSpace(x)
		if x == "" || slices.Contains(out, x) {
			continue
		}
		if strings.IndexFunc(x, notUnreserved) >= 0 {
			return nil, fmt.Errorf("salesforce outbound token: token %d has characters that are not safe in a URL path (use A-Z a-z 0-9 - . _ ~)", i+1)
		}
		out = append(out, x)
	}
	if len(out) == 0 {
		return nil, errors.New(`salesforce outbound token: no token (want "token[,previous]", {"token": "…"} or {"tokens": ["…"]})`)
	}
	return out, nil
}

func notUnreserved(r rune) bool {
	return !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-' || r == '.' || r == '_' || r == '~')
}
