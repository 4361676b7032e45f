package crmsync

import (
	"errors"
)

// ErrBudget is matched (errors.Is) by errors that say an API allocation
// is spent — Salesforce's REQUEST_LIMIT_EXCEEDED, HubSpot's daily limit,
// crmsync's own budget stop. Such work waits (through the queue's
// back-off) until the window allows; it is never the record's fault.
var ErrBudget = errors.New("API budget spent")

// ErrorClass says what to do about a failure.
type ErrorClass string

// Error classes.
const (
	// ClassTransient: retry unchanged later (429, 5xx, UNABLE_TO_LOCK_ROW,
	// timeouts, a version conflict, a creation in progress elsewhere).
	ClassTransient ErrorClass = "transient"
	// ClassBudget: an API allocation is spent; retry after the window
	// moves. Not a record's fault, never a sync error.
	ClassBudget ErrorClass = "budget"
	// ClassTerminal: retrying unchanged will not help; the record gets a
	// sync error a person can see, with Category, Code and Hint.
	ClassTerminal ErrorClass = "terminal"
	// ClassUnknown: the error says neither. It is handled as transient —
	// retried with back-off, then dead-lettered, where an alarm sees it —
	// because dropping work on an error nobody understood loses data.
	ClassUnknown ErrorClass = "unknown"
)

// Retry reports whether work failing with this class is retried as it is.
func (c ErrorClass) Retry() bool { return c != ClassTerminal }

// Classified is an error's class and, for terminal ones, what a sync
// error shows.
type Classified struct {
	Class    ErrorClass
	Category Category
	Code     string
	Hint     string
}

// Hinter is implemented by vendor errors that know what a person can do
// about them (from the vendor's code).
type Hinter interface {
	Hint() string
}

// Classify is the one place that decides whether an error is retried.
// In order: ErrBudget → budget; Transient() → transient; a VendorError →
// terminal with its category (unknown categories count as Other), code
// and hint (the error's own Hint, else the category's); ErrInvalid (a
// value the client could not put on the wire) → terminal Property values,
// code INVALID_VALUE; anything else → unknown.
func Classify(err error) Classified {
	if errors.Is(err, ErrBudget) {
		return Classified{Class: ClassBudget}
	}
	if IsTransient(err) {
		return Classified{Class: ClassTransient}
	}
	var v VendorError
	if errors.As(err, &v) {
		c := Classified{Class: ClassTerminal, Category: v.Category(), Code: v.Code()}
		if !c.Category.Valid() {
			c.Category = CategoryOther
		}
		var h Hinter
		if errors.As(err, &h) {
			c.Hint = h.Hint()
		}
		if c.Hint == "" {
			c.Hint = c.Category.Hint()
		}
		return c
	}
	if errors.Is(err, ErrInvalid) {
		return Classified{Class: ClassTerminal, Category: CategoryPropertyValues, Code: "INVALID_VALUE",
			Hint: CategoryPropertyValues.Hint()}
	}
	return Classified{Class: ClassUnknown}
}

var categoryHint = map[Category]string{
	CategoryPropertyValues: "correct the value on the source record, or change the field mapping",
	CategoryPermissions:    "give the integration user access to the record or field",
	CategoryDuplicates:     "merge the duplicate records, then resync",
	CategoryAssociations:   "sync the associated record first, or remove the association",
	CategoryCustomCode:     "a trigger, flow or validation rule rejected the write: check its message",
	CategoryOther:          "see the vendor's message; resync the record once it is fixed",
}

// Hint is what a person can do about an error of category c when the
// vendor's code says nothing more specific.
func (c Category) Hint() string {
	if h, ok := categoryHint[c]; ok {
		return h
	}
	return categoryHint[CategoryOther]
}
