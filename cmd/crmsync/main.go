// Command crmsync is the operator CLI of crmsync.
//
//	crmsync local [-data FILE]                 run the local stack on this machine
//	crmsync settings export|validate|import    edit the settings as YAML
//	crmsync errors [-category C]               list the records that did not sync
//	crmsync explain <side> <object> <id>       why a record synced as it did
//	crmsync resync <side> <object> <id>        enqueue a record again (-errors: every errored one)
//
// Later issues add plan, redrive, health and bench.
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
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

type usageError string

func (e usageError) Error() string { return string(e) }

const usage = `usage: crmsync <command> [flags]

commands:
  local      run the local stack on this machine (embedded store, local queue)
  settings   export | validate | import the settings as YAML
  errors     list the records that did not sync: per category, with the reason and a fix
  explain    show a record's link, shadow, sync error and ledger: why it synced as it did
  resync     enqueue a record again by hand (-errors: every record with a sync error)
`

func run(ctx context.Context, args []string, out io.Writer) error {
	if len(args) == 0 {
		fmt.Fprint(out, usage)
		return usageError("no command")
	}
	switch args[0] {
	case "local":
		return runLocal(ctx, args[1:], out)
	case "settings":
		return runSettings(ctx, args[1:], out)
	case "errors":
		return runErrors(ctx, args[1:], out)
	case "explain":
		return runExplain(ctx, args[1:], out)
	case "resync":
		return runResync(ctx, args[1:], out)
	case "help", "-h", "--help":
		fmt.Fprint(out, usage)
		return nil
	}
	fmt.Fprint(out, usage)
	return usageError(fmt.Sprintf("unknown command %q", args[0]))
}
