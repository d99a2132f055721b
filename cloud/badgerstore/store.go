// Package badgerstore implements cloud.Store on Badger, an embedded
// key-value store: the cloud's default store, with nothing to run beside it.
//
// Keys, all under one-letter prefixes:
//
//	e/{event id}                         -> {tid}/{seq}   idempotence by id
//	s/{tid}/{seq:8}                      -> event JSON    idempotence by terminal+seq
//	w/{tid}                              -> {seq:8}{hi:8} contiguous watermark (acked_seq), highest seq stored
//	p/{tracking}                         -> parcel, and the s/ keys of its timeline's terminal events (parcelcodec.go)
//	c/{received:8}{event id}             -> conflict JSON
//	n/{merchant id}                      -> merchant JSON
//	g/{kid}                              -> signing key JSON
//	z/{name}                             -> secret
//	t/{tracking}\x00{occ:8}{recv:8}{id}  -> entry JSON (API), or s/ key of the event (parcels of codec version 2 and before)
//	x/{event id}                         -> ""            idempotence of API timeline entries
//	r/{ra id}                            -> return JSON
//	m/{tid}                              -> terminal JSON
//	d/{at:8}{rand:8}                     -> dead letter JSON
//	D/{tid}\x00{at:8}{rand:8}             -> ""            dead letters of a terminal
//	k/{hash hex}                         -> API key JSON
//	v/{ra id}                            -> ""            revoked RA
//	o/{n:8}, O/{merchant}\x00{n:8}       -> published events, a record per transaction (outbox.go)
//	f/, a/, b/, R/, i/                   -> returns insight, rebuilt at Open when their layout changed (migrate.go)
//	_/marks-kept, _/insight              -> what the store's layout holds
//
// Numbers are big-endian so that keys sort as their values.
package badgerstore

import (
	"context"
	"crypto/rand"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/dgraph-io/badger/v4"

	"github.com/comptoir/comptoir/cloud"
)

// Store is a cloud.Store on a Badger database.
type Store struct {
	db *badger.DB

	group   *cloud.GroupCommit[*eventsWrite] // of StoreEvents
	out     outbox                           // numbers the published events (outbox.go)
	parcels *keyFilter                       // of p/ (parcelcodec.go)
	ids     *keyFilter                       // of e/
	stuck   *stuckIndex                      // the parcels waiting at a stage (stuck.go)
	// marksKept: every terminal with a stored event has a w/ mark (a
	// store created since marks were always written).
	marksKept bool
	// insight: the returns insight's keys are kept (Options.NoInsight).
	insight bool
	// log: the insight's records not folded yet, under out.mu (insightlog.go).
	log *insightLog
	// keepRecords: Close leaves the records not folded, as a crash
	// would (tests of Open's fold).
	keepRecords bool
	closing     chan struct{}
	close1      sync.Once // Close runs once
	closeErr    error
	loops       sync.WaitGroup // gcLoop
}

var _ cloud.Store = (*Store)(nil)

// valueThreshold is the size from which Badger keeps a value in its value
// log, with only a pointer in the LSM tree: stored events (about 340 bytes
// for a deposit) are written once there instead of being copied again by
// every flush and compaction. On 1,000 loadgen terminals sending 256
// events each, it took the instance's CPU from 32 to 22 µs an event.
const valueThreshold = 128

// gcEvery is how often the value log is garbage collected: events are never
// deleted, but terminal records are rewritten by every status message.
const gcEvery = 10 * time.Minute

// Open opens (or creates) the store in dir. Writes are synced to disk
// before they return (SyncWrites), since the cloud acks what it stored.
func Open(dir string) (*Store, error) {
	return OpenWith(dir, Options{})
}

// Options changes how a store works; the zero value is Open's.
type Options struct {
	// NoInsight keeps none of the returns insight's keys (report
	// counters and facts, statements, refusals; the stuck index is in
	// memory either way): for benchmarks only, to measure what they cost
	// at ingest. Reports and statements of such a store answer nothing
	// true, and
	// a store written so must not be opened without it.
	NoInsight bool
}

// OpenWith opens (or creates) the store in dir with o (see Open).
func OpenWith(dir string, o Options) (*Store, error) {
	return open(badger.DefaultOptions(dir).WithValueThreshold(valueThreshold), o)
}

func open(opts badger.Options, o Options) (*Store, error) {
	opts = opts.
		WithSyncWrites(true).
		WithLogger(badgerLogger{slog.Default().With("component", "badgerstore")}).
		WithLoggingLevel(badger.WARNING).
		WithNumVersionsToKeep(1)
	db, err := badger.Open(opts)
	if err != nil {
		return nil, fmt.Errorf("badgerstore: open %s: %w", opts.Dir, err)
	}
	s := &Store{db: db, closing: make(chan struct{}), insight: !o.NoInsight, log: newInsightLog()}
	if err := s.loadOutbox(); err != nil {
		db.Close()
		return nil, fmt.Errorf("badgerstore: open %s: %w", opts.Dir, err)
	}
	if s.ids, err = s.loadFilter("e/"); err != nil {
		db.Close()
		return nil, err
	}
	if s.marksKept, err = keepMarks(db); err != nil {
		db.Close()
		return nil, err
	}
	if s.insight {
		if err := migrateInsight(db, slog.Default().With("component", "badgerstore")); err != nil {
			db.Close()
			return nil, err
		}
		if err := s.loadInsightLog(); err != nil {
			db.Close()
			return nil, err
		}
	}
	if err := s.loadParcels(); err != nil {
		db.Close()
		return nil, err
	}
	s.group = cloud.NewGroupCommit(1, maxGroupEvents, func(w *eventsWrite) int { return len(w.events) }, s.commit)
	s.loops.Add(1)
	go s.gcLoop()
	if s.insight {
		s.loops.Add(1)
		go s.foldLoop()
	}
	return s, nil
}

// marksKeptKey records that the store was created with every terminal's
// mark written (readMark).
var marksKeptKey = []byte("_/marks-kept")

// keepMarks reports whether every terminal with a stored event has a
// mark: true for a store that says so, or that has no event yet (it then
// says so from now on).
func keepMarks(db *badger.DB) (bool, error) {
	kept := false
	err := db.Update(func(txn *badger.Txn) error {
		if ok, err := exists(txn, marksKeptKey); err != nil || ok {
			kept = ok
			return err
		}
		it := txn.NewIterator(badger.IteratorOptions{Prefix: []byte("s/")})
		it.Rewind()
		empty := !it.Valid()
		it.Close()
		if !empty {
			return nil
		}
		kept = true
		return txn.Set(marksKeptKey, nil)
	})
	if err != nil {
		return false, fmt.Errorf("badgerstore: open: %w", err)
	}
	return kept, nil
}

// gcLoop collects the value log's garbage every gcEvery until Close.
func (s *Store) gcLoop() {
	defer s.loops.Done()
	t := time.NewTicker(gcEvery)
	defer t.Stop()
	for {
		select {
		case <-t.C:
			if n, err := s.collectGarbage(); err != nil {
				slog.Warn("badgerstore: value log GC", "err", err, "files_rewritten", n)
			}
		case <-s.closing:
			return
		}
	}
}

// collectGarbage rewrites value log files whose values are at least half
// garbage, until none is left; it returns how many it rewrote.
func (s *Store) collectGarbage() (int, error) {
	for n := 0; ; n++ {
		err := s.db.RunValueLogGC(0.5)
		if errors.Is(err, badger.ErrNoRewrite) || errors.Is(err, badger.ErrRejected) {
			return n, nil
		} else if err != nil {
			return n, err
		}
	}
}

// Close closes the database, once the group being committed and a garbage
// collection under way are done.
func (s *Store) Close() error {
	s.close1.Do(func() {
		s.group.Close()
		close(s.closing)
		s.loops.Wait()
		if !s.keepRecords {
			if err := s.fold(context.Background()); err != nil {
				slog.Warn("badgerstore: close", "err", err) // Open folds them
			}
		}
		if err := s.db.Close(); err != nil {
			s.closeErr = fmt.Errorf("badgerstore: close: %w", err)
		}
	})
	return s.closeErr
}

// update runs fn in a read-write transaction, retried when another
// transaction wrote the same keys first.
func (s *Store) update(ctx context.Context, fn func(txn *badger.Txn) error) error {
	for {
		err := s.db.Update(fn)
		if !errors.Is(err, badger.ErrConflict) {
			return err
		}
		if err := ctx.Err(); err != nil {
			return err
		}
	}
}

// getJSON decodes the value of key into v; found is false when key is
// absent.
func getJSON(txn *badger.Txn, key []byte, v any) (found bool, err error) {
	item, err := txn.Get(key)
	if errors.Is(err, badger.ErrKeyNotFound) {
		return false, nil
	} else if err != nil {
		return false, err
	}
	return true, item.Value(func(b []byte) error { return json.Unmarshal(b, v) })
}

// readValue calls fn with the value of key, unless key is absent.
func readValue(txn *badger.Txn, key []byte, fn func([]byte) error) error {
	item, err := txn.Get(key)
	if errors.Is(err, badger.ErrKeyNotFound) {
		return nil
	} else if err != nil {
		return err
	}
	return item.Value(fn)
}

// exists reports whether key is present.
func exists(txn *badger.Txn, key []byte) (bool, error) {
	_, err := txn.Get(key)
	if errors.Is(err, badger.ErrKeyNotFound) {
		return false, nil
	}
	return err == nil, err
}

func setJSON(txn *badger.Txn, key []byte, v any) error {
	b, err := json.Marshal(v)
	if err != nil {
		return err
	}
	return txn.Set(key, b)
}

// be8 appends n big-endian.
func be8(dst []byte, n uint64) []byte { return binary.BigEndian.AppendUint64(dst, n) }

// timeKey orders times, including those before 1970, as unsigned keys.
func timeKey(t time.Time) uint64 { return uint64(t.UnixNano()) ^ (1 << 63) }

func randomSuffix() []byte {
	b := make([]byte, 8)
	_, _ = rand.Read(b)
	return b
}

// badgerLogger sends Badger's log to slog.
type badgerLogger struct{ l *slog.Logger }

func (b badgerLogger) Errorf(f string, a ...any)   { b.l.Error(fmt.Sprintf(f, a...)) }
func (b badgerLogger) Warningf(f string, a ...any) { b.l.Warn(fmt.Sprintf(f, a...)) }
func (b badgerLogger) Infof(f string, a ...any)    { b.l.Debug(fmt.Sprintf(f, a...)) }
func (b badgerLogger) Debugf(f string, a ...any)   { b.l.Debug(fmt.Sprintf(f, a...)) }
