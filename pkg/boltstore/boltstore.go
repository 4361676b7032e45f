// Package boltstore implements crmsync.Store on one embedded bbolt file:
// the local default, for `crmsync local` and tests that need no server.
//
// Decisions:
//
//   - One bucket per kind of item, values JSON-encoded domain types. Every
//     write is one bbolt read-write transaction, and bbolt runs those one
//     at a time, so the checks the Store contract needs (version equal,
//     id not linked elsewhere, key not seen) and the writes they guard are
//     atomic without further locking.
//   - Link uniqueness is an index bucket (link_refs: record key → link id)
//     written in the same transaction as the link, exactly as ddbstore's
//     index items are; a create or update that would claim a linked id
//     fails and writes nothing.
//   - Expiring items (dedupe keys, ledger entries, API-usage buckets) keep
//     their expiry beside the value and readers ignore what has expired,
//     so behaviour does not depend on when cleanup runs. Cleanup is
//     amortised into writes: each Seen removes a few expired keys through
//     an expiry-ordered index, each AppendLedger the expired head of its
//     link's entries, each AddAPIUsage buckets older than two windows.
//   - Time comes from a clock option (WithClock), so TTLs are testable
//     without sleeping.
//   - Errors due for retry are found by reading every error and keeping
//     those whose NextRetry has come: a local store holds few errors, and
//     an index by due time would be one more thing to keep in step on
//     every put and clear.
//   - Leases are one item per name holding owner, expiry and checkpoint,
//     read and written in one transaction; expiry is by the store's clock.
//   - Only one process can open the file (bbolt locks it); Open waits up
//     to WithTimeout for the lock instead of hanging.
package boltstore

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"time"

	"github.com/crmsync/crmsync/pkg/crmsync"
	bolt "go.etcd.io/bbolt"
)

// Bucket names.
var (
	bktSettings   = []byte("settings")
	bktLinks      = []byte("links")       // link id → Link
	bktLinkRefs   = []byte("link_refs")   // RecordRef.Key() → link id
	bktSeen       = []byte("seen")        // dedupe key → expiry
	bktSeenExpiry = []byte("seen_expiry") // expiry ‖ dedupe key → nothing
	bktCursors    = []byte("cursors")     // side/object → Cursor
	bktSyncErrors = []byte("sync_errors") // RecordRef.Key() → SyncError
	bktErrorCats  = []byte("sync_error_categories")
	bktUsage      = []byte("api_usage") // side 0x00 bucket start → count
	bktLedger     = []byte("ledger")    // link id 0x00 at ‖ id → expiry ‖ LedgerEntry
	bktLeases     = []byte("leases")    // lease name → Lease
	allBuckets    = [][]byte{bktSettings, bktLinks, bktLinkRefs, bktSeen, bktSeenExpiry,
		bktCursors, bktSyncErrors, bktErrorCats, bktUsage, bktLedger, bktLeases}
	settingsKey = []byte("settings")
)

// DefaultLedgerRetention is how long ledger entries are kept unless
// WithLedgerRetention says otherwise.
const DefaultLedgerRetention = 90 * 24 * time.Hour

// Store is a crmsync.Store on a bbolt file. Safe for concurrent use.
type Store struct {
	db        *bolt.DB
	now       func() time.Time
	retention time.Duration
}

var _ crmsync.Store = (*Store)(nil)

type options struct {
	now       func() time.Time
	retention time.Duration
	timeout   time.Duration
}

// Option configures Open.
type Option func(*options)

// WithClock sets the clock TTLs and retention are measured with
// (time.Now by default).
func WithClock(now func() time.Time) Option { return func(o *options) { o.now = now } }

// WithLedgerRetention sets how long ledger entries are kept after they are
// appended (DefaultLedgerRetention by default).
func WithLedgerRetention(d time.Duration) Option { return func(o *options) { o.retention = d } }

// WithTimeout sets how long Open waits for another process to release the
// file (1 s by default).
func WithTimeout(d time.Duration) Option { return func(o *options) { o.timeout = d } }

// Open opens or creates the store file at path.
func Open(path string, opts ...Option) (*Store, error) {
	o := options{now: time.Now, retention: DefaultLedgerRetention, timeout: time.Second}
	for _, opt := range opts {
		opt(&o)
	}
	db, err := bolt.Open(path, 0o600, &bolt.Options{Timeout: o.timeout})
	if err != nil {
		return nil, fmt.Errorf("boltstore: open %s: %w", path, err)
	}
	err = db.Update(func(tx *bolt.Tx) error {
		for _, name := range allBuckets {
			if _, err := tx.CreateBucketIfNotExists(name); err != nil {
				return fmt.Errorf("bucket %s: %w", name, err)
			}
		}
		return nil
	})
	if err != nil {
		db.Close()
		return nil, fmt.Errorf("boltstore: open %s: %w", path, err)
	}
	return &Store{db: db, now: o.now, retention: o.retention}, nil
}

// Close closes the file.
func (s *Store) Close() error {
	if err := s.db.Close(); err != nil {
		return fmt.Errorf("boltstore: close: %w", err)
	}
	return nil
}

// view and update run fn in a read-only or read-write transaction and
// wrap its error once with op. Errors fn returns are already descriptive
// (they wrap the crmsync sentinels); bbolt's own errors are failures of
// the file.
func (s *Store) view(ctx context.Context, op string, fn func(tx *bolt.Tx) error) error {
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("boltstore: %s: %w", op, err)
	}
	if err := s.db.View(fn); err != nil {
		return fmt.Errorf("boltstore: %s: %w", op, err)
	}
	return nil
}

func (s *Store) update(ctx context.Context, op string, fn func(tx *bolt.Tx) error) error {
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("boltstore: %s: %w", op, err)
	}
	if err := s.db.Update(fn); err != nil {
		return fmt.Errorf("boltstore: %s: %w", op, err)
	}
	return nil
}

func getJSON(b *bolt.Bucket, key []byte, v any) (bool, error) {
	raw := b.Get(key)
	if raw == nil {
		return false, nil
	}
	if err := json.Unmarshal(raw, v); err != nil {
		return true, fmt.Errorf("decode %q: %w", key, err)
	}
	return true, nil
}

func putJSON(b *bolt.Bucket, key []byte, v any) error {
	raw, err := json.Marshal(v)
	if err != nil {
		return fmt.Errorf("encode %q: %w", key, err)
	}
	return b.Put(key, raw)
}

// newID returns a random 128-bit id in hex.
func newID() string {
	var b [16]byte
	_, _ = rand.Read(b[:]) // never fails (crypto/rand panics instead)
	return hex.EncodeToString(b[:])
}

// timeKey encodes t as 8 bytes that sort in time order (the sign bit is
// flipped so times before 1970 sort first).
func timeKey(t time.Time) []byte {
	var b [8]byte
	binary.BigEndian.PutUint64(b[:], uint64(t.UnixNano())^(1<<63))
	return b[:]
}

func fromTimeKey(b []byte) time.Time {
	return time.Unix(0, int64(binary.BigEndian.Uint64(b)^(1<<63)))
}

func encodeToken(key []byte) string { return base64.RawURLEncoding.EncodeToString(key) }

func decodeToken(token string) ([]byte, error) {
	key, err := base64.RawURLEncoding.DecodeString(token)
	if err != nil || len(key) == 0 {
		return nil, fmt.Errorf("%w: malformed page token", crmsync.ErrInvalid)
	}
	return key, nil
}

// GetSettings implements crmsync.Store.
func (s *Store) GetSettings(ctx context.Context) (crmsync.Settings, error) {
	var out crmsync.Settings
	err := s.view(ctx, "get settings", func(tx *bolt.Tx) error {
		ok, err := getJSON(tx.Bucket(bktSettings), settingsKey, &out)
		if err == nil && !ok {
			return crmsync.ErrNotFound
		}
		return err
	})
	return out, err
}

// PutSettings implements crmsync.Store.
func (s *Store) PutSettings(ctx context.Context, in crmsync.Settings) (crmsync.Settings, error) {
	if err := in.Validate(); err != nil {
		return crmsync.Settings{}, fmt.Errorf("boltstore: put settings: %w", err)
	}
	err := s.update(ctx, "put settings", func(tx *bolt.Tx) error {
		b := tx.Bucket(bktSettings)
		var cur crmsync.Settings
		if _, err := getJSON(b, settingsKey, &cur); err != nil {
			return err
		}
		if cur.Version != in.Version {
			return fmt.Errorf("stored version %d, given %d: %w", cur.Version, in.Version, crmsync.ErrVersionConflict)
		}
		in.Version++
		return putJSON(b, settingsKey, in)
	})
	if err != nil {
		return crmsync.Settings{}, err
	}
	return in, nil
}

// GetLink implements crmsync.Store.
func (s *Store) GetLink(ctx context.Context, ref crmsync.RecordRef) (crmsync.Link, error) {
	var out crmsync.Link
	err := s.view(ctx, "get link "+ref.Key(), func(tx *bolt.Tx) error {
		id := tx.Bucket(bktLinkRefs).Get([]byte(ref.Key()))
		if id == nil {
			return crmsync.ErrNotFound
		}
		ok, err := getJSON(tx.Bucket(bktLinks), id, &out)
		if err == nil && !ok {
			return fmt.Errorf("index names missing link %s: %w", id, crmsync.ErrNotFound)
		}
		return err
	})
	return out, err
}

// GetLinkByID implements crmsync.Store.
func (s *Store) GetLinkByID(ctx context.Context, id string) (crmsync.Link, error) {
	var out crmsync.Link
	err := s.view(ctx, "get link "+id, func(tx *bolt.Tx) error {
		ok, err := getJSON(tx.Bucket(bktLinks), []byte(id), &out)
		if err == nil && !ok {
			return crmsync.ErrNotFound
		}
		return err
	})
	return out, err
}

// claim points ref at link id, failing with ErrConflict when another link
// holds it.
func claim(refs *bolt.Bucket, ref crmsync.RecordRef, id string) error {
	if other := refs.Get([]byte(ref.Key())); other != nil && string(other) != id {
		return fmt.Errorf("%s is linked by %s: %w", ref, other, crmsync.ErrConflict)
	}
	return refs.Put([]byte(ref.Key()), []byte(id))
}

// CreateLink implements crmsync.Store.
func (s *Store) CreateLink(ctx context.Context, l crmsync.Link) (crmsync.Link, error) {
	if err := l.Validate(); err != nil {
		return crmsync.Link{}, fmt.Errorf("boltstore: create link: %w", err)
	}
	if l.ID == "" {
		l.ID = newID()
	}
	l.Version = 1
	err := s.update(ctx, "create link "+l.ID, func(tx *bolt.Tx) error {
		links, refs := tx.Bucket(bktLinks), tx.Bucket(bktLinkRefs)
		if links.Get([]byte(l.ID)) != nil {
			return fmt.Errorf("id in use: %w", crmsync.ErrConflict)
		}
		for _, r := range l.Refs() {
			if err := claim(refs, r, l.ID); err != nil {
				return err
			}
		}
		return putJSON(links, []byte(l.ID), l)
	})
	if err != nil {
		return crmsync.Link{}, err
	}
	return l, nil
}

// UpdateLink implements crmsync.Store.
func (s *Store) UpdateLink(ctx context.Context, l crmsync.Link) (crmsync.Link, error) {
	if err := l.Validate(); err != nil {
		return crmsync.Link{}, fmt.Errorf("boltstore: update link %s: %w", l.ID, err)
	}
	err := s.update(ctx, "update link "+l.ID, func(tx *bolt.Tx) error {
		links, refs := tx.Bucket(bktLinks), tx.Bucket(bktLinkRefs)
		var cur crmsync.Link
		ok, err := getJSON(links, []byte(l.ID), &cur)
		if err != nil {
			return err
		}
		if !ok {
			return crmsync.ErrNotFound
		}
		if cur.Version != l.Version {
			return fmt.Errorf("stored version %d, given %d: %w", cur.Version, l.Version, crmsync.ErrVersionConflict)
		}
		for _, side := range crmsync.Sides {
			old, next := cur.Ref(side), l.Ref(side)
			if old == next {
				continue
			}
			if !old.IsZero() {
				if err := refs.Delete([]byte(old.Key())); err != nil {
					return err
				}
			}
			if !next.IsZero() {
				if err := claim(refs, next, l.ID); err != nil {
					return err // the transaction rolls back the release too
				}
			}
		}
		l.Version++
		return putJSON(links, []byte(l.ID), l)
	})
	if err != nil {
		return crmsync.Link{}, err
	}
	return l, nil
}

// DeleteLink implements crmsync.Store.
func (s *Store) DeleteLink(ctx context.Context, id string, version int64) error {
	return s.update(ctx, "delete link "+id, func(tx *bolt.Tx) error {
		links, refs := tx.Bucket(bktLinks), tx.Bucket(bktLinkRefs)
		var cur crmsync.Link
		ok, err := getJSON(links, []byte(id), &cur)
		if err != nil {
			return err
		}
		if !ok {
			return crmsync.ErrNotFound
		}
		if cur.Version != version {
			return fmt.Errorf("stored version %d, given %d: %w", cur.Version, version, crmsync.ErrVersionConflict)
		}
		for _, r := range cur.Refs() {
			if err := refs.Delete([]byte(r.Key())); err != nil {
				return err
			}
		}
		return links.Delete([]byte(id))
	})
}

// ListLinks implements crmsync.Store: links in id order.
func (s *Store) ListLinks(ctx context.Context, page crmsync.PageRequest) ([]crmsync.Link, string, error) {
	var out []crmsync.Link
	var next string
	err := s.view(ctx, "list links", func(tx *bolt.Tx) error {
		var err error
		next, err = scanForward(tx.Bucket(bktLinks), nil, page, func(_, v []byte) error {
			var l crmsync.Link
			if err := json.Unmarshal(v, &l); err != nil {
				return fmt.Errorf("decode link: %w", err)
			}
			out = append(out, l)
			return nil
		})
		return err
	})
	if err != nil {
		return nil, "", err
	}
	return out, next, nil
}

// scanForward calls fn for at most page.Size() keys with prefix, in key
// order, starting after the page token, and returns the next token ("" when
// no key follows).
func scanForward(b *bolt.Bucket, prefix []byte, page crmsync.PageRequest, fn func(k, v []byte) error) (string, error) {
	c := b.Cursor()
	var k, v []byte
	if page.Token == "" {
		k, v = c.Seek(prefix)
	} else {
		after, err := decodeToken(page.Token)
		if err != nil {
			return "", err
		}
		if k, v = c.Seek(after); k != nil && bytes.Equal(k, after) {
			k, v = c.Next()
		}
	}
	var last []byte
	for n := 0; k != nil && bytes.HasPrefix(k, prefix); k, v = c.Next() {
		if n == page.Size() {
			return encodeToken(last), nil
		}
		if err := fn(k, v); err != nil {
			return "", err
		}
		last = k
		n++
	}
	return "", nil
}

// Seen implements crmsync.Store. A key is seen while its expiry is after
// the clock's now.
func (s *Store) Seen(ctx context.Context, key string, ttl time.Duration) (bool, error) {
	if ttl <= 0 {
		return false, fmt.Errorf("boltstore: seen %s: %w: ttl %v is not positive", key, crmsync.ErrInvalid, ttl)
	}
	now := s.now()
	var seen bool
	err := s.update(ctx, "seen "+key, func(tx *bolt.Tx) error {
		keys, byExpiry := tx.Bucket(bktSeen), tx.Bucket(bktSeenExpiry)
		if exp := keys.Get([]byte(key)); exp != nil && fromTimeKey(exp).After(now) {
			seen = true
			return nil
		}
		exp := timeKey(now.Add(ttl))
		if err := keys.Put([]byte(key), exp); err != nil {
			return err
		}
		if err := byExpiry.Put(append(exp, key...), nil); err != nil {
			return err
		}
		return pruneSeen(keys, byExpiry, now, 16)
	})
	return seen, err
}

// pruneSeen deletes up to max expired dedupe keys, oldest expiry first.
func pruneSeen(keys, byExpiry *bolt.Bucket, now time.Time, max int) error {
	var done [][]byte
	c := byExpiry.Cursor()
	for k, _ := c.First(); k != nil && len(done) < max && !fromTimeKey(k[:8]).After(now); k, _ = c.Next() {
		done = append(done, bytes.Clone(k))
	}
	for _, k := range done {
		// The key may have been seen again since, with a later expiry.
		if bytes.Equal(keys.Get(k[8:]), k[:8]) {
			if err := keys.Delete(k[8:]); err != nil {
				return err
			}
		}
		if err := byExpiry.Delete(k); err != nil {
			return err
		}
	}
	return nil
}

// Forget implements crmsync.Store.
func (s *Store) Forget(ctx context.Context, key string) error {
	return s.update(ctx, "forget "+key, func(tx *bolt.Tx) error {
		return tx.Bucket(bktSeen).Delete([]byte(key))
	})
}

func cursorKey(side crmsync.Side, object crmsync.ObjectType) []byte {
	return []byte(string(side) + "/" + string(object))
}

// GetCursor implements crmsync.Store.
func (s *Store) GetCursor(ctx context.Context, side crmsync.Side, object crmsync.ObjectType) (crmsync.Cursor, error) {
	var out crmsync.Cursor
	key := cursorKey(side, object)
	err := s.view(ctx, "get cursor "+string(key), func(tx *bolt.Tx) error {
		ok, err := getJSON(tx.Bucket(bktCursors), key, &out)
		if err == nil && !ok {
			return crmsync.ErrNotFound
		}
		return err
	})
	return out, err
}

// PutCursor implements crmsync.Store.
func (s *Store) PutCursor(ctx context.Context, c crmsync.Cursor) error {
	key := cursorKey(c.Side, c.Object)
	if !c.Side.Valid() || c.Object.Side() != c.Side {
		return fmt.Errorf("boltstore: put cursor %s: %w: not an object of that side", key, crmsync.ErrInvalid)
	}
	return s.update(ctx, "put cursor "+string(key), func(tx *bolt.Tx) error {
		return putJSON(tx.Bucket(bktCursors), key, c)
	})
}

func categoryKey(c crmsync.Category, ref crmsync.RecordRef) []byte {
	return []byte(string(c) + "\x00" + ref.Key())
}

// PutSyncError implements crmsync.Store.
func (s *Store) PutSyncError(ctx context.Context, e crmsync.SyncError) error {
	if err := e.Validate(); err != nil {
		return fmt.Errorf("boltstore: put sync error: %w", err)
	}
	return s.update(ctx, "put sync error "+e.Record.Key(), func(tx *bolt.Tx) error {
		errs, cats := tx.Bucket(bktSyncErrors), tx.Bucket(bktErrorCats)
		var old crmsync.SyncError
		ok, err := getJSON(errs, []byte(e.Record.Key()), &old)
		if err != nil {
			return err
		}
		if ok {
			if err := cats.Delete(categoryKey(old.Category, old.Record)); err != nil {
				return err
			}
		}
		if err := cats.Put(categoryKey(e.Category, e.Record), nil); err != nil {
			return err
		}
		return putJSON(errs, []byte(e.Record.Key()), e)
	})
}

// GetSyncError implements crmsync.Store.
func (s *Store) GetSyncError(ctx context.Context, ref crmsync.RecordRef) (crmsync.SyncError, error) {
	var out crmsync.SyncError
	err := s.view(ctx, "get sync error "+ref.Key(), func(tx *bolt.Tx) error {
		ok, err := getJSON(tx.Bucket(bktSyncErrors), []byte(ref.Key()), &out)
		if err == nil && !ok {
			return crmsync.ErrNotFound
		}
		return err
	})
	return out, err
}

// ListSyncErrors implements crmsync.Store.
func (s *Store) ListSyncErrors(ctx context.Context, category crmsync.Category, page crmsync.PageRequest) ([]crmsync.SyncError, string, error) {
	if category != "" && !category.Valid() {
		return nil, "", fmt.Errorf("boltstore: list sync errors: %w: unknown category %q", crmsync.ErrInvalid, category)
	}
	var out []crmsync.SyncError
	var next string
	err := s.view(ctx, "list sync errors", func(tx *bolt.Tx) error {
		errs := tx.Bucket(bktSyncErrors)
		decode := func(raw []byte) error {
			var e crmsync.SyncError
			if err := json.Unmarshal(raw, &e); err != nil {
				return fmt.Errorf("decode sync error: %w", err)
			}
			out = append(out, e)
			return nil
		}
		var err error
		if category == "" {
			next, err = scanForward(errs, nil, page, func(_, v []byte) error { return decode(v) })
			return err
		}
		prefix := []byte(string(category) + "\x00")
		next, err = scanForward(tx.Bucket(bktErrorCats), prefix, page, func(k, _ []byte) error {
			raw := errs.Get(k[len(prefix):])
			if raw == nil {
				return fmt.Errorf("category index names missing error %s", k[len(prefix):])
			}
			return decode(raw)
		})
		return err
	})
	if err != nil {
		return nil, "", err
	}
	return out, next, nil
}

// CountSyncErrors implements crmsync.Store.
func (s *Store) CountSyncErrors(ctx context.Context) (map[crmsync.Category]int, error) {
	out := map[crmsync.Category]int{}
	err := s.view(ctx, "count sync errors", func(tx *bolt.Tx) error {
		return tx.Bucket(bktErrorCats).ForEach(func(k, _ []byte) error {
			cat, _, _ := bytes.Cut(k, []byte{0})
			out[crmsync.Category(cat)]++
			return nil
		})
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// ClearSyncError implements crmsync.Store.
func (s *Store) ClearSyncError(ctx context.Context, ref crmsync.RecordRef) error {
	return s.update(ctx, "clear sync error "+ref.Key(), func(tx *bolt.Tx) error {
		errs := tx.Bucket(bktSyncErrors)
		var old crmsync.SyncError
		ok, err := getJSON(errs, []byte(ref.Key()), &old)
		if err != nil || !ok {
			return err
		}
		if err := tx.Bucket(bktErrorCats).Delete(categoryKey(old.Category, old.Record)); err != nil {
			return err
		}
		return errs.Delete([]byte(ref.Key()))
	})
}

func usageKey(side crmsync.Side, bucket time.Time) []byte {
	return append([]byte(string(side)+"\x00"), timeKey(bucket)...)
}

// AddAPIUsage implements crmsync.Store.
func (s *Store) AddAPIUsage(ctx context.Context, side crmsync.Side, at time.Time, n int) error {
	if !side.Valid() || n < 0 {
		return fmt.Errorf("boltstore: add api usage: %w: side %q, n %d", crmsync.ErrInvalid, side, n)
	}
	if n == 0 {
		return nil
	}
	return s.update(ctx, "add api usage", func(tx *bolt.Tx) error {
		b := tx.Bucket(bktUsage)
		key := usageKey(side, at.Truncate(crmsync.UsageBucket))
		var count uint64
		if v := b.Get(key); v != nil {
			count = binary.BigEndian.Uint64(v)
		}
		if err := b.Put(key, binary.BigEndian.AppendUint64(nil, count+uint64(n))); err != nil {
			return err
		}
		// Buckets two windows older than this call can never count again.
		var old [][]byte
		c, prefix := b.Cursor(), []byte(string(side)+"\x00")
		limit := usageKey(side, at.Add(-2*crmsync.UsageWindow))
		for k, _ := c.Seek(prefix); k != nil && bytes.Compare(k, limit) < 0; k, _ = c.Next() {
			old = append(old, bytes.Clone(k))
		}
		for _, k := range old {
			if err := b.Delete(k); err != nil {
				return err
			}
		}
		return nil
	})
}

// usageRange returns the first and last bucket starts APIUsage sums at now:
// a bucket counts until it ends more than UsageWindow before now.
func usageRange(now time.Time) (from, to time.Time) {
	return now.Add(-crmsync.UsageWindow - crmsync.UsageBucket), now
}

// APIUsage implements crmsync.Store.
func (s *Store) APIUsage(ctx context.Context, side crmsync.Side, now time.Time) (int64, error) {
	var sum int64
	from, to := usageRange(now)
	err := s.view(ctx, "api usage", func(tx *bolt.Tx) error {
		c, hi := tx.Bucket(bktUsage).Cursor(), usageKey(side, to)
		for k, v := c.Seek(usageKey(side, from)); k != nil && bytes.Compare(k, hi) <= 0; k, v = c.Next() {
			sum += int64(binary.BigEndian.Uint64(v))
		}
		return nil
	})
	return sum, err
}

func ledgerPrefix(linkID string) []byte { return []byte(linkID + "\x00") }

// AppendLedger implements crmsync.Store. Entries expire the store's
// retention after they are appended (not after e.At, which may be older).
func (s *Store) AppendLedger(ctx context.Context, e crmsync.LedgerEntry) error {
	if e.LinkID == "" {
		return fmt.Errorf("boltstore: append ledger: %w: empty link id", crmsync.ErrInvalid)
	}
	if e.ID == "" {
		e.ID = newID()
	}
	raw, err := json.Marshal(e)
	if err != nil {
		return fmt.Errorf("boltstore: append ledger: %w", err)
	}
	now := s.now()
	prefix := ledgerPrefix(e.LinkID)
	key := append(append(bytes.Clone(prefix), timeKey(e.At)...), e.ID...)
	return s.update(ctx, "append ledger "+e.LinkID, func(tx *bolt.Tx) error {
		b := tx.Bucket(bktLedger)
		if err := b.Put(key, append(timeKey(now.Add(s.retention)), raw...)); err != nil {
			return err
		}
		var expired [][]byte
		c := b.Cursor()
		for k, v := c.Seek(prefix); k != nil && bytes.HasPrefix(k, prefix) && len(expired) < 16 &&
			!fromTimeKey(v[:8]).After(now); k, v = c.Next() {
			expired = append(expired, bytes.Clone(k))
		}
		for _, k := range expired {
			if err := b.Delete(k); err != nil {
				return err
			}
		}
		return nil
	})
}

// ListLedger implements crmsync.Store.
func (s *Store) ListLedger(ctx context.Context, linkID string, page crmsync.PageRequest) ([]crmsync.LedgerEntry, string, error) {
	var out []crmsync.LedgerEntry
	var next string
	now := s.now()
	err := s.view(ctx, "list ledger "+linkID, func(tx *bolt.Tx) error {
		prefix := ledgerPrefix(linkID)
		c := tx.Bucket(bktLedger).Cursor()
		start := append([]byte(linkID), 1) // just after every key of the link
		if page.Token != "" {
			var err error
			if start, err = decodeToken(page.Token); err != nil {
				return err
			}
		}
		// Newest first: step back from the first key after the range.
		var k, v []byte
		if k, _ = c.Seek(start); k == nil {
			k, v = c.Last()
		} else {
			k, v = c.Prev()
		}
		var last []byte
		for ; k != nil && bytes.HasPrefix(k, prefix); k, v = c.Prev() {
			if !fromTimeKey(v[:8]).After(now) {
				continue // expired, not yet pruned
			}
			if len(out) == page.Size() {
				next = encodeToken(last)
				return nil
			}
			var e crmsync.LedgerEntry
			if err := json.Unmarshal(v[8:], &e); err != nil {
				return fmt.Errorf("decode ledger entry: %w", err)
			}
			out = append(out, e)
			last = bytes.Clone(k)
		}
		return nil
	})
	if err != nil {
		return nil, "", err
	}
	return out, next, nil
}

// ListSyncErrorsDue implements crmsync.Store: a scan of every error in
// record-key order, keeping those due at now.
func (s *Store) ListSyncErrorsDue(ctx context.Context, now time.Time, page crmsync.PageRequest) ([]crmsync.SyncError, string, error) {
	var out []crmsync.SyncError
	var next string
	err := s.view(ctx, "list sync errors due", func(tx *bolt.Tx) error {
		c := tx.Bucket(bktSyncErrors).Cursor()
		k, v := c.First()
		if page.Token != "" {
			after, err := decodeToken(page.Token)
			if err != nil {
				return err
			}
			if k, v = c.Seek(after); k != nil && bytes.Equal(k, after) {
				k, v = c.Next()
			}
		}
		var last []byte
		for ; k != nil; k, v = c.Next() {
			var e crmsync.SyncError
			if err := json.Unmarshal(v, &e); err != nil {
				return fmt.Errorf("decode sync error %s: %w", k, err)
			}
			if e.NextRetry.IsZero() || e.NextRetry.After(now) {
				continue
			}
			if len(out) == page.Size() {
				next = encodeToken(last)
				return nil
			}
			out = append(out, e)
			last = k
		}
		return nil
	})
	if err != nil {
		return nil, "", err
	}
	return out, next, nil
}

// AcquireLease implements crmsync.Store.
func (s *Store) AcquireLease(ctx context.Context, name, owner string, ttl time.Duration) (crmsync.Lease, bool, error) {
	op := "acquire lease " + name
	if name == "" || owner == "" || ttl <= 0 {
		return crmsync.Lease{}, false, fmt.Errorf("boltstore: %s: %w: name %q, owner %q, ttl %v", op, crmsync.ErrInvalid, name, owner, ttl)
	}
	var out crmsync.Lease
	var held bool
	err := s.update(ctx, op, func(tx *bolt.Tx) error {
		b := tx.Bucket(bktLeases)
		now := s.now()
		if _, err := getJSON(b, []byte(name), &out); err != nil {
			return err
		}
		if out.Owner != "" && out.Owner != owner && out.Until.After(now) {
			return nil
		}
		out.Name, out.Owner, out.Until = name, owner, now.Add(ttl)
		held = true
		return putJSON(b, []byte(name), out)
	})
	if err != nil {
		return crmsync.Lease{}, false, err
	}
	return out, held, nil
}

// ReleaseLease implements crmsync.Store.
func (s *Store) ReleaseLease(ctx context.Context, name, owner, checkpoint string) error {
	return s.update(ctx, "release lease "+name, func(tx *bolt.Tx) error {
		b := tx.Bucket(bktLeases)
		var cur crmsync.Lease
		ok, err := getJSON(b, []byte(name), &cur)
		if err != nil || !ok || owner == "" || cur.Owner != owner {
			return err
		}
		cur.Owner, cur.Until, cur.Checkpoint = "", s.now(), checkpoint
		return putJSON(b, []byte(name), cur)
	})
}
