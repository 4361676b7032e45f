// Command crmsync is the operator CLI of crmsync.
//
//	crmsync local [--sandbox] [-data FILE]         run the local stack on this machine
//	crmsync settings export|validate|import        edit the settings as YAML
//	crmsync errors [-category C]                   list the records that did not sync
//	crmsync explain <side> <object> <id>           why a record synced as it did
//	crmsync resync <side> <object> <id>            enqueue a record again (-errors, -list)
//	crmsync redrive [-since T] [-until T]          dead-lettered triggers back onto the queue
//	crmsync backfill [-local URL | -table NAME]    the first sync, in pages at P3, resumable
//	crmsync plan FILE | -backfill | -resync …      dry-run a settings change, a backfill or a resync
//	crmsync version                                which build this is
//
// Every command is one entry of the command table: its flags go before or
// after its arguments, -h prints its help and exits 0, and a command that
// does not exist is named.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"runtime/debug"
	"strings"
	"syscall"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "crmsync:", err)
		var u usageError
		if errors.As(err, &u) {
			os.Exit(2)
		}
		os.Exit(1)
	}
}

// usageError is a mistake in the command line (exit status 2).
type usageError string

func (e usageError) Error() string { return string(e) }

// runFunc runs a command with its positional arguments, once its flags
// are parsed.
type runFunc func(ctx context.Context, out io.Writer, args []string) error

// command is one entry of the command table.
type command struct {
	// name is the command as typed: "errors", or "settings import".
	name    string
	summary string
	// help is the full text -h prints before the flags.
	help string
	// setup defines the command's flags on fs and returns what runs it.
	setup func(fs *flag.FlagSet) runFunc
}

// commands is the command table.
func commands() []command {
	return []command{
		{"local", "run the whole stack on this machine (embedded store, local queue; --sandbox: simulated CRMs)", localUsage, setupLocal},
		{"settings export", "write the settings in force as YAML", settingsExportUsage, setupSettingsExport},
		{"settings validate", "check a settings file: which line and why", settingsValidateUsage, setupSettingsValidate},
		{"settings import", "validate a settings file and store it", settingsImportUsage, setupSettingsImport},
		{"errors", "list the records that did not sync: per category, with the reason and a fix", errorsUsage, setupErrors},
		{"explain", "show a record's link, shadow, sync error and ledger: why it synced as it did", explainUsage, setupExplain},
		{"resync", "enqueue records again by hand: one, every errored one (-errors), a HubSpot list's members (-list)", resyncUsage, setupResync},
		{"redrive", "move dead-lettered triggers back onto the queue (all, or by time range)", redriveUsage, setupRedrive},
		{"health", "the Sync Health data in the terminal: API usage, error cards, queue, sweep", healthUsage, setupHealth},
		{"plan", "dry-run a settings change (FILE), a backfill (-backfill) or a resync (-resync): what it would write, the calls it costs", planUsage, setupPlan},
		{"backfill", "the first sync of an existing portal and org: in pages at P3, resumable, with progress and ETA", backfillUsage, setupBackfill},
		{"version", "print the module version and the revision it was built from", versionUsage, setupVersion},
	}
}

func usage() string {
	var b strings.Builder
	b.WriteString("usage: crmsync <command> [flags] [arguments]   (flags before or after the arguments)\n\ncommands:\n")
	for _, c := range commands() {
		fmt.Fprintf(&b, "  %-18s %s\n", c.name, c.summary)
	}
	b.WriteString("\n'crmsync <command> -h' prints a command's help.\n")
	return b.String()
}

func run(ctx context.Context, args []string, out io.Writer) error {
	if len(args) == 0 {
		fmt.Fprint(out, usage())
		return usageError("no command")
	}
	switch args[0] {
	case "help", "-h", "-help", "--help":
		if len(args) > 1 {
			return run(ctx, append(args[1:], "-h"), out)
		}
		fmt.Fprint(out, usage())
		return nil
	}
	c, rest, err := lookup(args, out)
	if err != nil || c == nil {
		return err
	}
	fs := flag.NewFlagSet("crmsync "+c.name, flag.ContinueOnError)
	fs.SetOutput(out)
	runner := c.setup(fs)
	fs.Usage = func() {
		fmt.Fprint(out, c.help)
		hasFlags := false
		fs.VisitAll(func(*flag.Flag) { hasFlags = true })
		if hasFlags {
			fmt.Fprintln(out, "\nflags:")
			fs.PrintDefaults()
		}
	}
	pos, err := parseInterleaved(fs, rest)
	if errors.Is(err, flag.ErrHelp) {
		return nil // fs.Usage printed the help
	}
	if err != nil {
		return usageError(c.name + ": " + err.Error())
	}
	return runner(ctx, out, pos)
}

// lookup finds the command args start with; a group name alone
// ("settings") lists the group's commands (nil command).
func lookup(args []string, out io.Writer) (*command, []string, error) {
	cmds := commands()
	if len(args) > 1 {
		for i := range cmds {
			if cmds[i].name == args[0]+" "+args[1] {
				return &cmds[i], args[2:], nil
			}
		}
	}
	for i := range cmds {
		if cmds[i].name == args[0] {
			return &cmds[i], args[1:], nil
		}
	}
	var group []command
	for _, c := range cmds {
		if strings.HasPrefix(c.name, args[0]+" ") {
			group = append(group, c)
		}
	}
	name := args[0]
	if len(group) > 0 {
		fmt.Fprintf(out, "usage: crmsync %s <command> [flags] [arguments]\n\ncommands:\n", args[0])
		for _, c := range group {
			fmt.Fprintf(out, "  %-18s %s\n", c.name, c.summary)
		}
		if len(args) == 1 {
			return nil, nil, usageError(args[0] + ": no command")
		}
		if isHelp(args[1]) {
			return nil, nil, nil
		}
		name = args[0] + " " + args[1]
	} else {
		fmt.Fprint(out, usage())
	}
	return nil, nil, usageError(fmt.Sprintf("unknown command %q", name))
}

func isHelp(arg string) bool {
	switch arg {
	case "help", "-h", "-help", "--help":
		return true
	}
	return false
}

// parseInterleaved parses flags that may come before, between or after the
// positional arguments, and returns the positional ones.
func parseInterleaved(fs *flag.FlagSet, args []string) ([]string, error) {
	var pos []string
	for {
		if err := fs.Parse(args); err != nil {
			return nil, err
		}
		rest := fs.Args()
		if len(rest) == 0 {
			return pos, nil
		}
		if i := len(args) - len(rest); i > 0 && args[i-1] == "--" {
			return append(pos, rest...), nil // after "--" everything is positional
		}
		pos = append(pos, rest[0])
		args = rest[1:]
	}
}

// wantArgs checks the number of positional arguments.
func wantArgs(name string, args []string, n int, what string) error {
	if len(args) != n {
		if n == 0 {
			return usageError(fmt.Sprintf("%s: unexpected argument %q", name, args[0]))
		}
		return usageError(fmt.Sprintf("%s: want %s (got %d argument%s; -h for help)", name, what, len(args), plural(len(args))))
	}
	return nil
}

const versionUsage = `usage: crmsync version

Prints the module version and the VCS revision this binary was built from
(as the Go toolchain stamped them; 'go run' and -buildvcs=false builds carry
no revision).
`

func setupVersion(fs *flag.FlagSet) runFunc {
	return func(_ context.Context, out io.Writer, args []string) error {
		if err := wantArgs("version", args, 0, ""); err != nil {
			return err
		}
		fmt.Fprintln(out, versionLine(debug.ReadBuildInfo()))
		return nil
	}
}

// versionLine describes a build from its build info.
func versionLine(bi *debug.BuildInfo, ok bool) string {
	if !ok {
		return "crmsync (no build information)"
	}
	line := "crmsync " + bi.Main.Path + " " + bi.Main.Version
	settings := map[string]string{}
	for _, s := range bi.Settings {
		settings[s.Key] = s.Value
	}
	if rev := settings["vcs.revision"]; rev != "" {
		line += " revision " + rev
		if t := settings["vcs.time"]; t != "" {
			line += " (" + t + ")"
		}
		if settings["vcs.modified"] == "true" {
			line += " with local changes"
		}
	} else {
		line += " revision unknown (built without VCS stamping)"
	}
	return line + " " + bi.GoVersion
}
