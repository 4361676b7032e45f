// Package mapping holds the pure rules of crmsync's field sync: given the
// field mappings of an object pair, both records' current values and the
// link's shadow (the last values crmsync synced), [Merge] decides which
// field to write on which side, and the shadow to store once the writes
// succeed. It does no I/O.
//
// The merge is three-way and edge-triggered: a side "changed" a field when
// its value differs from the shadow. Only changes move values; a field on
// which neither side changed is left alone even when the two sides differ
// (for example after a refused change), so repeated triggers never write.
// That is also what makes echoes harmless: when crmsync's own write comes
// back as a change notification, the re-read value equals the shadow, so it
// is no change and nothing is written.
//
// Rules per mapped field (HubSpot's connector's rules, made precise):
//
//   - Prefer Salesforce unless blank: a Salesforce change goes to HubSpot;
//     a HubSpot change goes to Salesforce only while the Salesforce field is
//     blank (so clearing the Salesforce field lets the HubSpot value back
//     in, as HubSpot's connector does).
//   - Always use Salesforce: Salesforce changes go to HubSpot; HubSpot
//     changes never go to Salesforce.
//   - Two-way: a change on either side goes to the other; when both sides
//     changed a field to different values since the last sync, the side
//     whose record was modified later wins (Salesforce on a tie) and the
//     plan records the conflict and the losing value.
//   - Don't sync: never written, never shadowed.
//
// Clearing a value ("" ) is a change like any other and follows the rule.
// With no shadow yet (a new link), every value present on one side counts
// as changed on that side.
//
// Values are compared as the vendors' wire strings; converting types
// (dates, numbers, booleans, picklists) between the CRMs belongs to the
// engine's value conversion, which runs before Merge.
package mapping
