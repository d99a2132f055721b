// Package journal is the terminal's durable journal on Badger: the
// append-only record of operations, the shelf projection, the outbox the
// uplink drains, the print queue and the staff accounts.
//
// Every append goes through one writer goroutine that commits whatever has
// queued up meanwhile in one Badger transaction and syncs it once (group
// commit), so that many concurrent appends cost one fsync and seqs stay
// gap-free: a batch that fails to commit consumes no seq.
//
// The agent's main wires one Journal into every consumer:
//
//	j, err := journal.Open(filepath.Join(dataDir, "journal"), journal.Config{
//		Terminal: terminalID, Logger: logger, DiskBudgetBytes: 2 << 30,
//	})
//	if err != nil { ... }
//	defer j.Close()
//	desk.Journal = j // edge.Journal; also edge.PrintQueue and edge.StaffStore
//	// the uplink uses Pending, Ack, OutboxStats and LastSeq; metrics use
//	// Counts, OutboxStats, DiskUsage; edge.Upkeep calls Scrub and Compact.
package journal

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/comptoir/comptoir/edge"
	"github.com/dgraph-io/badger/v4"
)

var (
	_ edge.Journal     = (*Journal)(nil)
	_ edge.PrintQueue  = (*Journal)(nil)
	_ edge.StaffStore  = (*Journal)(nil)
	_ edge.SignInStore = (*Journal)(nil)
)

// ErrClosed is returned by writes to a closed journal.
var ErrClosed = edge.Errorf(edge.EUNAVAILABLE, "The journal is closed.")

// Config configures a Journal.
type Config struct {
	// Terminal is the terminal id stamped on every operation. Required.
	Terminal string
	// Logger receives the journal's and Badger's warnings; slog.Default()
	// when nil.
	Logger *slog.Logger
	// DiskBudgetBytes caps the disk the journal may use before it refuses
	// new deposits with STORAGE_FULL; other operations are still appended,
	// since nothing is ever dropped. 0 means no limit.
	DiskBudgetBytes int64
	// MaxDataBytes bounds the data of one operation (TOO_LARGE above):
	// every operation must travel to the cloud in one batch, beside others,
	// so the agent gives half the protocol's batch limit. Print jobs have no
	// such bound; they stay on the terminal. DefaultMaxDataBytes when 0.
	MaxDataBytes int
	// EncryptionKey, KeySize bytes, encrypts everything the journal
	// writes (encrypt.go); a plain journal is converted at the first Open
	// with a key. Nil keeps the journal in clear. The key is never logged.
	EncryptionKey []byte
}

// Journal is the terminal's journal. It is safe for concurrent use.
type Journal struct {
	db     *badger.DB
	dir    string
	cfg    Config
	logger *slog.Logger

	// reqs feeds the writer goroutine; closeMu guards sending on it against
	// Close, which closes it.
	reqs    chan *request
	closeMu sync.RWMutex
	closed  bool
	done    chan struct{}
	// pagerStop ends pageOutLoop (pageout.go), which closes pagerDone as
	// it returns; stopPager does both.
	pagerStop, pagerDone chan struct{}

	// lastSeq is the last durable seq: readers never see an op beyond it.
	lastSeq atomic.Uint64
	// usage is the estimated disk usage in bytes (see usage.go).
	usage atomic.Int64
	// syncs counts the writer's successful syncs (tests check batching).
	syncs atomic.Int64
	// syncDB is db.Sync; tests replace it to make the disk fail.
	syncDB func() error

	// mu guards the projections kept in memory. Only the writer goroutine
	// changes them, after a successful commit and sync.
	mu      sync.Mutex
	pending int
	// acks is the acked part of the outbox; the writer changes it after
	// a successful commit. oldestSeq and oldestAt cache the time of the
	// oldest unacked operation for OutboxStats.
	acks      ackSet
	oldestSeq uint64
	oldestAt  time.Time
	byType    map[edge.OpType]int64
	refusals  map[edge.RefusalCode]int64
	// shelf is the number of parcels on the shelf (sh/ keys), counted at
	// load and kept by the writer: the status asks for it every few
	// seconds, and walking 100,000 keys each time cost the agent
	// megabytes of table pages while it drained a backlog.
	shelf int
	// broken is set when a sync failed: what was written may not be on
	// disk, so the journal takes no more writes until it is reopened.
	broken error

	// seqMark is the seq mark (damaged.go); the writer owns it.
	seqMark uint64

	// measuredAt is when usage was last measured; the writer owns it.
	measuredAt time.Time
}

// ErrInUse is returned by Open when another process has the journal open
// (Badger locks its directory): a running terminal agent, most often.
var ErrInUse = errors.New("journal in use by another process")

// Open opens (or creates) the journal in dir and starts its writer.
func Open(dir string, cfg Config) (*Journal, error) {
	if cfg.Terminal == "" {
		return nil, fmt.Errorf("journal open: Config.Terminal is required")
	}
	if cfg.DiskBudgetBytes < 0 {
		return nil, fmt.Errorf("journal open: Config.DiskBudgetBytes is negative")
	}
	if cfg.MaxDataBytes == 0 {
		cfg.MaxDataBytes = DefaultMaxDataBytes
	}
	logger := cfg.Logger
	if logger == nil {
		logger = slog.Default()
	}
	logger = logger.With("component", "journal")

	if n := len(cfg.EncryptionKey); n != 0 && n != KeySize {
		return nil, fmt.Errorf("journal open: the encryption key has %d bytes, not %d", n, KeySize)
	}
	if err := finishConversion(dir, logger); err != nil {
		return nil, fmt.Errorf("journal open: %w", err)
	}
	if err := makeDir(dir); err != nil {
		return nil, fmt.Errorf("journal open: %w", err)
	}
	if err := dropEmptyLogs(dir, logger); err != nil {
		return nil, fmt.Errorf("journal open: %w", err)
	}
	opts := badgerOptions(dir, logger).WithEncryptionKey(cfg.EncryptionKey)
	if err := checkKey(dir, opts, logger); errors.Is(err, ErrKeyMismatch) {
		return nil, fmt.Errorf("journal open: %w", err)
	} else if err != nil {
		return nil, fmt.Errorf("journal open: %w: %w", ErrDamaged, err)
	}
	db, err := openBadger(opts)
	if err != nil && strings.Contains(err.Error(), "Cannot acquire directory lock") {
		return nil, fmt.Errorf("journal open: %w: %w", ErrInUse, err)
	}
	if err != nil {
		return nil, fmt.Errorf("journal open: %w: %w", ErrDamaged, err)
	}
	j := &Journal{
		db: db, dir: dir, cfg: cfg, logger: logger,
		reqs:      make(chan *request, 1024),
		done:      make(chan struct{}),
		pagerStop: make(chan struct{}),
		pagerDone: make(chan struct{}),
		byType:    make(map[edge.OpType]int64),
		refusals:  make(map[edge.RefusalCode]int64),
	}
	j.syncDB = db.Sync
	// Paging out starts before load, which walks the shelf through the
	// tables while Badger compacts those an offline backlog left.
	go j.pageOutLoop()
	err = j.load()
	if err == nil {
		err = j.loadAcks()
	}
	if err != nil {
		j.stopPager()
		db.Close()
		return nil, fmt.Errorf("journal open: %w: %w", ErrDamaged, err)
	}
	if err := j.startAboveSeqMark(); err != nil {
		j.stopPager()
		db.Close()
		return nil, fmt.Errorf("journal open: %w", err)
	}
	j.measure()
	go j.run()
	return j, nil
}

// makeDir creates dir (0700) if needed and syncs its parent, so that a power
// cut does not take the directory, and the journal in it, away.
func makeDir(dir string) error {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return fmt.Errorf("create dir: %w", err)
	}
	return syncDir(filepath.Dir(filepath.Clean(dir)))
}

// Close stops the writer after it has answered every queued request, then
// closes Badger (which flushes its memtable to a table).
func (j *Journal) Close() error {
	j.closeMu.Lock()
	if j.closed {
		j.closeMu.Unlock()
		return nil
	}
	j.closed = true
	close(j.reqs)
	j.closeMu.Unlock()
	<-j.done
	j.stopPager()
	if err := j.db.Close(); err != nil {
		return fmt.Errorf("journal close: %w", err)
	}
	return nil
}

// load rebuilds the in-memory state from the database: the last seq, the
// number of unacked ops and the counters.
func (j *Journal) load() error {
	return j.db.View(func(txn *badger.Txn) error {
		last := uint64(0)
		if item, err := txn.Get(keyLastSeq); err == nil {
			if err := item.Value(func(v []byte) error { last = getU64(v); return nil }); err != nil {
				return err
			}
		} else if !errors.Is(err, badger.ErrKeyNotFound) {
			return err
		}
		// The last op key is the authority should mt/seq ever lag behind;
		// both are written in the same transaction, so they agree.
		opts := badger.IteratorOptions{Reverse: true, Prefix: prefixOp}
		it := txn.NewIterator(opts)
		it.Seek(seqKey(prefixOp, ^uint64(0)))
		if it.Valid() {
			last = max(last, keySeq(it.Item().Key()))
		}
		it.Close()
		j.lastSeq.Store(last)

		it = txn.NewIterator(badger.IteratorOptions{Prefix: prefixShelf})
		for it.Rewind(); it.Valid(); it.Next() {
			j.shelf++
		}
		it.Close()

		it = txn.NewIterator(badger.IteratorOptions{Prefix: []byte("ct/"), PrefetchValues: true, PrefetchSize: 32})
		defer it.Close()
		for it.Rewind(); it.Valid(); it.Next() {
			k := it.Item().Key()
			var n int64
			if err := it.Item().Value(func(v []byte) error { n = int64(getU64(v)); return nil }); err != nil {
				return err
			}
			switch {
			case hasPrefix(k, prefixTypeCt):
				j.byType[edge.OpType(k[len(prefixTypeCt):])] = n
			case hasPrefix(k, prefixReasonC):
				j.refusals[edge.RefusalCode(k[len(prefixReasonC):])] = n
			}
		}
		return nil
	})
}

// LastSeq returns the seq of the last durable operation, 0 when none.
func (j *Journal) LastSeq() uint64 { return j.lastSeq.Load() }

// Counts returns the number of operations journalled by type, and of
// refusals by reason (the reason of each return.refused).
func (j *Journal) Counts() (byType map[edge.OpType]int64, refusals map[edge.RefusalCode]int64) {
	j.mu.Lock()
	defer j.mu.Unlock()
	byType = make(map[edge.OpType]int64, len(j.byType))
	for k, v := range j.byType {
		byType[k] = v
	}
	refusals = make(map[edge.RefusalCode]int64, len(j.refusals))
	for k, v := range j.refusals {
		refusals[k] = v
	}
	return byType, refusals
}

func hasPrefix(k, p []byte) bool {
	return len(k) >= len(p) && string(k[:len(p)]) == string(p)
}

// ctxErr returns ctx's error wrapped for op, or nil.
func ctxErr(ctx context.Context, op string) error {
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("journal %s: %w", op, err)
	}
	return nil
}
