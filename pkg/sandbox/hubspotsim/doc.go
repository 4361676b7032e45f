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
//   - Engagements (calls, emails, meetings, notes, tasks) need
//     hs_timestamp when created through the API, as HubSpot requires it
//     (400 VALIDATION_ERROR "Error creating CALL. Some required properties
//     were not set.", context.properties [hs_timestamp]); one made as a
//     user gets the current time, as the UI's activity date does. Datetime
//     values (hs_timestamp) are written as epoch milliseconds or ISO 8601
//     and read back as ISO 8601 UTC with milliseconds. A create's
//     "associations" are checked before anything is created: each needs a
//     target and types; a HUBSPOT_DEFINED type id names its pair
//     (engagements' defaults included: call → contact 194, contact → call
//     193, call → deal 206 …) and must start at the created type; a
//     missing target is 400. Reads with associations=contacts,deals list
//     them as {results: [{id, type: "call_to_contact"}]}.
//   - Forms: GET /marketing/v3/forms/ lists forms (HubSpotFormDefinition
//     shape, formType "hubspot", creation order, limit ≤ 500 — HubSpot
//     documents no maximum — paged by an opaque after; formTypes as
//     HubSpot reads it: absent means hubspot forms, an unknown type is
//     400), GET
//     /marketing/v3/forms/{formId} reads one; GET
//     /form-integrations/v1/submissions/forms/{formGuid} lists a form's
//     submissions newest first ({conversionId, submittedAt ms, values
//     [{name, value}], pageUrl}), limit 1..50 (default 20), paged by an
//     opaque after that continues strictly past the last one returned, so
//     submissions made while a client pages neither repeat nor shift it.
//     Submissions are made with SubmitForm (POST
//     /_admin/forms/{formGuid}/submissions): the contact with the
//     submitted email is created or updated with the values and HubSpot's
//     conversion properties (recent_/first_conversion_date and
//     _event_name = the form's name, num_conversion_events,
//     num_unique_conversion_events), webhooks reporting changeSource FORM
//     with the form id as sourceId.
//   - Marketing email events: GET /email/public/v1/events answers
//     {events, hasMore, offset}, newest first as HubSpot documents,
//     filtered by appId, campaignId, recipient, eventType (case-sensitive,
//     400 for a type HubSpot does not have), startTimestamp/endTimestamp
//     (ms, inclusive) and excludeFilteredEvents; limit 1..1000 (default
//     10); offset is an opaque token past the last event returned. GET
//     /email/public/v1/events/{created}/{id} reads one (400 "Unable to
//     parse value for path parameter: created" for a created that is not
//     a number, as HubSpot answers); GET
//     /email/public/v1/campaigns/{campaignId} names the email (name,
//     subject, counters). Events are recorded with RecordEmailEvent (POST
//     /_admin/email/events) for a recipient who must be a contact;
//     unfiltered SENT, OPEN, CLICK and DELIVERED events keep
//     hs_email_last_send_date (+ hs_email_last_email_name),
//     hs_email_last/first_open_date + hs_email_open,
//     hs_email_last/first_click_date + hs_email_click and
//     hs_email_delivered current, with webhooks (changeSource EMAIL).
//     Non-SENT events name their message's SENT event in sentBy.
//   - Search ties (equal sort values) come back in a random order fixed
//     per record, never id order, so clients cannot lean on it.
//   - Limits, when configured: a sliding burst window (429
//     TEN_SECONDLY_ROLLING, Retry-After, X-HubSpot-RateLimit-* headers), a
//     per-second search limit (429 SECONDLY, no headers, as HubSpot's
//     search sends none) and a daily count (429 DAILY).
//   - Webhooks: every change made through the API (changeSource
//     INTEGRATION, sourceId = the app id), the admin API (CRM_UI), a form
//     submission (FORM) or an email event (EMAIL) queues
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
