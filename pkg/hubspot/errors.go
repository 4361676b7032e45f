package hubspot

import (
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/crmsync/crmsync/pkg/crmsync"
)

// APIError is an error response of the HubSpot API (other than a rate
// limit, see RateLimitError). HubSpot's body looks like
//
//	{"status":"error","message":"…","correlationId":"…","category":"VALIDATION_ERROR",
//	 "subCategory":"…","errors":[{"message":"…","code":"INVALID_EMAIL","context":{…}}],"context":{…}}
//
// and every field is optional.
type APIError struct {
	// Status is the HTTP status (0 for an error inside a 207 result).
	Status int
	// Op names the operation ("batch create contacts").
	Op string
	// VendorCategory and SubCategory are HubSpot's "category" and
	// "subCategory" (e.g. VALIDATION_ERROR, CONFLICT, OBJECT_NOT_FOUND).
	VendorCategory string
	SubCategory    string
	CorrelationID  string
	Message        string
	// Details are HubSpot's "errors": per-field problems with codes.
	Details []ErrorDetail
	// Context is HubSpot's "context" (ids, objectWriteTraceId, …).
	Context map[string][]string
}

// ErrorDetail is one entry of an error's "errors".
type ErrorDetail struct {
	Message     string `json:"message"`
	Code        string `json:"code,omitempty"`
	In          string `json:"in,omitempty"`
	SubCategory string `json:"subCategory,omitempty"`
}

var _ crmsync.VendorError = (*APIError)(nil)

func (e *APIError) Error() string {
	var b strings.Builder
	b.WriteString("hubspot: ")
	if e.Op != "" {
		b.WriteString(e.Op)
		b.WriteString(": ")
	}
	if e.Status != 0 {
		fmt.Fprintf(&b, "%d ", e.Status)
	}
	if e.VendorCategory != "" {
		b.WriteString(e.VendorCategory)
		b.WriteString(" ")
	}
	if e.Message != "" {
		fmt.Fprintf(&b, "%q", truncate(e.Message, 300))
	}
	if e.CorrelationID != "" {
		fmt.Fprintf(&b, " (correlation id %s)", e.CorrelationID)
	}
	return strings.TrimRight(b.String(), " ")
}

// Transient reports whether the same request may succeed later: a 423
// Locked, a 5xx, or a rate-limit category.
func (e *APIError) Transient() bool {
	return e.Status == 423 || e.Status == 429 || e.Status >= 500 || e.VendorCategory == "RATE_LIMITS"
}

// Is makes errors.Is(err, crmsync.ErrNotFound) true for a 404 or an
// OBJECT_NOT_FOUND result.
func (e *APIError) Is(target error) bool {
	return target == crmsync.ErrNotFound && (e.Status == 404 || e.VendorCategory == "OBJECT_NOT_FOUND")
}

// Code is the most specific code HubSpot gave: the first detail's code,
// else the subcategory, else the category.
func (e *APIError) Code() string {
	for _, d := range e.Details {
		if d.Code != "" {
			return d.Code
		}
	}
	if e.SubCategory != "" {
		return e.SubCategory
	}
	return e.VendorCategory
}

// Category maps the error to the sync-health category it is counted under.
func (e *APIError) Category() crmsync.Category {
	text := strings.ToUpper(e.VendorCategory + " " + e.SubCategory + " " + e.Message)
	codes := ""
	for _, d := range e.Details {
		codes += " " + strings.ToUpper(d.Code+" "+d.SubCategory)
	}
	switch {
	case e.Status == 401 || e.Status == 403 || e.VendorCategory == "MISSING_SCOPES" ||
		e.VendorCategory == "INVALID_AUTHENTICATION" || strings.Contains(text, "PERMISSION"):
		return crmsync.CategoryPermissions
	case e.VendorCategory == "CONFLICT" || e.Status == 409 || strings.Contains(text+codes, "DUPLICATE") ||
		strings.Contains(text, "ALREADY EXISTS"):
		return crmsync.CategoryDuplicates
	case strings.Contains(text+codes, "ASSOCIATION"):
		return crmsync.CategoryAssociations
	case e.VendorCategory == "VALIDATION_ERROR" || strings.Contains(codes, "INVALID") ||
		strings.Contains(codes, "REQUIRED") || strings.Contains(text, "PROPERTY"):
		return crmsync.CategoryPropertyValues
	}
	return crmsync.CategoryOther
}

// RateLimitError is a 429. Policy is HubSpot's policyName: DAILY (the
// client does not retry; RetryAfter runs to the reset) or
// TEN_SECONDLY_ROLLING / SECONDLY (retried by the client until its
// retries run out).
type RateLimitError struct {
	Op            string
	Policy        string
	RetryAfter    time.Duration
	Message       string
	CorrelationID string
}

// Rate-limit policies HubSpot names in 429 bodies.
const (
	PolicyDaily           = "DAILY"
	PolicyTenSecondly     = "TEN_SECONDLY_ROLLING"
	PolicySecondly        = "SECONDLY"
	rateLimitCategoryCode = "RATE_LIMIT"
)

var _ crmsync.VendorError = (*RateLimitError)(nil)

func (e *RateLimitError) Error() string {
	s := fmt.Sprintf("hubspot: %s: rate limited (%s), retry after %s", e.Op, e.Policy, e.RetryAfter.Round(time.Millisecond))
	if e.CorrelationID != "" {
		s += " (correlation id " + e.CorrelationID + ")"
	}
	return s
}

// Transient is true: the request succeeds after RetryAfter.
func (e *RateLimitError) Transient() bool { return true }

// Daily reports whether the daily allowance is spent.
func (e *RateLimitError) Daily() bool { return e.Policy == PolicyDaily }

// Category is Other: a rate limit is not a problem with the record.
func (e *RateLimitError) Category() crmsync.Category { return crmsync.CategoryOther }

// Code is "RATE_LIMIT".
func (e *RateLimitError) Code() string { return rateLimitCategoryCode }

// Is matches crmsync.ErrBudget when the daily allowance is spent.
func (e *RateLimitError) Is(target error) bool { return target == crmsync.ErrBudget && e.Daily() }

// ErrNoResult: a batch answered without a result or an error for an input.
var ErrNoResult = errors.New("no result for this input")

// BatchError reports the inputs of a batch call that failed; the others
// succeeded. Each failed item's own error is in its BatchItem.
type BatchError struct {
	Op     string
	Failed int
	Total  int
}

func (e *BatchError) Error() string {
	return fmt.Sprintf("hubspot: %s: %d of %d inputs failed", e.Op, e.Failed, e.Total)
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "…"
}
