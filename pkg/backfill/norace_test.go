//go:build !race

package backfill_test

const raceBuild = false
