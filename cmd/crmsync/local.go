package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"

	"github.com/crmsync/crmsync/pkg/crmsync"
	"github.com/crmsync/crmsync/pkg/localqueue"
)

// runLocal opens the embedded store and the local queue and reports what
// runs and what is not built yet. It never pretends: a part that does not
// exist is listed as such.
func runLocal(ctx context.Context, args []string, out io.Writer) error {
	fs := flag.NewFlagSet("local", flag.ContinueOnError)
	fs.SetOutput(out)
	sf := addStoreFlags(fs)
	once := fs.Bool("once", false, "report and exit instead of running until interrupted")
	if err := fs.Parse(args); err != nil {
		return usageError(err.Error())
	}

	*sf.table = "" // the local stack always uses the embedded store
	store, closeStore, where, err := sf.open(ctx)
	if err != nil {
		return err
	}
	defer closeStore()
	queue := localqueue.New(localqueue.Options{MaxReceives: 5})

	settings, err := store.GetSettings(ctx)
	switch {
	case errors.Is(err, crmsync.ErrNotFound):
		settings = crmsync.DefaultSettings()
		fmt.Fprintf(out, "store     %s (no settings stored: using the defaults)\n", where)
	case err != nil:
		return fmt.Errorf("read settings: %w", err)
	default:
		fmt.Fprintf(out, "store     %s (settings version %d)\n", where, settings.Version)
	}
	stats, err := queue.Stats(ctx)
	if err != nil {
		return fmt.Errorf("queue stats: %w", err)
	}
	fmt.Fprintf(out, "queue     in-process FIFO, %d visible, %d in flight, dead letter after 5 receives\n", stats.Visible, stats.InFlight)
	fmt.Fprintf(out, "objects   contacts=%t companies=%t deals=%t, default rule %s\n",
		settings.Objects.Contacts, settings.Objects.Companies, settings.Objects.Deals, settings.DefaultRule)
	fmt.Fprintln(out, "not yet   HubSpot/Salesforce simulators, receivers on HTTP, sync worker, sweep:")
	fmt.Fprintln(out, "          they join `crmsync local` as they are built; nothing is syncing yet")
	if *once {
		return nil
	}
	fmt.Fprintln(out, "running   Ctrl-C to stop")
	<-ctx.Done()
	return nil
}
