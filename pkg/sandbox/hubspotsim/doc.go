// Package hubspotsim is a HubSpot portal in a box: an http.Handler that
// serves the CRM API subset crmsync's hubspot client uses, in HubSpot's
// shapes, and sends signed v3 webhooks for every change. Tests, `make run`,
// benchmarks and chaos runs use it instead of a real portal.
//
// Decisions recorded here:
//
//   - Shapes follow HubSpot's docs: string ids; "properties" maps with
//     null for absent requested properties; createdAt/updatedAt/archived;
//     batch answers {status, results, errors[], numErrors} with 207 when
//     any input failed; search {total, results, paging.next.after}; error
//     bodies {status, message, correlationId, category, errors[], context}.
//   - Rules it enforces, as HubSpot does: batches ≤ 100 inputs, search
//     pages ≤ 200, no search page past the first 10 000 results, one sort,
//     ≤ 5 filter groups of ≤ 6 filters; unique contact email (409 CONFLICT);
//     lifecycle stage only forward unless cleared first (400
//     VALIDATION_ERROR, INVALID_OPTION); read-only properties
//     (hs_object_id, createdate, lastmodifieddate, hs_lastmodifieddate)
//     maintained by the portal at millisecond resolution. A batch create
//     whose inputs all carry objectWriteTraceId answers per input (207);
//     otherwise one bad input refuses the whole batch, as HubSpot does.
//   - List query parameters (properties, associations) are read in both
//     forms HubSpot accepts: repeated (as the client libraries send them)
//     and comma-separated. A route that does not exist answers 404 (405
//     for a wrong method) in the JSON error shape, not Go's plain text.
//   - Owners are read-only, as in HubSpot's public API; users provisioned
//     through settings/v3/users are listed as owners (userId set), and
//     removing a user archives its owner. Lists v3: MANUAL and SNAPSHOT
//     lists are created, read and deleted and their members changed
//     through the API (DYNAMIC lists are refused: filters are not
//     evaluated). The vendor-client tier
//     (pkg/sandbox/vendorclients) drives the portal with
//     @hubspot/api-client.
//   - Search ties (equal sort values) come back in a random order fixed
//     per record, never id order, so clients cannot lean on it.
//   - Limits, when configured: a sliding burst window (429
//     TEN_SECONDLY_ROLLING, Retry-After, X-HubSpot-RateLimit-* headers), a
//     per-second search limit (429 SECONDLY, no headers, as HubSpot's
//     search sends none) and a daily count (429 DAILY).
//   - Webhooks: every change made through the API (changeSource
//     INTEGRATION, sourceId = the app id) or the admin API (CRM_UI) queues
//     events: creation, propertyChange per changed property (optionally
//     only subscribed ones), deletion, restore, merge, associationChange
//     for both records. Contacts, companies and deals use legacy types
//     ("contact.creation"); engagements use "object.*" with objectTypeId.
//     FlushWebhooks (or Run, on a ticker) delivers them in batches ≤ 100,
//     signed v3, retrying a failed batch with attemptNumber 1, 2, … up to
//     10 attempts with doubling delays, then dropping it as HubSpot does.
//   - Fault injection draws from one seeded source: 429 and 5xx rates,
//     423 Locked on writes, timeouts, latency on API calls; duplicate and
//     reordered webhook deliveries. Admin calls (/_admin/…, and the Go methods such as
//     CreateAsUser) never fail by injection.
package hubspotsim
