// Package chaos is `make chaos`: a bounded, loopback-only run of the real
// local stack (package localstack, with the strict simulators of package
// sandbox) under load and faults, then sweeps and a convergence checker.
//
// A run, per store/queue pair (bbolt + the local queue; DynamoDB Local +
// fauxqs through ddbstore and sqsqueue, the production path):
//
//  1. settings: every mapping Two-way, contacts plus (when asked)
//     companies and deals on; the Salesforce allocation raised to a
//     production org's size;
//  2. faults: about 10 % of API calls on each side fail (HubSpot 429, 5xx,
//     423 Locked, timeouts; Salesforce UNABLE_TO_LOCK_ROW, 503, dropped
//     connections, timeouts), 20 % of webhook deliveries are duplicated
//     and reordered, every outbound notification is delivered twice and
//     reordered; on the AWS pair also throttled DynamoDB writes, cancelled
//     transactions and lost SQS deletes (AWSFaults, below the SDK);
//  3. load: Changes changes at Rate per second through the simulators'
//     admin calls (as people make them), a fifth creations, the rest
//     updates, on both sides; each field is changed on one side only, so
//     the last value written is what both sides must end with;
//  4. kills: the worker pool is killed mid-batch Kills times during the
//     load (localstack.Stack.KillWorkers: contexts cancelled, received
//     triggers left to their visibility timeout) and restarted;
//  5. convergence: wait until the stack is quiet, check; then a sweep,
//     quiet, check — at most Sweeps times.
//
// The checker (Check, pure) compares every record pair the load made per
// the mapping rules: exactly one record per identity on each side, linked
// to each other and to nothing else, and the last value written to each
// field on every side its rule carries it to. Echo writes are counted
// from the engine's outcomes: an update that writes a field back to the
// side the load changes it on. Records in error are listed from the
// store with their category, vendor code and message.
package chaos
