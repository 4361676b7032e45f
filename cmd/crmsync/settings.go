package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"

	"github.com/crmsync/crmsync/pkg/crmsync"
	"github.com/crmsync/crmsync/pkg/engine"
	"github.com/crmsync/crmsync/pkg/settingsfile"
)

const settingsUsage = `usage:
  crmsync settings export [-data FILE | -table NAME] [-o FILE]   write the stored (or default) settings as YAML
  crmsync settings validate FILE                                  check a settings file; says which line and why
  crmsync settings import [-data FILE | -table NAME] FILE        validate and store a settings file
`

func runSettings(ctx context.Context, args []string, out io.Writer) error {
	if len(args) == 0 {
		fmt.Fprint(out, settingsUsage)
		return usageError("settings: no subcommand")
	}
	fs := flag.NewFlagSet("settings "+args[0], flag.ContinueOnError)
	fs.SetOutput(out)
	sf := addStoreFlags(fs)
	output := fs.String("o", "", "export: write to this file instead of standard output")
	if err := fs.Parse(args[1:]); err != nil {
		return usageError(err.Error())
	}
	switch args[0] {
	case "export":
		st, closeStore, _, err := sf.open(ctx)
		if err != nil {
			return err
		}
		defer closeStore()
		s, err := (&engine.Engine{Store: st}).Settings(ctx)
		if err != nil {
			return err
		}
		b, err := settingsfile.Encode(s)
		if err != nil {
			return err
		}
		if *output == "" {
			_, err = out.Write(b)
			return err
		}
		return os.WriteFile(*output, b, 0o644)

	case "validate":
		if fs.NArg() != 1 {
			return usageError("settings validate: want one file")
		}
		if _, err := readSettings(fs.Arg(0)); err != nil {
			return err
		}
		fmt.Fprintf(out, "%s: valid\n", fs.Arg(0))
		return nil

	case "import":
		if fs.NArg() != 1 {
			return usageError("settings import: want one file")
		}
		s, err := readSettings(fs.Arg(0))
		if err != nil {
			return err
		}
		st, closeStore, where, err := sf.open(ctx)
		if err != nil {
			return err
		}
		defer closeStore()
		stored, err := st.PutSettings(ctx, s)
		if errors.Is(err, crmsync.ErrVersionConflict) {
			return fmt.Errorf("%s: the stored settings changed since this file was exported (file version %d): export again and re-apply your edits: %w", fs.Arg(0), s.Version, err)
		}
		if err != nil {
			return err
		}
		fmt.Fprintf(out, "imported %s into %s: settings version %d\n", fs.Arg(0), where, stored.Version)
		return nil
	}
	fmt.Fprint(out, settingsUsage)
	return usageError(fmt.Sprintf("settings: unknown subcommand %q", args[0]))
}

func readSettings(path string) (crmsync.Settings, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return crmsync.Settings{}, err
	}
	s, err := settingsfile.Decode(b)
	if err != nil {
		return s, fmt.Errorf("%s: %w", path, err)
	}
	return s, nil
}
