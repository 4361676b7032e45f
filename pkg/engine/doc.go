// Package engine resolves one trigger: it is the heart of crmsync's worker.
//
// For each [crmsync.Trigger], [Engine.Resolve]:
//
//  1. drops repeats through the Store's dedupe keys (TTL 25 h by default,
//     longer than HubSpot's and Salesforce's retry windows); a delivery
//     that fails transiently is forgotten again so its retry is not dropped;
//  2. loads the settings (the defaults of HubSpot's connector, with the
//     default field mappings, when none are stored);
//  3. re-reads the source record — the trigger's values are only hints;
//  4. checks eligibility (email, inclusion list, the lead/contact inbound
//     setting, the object toggles); a refusal is a visible sync error or a
//     ledger entry with the reason, never a silent skip;
//  5. resolves identity: the link, else (contacts) the other side's
//     records with the same email — the most recently modified one, and
//     nothing is created when one exists — else (a new HubSpot company)
//     the Account of its contacts already synced, never one matched by
//     domain or name, else it creates the record.
//     Creation first reserves the source id with a conditional link write,
//     so two concurrent triggers for one new record create one record;
//  6. merges field by field against the link's shadow (package mapping),
//     writes the changed fields to each side — the associations (a
//     contact's primary company ⇄ Contact.AccountId, a deal's company ⇄
//     Opportunity.AccountId) are merged as a two-way field, see
//     associations.go — stores the new shadow with a
//     version check, appends a ledger entry and clears or records the
//     record's sync error.
//
// Errors: Resolve returns an error only when the trigger should be retried
// unchanged (a transient vendor or store failure, a version conflict, a
// creation in progress elsewhere). Terminal failures become a
// [crmsync.SyncError] with the vendor's category and code and a fix hint,
// and Resolve reports them in the [Outcome] with a nil error, so the worker
// deletes the message. An error that neither says it is transient nor
// carries a vendor category is treated as transient: retried, and after
// the queue's receive limit dead-lettered, where an alarm sees it.
//
// This package lives beside the domain (rather than inside pkg/crmsync as
// DESIGN.md first drew it) because it uses package mapping, which itself
// speaks the domain's types.
//
// Not yet here (later issues): activities, campaigns, lifecycle
// transitions, selective-sync criteria; a new Salesforce Account is not
// matched to the HubSpot company of its contacts (only the other way).
// Triggers for activities are reported as skipped with that reason.
package engine
