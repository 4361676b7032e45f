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
//     Salesforce cannot sign an Outbound Message, so the receiver can also
//     require a secret "token" path or query parameter, compared in
//     constant time (over SHA-256 digests, so length does not leak).
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
package salesforce
