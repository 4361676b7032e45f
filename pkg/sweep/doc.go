// Package sweep finds what webhooks and outbound messages missed and puts
// it on the trigger queue: records changed since a cursor on each side,
// deleted records, errored records due for retry, and linked pairs that
// drifted from their shadow. It only enqueues; the engine decides (and
// drops echoes and repeats). functions/sweep runs it every 15 minutes and
// `crmsync local` on a ticker.
//
// Decisions:
//
//   - One sweep at a time: [Sweeper.Run] takes the Store lease "sweep"
//     (crmsync.Store.AcquireLease) for Budget plus a minute, and a run that
//     finds it held returns at once with Report.Skipped. The lease is
//     released at the end with the drift position as its checkpoint; a run
//     that dies leaves it to expire.
//   - Lag, not re-scan: a run reads changes only up to now − Lag (2
//     minutes by default) and stores its cursor no later than that. A
//     record committed late (its modification time earlier than the moment
//     it became visible, as with long Salesforce transactions or HubSpot's
//     search index) is therefore read by a later run as long as it became
//     visible within Lag, which is what re-scanning the last Lag would
//     catch too — but no change is read twice, so no overlap has to be
//     deduplicated and nothing needs remembering per record. Changes reach
//     the queue at most Lag later; webhooks carry the real-time path.
//   - Ties: the cursor is (time, last id) and sources resume at records of
//     that time with a later id (keyset paging, never offsets), so any
//     number of records on one timestamp is read exactly once, across
//     budget stops too.
//   - Dedupe keys: a change trigger's key is (side, object, id, modified
//     time), so a change enqueued twice (a run that enqueued but died before
//     storing its cursor) is dropped by the queue within its window and by
//     the engine's dedupe keys (25 h), while a new change always has a new
//     key. Deletions key on the deletion time; retries on the error's first
//     seen time and attempt count; drift on the link version and both
//     sides' modification times.
//   - The cursor is stored after the Send of its batch succeeded, never
//     before: a failed Send leaves the cursor at the last batch that was
//     enqueued. Batches are BatchSize triggers (one Send and one cursor
//     write each).
//   - Budget: a run stops starting work once Budget has passed (by Now) or
//     when ctx's deadline is less than DeadlineMargin away, and the next
//     run resumes from the cursors. Retries go first (few, and they are
//     people's errors), then each side's objects, then drift.
//   - Deletes: a Source that is also [Deletions] is asked for the deletions
//     between the stored cursor and now − Lag before the changes, each run;
//     deletions therefore have no cursor of their own and an overlap is
//     re-read after a budget stop (the dedupe keys drop repeats). When the
//     cursor is older than what the vendor keeps (Salesforce getDeleted:
//     15 days), Report.BehindDeletedWindow is set — alarm-worthy: deletes
//     were missed. A side or object without a cursor yet is not asked for
//     deletions (nothing of it was synced).
//   - First run: a side and object without a cursor starts at StartAt (the
//     zero time by default: every record, the initial sync, paced by the
//     budget over as many runs as it takes).
//   - Drift: DriftLimit links per run (200 by default) in ListLinks order
//     from the position stored in the lease's checkpoint, wrapping at the
//     end. Both records of an active link are re-read through the CRM ports
//     and merged against the shadow as the engine would (package mapping);
//     a pair the merge would write to has drifted and gets one KindSweep
//     trigger. Sides that agree with each other but not with the shadow are
//     not drift (there is nothing to write). Each checked link costs one
//     read on each side: at 200 per run and 96 runs a day that is 19 200
//     Salesforce calls a day; lower DriftLimit for small API allocations.
//     A pending link (a creation's reservation) past engine.PendingLease in
//     the same slice had its worker die mid-creation: its source is
//     enqueued again (Report.Drift.Stale), so the creation completes.
//   - Errors: a failure on one side or object is recorded in the Report and
//     the run goes on with the others; Run returns them joined. Nothing is
//     logged per record; Run logs one summary line.
package sweep
