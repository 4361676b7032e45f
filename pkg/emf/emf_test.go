package emf

import (
	"bufio"
	"bytes"
	"encoding/json"
	"testing"
	"time"
)

func TestFlushWritesEMF(t *testing.T) {
	var buf bytes.Buffer
	l := New(&buf)
	l.now = func() time.Time { return time.UnixMilli(1700000000000) }
	l.Put(SyncErrors, 1, Count, "Category", "Duplicates")
	l.Put(SyncErrors, 1, Count, "Category", "Duplicates")
	l.Put(SyncErrors, 1, Count, "Category", "Permissions")
	l.Put(SweepLagSeconds, 42, Seconds)
	if err := l.Flush(); err != nil {
		t.Fatal(err)
	}
	var lines []map[string]any
	sc := bufio.NewScanner(&buf)
	for sc.Scan() {
		var m map[string]any
		if err := json.Unmarshal(sc.Bytes(), &m); err != nil {
			t.Fatalf("not JSON: %s", sc.Text())
		}
		lines = append(lines, m)
	}
	if len(lines) != 3 {
		t.Fatalf("%d lines, want 3", len(lines))
	}
	// Sorted: SweepLagSeconds, SyncErrors/Duplicates, SyncErrors/Permissions.
	if lines[0][SweepLagSeconds] != 42.0 {
		t.Errorf("lag line = %v", lines[0])
	}
	if lines[1][SyncErrors] != 2.0 || lines[1]["Category"] != "Duplicates" {
		t.Errorf("duplicates line = %v (counts must be summed)", lines[1])
	}
	aws := lines[1]["_aws"].(map[string]any)
	if aws["Timestamp"] != 1700000000000.0 {
		t.Errorf("timestamp %v", aws["Timestamp"])
	}
	cwm := aws["CloudWatchMetrics"].([]any)[0].(map[string]any)
	if cwm["Namespace"] != Namespace {
		t.Errorf("namespace %v", cwm["Namespace"])
	}
	dims := cwm["Dimensions"].([]any)[0].([]any)
	if len(dims) != 1 || dims[0] != "Category" {
		t.Errorf("dimensions %v", dims)
	}
	metric := cwm["Metrics"].([]any)[0].(map[string]any)
	if metric["Name"] != SyncErrors || metric["Unit"] != "Count" {
		t.Errorf("metric %v", metric)
	}
	// A second flush with nothing recorded writes nothing.
	buf.Reset()
	l.Flush()
	if buf.Len() != 0 {
		t.Errorf("empty flush wrote %q", buf.String())
	}
}
