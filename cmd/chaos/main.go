// Command chaos is `make chaos`: it runs pkg/chaos on each store/queue
// pair — bbolt + the local queue, and DynamoDB Local + fauxqs (their
// endpoints from the environment, as `.ci/testservers start` prints them)
// — prints the reports side by side and writes them as JSON.
//
// Environment: CHAOS_CHANGES (default 10000), CHAOS_RATE (changes/s,
// default 50), CHAOS_KILLS (default 4), CHAOS_BACKENDS (comma-separated,
// default both), CHAOS_OBJECTS (contacts plus "companies", "deals";
// default all three), CHAOS_FAULTS=0 for a run without injected faults,
// CHAOS_SEED, CHAOS_SETTLE (bound of each wait for quiet, default 10m),
// CHAOS_JSON (default chaos.json).
//
// `chaos table FILE.json…` prints the table of earlier runs' JSON files
// side by side (runs made apart, e.g. one per backend at once).
//
// It exits 1 when a run did not meet the goals (0 lost updates, 0
// duplicates, 0 echo writes, converged within 2 sweeps), 2 when a run
// could not be made.
package main

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"time"

	"github.com/crmsync/crmsync/pkg/chaos"
)

func main() {
	if len(os.Args) > 2 && os.Args[1] == "table" {
		os.Exit(table(os.Args[2:]))
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	env := func(k, def string) string {
		if v := os.Getenv(k); v != "" {
			return v
		}
		return def
	}
	atoi := func(k, def string) int {
		n, err := strconv.Atoi(env(k, def))
		if err != nil {
			fmt.Fprintf(os.Stderr, "chaos: %s: %v\n", k, err)
			os.Exit(2)
		}
		return n
	}
	rate, err := strconv.ParseFloat(env("CHAOS_RATE", "50"), 64)
	if err != nil {
		fmt.Fprintf(os.Stderr, "chaos: CHAOS_RATE: %v\n", err)
		os.Exit(2)
	}
	settle, err := time.ParseDuration(env("CHAOS_SETTLE", "10m"))
	if err != nil {
		fmt.Fprintf(os.Stderr, "chaos: CHAOS_SETTLE: %v\n", err)
		os.Exit(2)
	}
	objects := env("CHAOS_OBJECTS", "contacts,companies,deals")
	var reps []*chaos.Report
	failed := false
	for _, b := range strings.Split(env("CHAOS_BACKENDS", chaos.BackendBolt+","+chaos.BackendAWS), ",") {
		cfg := chaos.Config{Backend: strings.TrimSpace(b), Changes: atoi("CHAOS_CHANGES", "10000"), Rate: rate,
			Kills: atoi("CHAOS_KILLS", "4"), Companies: strings.Contains(objects, "companies"), Deals: strings.Contains(objects, "deals"),
			NoFaults: env("CHAOS_FAULTS", "1") == "0", Seed: uint64(atoi("CHAOS_SEED", "15")), Settle: settle,
			Dir: os.Getenv("CHAOS_DIR"),
			Progress: func(format string, args ...any) {
				fmt.Fprintf(os.Stderr, "%s chaos: %s\n", time.Now().Format("15:04:05"), fmt.Sprintf(format, args...))
			}}
		rep, err := chaos.Run(ctx, cfg)
		if err != nil {
			fmt.Fprintf(os.Stderr, "chaos: %s: %v\n", cfg.Backend, err)
			if rep == nil {
				os.Exit(2)
			}
		}
		reps = append(reps, rep)
		if !rep.Converged || rep.Result.Count(chaos.FindingLost) > 0 || rep.Result.Count(chaos.FindingDuplicate) > 0 || rep.EchoWrites > 0 {
			failed = true
		}
	}
	fmt.Println()
	chaos.PrintTable(os.Stdout, reps)
	out := env("CHAOS_JSON", "chaos.json")
	data, err := json.MarshalIndent(reps, "", "  ")
	if err == nil {
		err = os.WriteFile(out, append(data, '\n'), 0o644)
	}
	if err != nil {
		fmt.Fprintf(os.Stderr, "chaos: write %s: %v\n", out, err)
		os.Exit(2)
	}
	fmt.Printf("\nwrote %s\n", out)
	if failed {
		os.Exit(1)
	}
}

// table prints the reports in files side by side.
func table(files []string) int {
	var reps []*chaos.Report
	for _, f := range files {
		data, err := os.ReadFile(f)
		var rs []*chaos.Report
		if err == nil {
			err = json.Unmarshal(data, &rs)
		}
		if err != nil {
			fmt.Fprintf(os.Stderr, "chaos: %s: %v\n", f, err)
			return 2
		}
		reps = append(reps, rs...)
	}
	chaos.PrintTable(os.Stdout, reps)
	return 0
}
