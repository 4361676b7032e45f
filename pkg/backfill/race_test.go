//go:build race

package backfill_test

// raceBuild: the race detector slows the simulators tenfold, so the
// budget test runs a tenth of its backfill against a tenth of the
// allocation (the same proportions: it still has to pause).
const raceBuild = true
