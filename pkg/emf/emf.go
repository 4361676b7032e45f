// Package emf writes CloudWatch custom metrics in the Embedded Metric
// Format: one JSON log line per flush, which CloudWatch Logs turns into
// metrics with no API call (and no extra latency or IAM permission) from
// the Lambda. The metric names crmsync emits are constants here, so the
// alarms in template.yaml and the code cannot drift apart (a test checks
// every alarm's metric is one of them or one AWS provides).
package emf

import (
	"encoding/json"
	"fmt"
	"io"
	"sort"
	"sync"
	"time"
)

// Namespace is the CloudWatch namespace of crmsync's metrics.
const Namespace = "crmsync"

// Metric names.
const (
	// Worker.
	TriggersResolved  = "TriggersResolved"  // every resolved trigger (dimension Decision)
	SyncErrors        = "SyncErrors"        // terminal failures and refusals recorded (dimension Category)
	TransientFailures = "TransientFailures" // triggers handed back for a retry
	PoisonMessages    = "PoisonMessages"    // queue messages that do not decode
	// Salesforce API budget.
	SalesforceAPIUsagePercent = "SalesforceAPIUsagePercent" // share of the daily allocation used
	// Sweep.
	SweepLagSeconds          = "SweepLagSeconds"          // now minus the oldest cursor
	SweepBehindDeletedWindow = "SweepBehindDeletedWindow" // 1 when a cursor is older than getDeleted's window
	SweepEnqueued            = "SweepEnqueued"            // triggers the sweep enqueued
)

// Names lists every metric crmsync emits.
var Names = []string{TriggersResolved, SyncErrors, TransientFailures, PoisonMessages,
	SalesforceAPIUsagePercent, SweepLagSeconds, SweepBehindDeletedWindow, SweepEnqueued}

// Unit is a CloudWatch unit.
type Unit string

// Units used.
const (
	Count   Unit = "Count"
	Percent Unit = "Percent"
	Seconds Unit = "Seconds"
)

// Logger accumulates metric values and writes them as EMF lines. It is
// safe for concurrent use.
type Logger struct {
	w   io.Writer
	now func() time.Time

	mu     sync.Mutex
	points map[key]*point
}

type key struct {
	name, dimName, dimValue string
}

type point struct {
	unit   Unit
	values []float64
}

// New returns a Logger writing to w (os.Stdout in Lambda).
func New(w io.Writer) *Logger {
	return &Logger{w: w, now: time.Now, points: map[key]*point{}}
}

// Put records a value of metric name; dim, when not empty, is a
// {name, value} dimension (e.g. {"Category", "Duplicates"}).
func (l *Logger) Put(name string, value float64, unit Unit, dim ...string) {
	k := key{name: name}
	if len(dim) == 2 {
		k.dimName, k.dimValue = dim[0], dim[1]
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	p := l.points[k]
	if p == nil {
		p = &point{unit: unit}
		l.points[k] = p
	}
	p.values = append(p.values, value)
}

// Flush writes one EMF line per (metric, dimension) recorded since the last
// flush, with counts summed and other units as value lists.
func (l *Logger) Flush() error {
	l.mu.Lock()
	points := l.points
	l.points = map[key]*point{}
	l.mu.Unlock()

	keys := make([]key, 0, len(points))
	for k := range points {
		keys = append(keys, k)
	}
	sort.Slice(keys, func(i, j int) bool {
		if keys[i].name != keys[j].name {
			return keys[i].name < keys[j].name
		}
		return keys[i].dimValue < keys[j].dimValue
	})
	for _, k := range keys {
		p := points[k]
		line := map[string]any{}
		dims := [][]string{{}}
		if k.dimName != "" {
			dims = [][]string{{k.dimName}}
			line[k.dimName] = k.dimValue
		}
		var v any = p.values
		if p.unit == Count {
			sum := 0.0
			for _, x := range p.values {
				sum += x
			}
			v = sum
		} else if len(p.values) == 1 {
			v = p.values[0]
		}
		line[k.name] = v
		line["_aws"] = map[string]any{
			"Timestamp": l.now().UnixMilli(),
			"CloudWatchMetrics": []map[string]any{{
				"Namespace":  Namespace,
				"Dimensions": dims,
				"Metrics":    []map[string]string{{"Name": k.name, "Unit": string(p.unit)}},
			}},
		}
		b, err := json.Marshal(line)
		if err != nil {
			return fmt.Errorf("emf: encode %s: %w", k.name, err)
		}
		if _, err := l.w.Write(append(b, '\n')); err != nil {
			return fmt.Errorf("emf: write %s: %w", k.name, err)
		}
	}
	return nil
}
