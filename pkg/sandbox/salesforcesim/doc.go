// Package salesforcesim is a Salesforce org in a box: an http.Handler
// serving the REST API subset crmsync uses (sObject rows, upsert by
// external id, SOQL with paging, sObject Collections, composite,
// getUpdated/getDeleted, describe, limits) and the OAuth token endpoint,
// with the org behaviour that makes real syncs fail, and a sender of real
// SOAP Outbound Messages. Tests, `make run` and benchmarks use it.
//
// Decisions recorded here:
//
//   - Shapes and status codes follow the REST API: 18-character ids with
//     each object's key prefix (00Q Lead, 003 Contact, 001 Account, 006
//     Opportunity, 00K OpportunityContactRole, 701 Campaign, 01Y
//     CampaignMemberStatus, 00v CampaignMember, 00T Task, 005 User); errors as [{errorCode,
//     message, fields}], collection results as {id, success, errors:
//     [{statusCode, …}]}; SystemModstamp/LastModifiedDate strictly
//     increasing (to the millisecond), while SOQL compares and orders
//     date-times to the second, as Salesforce does; Sforce-Limit-Info on every REST answer.
//   - The API allocation is a rolling 24 hours counted per minute on the
//     org's clock (Config.Now): past Config.DailyLimit calls answer 403
//     REQUEST_LIMIT_EXCEEDED, which is not counted. Token and admin calls
//     are never counted.
//   - Org rules, configurable per test: required fields; restricted
//     picklists (INVALID_OR_NULL_FOR_RESTRICTED_PICKLIST) and State/Country
//     code picklists, where a state needs a country valid for it
//     (FIELD_INTEGRITY_EXCEPTION); string lengths; email format;
//     validation rules (FIELD_CUSTOM_VALIDATION_EXCEPTION); duplicate
//     rules on Email (DUPLICATES_DETECTED with the matches, unless an
//     alert rule and Sforce-Duplicate-Rule-Header allowSave=true); formula
//     fields, computed and read-only (INVALID_FIELD_FOR_INSERT_UPDATE);
//     unique external ids (DUPLICATE_VALUE); and sharing: Lead, Contact,
//     Account and Opportunity are private — a user sees records they own
//     or that are shared with them; others are absent from queries and
//     getUpdated, answer NOT_FOUND to reads and writes, and
//     INSUFFICIENT_ACCESS_ON_CROSS_REFERENCE_ENTITY as lookups; read-only
//     shares answer INSUFFICIENT_ACCESS_OR_READONLY to writes.
//   - Lookups are checked as the org checks them: an id that is no id is
//     MALFORMED_ID; an id of a type the field does not take is
//     FIELD_INTEGRITY_EXCEPTION "<field label>: id value of incorrect
//     type: <id>" (a Task's WhoId — label "Name ID" — given an account);
//     a missing record of the right type INVALID_CROSS_REFERENCE_KEY; a
//     converted lead cannot be referenced (CANNOT_UPDATE_CONVERTED_LEAD
//     "cannot reference converted lead").
//   - Tasks (Object Reference: Task): WhoId a Lead or Contact, WhatId an
//     Account, Opportunity or Campaign, never both a lead and a WhatId
//     (FIELD_INTEGRITY_EXCEPTION on [WhoId, WhatId]; the message is the
//     sim's own); Status and Priority restricted picklists defaulted to
//     "Not Started" and "Normal"; IsClosed, IsHighPriority and AccountId
//     set by the org and read-only; TaskSubtype createable, not
//     updateable; Subject a 255-character combobox, Description 32000.
//     Converting a lead moves its tasks to the contact (and to the
//     opportunity when they were related to nothing).
//   - Campaigns start with the member statuses "Sent" (default) and
//     "Responded" (CampaignMemberStatus records, queryable). A campaign
//     member (Object Reference: CampaignMember) is a lead or a contact
//     (neither: REQUIRED_FIELD_MISSING; both: only ContactId is kept); a
//     second membership is DUPLICATE_VALUE "Already a campaign member.";
//     a Status the campaign does not have becomes its default status, as
//     the API does (it does not refuse it); HasResponded follows the
//     status. Inactive campaigns take members: the API allows it.
//   - Sessions: access tokens come from the token endpoint (JWT bearer —
//     the signature is not checked, sub names the user — or a refresh
//     token from RefreshToken) or from Session; ExpireSessions makes every
//     call answer 401 INVALID_SESSION_ID.
//   - Outbound Messages are built with salesforce.OutboundMessage and sent
//     by DeliverOutbound (or RunOutbound): ≤100 notifications per message,
//     retried with growing back-off on the org's clock until Ack true,
//     given up after 24 h; options duplicate and reorder deliveries.
//     Changes of formula or system fields alone never trigger a message.
//   - Faults (Faults: UNABLE_TO_LOCK_ROW, 503, dropped connections, calls
//     that never answer, latency) are drawn from a random source seeded
//     by Config.Seed, so a failing run repeats.
//   - Also as the API has them: field names are case-insensitive ("id"
//     in a collection update); sObject Collections retrieve (POST or GET
//     /composite/sobjects/{type}, null for ids not found); Describe
//     Global (GET /sobjects); the Sforce-Query-Options batchSize header
//     (200–2000, clamped); Config.StandardDuplicateRules, the Lead and
//     Contact duplicate rules a new org ships with (Alert), off by
//     default. The vendor-client tier (pkg/sandbox/vendorclients) drives
//     all this with jsforce.
//   - Not simulated: composite allOrNone=true rollback (it stops at the
//     first failure but keeps earlier writes), allOrNone=true rollback of
//     collection upserts, Bulk API, SOQL parentheses/aggregates/sub-queries,
//     field-level security, and a JWT signature check; for activities,
//     Events, Shared Activities (TaskRelation), recurring tasks, the
//     TaskStatus object, polymorphic SOQL (Who.Name, TYPEOF), and the
//     rules on editing member statuses (one default, one responded).
package salesforcesim
