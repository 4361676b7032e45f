// Package engine resolves triggers: it is the heart of crmsync's worker.
//
// Every trigger — alone ([Engine.Resolve]) or in a queue batch
// ([Engine.ResolveBatch]) — takes one path in three steps:
//
//  1. read (read.go, associations.go): the gate drops repeats through the
//     store's dedupe keys (TTL 25 h, longer than both vendors' retry
//     windows) and skips what the settings do not sync (recorded in the
//     ledger); then the link, the source record (re-read: a trigger's
//     values are only hints), the inclusion list, the linked record or the
//     identity match (contacts by email, a new HubSpot company by the
//     Account of its synced contacts), the field metadata, the
//     association and the owners' user ids are read into facts. Linked
//     pairs of a batch are read with batch calls. Reading stops as soon as
//     what was read decides the trigger.
//  2. decide (decide.go, gone.go): a pure function from facts to a Plan —
//     eligibility (email, inclusion list, the lead/contact inbound
//     setting), a reservation held elsewhere, identity (link, adopt a
//     match, refuse a match linked to another record, create), the
//     three-way merge against the link's shadow (package mapping) with the
//     values converted between the CRMs' types, owners by email, the
//     associations as a synthetic two-way field, deletes and merges. The
//     plan holds the writes per side, the next link and shadow, the
//     ledger entry (with every refusal and its rule) and the sync error to
//     set or clear. The sweep's drift check asks the same decision
//     ([Engine.CheckDrift]).
//  3. apply (apply.go): claim a stale reservation, reserve the source id
//     before a create (so two concurrent triggers for one new record create
//     one record), create or adopt, write the updates (batch calls across
//     a batch), set the company, mirror a delete, store the link (only when
//     it changed: a resolution that writes nothing keeps the link's
//     version), append the ledger entry and set or clear the sync error.
//
// Errors: ResolveBatch reports a non-nil error for a trigger only when it
// should be retried unchanged. Whether a failure is retried is decided in
// one place, [crmsync.Classify]: transient and budget failures are
// retried, terminal vendor errors become a [crmsync.SyncError] with the
// vendor's category, code and the hint the vendor error carries, and
// errors that say neither are retried (then dead-lettered, where an alarm
// sees them). The engine holds no vendor codes.
//
// Refusals are data: a field rule holding a change back (decision
// "refused", the ledger lists the field, its rule and both values), an
// eligibility refusal (a sync error with its reason), a skip (the ledger
// says which setting). Attempts count failed retries, not deliveries: the
// same failure again before its retry is due keeps the record's schedule.
//
// This package lives beside the domain (rather than inside pkg/crmsync as
// DESIGN.md first drew it) because it uses package mapping, which itself
// speaks the domain's types.
//
// Not yet here (later issues): activities, campaigns, lifecycle
// transitions, selective-sync criteria — their settings are refused by
// validation until they are built; activity triggers are skipped with a
// ledger reason. A new Salesforce Account is not matched to the HubSpot
// company of its contacts (only the other way).
package engine
