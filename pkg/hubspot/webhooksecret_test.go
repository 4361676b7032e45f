package hubspot

import (
	"context"
	"net/http"
	"reflect"
	"strings"
	"testing"
)

func TestParseWebhookSecrets(t *testing.T) {
	tests := []struct {
		in   string
		want []string
	}{
		{"plain-secret\n", []string{"plain-secret"}},
		// The form the HubSpotWebhookSecretName parameter documents for a rotation.
		{"new-secret,old-secret", []string{"new-secret", "old-secret"}},
		{" new-secret , old-secret ,", []string{"new-secret", "old-secret"}},
		{"same,same", []string{"same"}},
		{`{"client_secrets":["new","old"]}`, []string{"new", "old"}},
		{`{"client_secret":"only"}`, []string{"only"}},
		{`{"client_secrets":["new"],"client_secret":"also"}`, []string{"new", "also"}},
	}
	for _, tt := range tests {
		got, err := ParseWebhookSecrets(tt.in)
		if err != nil || !reflect.DeepEqual(got, tt.want) {
			t.Errorf("ParseWebhookSecrets(%q) = %q, %v; want %q", tt.in, got, err, tt.want)
		}
	}
	for _, in := range []string{"", " , ", `{"client_secrets":[]}`, `{"client_secrets":"s3cr3t-value`, `{"client_secrets":[42]}`} {
		got, err := ParseWebhookSecrets(in)
		if err == nil {
			t.Errorf("ParseWebhookSecrets(%q) = %q, want an error", in, got)
			continue
		}
		if strings.Contains(err.Error(), "s3cr3t") {
			t.Errorf("error %q repeats the secret", err)
		}
	}
}

// A rotation as the Deploy section describes it: while the secret holds
// "new,old", webhooks signed with either are accepted and queued; one
// signed with neither is refused and nothing is queued.
func TestReceiverRotation(t *testing.T) {
	secrets, err := ParseWebhookSecrets("new-client-secret,old-client-secret")
	if err != nil {
		t.Fatal(err)
	}
	body := "[" + event(1, 51, "contact.propertyChange", 0) + "]"
	for _, tt := range []struct {
		secret string
		status int
	}{{"old-client-secret", http.StatusNoContent}, {"new-client-secret", http.StatusNoContent}, {"new-client-secret,old-client-secret", http.StatusUnauthorized}, {"other", http.StatusUnauthorized}} {
		q := &recordingQueue{}
		r := newReceiver(q)
		r.Secrets = secrets
		resp, _ := r.Handle(context.Background(), request{body: body, secret: tt.secret}.build())
		if resp.StatusCode != tt.status {
			t.Errorf("signed with %q: status %d, want %d", tt.secret, resp.StatusCode, tt.status)
		}
		if queued := len(q.triggers()); (tt.status == http.StatusNoContent) != (queued == 1) {
			t.Errorf("signed with %q: %d triggers queued on a %d", tt.secret, queued, resp.StatusCode)
		}
	}
}
