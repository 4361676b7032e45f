// Package hubspot is crmsync's HubSpot connector: webhook signature
// verification and event parsing, the webhook receiver handler, and the
// REST client.
//
// Decisions recorded here:
//
// Webhooks.
//   - Signature v3 is checked over the raw body before anything is parsed:
//     base64(HMAC-SHA256(secret, method + URI + body + timestamp)), the
//     timestamp in milliseconds, at most five minutes away from now in
//     either direction, compared with hmac.Equal. Several secrets are
//     accepted at once (rotation). v1 and v2 carry no timestamp and are
//     accepted only when listed in the receiver's Versions.
//   - The URI HubSpot signed is rebuilt from the Lambda event as
//     "https://" + requestContext.domainName + rawPath + "?" + rawQueryString
//     (the "?" only when the query is not empty), and the twelve escapes of
//     HubSpot's docs (%3A %2F %3F %40 %21 %24 %27 %28 %29 %2A %2C %3B) are
//     decoded in one pass, hex in either case; no other escape is touched.
//     A receiver behind a proxy that changes the host or path will not
//     verify: configure HubSpot with the URL the Lambda sees.
//   - Every event becomes one crmsync.Trigger. Legacy ("contact.creation")
//     and generic ("object.creation" + objectTypeId) forms are both read, as
//     are "subscriptionType" and "eventType" keys. Ids are kept as decimal
//     strings, never floats. Tickets, line items, conversations and other
//     types crmsync does not sync are skipped (logged at info); an event of
//     a synced type missing an id or its time is skipped (logged at warn):
//     the sweep finds what a skipped event would have said. Only a body
//     that is not a JSON array of objects is rejected (400).
//   - The dedupe key hashes what identifies a change (portal, event id,
//     subscription type, time, objects, property, association), never
//     attemptNumber: a retry is the same change. Duplicates inside one
//     delivery are dropped before the send.
//   - Trigger.ChangeSource is HubSpot's changeSource, plus "/" + sourceId
//     when sent ("INTEGRATION/1160452"); Trigger.AppID is appId. The engine
//     compares them with its own app to recognise echoes.
//   - Merges name the winner as the record (newObjectId, else
//     primaryObjectId) and every other id in MergedIDs. Association changes
//     name the "from" record; the "to" type comes from toObjectTypeId or
//     from associationType ("CONTACT_TO_COMPANY").
//   - The receiver answers 413/401/400/405 without enqueueing anything,
//     5xx when the queue fails (HubSpot retries; dedupe keys make the retry
//     harmless), 204 otherwise. It never calls HubSpot.
//
// Client.
//   - go-github shape: NewClient(options) with WithHTTPClient and
//     WithBaseURL (its path is kept as a prefix), one method per endpoint.
//     Auth is an oauth2.Transport around the HTTP client: a private app's
//     static token or an OAuth refresh token (refreshed through the same
//     HTTP client, reused until expiry). No error or log names a token,
//     a secret or a request URL's query.
//   - The client implements crmsync.CRM, crmsync.ListMembership and
//     crmsync.ActivityFeed. Object types map to CRM v3 paths (contacts,
//     companies, deals, calls, meetings, notes, tasks, emails); property
//     values are strings, null is "". The last-modified property is lastmodifieddate for contacts
//     and hs_lastmodifieddate for every other type.
//   - Limits: a sliding-window limiter of 110 requests per 10 s (WithRateLimit)
//     and one of 5 searches per second (WithSearchRateLimit), shared by all
//     callers of a Client; X-HubSpot-RateLimit-Remaining of 0 pauses the
//     window, and X-HubSpot-RateLimit-Daily-Remaining of 0 makes later
//     calls fail fast (a daily *RateLimitError) until the reset. A 429 with policyName TEN_SECONDLY_ROLLING (or SECONDLY, or
//     none) is retried after Retry-After or the reported window; DAILY is
//     returned at once as a *RateLimitError whose RetryAfter runs to the
//     next UTC midnight (HubSpot resets at the portal's midnight, which it
//     does not tell us), and later calls fail without being sent until then.
//     423 Locked waits 2 s, doubling per retry. 5xx and network errors are
//     retried (from 1 s and 500 ms, doubling) only for idempotent calls
//     (reads, searches, updates, upserts, archives): a create whose answer
//     was lost is not repeated, the caller decides. Waits are capped at
//     30 s, jittered up to +50 %, and retries bounded (WithMaxRetries,
//     default 4). Every request sent, retries included, is counted through
//     UsageCounter.
//   - Errors: *APIError (status, HubSpot category and subcategory,
//     correlation id, message, details, context) and *RateLimitError, both
//     with Transient() and crmsync.VendorError's Category()/Code(). HubSpot's
//     "category" field is APIError.VendorCategory because Category() is the
//     sync-health category. 404 and OBJECT_NOT_FOUND are crmsync.ErrNotFound
//     for errors.Is. Error bodies are read through a 64 KiB limit.
//   - Batches are split at 100 inputs; results come back at the index of
//     their input. Creates carry objectWriteTraceId (the input index) and
//     207 errors are matched through context.objectWriteTraceId; reads,
//     updates and upserts match by id or idProperty value (case-insensitive)
//     and errors through any context value naming an input. An input neither
//     answered nor named by an error gets the batch's untied error, else
//     ErrNoResult: never a silent success.
//   - Activity feed (crmsync.ActivityFeed), for what HubSpot sends no
//     webhook for. FormSubmissions lists every live lead-capture
//     form (GET /marketing/v3/forms/ with formTypes hubspot, captured and
//     flow — HubSpot's default is hubspot forms only; pages of 100) and reads each form's
//     submissions (GET /form-integrations/v1/submissions/forms/{guid},
//     newest first, pages of 50) until one is older than since; the API
//     has no time filter, so each form costs at least one call per poll.
//     EmailEvents reads GET /email/public/v1/events with startTimestamp =
//     since, endTimestamp = the poll's start and excludeFilteredEvents
//     (bot opens and clicks are not activities), asking for every type
//     and keeping SENT, OPEN and CLICK: the API filters one eventType per
//     call, so one unfiltered series costs fewer calls than three. As the
//     API answers newest first, a limited poll whose window holds more
//     than a full page walks forward from since in windows sized by the
//     density seen, so finding the oldest events never means reading all
//     the newer ones. Both return events at or after since, oldest first
//     (ties by id), cut after limit but never inside one timestamp, so a
//     poll resumed at the last event's time cannot stall. Ids: a
//     submission is "<form guid>/<conversionId>", or "<form
//     guid>/<submittedAt ms>/<lower-case email>" when HubSpot gives no
//     conversion id; an email event is its event id. Email names come from
//     GET /email/public/v1/campaigns/{id}, read once per campaign per
//     Client (a campaign HubSpot no longer has is named "").
//   - Search pages are ≤ 200 and never past the 10 000-result cap.
//     ScanModified walks every object in (last modified, id) order: one
//     query finds the next timestamp T, everything before T on that page is
//     complete, the objects at T are read by hs_object_id keyset paging,
//     then the scan moves strictly past T — so 30 000 objects sharing one
//     timestamp are each read once, and neither time nor id ever goes back.
package hubspot
