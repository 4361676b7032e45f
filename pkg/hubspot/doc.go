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
package hubspot
