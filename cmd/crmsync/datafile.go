package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"time"

	bolt "go.etcd.io/bbolt"
	bolterrors "go.etcd.io/bbolt/errors"

	"github.com/crmsync/crmsync/pkg/boltstore"
	"github.com/crmsync/crmsync/pkg/crmsync"
)

// The data file remembers which CRMs its state is about, in a bucket of
// its own beside boltstore's: "sandbox", or "Salesforce org <id>". Links,
// cursors and dedupe keys are only true of the CRMs they were made with;
// used against others they would read as deleted records, or point one
// record's changes at another's.
var (
	bktLocal = []byte("crmsync_local")
	keyOwner = []byte("owner")
)

const ownerSandbox = "sandbox"

// fileOwner returns the owner recorded in the data file ("" when none, or
// when the file does not exist).
func fileOwner(path string) (string, error) {
	if _, err := os.Stat(path); errors.Is(err, os.ErrNotExist) {
		return "", nil
	}
	db, err := bolt.Open(path, 0o600, &bolt.Options{Timeout: time.Second, ReadOnly: true})
	if err != nil {
		return "", heldError(path, err)
	}
	defer db.Close()
	var owner string
	err = db.View(func(tx *bolt.Tx) error {
		if b := tx.Bucket(bktLocal); b != nil {
			owner = string(b.Get(keyOwner))
		}
		return nil
	})
	return owner, err
}

func setOwner(path, owner string) error {
	db, err := bolt.Open(path, 0o600, &bolt.Options{Timeout: time.Second})
	if err != nil {
		return heldError(path, err)
	}
	err = db.Update(func(tx *bolt.Tx) error {
		b, err := tx.CreateBucketIfNotExists(bktLocal)
		if err != nil {
			return err
		}
		return b.Put(keyOwner, []byte(owner))
	})
	if cerr := db.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("local: mark %s as %s's: %w", path, owner, err)
	}
	return nil
}

func heldError(path string, err error) error {
	if errors.Is(err, bolterrors.ErrTimeout) {
		return fmt.Errorf("local: %w: another process holds %s — is crmsync local already running on it? (-data picks another file)", err, path)
	}
	return fmt.Errorf("local: open %s: %w", path, err)
}

// claimStore makes sure the data file belongs to owner (real CRMs),
// recording it in a file that has none yet.
func claimStore(path, owner string) error {
	had, err := fileOwner(path)
	if err != nil {
		return err
	}
	switch had {
	case owner:
		return nil
	case "":
		return setOwner(path, owner)
	case ownerSandbox:
		return usageError(fmt.Sprintf("local: %s holds the sandbox's state (links to simulated records); pass -data another file for real CRMs", path))
	}
	return usageError(fmt.Sprintf("local: %s holds the state of %s, not of %s; pass -data another file", path, had, owner))
}

// freshSandboxStore empties the data file for a sandbox run. The
// simulated portal and org live in memory and start empty (with the same
// ids again) every run, so state kept from an earlier run would be about
// records that are gone — or about different records that now have their
// ids. The stored settings are kept. A file of real CRMs is refused; a file
// without an owner (made before owners were recorded) is taken for the
// sandbox's, as make run made those. It returns a note for the banner.
func freshSandboxStore(ctx context.Context, path string) (string, error) {
	owner, err := fileOwner(path)
	if err != nil {
		return "", err
	}
	if owner != "" && owner != ownerSandbox {
		return "", usageError(fmt.Sprintf("local: %s holds the state of %s; --sandbox starts from an empty store and would erase it: pass -data another file", path, owner))
	}
	var settings crmsync.Settings
	kept := false
	if _, err := os.Stat(path); err == nil {
		st, err := boltstore.Open(path)
		if err != nil {
			return "", heldError(path, err)
		}
		settings, err = st.GetSettings(ctx)
		kept = err == nil
		if cerr := st.Close(); err == nil {
			err = cerr
		}
		if err != nil && !errors.Is(err, crmsync.ErrNotFound) {
			return "", fmt.Errorf("local: read the settings to keep: %w", err)
		}
		if err := os.Remove(path); err != nil {
			return "", fmt.Errorf("local: %w", err)
		}
	}
	if err := setOwner(path, ownerSandbox); err != nil {
		return "", err
	}
	note := " (fresh: the simulated CRMs start empty every run, so the sandbox's store does too)"
	if !kept {
		return note, nil
	}
	st, err := boltstore.Open(path)
	if err != nil {
		return "", heldError(path, err)
	}
	defer st.Close()
	settings.Version = 0
	if _, err := st.PutSettings(ctx, settings); err != nil {
		return "", fmt.Errorf("local: keep the settings: %w", err)
	}
	return " (fresh: the simulated CRMs start empty every run, so the sandbox's store does too; settings kept)", nil
}
