// Package health is crmsync's Sync Health: what HubSpot's connector shows
// on its Sync Health tab, as server-rendered HTML (html/template, inline
// CSS and SVG, no script) and the same data as JSON, built from the Store
// and the trigger queue. [Handler] serves it; the local stack mounts it on
// the receivers' address (GET /health, GET /health.json) and
// functions/sync-health serves it behind a token-checked Function URL.
//
// What the page shows, and where each figure comes from:
//
//   - API calls: crmsync's counted Salesforce and HubSpot calls in the
//     last 24 hours (Store.APIUsage) and Salesforce's per clock hour, as
//     SVG bars, against the settings' budget.salesforce_daily_limit. The
//     hourly series is built from APIUsage alone (see hourlyUsage): 24
//     reads, no new store method. The allocation is edited on the page
//     ("enter a new number, then Save"): the settings are stored with the
//     version the page was rendered from (a stale page gets 409 and saves
//     nothing), and an audit entry goes to the ledger under
//     SettingsLedgerKey (kept for the store's ledger retention).
//   - Error cards: one per category (vendor errors) and one per
//     not-eligible reason, each with its records and failed attempts;
//     every sync error is on exactly one card. A card opens its records
//     (paged, with vendor code, message and fix), exports them as CSV
//     (cells that a spreadsheet would read as a formula are quoted with
//     '), and resyncs them all. The counts come from reading every sync
//     error, up to 20 000 per view (past that the page says the counts
//     are partial).
//   - A per-record card: both records and the link's status, when it
//     last synced each way (the newest ledger entries that wrote to each
//     side), the current errors, the last synced values, the ledger with
//     rules and refusals ([Explain], which `crmsync explain` uses too),
//     and a Resync button.
//   - Resync enqueues a manual_resync trigger ([ResyncTrigger]), exactly
//     as `crmsync resync` does.
//   - Queue and sweep: the queue's depth, in-flight count and oldest
//     trigger's age, the dead-letter queue's size, each sweep cursor's lag
//     and, where this process runs the sweep ([SweepLog]), the last run's
//     report. What a deployment cannot tell — SQS has no oldest-message
//     age, the Lambda does not see the sweep's reports — is shown as
//     unknown with the reason, never as zero (null in the JSON).
//   - Sync settings: objects and activity types on or off, the settings'
//     version and who changed them last, and the Salesforce org, whether
//     it is production or a sandbox, and the integration user, as far as
//     the wiring knows them ([Connection]; otherwise "unknown").
//
// Access: with [Handler.Token] set (AWS), a bearer token or the session
// cookie that signing in with it sets; without, loopback callers only.
// Cross-origin POSTs are refused in both.
package health
