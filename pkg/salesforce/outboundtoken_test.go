package salesforce

import (
	"reflect"
	"strings"
	"testing"
)

func TestParseOutboundTokens(t *testing.T) {
	for in, want := range map[string][]string{
		"plain-token\n":                              {"plain-token"},
		`{"token": " json-token "}`:                  {"json-token"},
		`{"token":"t","other":"x"}`:                  {"t"},
		"new-token,old-token":                        {"new-token", "old-token"},
		`{"tokens": ["new-token", "old-token"]}`:     {"new-token", "old-token"},
		`{"token": "new", "tokens": ["new", "old"]}`: {"new", "old"},
		"Az09-._~": {"Az09-._~"},
	} {
		if got, err := ParseOutboundTokens(in); err != nil || !reflect.DeepEqual(got, want) {
			t.Errorf("ParseOutboundTokens(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
	for _, in := range []string{"", "  ", ",", `{"token": ""}`, `{"tok`, `{"secret":"x"}`, `{"tokens": "s3cr3t"}`,
		"s3cr3t/../x", "s3cr3t?x=1", "s3cr3t%2F", `{"token": "s3cr3t token"}`} {
		got, err := ParseOutboundTokens(in)
		if err == nil {
			t.Errorf("ParseOutboundTokens(%q) = %q, want an error", in, got)
			continue
		}
		if strings.Contains(err.Error(), "s3cr3t") {
			t.Errorf("error %q repeats the token", err)
		}
	}
}
