// Command bench is the table part of `make bench` (pkg/bench): it prints
// every row of issue #15's table measured in one run, the bootstraps'
// cold starts and the worker's memory, and writes them as JSON.
//
// Environment (defaults in brackets): BENCH_PAIRS [400] linked pairs for
// the real-time rows, BENCH_SINGLES [10] single changes each way,
// BENCH_RATE [200] changes/s for BENCH_SECONDS [10s], BENCH_FAULT_CHANGES
// [200], BENCH_QUEUED [10000] triggers for the memory row watched for
// BENCH_MEMORY_SECONDS [15s], BENCH_RECORDS [1000] records per side for
// the first sync and the bulk change (the size is 20000),
// BENCH_COLDSTARTS [10], BENCH_RECEIVES [2000], BENCH_SETTLE [5m] bound
// of each wait, BENCH_ONLY (comma-separated parts: receivers, realtime,
// bulk, coldstart), BENCH_JSON [bench.json].
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

	"github.com/crmsync/crmsync/pkg/bench"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	bad := false
	env := func(k, def string) string {
		if v := os.Getenv(k); v != "" {
			return v
		}
		return def
	}
	atoi := func(k, def string) int {
		n, err := strconv.Atoi(env(k, def))
		if err != nil || n < 0 {
			fmt.Fprintf(os.Stderr, "bench: %s: not a count\n", k)
			bad = true
		}
		return n
	}
	dur := func(k, def string) time.Duration {
		d, err := time.ParseDuration(env(k, def))
		if err != nil {
			fmt.Fprintf(os.Stderr, "bench: %s: %v\n", k, err)
			bad = true
		}
		return d
	}
	rate, err := strconv.ParseFloat(env("BENCH_RATE", "200"), 64)
	if err != nil || rate <= 0 {
		fmt.Fprintln(os.Stderr, "bench: BENCH_RATE: not a rate")
		bad = true
	}
	root, err := os.Getwd()
	if err != nil {
		fmt.Fprintln(os.Stderr, "bench:", err)
		os.Exit(2)
	}
	dir, err := os.MkdirTemp("", "crmsync-bench-")
	if err != nil {
		fmt.Fprintln(os.Stderr, "bench:", err)
		os.Exit(2)
	}
	defer os.RemoveAll(dir)
	cfg := bench.Config{Root: root, Dir: dir, Pairs: atoi("BENCH_PAIRS", "400"), Singles: atoi("BENCH_SINGLES", "10"), Rate: rate,
		Duration: dur("BENCH_SECONDS", "10s"), FaultChanges: atoi("BENCH_FAULT_CHANGES", "200"), Queued: atoi("BENCH_QUEUED", "10000"),
		MemoryWatch: dur("BENCH_MEMORY_SECONDS", "15s"), Records: atoi("BENCH_RECORDS", "1000"), ColdStarts: atoi("BENCH_COLDSTARTS", "10"),
		Receives: atoi("BENCH_RECEIVES", "2000"), Settle: dur("BENCH_SETTLE", "5m"),
		Progress: func(format string, args ...any) {
			fmt.Fprintf(os.Stderr, "%s bench: %s\n", time.Now().Format("15:04:05"), fmt.Sprintf(format, args...))
		}}
	if only := env("BENCH_ONLY", ""); only != "" {
		cfg.Only = strings.Split(only, ",")
	}
	if bad {
		os.Exit(2)
	}
	rep := bench.Run(ctx, cfg)
	fmt.Println()
	bench.PrintTable(os.Stdout, rep)
	out := env("BENCH_JSON", "bench.json")
	data, err := json.MarshalIndent(rep, "", "  ")
	if err == nil {
		err = os.WriteFile(out, append(data, '\n'), 0o644)
	}
	if err != nil {
		fmt.Fprintf(os.Stderr, "bench: write %s: %v\n", out, err)
		os.Exit(2)
	}
	fmt.Printf("\nwrote %s\n", out)
	if len(rep.Errors) > 0 {
		os.Exit(1)
	}
}
