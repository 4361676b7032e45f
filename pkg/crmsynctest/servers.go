package crmsynctest

import (
	"fmt"
	"os"
	"testing"
	"time"
)

// Environment variables naming the real servers `make test` starts.
const (
	EnvDynamoDB = "CRMSYNC_TEST_DYNAMODB_ENDPOINT"
	EnvSQS      = "CRMSYNC_TEST_SQS_ENDPOINT"
	// EnvReport names a file each suite that ran against a real server
	// appends one line to; `make test` prints it at the end.
	EnvReport = "CRMSYNC_TEST_REPORT"
)

// Endpoint returns the endpoint in env var name for the server called
// server, or skips t with a loud message when it is unset. It records in
// the report file that suite ran against it.
func Endpoint(t testing.TB, env, server, suite string) string {
	t.Helper()
	ep := os.Getenv(env)
	if ep == "" {
		t.Skipf("SKIPPED: %s not set — %s suite did not run against %s (make test starts it)", env, suite, server)
	}
	Report(suite, server, ep)
	return ep
}

// Report appends "suite ran against server at endpoint" to the report file
// named by EnvReport, when set.
func Report(suite, server, endpoint string) {
	path := os.Getenv(EnvReport)
	if path == "" {
		return
	}
	f, err := os.OpenFile(path, os.O_APPEND|os.O_CREATE|os.O_WRONLY, 0o644)
	if err != nil {
		return
	}
	defer f.Close()
	fmt.Fprintf(f, "%s  %s ran against %s at %s\n", time.Now().UTC().Format(time.RFC3339), suite, server, endpoint)
}
