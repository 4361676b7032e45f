package hubspot

import (
	"encoding/json"
	"errors"
	"os"
	"strconv"
	"testing"
	"time"
)

type signatureVector struct {
	ID        string  `json:"id"`
	Version   string  `json:"version"`
	Secret    string  `json:"secret"`
	Method    *string `json:"method"`
	URI       *string `json:"uri"`
	Body      string  `json:"body"`
	Timestamp *string `json:"timestamp"`
	Expected  string  `json:"expected"`
}

func deref(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}

func loadVectors(t *testing.T) []signatureVector {
	t.Helper()
	b, err := os.ReadFile("testdata/signature-vectors.json")
	if err != nil {
		t.Fatal(err)
	}
	var vs []signatureVector
	if err := json.Unmarshal(b, &vs); err != nil {
		t.Fatal(err)
	}
	if len(vs) < 6 {
		t.Fatalf("only %d vectors in testdata", len(vs))
	}
	return vs
}

func vectorTime(t *testing.T, ts string) time.Time {
	t.Helper()
	if ts == "" {
		return time.Unix(0, 0)
	}
	ms, err := strconv.ParseInt(ts, 10, 64)
	if err != nil {
		t.Fatal(err)
	}
	return time.UnixMilli(ms)
}

func TestSignatureVectors(t *testing.T) {
	all := []SignatureVersion{SignatureV1, SignatureV2, SignatureV3}
	for _, v := range loadVectors(t) {
		t.Run(v.ID, func(t *testing.T) {
			method, uri, ts, body := deref(v.Method), deref(v.URI), deref(v.Timestamp), []byte(v.Body)
			var got string
			switch SignatureVersion(v.Version) {
			case SignatureV1:
				got = SignV1(v.Secret, body)
			case SignatureV2:
				got = SignV2(v.Secret, method, uri, body)
			case SignatureV3:
				got = SignV3(v.Secret, method, uri, body, ts)
			default:
				t.Fatalf("unknown version %q", v.Version)
			}
			if got != v.Expected {
				t.Fatalf("signature = %s, want %s", got, v.Expected)
			}
			sig := Signature{Version: SignatureVersion(v.Version), Value: v.Expected, Timestamp: ts}
			ver := Verifier{Secrets: []string{v.Secret}, Versions: all}
			if err := ver.Verify(sig, method, uri, body, vectorTime(t, ts)); err != nil {
				t.Fatalf("Verify: %v", err)
			}
			// The default verifier takes v3 only.
			def := Verifier{Secrets: []string{v.Secret}}
			err := def.Verify(sig, method, uri, body, vectorTime(t, ts))
			if v.Version == "v3" && err != nil {
				t.Fatalf("default Verify of v3: %v", err)
			}
			if v.Version != "v3" && !errors.Is(err, ErrSignatureVersion) {
				t.Fatalf("default Verify of %s = %v, want ErrSignatureVersion", v.Version, err)
			}
		})
	}
}

func TestV1DocsBodyFile(t *testing.T) {
	body, err := os.ReadFile("testdata/webhook-contact-creation-docs-v1-validation-body.json")
	if err != nil {
		t.Fatal(err)
	}
	const want = "232db2615f3d666fe21a8ec971ac7b5402d33b9a925784df3ca654d05f4817de"
	if got := SignV1("yyyyyyyy-yyyy-yyyy-yyyy-yyyyyyyyyyyy", body); got != want {
		t.Fatalf("SignV1 = %s, want %s", got, want)
	}
}

// TestDecodeSignedURI covers the table in HubSpot's request-validation
// docs: each listed escape is decoded, in either hex case; nothing else is.
func TestDecodeSignedURI(t *testing.T) {
	docsTable := map[string]string{
		"%3A": ":", "%2F": "/", "%3F": "?", "%40": "@", "%21": "!", "%24": "$",
		"%27": "'", "%28": "(", "%29": ")", "%2A": "*", "%2C": ",", "%3B": ";",
	}
	for enc, dec := range docsTable {
		for _, e := range []string{enc, lower(enc)} {
			in := "https://example.com/hook?x=a" + e + "b"
			want := "https://example.com/hook?x=a" + dec + "b"
			if got := DecodeSignedURI(in); got != want {
				t.Errorf("DecodeSignedURI(%q) = %q, want %q", in, got, want)
			}
		}
	}
	kept := []string{
		"https://example.com/hook?q=a%20b",
		"https://example.com/hook?q=a%26b%3Dc",
		"https://example.com/hook?q=100%25",
		"https://example.com/hook?q=%253A", // one pass: %25 stays, "3A" is text
		"https://example.com/hook?q=%",
		"https://example.com/hook?q=%3",
		"https://example.com/hook?q=%zz",
		"https://example.com/hook?q=a+b",
	}
	for _, in := range kept {
		if got := DecodeSignedURI(in); got != in {
			t.Errorf("DecodeSignedURI(%q) = %q, want it unchanged", in, got)
		}
	}
	if got, want := DecodeSignedURI("https://ex.com/p%2Fq?a=%3Fb%40c%2Cd"), "https://ex.com/p/q?a=?b@c,d"; got != want {
		t.Errorf("mixed = %q, want %q", got, want)
	}
}

func lower(s string) string {
	b := []byte(s)
	for i, c := range b {
		if c >= 'A' && c <= 'Z' {
			b[i] = c + 'a' - 'A'
		}
	}
	return string(b)
}

func TestSignedURI(t *testing.T) {
	tests := []struct{ domain, path, query, want string }{
		{"abc.lambda-url.eu-west-1.on.aws", "/", "", "https://abc.lambda-url.eu-west-1.on.aws/"},
		{"api.example.com", "/hubspot/webhook", "portal=62515&x=a%3Ab", "https://api.example.com/hubspot/webhook?portal=62515&x=a:b"},
		{"api.example.com", "/hook%28v3%29", "q=a%20b", "https://api.example.com/hook(v3)?q=a%20b"},
	}
	for _, tt := range tests {
		if got := SignedURI(tt.domain, tt.path, tt.query); got != tt.want {
			t.Errorf("SignedURI(%q, %q, %q) = %q, want %q", tt.domain, tt.path, tt.query, got, tt.want)
		}
	}
}

// TestVerifyFlippedBytes flips one bit of every byte of the method, URI,
// body, timestamp and secret in turn: each must fail verification.
func TestVerifyFlippedBytes(t *testing.T) {
	const (
		secret = "yyyyyyyy-yyyy-yyyy-yyyy-yyyyyyyyyyyy"
		method = "POST"
		uri    = "https://www.example.com/webhook_uri"
		ts     = "1693657560000"
	)
	body := []byte(`[{"objectId":1,"subscriptionType":"contact.creation"}]`)
	now := vectorTime(t, ts)
	sig := SignV3(secret, method, uri, body, ts)
	v := Verifier{Secrets: []string{secret}}
	if err := v.Verify(Signature{Version: SignatureV3, Value: sig, Timestamp: ts}, method, uri, body, now); err != nil {
		t.Fatalf("unflipped: %v", err)
	}
	flip := func(s string, i int) string { b := []byte(s); b[i] ^= 0x01; return string(b) }
	check := func(name string, err error) {
		t.Helper()
		if err == nil {
			t.Errorf("%s: verified, want an error", name)
		}
	}
	for i := range method {
		check("method", v.Verify(Signature{SignatureV3, sig, ts}, flip(method, i), uri, body, now))
	}
	for i := range uri {
		check("uri", v.Verify(Signature{SignatureV3, sig, ts}, method, flip(uri, i), body, now))
	}
	for i := range body {
		check("body", v.Verify(Signature{SignatureV3, sig, ts}, method, uri, []byte(flip(string(body), i)), now))
	}
	for i := range ts {
		check("timestamp", v.Verify(Signature{SignatureV3, sig, flip(ts, i)}, method, uri, body, now))
	}
	for i := range secret {
		w := Verifier{Secrets: []string{flip(secret, i)}}
		check("secret", w.Verify(Signature{SignatureV3, sig, ts}, method, uri, body, now))
	}
	for i := range sig {
		check("signature", v.Verify(Signature{SignatureV3, flip(sig, i), ts}, method, uri, body, now))
	}
}

func TestVerifyOutcomes(t *testing.T) {
	const (
		method = "POST"
		uri    = "https://hooks.example.com/hubspot"
	)
	body := []byte(`[]`)
	base := time.Date(2026, 11, 23, 12, 0, 0, 0, time.UTC)
	ts := strconv.FormatInt(base.UnixMilli(), 10)
	v3 := func(secret, ts string) Signature {
		return Signature{Version: SignatureV3, Value: SignV3(secret, method, uri, body, ts), Timestamp: ts}
	}
	tests := []struct {
		name string
		v    Verifier
		sig  Signature
		now  time.Time
		want error
	}{
		{"current secret", Verifier{Secrets: []string{"new", "old"}}, v3("new", ts), base, nil},
		{"previous secret during rotation", Verifier{Secrets: []string{"new", "old"}}, v3("old", ts), base, nil},
		{"unknown secret", Verifier{Secrets: []string{"new", "old"}}, v3("other", ts), base, ErrSignatureMismatch},
		{"no secrets", Verifier{}, v3("new", ts), base, ErrSignatureMismatch},
		{"empty secret never matches", Verifier{Secrets: []string{""}}, v3("", ts), base, ErrSignatureMismatch},
		{"missing", Verifier{Secrets: []string{"s"}}, Signature{}, base, ErrSignatureMissing},
		{"exactly five minutes old", Verifier{Secrets: []string{"s"}}, v3("s", ts), base.Add(5 * time.Minute), nil},
		{"older than five minutes", Verifier{Secrets: []string{"s"}}, v3("s", ts), base.Add(5*time.Minute + time.Millisecond), ErrSignatureExpired},
		{"from the future", Verifier{Secrets: []string{"s"}}, v3("s", ts), base.Add(-6 * time.Minute), ErrSignatureExpired},
		{"custom window", Verifier{Secrets: []string{"s"}, MaxAge: time.Minute}, v3("s", ts), base.Add(2 * time.Minute), ErrSignatureExpired},
		{"seconds not milliseconds", Verifier{Secrets: []string{"s"}}, v3("s", strconv.FormatInt(base.Unix(), 10)), base, ErrSignatureExpired},
		{"no timestamp", Verifier{Secrets: []string{"s"}}, v3("s", ""), base, ErrSignatureExpired},
		{"v2 not enabled", Verifier{Secrets: []string{"s"}},
			Signature{Version: SignatureV2, Value: SignV2("s", method, uri, body)}, base, ErrSignatureVersion},
		{"v2 enabled", Verifier{Secrets: []string{"s"}, Versions: []SignatureVersion{SignatureV2, SignatureV3}},
			Signature{Version: SignatureV2, Value: SignV2("s", method, uri, body)}, base, nil},
		{"v1 not in list", Verifier{Secrets: []string{"s"}, Versions: []SignatureVersion{SignatureV2}},
			Signature{Version: SignatureV1, Value: SignV1("s", body)}, base, ErrSignatureVersion},
		{"unknown version", Verifier{Secrets: []string{"s"}}, Signature{Version: "v9", Value: "x"}, base, ErrSignatureVersion},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.v.Verify(tt.sig, method, uri, body, tt.now)
			if tt.want == nil && err != nil {
				t.Fatalf("Verify = %v, want nil", err)
			}
			if tt.want != nil && !errors.Is(err, tt.want) {
				t.Fatalf("Verify = %v, want %v", err, tt.want)
			}
		})
	}
}

func TestSignaturesFromHeaders(t *testing.T) {
	h := map[string]string{
		"x-hubspot-signature":         "v1sig",
		"x-hubspot-signature-version": "v1",
		"x-hubspot-signature-v3":      "v3sig",
		"x-hubspot-request-timestamp": "123",
	}
	get := func(n string) string { return header(h, n) }
	if got := SignaturesFromHeaders(get); len(got) != 2 || got[0] != (Signature{SignatureV3, "v3sig", "123"}) || got[1] != (Signature{Version: SignatureV1, Value: "v1sig"}) {
		t.Errorf("both = %+v", got)
	}
	delete(h, "x-hubspot-signature-v3")
	h["X-HubSpot-Signature-Version"] = "V2"
	delete(h, "x-hubspot-signature-version")
	if got := SignaturesFromHeaders(get); len(got) != 1 || got[0] != (Signature{Version: SignatureV2, Value: "v1sig"}) {
		t.Errorf("v2, mixed-case header = %+v", got)
	}
	delete(h, "x-hubspot-signature")
	if got := SignaturesFromHeaders(get); len(got) != 0 {
		t.Errorf("none = %+v", got)
	}
}

func TestVerifyAny(t *testing.T) {
	const method, uri = "POST", "https://hooks.example.com/hubspot"
	body := []byte(`[]`)
	now := time.Date(2026, 11, 23, 12, 0, 0, 0, time.UTC)
	ts := strconv.FormatInt(now.UnixMilli(), 10)
	goodV3 := Signature{Version: SignatureV3, Value: SignV3("s", method, uri, body, ts), Timestamp: ts}
	badV3 := Signature{Version: SignatureV3, Value: SignV3("other", method, uri, body, ts), Timestamp: ts}
	goodV1 := Signature{Version: SignatureV1, Value: SignV1("s", body)}
	v3only := Verifier{Secrets: []string{"s"}}
	v1only := Verifier{Secrets: []string{"s"}, Versions: []SignatureVersion{SignatureV1}}
	both := Verifier{Secrets: []string{"s"}, Versions: []SignatureVersion{SignatureV1, SignatureV3}}
	tests := []struct {
		name string
		v    Verifier
		sigs []Signature
		want error
	}{
		{"v3 good", v3only, []Signature{goodV3, goodV1}, nil},
		{"v3 bad, v1 not accepted", v3only, []Signature{badV3, goodV1}, ErrSignatureMismatch},
		{"v1 only accepted: the v3 header is ignored", v1only, []Signature{badV3, goodV1}, nil},
		{"either accepted", both, []Signature{badV3, goodV1}, nil},
		{"only v1 sent to a v3 receiver", v3only, []Signature{goodV1}, ErrSignatureVersion},
		{"nothing sent", v3only, nil, ErrSignatureMissing},
	}
	for _, tt := range tests {
		err := tt.v.VerifyAny(tt.sigs, method, uri, body, now)
		if (tt.want == nil) != (err == nil) || (tt.want != nil && !errors.Is(err, tt.want)) {
			t.Errorf("%s: %v, want %v", tt.name, err, tt.want)
		}
	}
}
