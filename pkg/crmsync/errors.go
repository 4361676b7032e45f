package crmsync

import "errors"

// Sentinel errors shared by every port implementation. Adapters wrap them
// (fmt.Errorf("…: %w", ErrNotFound)); callers branch with errors.Is.
var (
	// ErrNotFound: the item does not exist (never reported as a nil value).
	ErrNotFound = errors.New("not found")
	// ErrConflict: a create would break a uniqueness guarantee, e.g. a
	// record id that is already linked.
	ErrConflict = errors.New("conflict")
	// ErrVersionConflict: an optimistic-concurrency check failed; re-read
	// and try again.
	ErrVersionConflict = errors.New("version conflict")
	// ErrInvalid: the input failed validation.
	ErrInvalid = errors.New("invalid")
	// ErrUnknownVersion: an encoded value carries a schema version this
	// build does not understand.
	ErrUnknownVersion = errors.New("unknown encoding version")
)

// IsTransient reports whether err (or any error it wraps) says it is
// transient — worth retrying unchanged later — through a
// Transient() bool method. Errors that do not say so are terminal.
func IsTransient(err error) bool {
	var t interface{ Transient() bool }
	return errors.As(err, &t) && t.Transient()
}
