// Package crmsynctest holds what tests of every crmsync port share: the
// contract suites TestStore and TestQueue that each implementation runs,
// and helpers to reach the real servers `make test` starts.
package crmsynctest
