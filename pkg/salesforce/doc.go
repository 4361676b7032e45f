// Package salesforce is crmsync's Salesforce connector: Outbound Message
// parsing with its SOAP acknowledgement and faults, the receiver handler
// for those messages, and a REST client.
//
// Decisions recorded here:
//
//   - Outbound Messages are parsed namespace-aware with encoding/xml, so
//     any prefixes work; a UTF-8 BOM and an XML declaration are tolerated.
//     The envelope must be SOAP 1.1 and the notifications element must be
//     in OutboundNamespace; sObject fields are accepted in any namespace
//     and any sObject type (xsi:type, prefix dropped) is parsed.
//   - The OrganizationId is compared in its 15-character form, so a
//     configured 18-character id matches a 15-character one and back.
//     Salesforce cannot sign an Outbound Message and the org id is no
//     secret, so the receiver checks a secret "token" path parameter (a
//     query parameter also works), compared in constant time over SHA-256
//     digests against every accepted token (several during a rotation), so
//     neither the length nor which token matched leaks. The deployed
//     receiver requires one (RequireToken); accepting messages on the org
//     id alone is an explicit choice.
//   - Each distinct notification becomes one crmsync.Trigger of kind
//     property_changed. Its dedupe key comes from the notification Id
//     alone (DedupeKey): Salesforce keeps the Id when it redelivers, so a
//     redelivery is dropped by the queue. Properties are the field names
//     sent except Id — the message's configured fields, not a diff — and
//     the values are never used: the worker re-reads the record.
//   - Notifications of sObject types crmsync does not sync are
//     acknowledged and logged, not faulted: a fault would only make
//     Salesforce retry them for 24 hours.
//   - Ack true is answered only after Enqueuer.Send returned nil. Any Send
//     error (including a partial one) is a soapenv:Server fault with 500 so
//     Salesforce redelivers everything; triggers that did get queued are
//     then dropped by their dedupe keys. Requests that can never succeed
//     (malformed, empty, another org, bad token, too large) get a
//     soapenv:Client fault with a 4xx status and nothing is queued.
//   - The SessionId a message may carry is a live session: it is kept as
//     a Secret that never prints and is never used.
//
// The REST client ([Client]) speaks one API version, [APIVersion]:
//
//   - Auth is a [Transport] (an http.RoundTripper) over an oauth2
//     TokenSource: [JWTConfig] (JWT bearer flow) or [RefreshTokenConfig].
//     Salesforce tokens carry no expiry, so the token is cached until a
//     call is answered 401 INVALID_SESSION_ID; then one new token is
//     fetched and the call retried once. The instance URL is the token's
//     instance_url unless WithBaseURL says otherwise. Token-request errors
//     become [AuthError] with only the OAuth error code and description;
//     transport errors drop the request URL (it may hold SOQL with data).
//   - Every call sends Sforce-Call-Options: client=<id> (WithClientID,
//     default DefaultClientID), and
//     writes the Sforce-Duplicate-Rule-Header when configured. Every
//     response's Sforce-Limit-Info is parsed ([LimitInfo], per-app entries
//     too) and every call is counted in a [UsageCounter] (crmsync.Store
//     satisfies it); counting errors do not fail a call that Salesforce
//     already executed.
//   - Errors are typed: [APIError] for error statuses (top-level
//     [{errorCode,message,fields}] or one bare object), [RecordError] per
//     record ({statusCode,message,fields}), [TransportError] when no answer
//     came. Each says Transient() and Category() for crmsync.IsTransient
//     and the sync-health page: UNABLE_TO_LOCK_ROW, ALL_OR_NONE_OPERATION_
//     ROLLED_BACK, 5xx, 429 and timeouts are transient; REQUEST_LIMIT_
//     EXCEEDED is not transient (retrying soon fails again) — it matches
//     [ErrRequestLimitExceeded] so callers can pause until the budget
//     allows; as a crmsync.VendorError it counts under Other, so the engine
//     keeps the record errored and retries it on its schedule instead of
//     spending queue receives until the message dead-letters; the
//     terminal codes map to categories ([CategoryOf]); codes not listed
//     are crmsync.CategoryOther. INVALID_CROSS_REFERENCE_KEY (a lookup to a
//     record that does not exist) is counted under Associations, and
//     INVALID_FIELD_FOR_INSERT_UPDATE (a read-only or formula field
//     written) under Permissions, DUPLICATE_VALUE (a unique field such as
//     an external id already used) under Duplicates. A Retry-After header
//     is kept in APIError.RetryAfter. DUPLICATES_
//     DETECTED keeps the matched record ids from its duplicateResult; an
//     upsert answered 300 (several records share the external id) becomes
//     DUPLICATE_EXTERNAL_ID with the matched ids. NOT_FOUND, ENTITY_IS_
//     DELETED and 404 match crmsync.ErrNotFound.
//   - sObject Collections calls are split into chunks of
//     [MaxCollectionSize] and always use allOrNone=false; results come back
//     in input order, one [SaveResult] per record. A failing chunk stops
//     the call and the results of the chunks before it are returned.
//   - nextRecordsUrl is followed verbatim against the instance URL (it
//     must be an instance path, never another host). getUpdated and
//     getDeleted windows are truncated to the minute, as Salesforce does,
//     and refused before sending when Salesforce would refuse them.
//
// The Client is also the engine's crmsync.CRM for the Salesforce side:
// Get and FindByEmail are one SOQL query each (with Owner.Email, so the
// owner is matched by email without another call; SystemModstamp is the
// record's LastModified); Create is one composite call that creates and
// reads back; text values are converted to the fields' JSON types with a
// describe read once per client and object; invisible and deleted records
// are crmsync.ErrNotFound. APIError, RecordError and AuthError are
// crmsync.VendorError (Code and Category).
//
// Activities: Tasks go through the same CRM methods (Owner.Email, typed
// values, the same write tagging) and through CreateMany
// (crmsync.BatchCreator): sObject Collections create, split by the client
// into calls of MaxCollectionSize with allOrNone false, one result per
// record in order; a value that does not convert fails only its record;
// when a call fails, its records and those after it carry that error
// (outcome unknown — a timed-out call may have created them) and the
// error is returned. Campaigns (crmsync.Campaigns) are one SOQL query;
// AddCampaignMember is one create: DUPLICATE_VALUE (already a member) is
// added=false with no error. Salesforce gives a member a status the
// campaign does not have its default status without a word, so a named
// status is first checked against the campaign's CampaignMemberStatus
// labels (read once per campaign and client, again on a miss) and an
// unknown one is refused with [MemberStatusError] (code
// UNKNOWN_CAMPAIGN_MEMBER_STATUS, crmsync's own; Property values).
// Salesforce adds members to inactive campaigns: refusing that is the
// caller's decision (Campaign tells it Active). CANNOT_UPDATE_CONVERTED_
// LEAD (a converted lead written or referenced) and MALFORMED_ID count
// under Associations; codes met on activities carry fix hints ([HintOf]).
package salesforce
