// Package bench is `make bench`'s table: every row of issue #15's table
// measured side by side in one run on the strict local stack (bbolt and
// the local queue; the HubSpot simulator enforcing 110 requests per 10 s,
// the Salesforce org its standard duplicate rules), with p50/p99 where a
// row has a distribution, the cold start of each function's bootstrap
// against a hello-world aws-lambda-go bootstrap built the same way, and
// the local stack's memory with 10 000 triggers queued. It measures and
// asserts nothing: the goals are printed beside the numbers.
//
// Decisions: the real-time rows run on a stack with webhooks and outbound
// messages (a change is made as a person would, through the simulators'
// admin calls, and arrives as its webhook or outbound message); the
// first-sync and bulk rows on a stack without them, where only sweeps
// find records (as for records that existed before crmsync was
// connected). Latency is from the change to the end of the resolution
// that wrote it to the other side. Every mapping is Two-way, so that the
// changes flow whatever the other side holds. Sizes are scaled by
// environment variables (cmd/bench); the JSON records them.
package bench

import (
	"context"
	"fmt"
	"io"
	"math"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/crmsync/crmsync/pkg/chaos"
)

// Config sizes a run.
type Config struct {
	// Root is the repository (for building the bootstraps).
	Root string `json:"-"`
	Dir  string `json:"-"`
	// Pairs linked pairs for the real-time rows; Singles single changes
	// each way; Rate changes/s for Duration; FaultChanges under faults;
	// Queued triggers for the memory row, watched for MemoryWatch.
	Pairs        int
	Singles      int
	Rate         float64
	Duration     time.Duration
	FaultChanges int
	Queued       int
	MemoryWatch  time.Duration
	// Records per side for the first sync and the bulk change.
	Records int
	// ColdStarts per bootstrap; Receives per receiver.
	ColdStarts int
	Receives   int
	// Settle bounds each wait for the stack to go quiet.
	Settle time.Duration
	// Only runs the named parts ("receivers", "coldstart", "realtime",
	// "bulk"; empty: all).
	Only     []string                         `json:"only,omitempty"`
	Progress func(format string, args ...any) `json:"-"`
}

// Row is one measured row.
type Row struct {
	Metric string  `json:"metric"`
	Goal   string  `json:"goal,omitempty"`
	Unit   string  `json:"unit"`
	Value  float64 `json:"value,omitempty"`
	P50    float64 `json:"p50,omitempty"`
	P99    float64 `json:"p99,omitempty"`
	N      int     `json:"n,omitempty"`
	Note   string  `json:"note,omitempty"`
	// Dist is set when P50 and P99 are measured (Value, if set, is the
	// mean); otherwise Value is the row's one number.
	Dist bool `json:"dist,omitempty"`
}

// Report is a run's rows.
type Report struct {
	Machine    chaos.Machine `json:"machine"`
	Started    time.Time     `json:"started"`
	Finished   time.Time     `json:"finished"`
	Config     Config        `json:"config"`
	Rows       []Row         `json:"rows"`
	ColdStarts []ColdStart   `json:"cold_starts"`
	Errors     []string      `json:"errors,omitempty"`
}

func (r *Report) add(row Row) { r.Rows = append(r.Rows, row) }

func (c Config) runs(part string) bool {
	if len(c.Only) == 0 {
		return true
	}
	for _, o := range c.Only {
		if o == part {
			return true
		}
	}
	return false
}

// Run runs the bench. A part that fails is listed in Report.Errors and
// the others still run.
func Run(ctx context.Context, cfg Config) *Report {
	rep := &Report{Machine: chaos.ThisMachine(), Started: time.Now().UTC(), Config: cfg}
	if cfg.Progress == nil {
		cfg.Progress = func(string, ...any) {}
	}
	fail := func(part string, err error) {
		if err != nil {
			rep.Errors = append(rep.Errors, part+": "+err.Error())
			cfg.Progress("%s failed: %v", part, err)
		}
	}
	if cfg.runs("receivers") {
		cfg.Progress("receivers: %d deliveries each", cfg.Receives)
		hs, sf, err := receivers(cfg.Receives)
		fail("receivers", err)
		if err == nil {
			rep.add(Row{Metric: "receiver ack, HubSpot, 100 events", Goal: "p99 ≤ 5 ms", Unit: "ms", P50: hs.Quantile(0.5), P99: hs.Quantile(0.99), N: hs.N(), Dist: true,
				Note: "in process: verify, parse, coalesce, enqueue (to a queue that only counts), answer"})
			rep.add(Row{Metric: "receiver ack, Salesforce, 100 notifications", Goal: "p99 ≤ 5 ms", Unit: "ms", P50: sf.Quantile(0.5), P99: sf.Quantile(0.99), N: sf.N(), Dist: true,
				Note: "in process: parse, enqueue (to a queue that only counts), SOAP ack"})
		}
	}
	if cfg.runs("realtime") {
		fail("realtime", realtime(ctx, cfg, rep))
	}
	if cfg.runs("bulk") {
		fail("bulk", bulk(ctx, cfg, rep))
	}
	if cfg.runs("coldstart") {
		cfg.Progress("cold starts: %d per bootstrap", cfg.ColdStarts)
		cs, err := coldStarts(ctx, cfg.Root, cfg.ColdStarts)
		fail("coldstart", err)
		rep.ColdStarts = cs
	}
	rep.Finished = time.Now().UTC()
	return rep
}

// PrintTable prints the report as Markdown tables.
func PrintTable(w io.Writer, rep *Report) {
	fmt.Fprintf(w, "make bench — %s, %s\n\n", rep.Machine, rep.Started.Format("2006-01-02 15:04 UTC"))
	tw := tabwriter.NewWriter(w, 0, 0, 1, ' ', 0)
	fmt.Fprintln(tw, "| metric\t| goal\t| p50\t| p99\t| value\t| n\t|")
	fmt.Fprintln(tw, "| ---\t| ---\t| ---\t| ---\t| ---\t| ---\t|")
	for _, r := range rep.Rows {
		p50, p99, value := "", "", num(r.Value, r.Unit)
		if r.Dist {
			p50, p99 = num(r.P50, r.Unit), num(r.P99, r.Unit)
			if r.Value == 0 {
				value = ""
			}
		}
		fmt.Fprintf(tw, "| %s\t| %s\t| %s\t| %s\t| %s\t| %d\t|\n", r.Metric, r.Goal, p50, p99, value, r.N)
	}
	tw.Flush()
	for _, r := range rep.Rows {
		if r.Note != "" {
			fmt.Fprintf(w, "  - %s: %s\n", r.Metric, r.Note)
		}
	}
	if len(rep.ColdStarts) > 0 {
		fmt.Fprintf(w, "\ncold start (exec → first Runtime API request for an invocation), %d starts each:\n\n", rep.Config.ColdStarts)
		fmt.Fprintln(tw, "| bootstrap\t| p50\t| p99\t| × hello-world p50\t| size\t|")
		fmt.Fprintln(tw, "| ---\t| ---\t| ---\t| ---\t| ---\t|")
		for _, c := range rep.ColdStarts {
			ratio := fmt.Sprintf("%.2f", c.Ratio)
			if c.Error != "" {
				ratio = "failed: " + c.Error
			}
			fmt.Fprintf(tw, "| %s\t| %.1f ms\t| %.1f ms\t| %s\t| %.1f MB\t|\n", c.Function, c.P50ms, c.P99ms, ratio, c.SizeMB)
		}
		tw.Flush()
	}
	for _, e := range rep.Errors {
		fmt.Fprintf(w, "\nFAILED: %s\n", e)
	}
}

func num(v float64, unit string) string {
	if math.IsNaN(v) {
		return "—"
	}
	s := fmt.Sprintf("%.2f", v)
	if v >= 100 {
		s = fmt.Sprintf("%.0f", v)
	}
	return strings.TrimSpace(s + " " + unit)
}
