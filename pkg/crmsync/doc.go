// Package crmsync is the domain of crmsync, a two-way sync between a HubSpot
// portal and a Salesforce org.
//
// It holds the types every other package speaks — [Side], [ObjectType],
// [Trigger], [Record], [Link], [Settings], [SyncError] — and the small ports
// the engine consumes: [Store] (settings, links, dedupe keys, cursors, sync
// errors, API usage, ledger) and [Queue] (the trigger queue). Technologies
// live in their own packages (ddbstore, boltstore, sqsqueue, localqueue,
// hubspot, salesforce); this package imports none of them.
//
// Decisions recorded here:
//
//   - A record is addressed by a [RecordRef]: side, object type and the
//     vendor's id. HubSpot ids are unique per object type only, so the
//     object type is always part of the address; Salesforce ids are kept as
//     the vendor sent them (15 or 18 characters are not normalised here).
//   - The queue's message group is the source record ([Trigger.GroupKey]):
//     receivers are thin and cannot look links up, so work on one record is
//     serialised per source record, and the Store's conditional link writes
//     make a duplicate link impossible across groups.
//   - A [Link] may be created with one side empty (a reservation) before the
//     record on the other side exists; [Store.UpdateLink] fills it in. Both
//     writes are conditional on neither id being linked elsewhere, which is
//     what makes two concurrent creations produce one record.
//   - Eligibility refusals are [SyncError]s with a [Reason]; every reason has
//     a fixed [Category] (see [Reason.Category]) so the health page can count
//     them with vendor errors.
package crmsync
