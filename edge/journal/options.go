package journal

import (
	"context"
	"fmt"
	"log/slog"
	"strings"

	"github.com/dgraph-io/badger/v4"
	"github.com/dgraph-io/badger/v4/options"
)

// badgerOptions returns Badger options sized for a small ARM terminal (1 to 4
// GB of memory, an SD card or eMMC, four slow cores) that journals a few
// thousand operations a day and must stay under 40 MB of RSS when idle.
// Badger's defaults are made for servers holding hundreds of gigabytes.
func badgerOptions(dir string, logger *slog.Logger) badger.Options {
	return badger.DefaultOptions(dir).
		// Durability is ours: the group-commit writer calls DB.Sync once per
		// batch of appends, after its one transaction. SyncWrites would sync
		// on every Badger write, including acks that need not wait for it.
		WithSyncWrites(false).
		// 8 MiB memtables instead of 64 MiB: a memtable is an arena held in
		// memory plus a WAL file of twice its size, and a day of a busy
		// counter is well under 8 MiB. The largest transaction Badger accepts
		// is 15 % of this (1.2 MiB), far above one batch of appends, which
		// the writer caps itself.
		WithMemTableSize(8 << 20).
		// One memtable being written and one being flushed, not five.
		WithNumMemtables(2).
		// Flush L0 to L1 early and stall writes late: fewer, smaller tables
		// kept open (each is a file and an mmap), while a burst of writes on
		// a slow SD card is not stalled by a compaction that has not caught up.
		WithNumLevelZeroTables(2).
		WithNumLevelZeroTablesStall(8).
		// 1 MiB tables and a 4 MiB base level instead of 2 and 10 MiB: the
		// whole journal is tens of megabytes, so levels stay few and small.
		WithBaseTableSize(1 << 20).
		WithBaseLevelSize(4 << 20).
		// Badger refuses exactly one compactor; two is its minimum, down
		// from four, leaving cores to the scanner and the UI.
		WithNumCompactors(2).
		// Goroutines of Badger's Stream framework (backups, Flatten).
		WithNumGoroutines(2).
		// Tables are compressed (Snappy: pure Go, cheap on ARM, about 3x on
		// our JSON), so reads go through the block cache: 4 MiB instead of
		// 256 MiB holds the hot blocks (recent ops, the shelf, pending jobs).
		WithCompression(options.Snappy).
		WithBlockCacheSize(4 << 20).
		// Table indexes live in a 2 MiB cache instead of all in memory.
		WithIndexCacheSize(2 << 20).
		// Values (operations of under 1 KiB, labels of a few KiB) stay in the
		// LSM tree, where they are compressed and need no value-log GC; the
		// value log only takes oversized values. 16 MiB files instead of
		// 1 GiB keep its mmap small (Badger maps twice the file size).
		WithValueLogFileSize(16 << 20).
		// No expvar metrics: the agent exports its own, and Badger's cost a
		// map update per write.
		WithMetricsEnabled(false).
		// One goroutine writes, so conflict detection only costs memory.
		WithDetectConflicts(false).
		WithLogger(slogLogger{logger.With("component", "badger")})
}

// slogLogger routes Badger's logger to slog at warning level: Badger's info
// and debug messages (table flushes, compactions) are dropped, its warnings
// and errors kept.
type slogLogger struct{ l *slog.Logger }

func (s slogLogger) Errorf(format string, args ...any) {
	s.l.Log(context.Background(), slog.LevelError, trimLine(format, args))
}

func (s slogLogger) Warningf(format string, args ...any) {
	s.l.Log(context.Background(), slog.LevelWarn, trimLine(format, args))
}

func (slogLogger) Infof(string, ...any)  {}
func (slogLogger) Debugf(string, ...any) {}

func trimLine(format string, args []any) string {
	return strings.TrimRight(fmt.Sprintf(format, args...), "\n")
}
