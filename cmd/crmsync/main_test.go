package main

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
)

func TestLocalSandboxShowsASync(t *testing.T) {
	var out syncBuffer
	data := filepath.Join(t.TempDir(), "state.db")
	err := run(context.Background(), []string{"local", "--sandbox", "-once", "-data", data,
		"-addr", "127.0.0.1:0", "-hubspot-addr", "127.0.0.1:0", "-salesforce-addr", "127.0.0.1:0"}, &out)
	if err != nil {
		t.Fatalf("local: %v\n%s", err, out.String())
	}
	for _, want := range []string{"bbolt " + data, "/webhooks/hubspot", "demo        created HubSpot contact",
		"→ synced", "create salesforce/Lead/"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("output lacks %q:\n%s", want, out.String())
		}
	}
}

func TestLocalWithoutSandboxSaysWhy(t *testing.T) {
	var out bytes.Buffer
	err := run(context.Background(), []string{"local"}, &out)
	var u usageError
	if !errors.As(err, &u) || !strings.Contains(err.Error(), "--sandbox") {
		t.Fatalf("local without --sandbox = %v", err)
	}
}

// syncBuffer is a bytes.Buffer safe for the stack's concurrent writers.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
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
