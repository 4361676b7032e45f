package main

import (
	"bytes"
	"context"
	"errors"
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
