package salesforcesim

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
)

// SetInstanceURL sets the instance_url the token endpoint answers with
// (default: the request's scheme and host, without any mount prefix).
func (o *Org) SetInstanceURL(u string) {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.instanceURL = strings.TrimSuffix(u, "/")
}

// RefreshToken returns a refresh token for userID ("" = the integration
// user), redeemable at the token endpoint.
func (o *Org) RefreshToken(userID string) string {
	o.mu.Lock()
	defer o.mu.Unlock()
	if userID == "" {
		userID = o.IntegrationUserID
	}
	tok := fmt.Sprintf("5Aep861SIM%06d", len(o.refresh)+1)
	o.refresh[tok] = userID
	return tok
}

// serveToken is the OAuth token endpoint: the JWT bearer flow (the
// assertion's sub names a user by username; the signature is not
// checked) and the refresh token flow.
func (o *Org) serveToken(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost || r.ParseForm() != nil {
		writeJSON(w, http.StatusBadRequest, map[string]string{"error": "invalid_request", "error_description": "POST a form"})
		return
	}
	o.mu.Lock()
	defer o.mu.Unlock()
	var user string
	switch r.PostForm.Get("grant_type") {
	case "urn:ietf:params:oauth:grant-type:jwt-bearer":
		parts := strings.Split(r.PostForm.Get("assertion"), ".")
		var claims struct {
			Sub string `json:"sub"`
		}
		if len(parts) == 3 {
			b, _ := base64.RawURLEncoding.DecodeString(parts[1])
			_ = json.Unmarshal(b, &claims)
		}
		for _, rec := range o.records {
			if rec.obj.Name == "User" && rec.fields["Username"] == claims.Sub && rec.fields["IsActive"] == true {
				user = rec.id()
			}
		}
	case "refresh_token":
		user = o.refresh[r.PostForm.Get("refresh_token")]
	default:
		writeJSON(w, http.StatusBadRequest, map[string]string{"error": "unsupported_grant_type", "error_description": "grant type not supported"})
		return
	}
	if user == "" {
		writeJSON(w, http.StatusBadRequest, map[string]string{"error": "invalid_grant", "error_description": "user hasn't approved this consumer"})
		return
	}
	instance := o.instanceURL
	if instance == "" {
		scheme := "http"
		if r.TLS != nil {
			scheme = "https"
		}
		instance = scheme + "://" + r.Host
	}
	writeJSON(w, http.StatusOK, map[string]any{
		"access_token": o.newSession(user), "instance_url": instance,
		"id":         "https://login.salesforce.com/id/" + o.cfg.OrgID + "/" + user,
		"token_type": "Bearer", "issued_at": fmt.Sprint(o.cfg.Now().UnixMilli()), "scope": "api",
		"signature": "c2ltdWxhdGVk",
	})
}
