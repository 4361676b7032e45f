package main

import (
	"bytes"
	"context"
	"errors"
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
