package salesforce

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/crmsync/crmsync/pkg/crmsync"
)

// Salesforce error codes crmsync treats specially. Top-level errors carry
// them as errorCode, per-record results as statusCode.
const (
	CodeUnableToLockRow            = "UNABLE_TO_LOCK_ROW"
	CodeAllOrNoneRolledBack        = "ALL_OR_NONE_OPERATION_ROLLED_BACK"
	CodeRequestLimitExceeded       = "REQUEST_LIMIT_EXCEEDED"
	CodeInvalidSessionID           = "INVALID_SESSION_ID"
	CodeDuplicatesDetected         = "DUPLICATES_DETECTED"
	CodeDuplicateExternalID        = "DUPLICATE_EXTERNAL_ID"
	CodeNotFound                   = "NOT_FOUND"
	CodeEntityIsDeleted            = "ENTITY_IS_DELETED"
	CodeCustomValidation           = "FIELD_CUSTOM_VALIDATION_EXCEPTION"
	CodeRequiredFieldMissing       = "REQUIRED_FIELD_MISSING"
	CodeRestrictedPicklist         = "INVALID_OR_NULL_FOR_RESTRICTED_PICKLIST"
	CodeStringTooLong              = "STRING_TOO_LONG"
	CodeInvalidEmailAddress        = "INVALID_EMAIL_ADDRESS"
	CodeFieldIntegrity             = "FIELD_INTEGRITY_EXCEPTION"
	CodeInsufficientAccess         = "INSUFFICIENT_ACCESS_OR_READONLY"
	CodeInsufficientAccessCrossRef = "INSUFFICIENT_ACCESS_ON_CROSS_REFERENCE_ENTITY"
	CodeInvalidCrossReferenceKey   = "INVALID_CROSS_REFERENCE_KEY"
	CodeInvalidReplicationDate     = "INVALID_REPLICATION_DATE"
	CodeReadOnlyField              = "INVALID_FIELD_FOR_INSERT_UPDATE"
	CodeDuplicateValue             = "DUPLICATE_VALUE"
	CodeConvertedLead              = "CANNOT_UPDATE_CONVERTED_LEAD"
	CodeMalformedID                = "MALFORMED_ID"
)

// ErrRequestLimitExceeded is matched (errors.Is) by an error whose code is
// REQUEST_LIMIT_EXCEEDED: the org's API allocation is spent. It is not
// transient — retrying soon only fails again — and not a record's fault:
// callers stop calling until the API budget allows.
var ErrRequestLimitExceeded = errors.New("salesforce: request limit exceeded")

var codeCategory = map[string]crmsync.Category{
	CodeCustomValidation:           crmsync.CategoryCustomCode,
	CodeRequiredFieldMissing:       crmsync.CategoryPropertyValues,
	CodeRestrictedPicklist:         crmsync.CategoryPropertyValues,
	CodeStringTooLong:              crmsync.CategoryPropertyValues,
	CodeInvalidEmailAddress:        crmsync.CategoryPropertyValues,
	CodeFieldIntegrity:             crmsync.CategoryPropertyValues,
	CodeDuplicatesDetected:         crmsync.CategoryDuplicates,
	CodeDuplicateExternalID:        crmsync.CategoryDuplicates,
	CodeDuplicateValue:             crmsync.CategoryDuplicates,
	CodeInsufficientAccess:         crmsync.CategoryPermissions,
	CodeInsufficientAccessCrossRef: crmsync.CategoryPermissions,
	CodeEntityIsDeleted:            crmsync.CategoryPermissions,
	CodeNotFound:                   crmsync.CategoryPermissions,
	CodeInvalidCrossReferenceKey:   crmsync.CategoryAssociations,
	CodeReadOnlyField:              crmsync.CategoryPermissions,
	CodeConvertedLead:              crmsync.CategoryAssociations,
	CodeMalformedID:                crmsync.CategoryAssociations,
}

// CategoryOf returns the sync-error category of a Salesforce error code;
// codes crmsync does not know are CategoryOther (shown, never dropped).
func CategoryOf(code string) crmsync.Category {
	if c, ok := codeCategory[code]; ok {
		return c
	}
	return crmsync.CategoryOther
}

var codeHint = map[string]string{
	CodeDuplicatesDetected:   "a Salesforce duplicate rule blocked the write: merge the records or allow the save in the rule",
	CodeCustomValidation:     "a Salesforce validation rule rejected the values: fix the record or relax the rule",
	CodeRequiredFieldMissing: "fill in the required field on the source record, or map a field to it",
	CodeInvalidEmailAddress:  "correct the email address on the source record",
	CodeRestrictedPicklist:   "the value is not in the Salesforce picklist: add it there, or map the value",
	CodeStringTooLong:        "shorten the value on the source record, or lengthen the Salesforce field",
	CodeDuplicateValue: "a unique Salesforce field already has this value on another record (an external id; " +
		"for a campaign member, the lead or contact already is one): merge the records or clear the value",
	CodeFieldIntegrity: "a value does not fit the field: a lookup points at the wrong kind of record (a task's " +
		"Name is a lead or contact, its Related To an account, opportunity or campaign, and a task of a lead " +
		"is related to nothing), or a state does not belong to its country: fix the value or the mapping",
	CodeInvalidCrossReferenceKey: "the record a lookup points at does not exist in Salesforce (deleted, merged, " +
		"or from another org), or the owner is an inactive user: sync or restore that record, or clear the lookup",
	CodeConvertedLead: "the lead was converted in Salesforce: write to the contact it became (its tasks and " +
		"campaign memberships belong there), then resync",
	CodeMalformedID:         "a lookup holds something that is not a Salesforce id: correct the linked id",
	CodeReadOnlyField:       "the field is read-only to the integration user (a formula, a system field, or one that is createable but not updateable such as Task.TaskSubtype): remove it from the mapping",
	CodeUnknownMemberStatus: "add the member status to the Salesforce campaign (Campaign > Member Statuses), or set a status the campaign has in crmsync's activity settings",
}

// HintOf says what a person can do about a Salesforce error code; "" for
// codes without a specific hint (the category's hint applies).
func HintOf(code string) string { return codeHint[code] }

// transientCode reports whether an error with this code may succeed when
// retried unchanged.
func transientCode(code string) bool {
	return code == CodeUnableToLockRow || code == CodeAllOrNoneRolledBack
}

// ErrorItem is one entry of a top-level REST error body.
type ErrorItem struct {
	ErrorCode string   `json:"errorCode"`
	Message   string   `json:"message"`
	Fields    []string `json:"fields,omitempty"`
	// MatchedIDs are the existing records a DUPLICATES_DETECTED error
	// matched (from its duplicateResult), or the records a
	// DUPLICATE_EXTERNAL_ID upsert matched.
	MatchedIDs []string `json:"-"`
}

// APIError is a REST call answered with an error status. Errors holds the
// body's [{errorCode, message, fields}] (a bare object is accepted too);
// it is empty when the body was not JSON.
type APIError struct {
	StatusCode int
	Method     string
	// Path is the request path without the query (which may hold data).
	Path   string
	Errors []ErrorItem
	// RetryAfter is the wait the server asked for (Retry-After), or 0.
	RetryAfter time.Duration
}

func (e *APIError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "salesforce: %s %s: %d", e.Method, e.Path, e.StatusCode)
	for i, it := range e.Errors {
		if i == 3 {
			fmt.Fprintf(&b, " (and %d more)", len(e.Errors)-3)
			break
		}
		fmt.Fprintf(&b, " %s: %s%s", it.ErrorCode, it.Message, fieldList(it.Message, it.Fields))
	}
	return b.String()
}

// Code returns the first error code ("" when the body had none).
func (e *APIError) Code() string {
	if len(e.Errors) == 0 {
		return ""
	}
	return e.Errors[0].ErrorCode
}

// Transient reports whether retrying unchanged may succeed: 5xx, 429 and
// the transient codes (UNABLE_TO_LOCK_ROW, ALL_OR_NONE_OPERATION_ROLLED_BACK).
// REQUEST_LIMIT_EXCEEDED is not transient; see ErrRequestLimitExceeded.
func (e *APIError) Transient() bool {
	if e.Code() == CodeRequestLimitExceeded {
		return false
	}
	return e.StatusCode >= 500 || e.StatusCode == http.StatusTooManyRequests || transientCode(e.Code())
}

// Category is the sync-error category of the first error code.
func (e *APIError) Category() crmsync.Category { return CategoryOf(e.Code()) }

// Hint says what a person can do about the first error code.
func (e *APIError) Hint() string { return HintOf(e.Code()) }

// MatchedIDs returns the records a duplicate error matched.
func (e *APIError) MatchedIDs() []string {
	var ids []string
	for _, it := range e.Errors {
		ids = append(ids, it.MatchedIDs...)
	}
	return ids
}

// Is matches ErrRequestLimitExceeded for REQUEST_LIMIT_EXCEEDED and
// crmsync.ErrNotFound for 404 / NOT_FOUND / ENTITY_IS_DELETED.
func (e *APIError) Is(target error) bool {
	switch target {
	case ErrRequestLimitExceeded, crmsync.ErrBudget:
		return e.Code() == CodeRequestLimitExceeded
	case crmsync.ErrNotFound:
		c := e.Code()
		return e.StatusCode == http.StatusNotFound || c == CodeNotFound || c == CodeEntityIsDeleted
	}
	return false
}

// RecordError is the failure of one record in a collection (or composite)
// result: {statusCode, message, fields}.
type RecordError struct {
	StatusCode string   `json:"statusCode"`
	Message    string   `json:"message"`
	Fields     []string `json:"fields,omitempty"`
	// MatchedIDs: see ErrorItem.MatchedIDs.
	MatchedIDs []string `json:"-"`
}

func (e *RecordError) Error() string {
	return "salesforce: " + e.StatusCode + ": " + e.Message + fieldList(e.Message, e.Fields)
}

// fieldList is " [A, B]" for an error's fields, or "" when there are none
// or the message already lists them (REQUIRED_FIELD_MISSING messages say
// "Required fields are missing: [LastName]").
func fieldList(message string, fields []string) string {
	list := "[" + strings.Join(fields, ", ") + "]"
	if len(fields) == 0 || strings.Contains(message, list) {
		return ""
	}
	return " " + list
}

// Transient reports whether the record may succeed when sent again
// unchanged (UNABLE_TO_LOCK_ROW; ALL_OR_NONE_OPERATION_ROLLED_BACK, which
// says another record failed).
func (e *RecordError) Transient() bool { return transientCode(e.StatusCode) }

// Category is the sync-error category of the code.
func (e *RecordError) Category() crmsync.Category { return CategoryOf(e.StatusCode) }

// Code is the Salesforce status code.
func (e *RecordError) Code() string { return e.StatusCode }

// Hint says what a person can do about the code.
func (e *RecordError) Hint() string { return HintOf(e.StatusCode) }

var (
	_ crmsync.VendorError = (*APIError)(nil)
	_ crmsync.VendorError = (*RecordError)(nil)
	_ crmsync.VendorError = (*AuthError)(nil)
)

// Is matches crmsync.ErrNotFound for NOT_FOUND / ENTITY_IS_DELETED and
// ErrRequestLimitExceeded for REQUEST_LIMIT_EXCEEDED.
func (e *RecordError) Is(target error) bool {
	switch target {
	case crmsync.ErrNotFound:
		return e.StatusCode == CodeNotFound || e.StatusCode == CodeEntityIsDeleted
	case ErrRequestLimitExceeded, crmsync.ErrBudget:
		return e.StatusCode == CodeRequestLimitExceeded
	}
	return false
}

// TransportError is a call that got no HTTP answer (timeout, connection
// reset). It is transient unless the caller's context was canceled.
type TransportError struct {
	Method string
	Path   string
	Err    error
}

func (e *TransportError) Error() string {
	return fmt.Sprintf("salesforce: %s %s: %v", e.Method, e.Path, e.Err)
}

func (e *TransportError) Unwrap() error { return e.Err }

// Transient reports whether the call may succeed if retried.
func (e *TransportError) Transient() bool { return !errors.Is(e.Err, context.Canceled) }

// wireError is one error as Salesforce sends it, in either key spelling,
// with an optional duplicateResult.
type wireError struct {
	ErrorCode       string   `json:"errorCode"`
	StatusCode      string   `json:"statusCode"`
	Message         string   `json:"message"`
	Fields          []string `json:"fields"`
	DuplicateResult *struct {
		MatchResults []struct {
			MatchRecords []struct {
				Record struct {
					ID string `json:"Id"`
				} `json:"record"`
			} `json:"matchRecords"`
		} `json:"matchResults"`
	} `json:"duplicateResult"`
}

func (w wireError) code() string {
	if w.ErrorCode != "" {
		return w.ErrorCode
	}
	return w.StatusCode
}

func (w wireError) matchedIDs() []string {
	if w.DuplicateResult == nil {
		return nil
	}
	var ids []string
	for _, mr := range w.DuplicateResult.MatchResults {
		for _, r := range mr.MatchRecords {
			if r.Record.ID != "" {
				ids = append(ids, r.Record.ID)
			}
		}
	}
	return ids
}

func (w wireError) recordError() *RecordError {
	return &RecordError{StatusCode: w.code(), Message: w.Message, Fields: w.Fields, MatchedIDs: w.matchedIDs()}
}

// parseErrorBody reads a top-level error body: an array of errors, or one
// bare error object. Anything else yields no items.
func parseErrorBody(body []byte) []ErrorItem {
	var list []wireError
	if err := json.Unmarshal(body, &list); err != nil {
		var one wireError
		if err := json.Unmarshal(body, &one); err != nil || one.code() == "" {
			return nil
		}
		list = []wireError{one}
	}
	items := make([]ErrorItem, 0, len(list))
	for _, w := range list {
		items = append(items, ErrorItem{ErrorCode: w.code(), Message: w.Message, Fields: w.Fields, MatchedIDs: w.matchedIDs()})
	}
	return items
}
