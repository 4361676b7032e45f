package engine

import (
	"time"

	"github.com/crmsync/crmsync/pkg/crmsync"
)

// nextSyncError is the sync error to store when a resolution fails with
// se and the record's previous error was prev (nil: none). Attempts count
// failed retries, not deliveries: the same failure again before its retry
// is due (the other webhooks of one change, a duplicate outbound message)
// keeps the attempts and the schedule; a new failure, or one at or after
// its retry time, counts one more attempt and is scheduled per rs. First
// seen is kept across attempts. Pure.
func nextSyncError(prev *crmsync.SyncError, se crmsync.SyncError, rs crmsync.RetrySettings, now time.Time) crmsync.SyncError {
	se.FirstSeen, se.LastSeen, se.Attempts = now, now, 1
	if prev != nil {
		se.FirstSeen = prev.FirstSeen
		same := prev.Category == se.Category && prev.Code == se.Code && prev.Reason == se.Reason
		if same && now.Before(prev.NextRetry) {
			se.Attempts, se.NextRetry = prev.Attempts, prev.NextRetry
			return se
		}
		se.Attempts = prev.Attempts + 1
	}
	se.NextRetry = nextRetry(rs, se.Attempts, now)
	return se
}

// nextRetry is when an errored record is retried: every Interval up to
// MaxAttempts, then every ThenEvery.
func nextRetry(rs crmsync.RetrySettings, attempts int, now time.Time) time.Time {
	if attempts <= rs.MaxAttempts {
		return now.Add(rs.Interval)
	}
	return now.Add(rs.ThenEvery)
}
