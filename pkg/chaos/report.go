package chaos

import (
	"bufio"
	"fmt"
	"io"
	"os"
	"runtime"
	"sort"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/crmsync/crmsync/pkg/crmsync"
	"github.com/crmsync/crmsync/pkg/engine"
)

// Report is what one chaos run found.
type Report struct {
	Backend   string    `json:"backend"`
	Machine   Machine   `json:"machine"`
	Started   time.Time `json:"started"`
	Finished  time.Time `json:"finished"`
	Changes   int       `json:"changes"`
	Creations int       `json:"creations"`
	Updates   int       `json:"updates"`
	// Records is the number of record pairs the load made.
	Records     int     `json:"records"`
	Rate        float64 `json:"rate_per_s"`
	LoadSeconds float64 `json:"load_seconds"`
	Companies   bool    `json:"companies"`
	Deals       bool    `json:"deals"`
	Kills       int     `json:"kills"`
	KillsDone   int     `json:"kills_done"`
	Faults      Faults  `json:"faults"`

	// The goals: 0 / 0 / 0, every error explained, converged within 2
	// sweeps of the last change.
	Converged        bool                     `json:"converged"`
	SweepsToConverge int                      `json:"sweeps_to_converge"`
	ConvergeSeconds  float64                  `json:"converge_seconds"`
	Result           Result                   `json:"result"`
	EchoWrites       int                      `json:"echo_writes"`
	EchoExamples     []string                 `json:"echo_examples,omitempty"`
	Errors           map[crmsync.Category]int `json:"errors"`
	ErrorGroups      []ErrorGroup             `json:"error_groups,omitempty"`
	Stages           []Stage                  `json:"stages"`

	HubSpotCalls             int     `json:"hubspot_calls"`
	SalesforceCalls          int     `json:"salesforce_calls"`
	HubSpotCallsPerRecord    float64 `json:"hubspot_calls_per_record"`
	SalesforceCallsPerRecord float64 `json:"salesforce_calls_per_record"`
	HubSpotCallsPerChange    float64 `json:"hubspot_calls_per_change"`
	SalesforceCallsPerChange float64 `json:"salesforce_calls_per_change"`

	Triggers          int                     `json:"triggers"`
	Writes            int                     `json:"writes"`
	Decisions         map[engine.Decision]int `json:"decisions"`
	DeadLettered      int                     `json:"dead_lettered"`
	AWSFaultsInjected map[string]int          `json:"aws_faults_injected,omitempty"`
	LoadFailures      map[string]int          `json:"load_failures,omitempty"`
	CheckErrors       []string                `json:"check_errors,omitempty"`
	// Table is the DynamoDB table kept for inspection (crmsync explain
	// -table) when the run missed a goal.
	Table string `json:"table,omitempty"`
}

// Stage is one check: after the load drained, and after each sweep.
type Stage struct {
	Name string `json:"name"`
	// Quiet is false when the stack did not go quiet within the bound.
	Quiet         bool    `json:"quiet"`
	AfterSeconds  float64 `json:"after_seconds"`
	Expected      int     `json:"expected"`
	Converged     int     `json:"converged"`
	Lost          int     `json:"lost"`
	Duplicates    int     `json:"duplicates"`
	Unlinked      int     `json:"unlinked"`
	SweepEnqueued int     `json:"sweep_enqueued,omitempty"`
	SweepDrifted  int     `json:"sweep_drifted,omitempty"`
	SweepError    string  `json:"sweep_error,omitempty"`
	// Examples are the stage's first findings.
	Examples []Finding `json:"examples,omitempty"`
}

// ErrorGroup is the records in error with one category, code and message.
type ErrorGroup struct {
	Category crmsync.Category `json:"category"`
	Code     string           `json:"code"`
	Message  string           `json:"message"`
	Records  int              `json:"records"`
	Example  string           `json:"example"`
}

// Faults are the fault rates of a run.
type Faults struct {
	HubSpot    string        `json:"hubspot"`
	Salesforce string        `json:"salesforce"`
	Outbound   string        `json:"outbound"`
	AWS        AWSFaultRates `json:"aws"`
	Kills      string        `json:"kills"`
}

func faultsOf(cfg Config, aws AWSFaultRates) Faults {
	f := Faults{Kills: fmt.Sprintf("%d, down %s each", cfg.Kills, cfg.Down)}
	if cfg.NoFaults {
		f.HubSpot, f.Salesforce, f.Outbound = "none", "none", "none"
		return f
	}
	h, s := HubSpotFaults, SalesforceFaults
	f.HubSpot = fmt.Sprintf("429 %.1f%%, 5xx %.1f%%, 423 %.1f%%, timeout %.1f%%; webhooks duplicated %.0f%%, reordered %.0f%%",
		100*h.RateLimit, 100*h.ServerError, 100*h.Locked, 100*h.Timeout, 100*h.DuplicateWebhook, 100*h.ReorderWebhook)
	f.Salesforce = fmt.Sprintf("UNABLE_TO_LOCK_ROW %.1f%%, 503 %.1f%%, dropped %.1f%%, timeout %.1f%%",
		100*s.LockRow, 100*s.ServerError, 100*s.Drop, 100*s.Timeout)
	f.Outbound = "every notification delivered twice, reordered within messages"
	if cfg.Backend == BackendAWS {
		f.AWS = aws
	}
	return f
}

// Machine describes where a run ran.
type Machine struct {
	OS     string `json:"os"`
	Arch   string `json:"arch"`
	CPUs   int    `json:"cpus"`
	CPU    string `json:"cpu,omitempty"`
	Go     string `json:"go"`
	Memory string `json:"memory,omitempty"`
}

// ThisMachine describes this machine.
func ThisMachine() Machine {
	m := Machine{OS: runtime.GOOS, Arch: runtime.GOARCH, CPUs: runtime.NumCPU(), Go: runtime.Version()}
	m.CPU = firstField("/proc/cpuinfo", "model name")
	m.Memory = firstField("/proc/meminfo", "MemTotal")
	return m
}

func firstField(path, name string) string {
	f, err := os.Open(path)
	if err != nil {
		return ""
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if k, v, ok := strings.Cut(sc.Text(), ":"); ok && strings.TrimSpace(k) == name {
			return strings.TrimSpace(v)
		}
	}
	return ""
}

func (m Machine) String() string {
	s := fmt.Sprintf("%s/%s, %d CPUs", m.OS, m.Arch, m.CPUs)
	if m.CPU != "" {
		s += " (" + m.CPU + ")"
	}
	if m.Memory != "" {
		s += ", " + m.Memory
	}
	return s + ", " + m.Go
}

// PrintTable prints the reports side by side, one column per run.
func PrintTable(w io.Writer, reps []*Report) {
	if len(reps) == 0 {
		return
	}
	fmt.Fprintf(w, "make chaos — %s\n", reps[0].Machine)
	tw := tabwriter.NewWriter(w, 0, 0, 1, ' ', 0)
	row := func(name, goal string, f func(r *Report) string) {
		cells := []string{name, goal}
		for _, r := range reps {
			cells = append(cells, f(r))
		}
		fmt.Fprintln(tw, "| "+strings.Join(cells, "\t| ")+"\t|")
	}
	row("metric", "goal", func(r *Report) string { return r.Backend })
	row("---", "---", func(*Report) string { return "---" })
	row("changes (creations + updates)", "", func(r *Report) string {
		return fmt.Sprintf("%d (%d + %d)", r.Creations+r.Updates, r.Creations, r.Updates)
	})
	row("record pairs", "", func(r *Report) string { return fmt.Sprint(r.Records) })
	row("load duration", "", func(r *Report) string { return fmt.Sprintf("%.0f s at %.0f/s", r.LoadSeconds, r.Rate) })
	row("worker kills mid-batch", "", func(r *Report) string { return fmt.Sprint(r.KillsDone) })
	row("lost updates", "0", func(r *Report) string { return fmt.Sprint(r.Result.Count(FindingLost)) })
	row("duplicate records/links", "0", func(r *Report) string { return fmt.Sprint(r.Result.Count(FindingDuplicate)) })
	row("unsynced / unlinked pairs", "0", func(r *Report) string { return fmt.Sprint(r.Result.Count(FindingUnlinked)) })
	row("echo writes", "0", func(r *Report) string { return fmt.Sprint(r.EchoWrites) })
	row("records in error", "explained", func(r *Report) string { return errorSummary(r.Errors) })
	row("converged", "≤ 2 sweeps", func(r *Report) string {
		if !r.Converged {
			last := r.Stages[len(r.Stages)-1]
			return fmt.Sprintf("no: %d of %d after %s", last.Converged, last.Expected, last.Name)
		}
		return fmt.Sprintf("yes, after %d sweeps", r.SweepsToConverge)
	})
	row("time to converge (last change →)", "", func(r *Report) string {
		if !r.Converged {
			return "—"
		}
		return fmt.Sprintf("%.0f s", r.ConvergeSeconds)
	})
	row("HubSpot calls per record (per change)", "", func(r *Report) string {
		return fmt.Sprintf("%.2f (%.2f)", r.HubSpotCallsPerRecord, r.HubSpotCallsPerChange)
	})
	row("Salesforce calls per record (per change)", "", func(r *Report) string {
		return fmt.Sprintf("%.2f (%.2f)", r.SalesforceCallsPerRecord, r.SalesforceCallsPerChange)
	})
	row("triggers resolved (writes)", "", func(r *Report) string { return fmt.Sprintf("%d (%d)", r.Triggers, r.Writes) })
	row("dead-lettered triggers", "", func(r *Report) string { return fmt.Sprint(r.DeadLettered) })
	row("AWS faults injected", "", func(r *Report) string {
		if len(r.AWSFaultsInjected) == 0 {
			return "—"
		}
		var parts []string
		for _, k := range sortedKeys(r.AWSFaultsInjected) {
			parts = append(parts, fmt.Sprintf("%s %d", strings.TrimPrefix(strings.TrimPrefix(k, "dynamodb "), "sqs "), r.AWSFaultsInjected[k]))
		}
		return strings.Join(parts, ", ")
	})
	tw.Flush()
	for _, r := range reps {
		if len(r.ErrorGroups) > 0 {
			fmt.Fprintf(w, "\nrecords in error, %s:\n", r.Backend)
			for _, g := range r.ErrorGroups {
				fmt.Fprintf(w, "  %5d  %s  %s: %s  (e.g. %s)\n", g.Records, g.Category, g.Code, g.Message, g.Example)
			}
		}
		if n := len(r.Result.Findings); n > 0 {
			fmt.Fprintf(w, "\nfirst findings, %s:\n", r.Backend)
			for _, f := range r.Result.Findings[:min(n, 10)] {
				fmt.Fprintf(w, "  %s %s %s %s want %q hubspot %q salesforce %q — %s\n", f.Kind, f.Object, f.Key, f.Field, f.Want, f.HubSpot, f.Salesforce, f.Detail)
			}
		}
		for _, e := range r.EchoExamples {
			fmt.Fprintf(w, "  echo write, %s: %s\n", r.Backend, e)
		}
		if r.Table != "" {
			fmt.Fprintf(w, "  kept for inspection: DynamoDB table %s (crmsync explain -table %s …, with AWS_ENDPOINT_URL at DynamoDB Local)\n", r.Table, r.Table)
		}
	}
}

func errorSummary(m map[crmsync.Category]int) string {
	if len(m) == 0 {
		return "0"
	}
	total := 0
	var parts []string
	keys := make([]string, 0, len(m))
	for c := range m {
		keys = append(keys, string(c))
	}
	sort.Strings(keys)
	for _, c := range keys {
		n := m[crmsync.Category(c)]
		total += n
		parts = append(parts, fmt.Sprintf("%s %d", c, n))
	}
	return fmt.Sprintf("%d: %s", total, strings.Join(parts, ", "))
}
