package main

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestLocalOnceReportsWhatRuns(t *testing.T) {
	var out bytes.Buffer
	data := filepath.Join(t.TempDir(), "state.db")
	if err := run(context.Background(), []string{"local", "-once", "-data", data}, &out); err != nil {
		t.Fatalf("local: %v\n%s", err, out.String())
	}
	for _, want := range []string{"bbolt " + data, "using the defaults", "in-process FIFO", "not yet", "nothing is syncing yet"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("output lacks %q:\n%s", want, out.String())
		}
	}
}

func TestLocalRunsUntilCancelled(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	out := &cancelOn{needle: "Ctrl-C", cancel: cancel}
	if err := run(ctx, []string{"local", "-data", filepath.Join(t.TempDir(), "s.db")}, out); err != nil {
		t.Fatalf("local: %v", err)
	}
	if !strings.Contains(out.buf.String(), "Ctrl-C") {
		t.Errorf("no running line:\n%s", out.buf.String())
	}
}

// cancelOn cancels once needle has been written: the command is then
// running, and must return when its context ends.
type cancelOn struct {
	buf    bytes.Buffer
	needle string
	cancel context.CancelFunc
}

func (c *cancelOn) Write(p []byte) (int, error) {
	n, err := c.buf.Write(p)
	if strings.Contains(c.buf.String(), c.needle) {
		c.cancel()
	}
	return n, err
}

func TestUnknownCommandIsUsageError(t *testing.T) {
	var out bytes.Buffer
	err := run(context.Background(), []string{"frobnicate"}, &out)
	var u usageError
	if !errors.As(err, &u) || !strings.Contains(out.String(), "usage:") {
		t.Fatalf("run(frobnicate) = %v, output %q", err, out.String())
	}
}

func TestSettingsExportEditImport(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	data, file := filepath.Join(dir, "s.db"), filepath.Join(dir, "settings.yaml")
	var out bytes.Buffer
	if err := run(ctx, []string{"settings", "export", "-data", data, "-o", file}, &out); err != nil {
		t.Fatalf("export: %v", err)
	}
	b, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(b), "rule: prefer_salesforce_unless_blank") {
		t.Fatalf("export lacks the default mappings:\n%s", b)
	}
	// A bad edit is refused with its line.
	bad := strings.Replace(string(b), "companies: false", "companies: sometimes", 1)
	badFile := filepath.Join(dir, "bad.yaml")
	os.WriteFile(badFile, []byte(bad), 0o644)
	err = run(ctx, []string{"settings", "import", "-data", data, badFile}, &out)
	if err == nil || !strings.Contains(err.Error(), "line ") {
		t.Fatalf("import of a bad file = %v, want an error naming the line", err)
	}
	// A good edit imports, and a second import of the same (now stale) file
	// is refused.
	good := strings.Replace(string(b), "companies: false", "companies: true", 1)
	os.WriteFile(file, []byte(good), 0o644)
	if err := run(ctx, []string{"settings", "validate", file}, &out); err != nil {
		t.Fatalf("validate: %v", err)
	}
	if err := run(ctx, []string{"settings", "import", "-data", data, file}, &out); err != nil {
		t.Fatalf("import: %v", err)
	}
	if err := run(ctx, []string{"settings", "import", "-data", data, file}, &out); err == nil || !strings.Contains(err.Error(), "export again") {
		t.Fatalf("stale import = %v, want a version conflict", err)
	}
	out.Reset()
	if err := run(ctx, []string{"settings", "export", "-data", data}, &out); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out.String(), "companies: true") || !strings.Contains(out.String(), "version: 1") {
		t.Errorf("export after import:\n%s", out.String())
	}
}
