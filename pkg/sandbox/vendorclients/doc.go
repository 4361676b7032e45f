// Package vendorclients is the vendor-client test tier: it drives the
// simulators in pkg/sandbox with the vendors' own client libraries —
// HubSpot's @hubspot/api-client and the jsforce Salesforce client, pinned
// in package.json and package-lock.json here — so that the simulators are
// held to what real clients send and expect, not only to what crmsync's
// own clients happen to use.
//
// The Go tests start the simulators on loopback and run the Node test
// files (*.test.cjs, node's built-in test runner) against them. The npm
// packages are installed by install.sh into .testservers/vendorclients/
// (gitignored); `make test` runs it. Plain `go test` skips the tier with
// a message when they are not installed, and CRMSYNC_TEST_NODE_MODULES
// names another node_modules directory to use.
//
// The pins are the newest releases that run on Node 20, which every
// machine has: jsforce from 3.10.19 and @hubspot/api-client 14 declare
// node >= 22 (jsforce's undici 8 does not even load on Node 20), so the
// tier uses jsforce 3.10.16 and @hubspot/api-client 13.5.0. Neither
// client gets a limiter or retries here (no limiterOptions, no
// numberOfApiCallRetries): errors surface at once and the tier takes a
// few seconds.
//
// Every mismatch these tests found between a simulator and the vendor's
// API was fixed in the simulator, with the reference in a comment there.
package vendorclients
