package hubspot

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// SignatureVersion is a version of HubSpot's request signature.
type SignatureVersion string

// Signature versions. V3 is the only one that binds a timestamp (and so
// resists replay); V1 and V2 are accepted only when a Verifier lists them.
const (
	SignatureV1 SignatureVersion = "v1"
	SignatureV2 SignatureVersion = "v2"
	SignatureV3 SignatureVersion = "v3"
)

// Request headers HubSpot signs with.
const (
	HeaderSignature        = "X-HubSpot-Signature"
	HeaderSignatureVersion = "X-HubSpot-Signature-Version"
	HeaderSignatureV3      = "X-HubSpot-Signature-v3"
	HeaderRequestTimestamp = "X-HubSpot-Request-Timestamp"
)

// DefaultMaxSignatureAge is how old (or how far in the future) a v3
// timestamp may be: HubSpot's documented five minutes.
const DefaultMaxSignatureAge = 5 * time.Minute

// Sentinel errors of signature verification; Verify wraps exactly one.
var (
	// ErrSignatureMissing: no signature header of an accepted version.
	ErrSignatureMissing = errors.New("signature missing")
	// ErrSignatureVersion: the signature is of a version not accepted.
	ErrSignatureVersion = errors.New("signature version not accepted")
	// ErrSignatureExpired: the v3 timestamp is missing, malformed or
	// outside the allowed window.
	ErrSignatureExpired = errors.New("signature timestamp not acceptable")
	// ErrSignatureMismatch: the signature does not match any secret.
	ErrSignatureMismatch = errors.New("signature mismatch")
)

// Signature is what a request carries to prove HubSpot sent it.
type Signature struct {
	Version SignatureVersion
	// Value is the header value: base64 for v3, hex for v1 and v2.
	Value string
	// Timestamp is X-HubSpot-Request-Timestamp (milliseconds since the
	// epoch, as a decimal string), used by v3 only.
	Timestamp string
}

// SignaturesFromHeaders returns the signatures a request carries, v3
// first (HubSpot sends a v1 or v2 X-HubSpot-Signature beside it); get
// looks a header up case-insensitively.
func SignaturesFromHeaders(get func(name string) string) []Signature {
	var out []Signature
	if v := get(HeaderSignatureV3); v != "" {
		out = append(out, Signature{Version: SignatureV3, Value: v, Timestamp: get(HeaderRequestTimestamp)})
	}
	if v := get(HeaderSignature); v != "" {
		ver := SignatureVersion(strings.ToLower(get(HeaderSignatureVersion)))
		if ver == "" {
			ver = SignatureV1
		}
		out = append(out, Signature{Version: ver, Value: v})
	}
	return out
}

// VerifyAny accepts the request when one of sigs of an accepted version
// verifies. Errors are as for Verify: ErrSignatureMissing without any
// signature, ErrSignatureVersion when none is of an accepted version, else
// the first accepted signature's error.
func (v *Verifier) VerifyAny(sigs []Signature, method, uri string, body []byte, now time.Time) error {
	var first error
	for _, sig := range sigs {
		if !v.accepts(sig.Version) {
			continue
		}
		err := v.Verify(sig, method, uri, body, now)
		if err == nil {
			return nil
		}
		if first == nil {
			first = err
		}
	}
	switch {
	case first != nil:
		return first
	case len(sigs) == 0:
		return fmt.Errorf("hubspot: verify: %w", ErrSignatureMissing)
	}
	return fmt.Errorf("hubspot: verify %q: %w", sigs[0].Version, ErrSignatureVersion)
}

// Verifier checks HubSpot request signatures. Several secrets may be valid
// at once, so an app secret can be rotated without rejecting deliveries.
// The zero Verifier accepts nothing.
type Verifier struct {
	// Secrets are the app's client secrets; a signature made with any of
	// them is accepted.
	Secrets []string
	// Versions lists the accepted versions; nil means v3 only.
	Versions []SignatureVersion
	// MaxAge bounds |now − timestamp| for v3; 0 means DefaultMaxSignatureAge.
	MaxAge time.Duration
}

func (v *Verifier) accepts(ver SignatureVersion) bool {
	if len(v.Versions) == 0 {
		return ver == SignatureV3
	}
	for _, a := range v.Versions {
		if a == ver {
			return true
		}
	}
	return false
}

// Verify checks sig over method, uri (as HubSpot signed it, see SignedURI)
// and the raw body at time now. It returns nil or an error wrapping one of
// ErrSignatureMissing, ErrSignatureVersion, ErrSignatureExpired and
// ErrSignatureMismatch. Comparisons are constant-time.
func (v *Verifier) Verify(sig Signature, method, uri string, body []byte, now time.Time) error {
	if sig.Value == "" {
		return fmt.Errorf("hubspot: verify: %w", ErrSignatureMissing)
	}
	if !v.accepts(sig.Version) {
		return fmt.Errorf("hubspot: verify %q: %w", sig.Version, ErrSignatureVersion)
	}
	if sig.Version == SignatureV3 {
		if err := v.checkTimestamp(sig.Timestamp, now); err != nil {
			return fmt.Errorf("hubspot: verify: %w", err)
		}
	}
	given := []byte(sig.Value)
	for _, secret := range v.Secrets {
		if secret == "" {
			continue
		}
		var want string
		switch sig.Version {
		case SignatureV1:
			want = SignV1(secret, body)
		case SignatureV2:
			want = SignV2(secret, method, uri, body)
		case SignatureV3:
			want = SignV3(secret, method, uri, body, sig.Timestamp)
		}
		if hmac.Equal([]byte(want), given) {
			return nil
		}
	}
	return fmt.Errorf("hubspot: verify %s: %w", sig.Version, ErrSignatureMismatch)
}

func (v *Verifier) checkTimestamp(ts string, now time.Time) error {
	ms, err := strconv.ParseInt(ts, 10, 64)
	if err != nil || ms <= 0 {
		return fmt.Errorf("%w: %q is not a millisecond timestamp", ErrSignatureExpired, ts)
	}
	maxAge := v.MaxAge
	if maxAge <= 0 {
		maxAge = DefaultMaxSignatureAge
	}
	age := now.Sub(time.UnixMilli(ms))
	if age > maxAge || age < -maxAge {
		return fmt.Errorf("%w: timestamp %d is %s away from now", ErrSignatureExpired, ms, age.Round(time.Second))
	}
	return nil
}

// SignV3 returns base64(HMAC-SHA256(secret, method + uri + body +
// timestamp)), HubSpot's v3 signature.
func SignV3(secret, method, uri string, body []byte, timestamp string) string {
	m := hmac.New(sha256.New, []byte(secret))
	m.Write([]byte(method))
	m.Write([]byte(uri))
	m.Write(body)
	m.Write([]byte(timestamp))
	return base64.StdEncoding.EncodeToString(m.Sum(nil))
}

// SignV2 returns hex(SHA-256(secret + method + uri + body)), HubSpot's v2
// signature.
func SignV2(secret, method, uri string, body []byte) string {
	h := sha256.New()
	h.Write([]byte(secret))
	h.Write([]byte(method))
	h.Write([]byte(uri))
	h.Write(body)
	return hex.EncodeToString(h.Sum(nil))
}

// SignV1 returns hex(SHA-256(secret + body)), HubSpot's v1 signature.
func SignV1(secret string, body []byte) string {
	h := sha256.New()
	h.Write([]byte(secret))
	h.Write(body)
	return hex.EncodeToString(h.Sum(nil))
}

// SignedURI rebuilds the URI HubSpot signed from what API Gateway HTTP APIs
// and Lambda Function URLs report: "https://" + domain + rawPath, then "?"
// + rawQuery when not empty, with DecodeSignedURI applied.
func SignedURI(domain, rawPath, rawQuery string) string {
	u := "https://" + domain + rawPath
	if rawQuery != "" {
		u += "?" + rawQuery
	}
	return DecodeSignedURI(u)
}

// decodedEscapes are the escapes HubSpot's request-validation docs list as
// decoded before signing. Others (%20, %26, %3D, %25, …) stay encoded.
var decodedEscapes = map[string]byte{
	"3A": ':', "2F": '/', "3F": '?', "40": '@', "21": '!', "24": '$',
	"27": '\'', "28": '(', "29": ')', "2A": '*', "2C": ',', "3B": ';',
}

// DecodeSignedURI decodes, in one left-to-right pass, the percent-escapes
// HubSpot decodes before it signs a v3 request: %3A %2F %3F %40 %21 %24 %27
// %28 %29 %2A %2C %3B (hex digits in either case). A literal "?" is left as
// it is; everything else is kept byte for byte.
func DecodeSignedURI(uri string) string {
	if !strings.Contains(uri, "%") {
		return uri
	}
	var b strings.Builder
	b.Grow(len(uri))
	for i := 0; i < len(uri); i++ {
		if uri[i] == '%' && i+2 < len(uri) {
			if c, ok := decodedEscapes[strings.ToUpper(uri[i+1:i+3])]; ok {
				b.WriteByte(c)
				i += 2
				continue
			}
		}
		b.WriteByte(uri[i])
	}
	return b.String()
}
