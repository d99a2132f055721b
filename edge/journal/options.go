package journal

import (
	"context"
	"fmt"
	"log/slog"
	"strings"

	"github.com/dgraph-io/badger/v4"
	"github.com/dgraph-io/badger/v4/options"
)

// valueThreshold is the size from which Badger would keep a value in its
// value log instead of the LSM tree. The journal keeps every value below it
// (print jobs over it are refused, print.go): its erasure (retention,
// Compact) rewrites the LSM tree, never the value log.
const valueThreshold = 256 << 10

// badgerOptions returns Badger options sized for a small ARM terminal (1 to 4
// GB of memory, an SD card or eMMC, four slow cores) that journals a few
// thousand operations a day and must stay under 40 MB of RSS when idle and
// 80 MB under work. Badger's defaults are made for servers holding hundreds
// of gigabytes.
//
// Most of the agent's memory under work is Badger's table builders: each
// build (a memtable flushed to L0, a table written by a compaction) holds
// the table's blocks, a copy of each block compressed and one encrypted, in
// an allocator that grows by doubling and goes back to a pool of 8 kept at
// their largest size for as long as builds keep coming. With 8 MiB memtables
// and Snappy, a flush built a whole memtable (8 MiB of blocks, 9 MiB of
// compression buffers), and a compaction's 1 MiB table was 1 MiB of
// compressed bytes, several times as many raw: the pooled allocators grew to
// 30 MiB each and the live heap to 290 MB in a day of 1,500 deposits
// (heap profile). So builds are kept small: 2 MiB memtables, 64 KiB
// tables, and print jobs' data, the only large values, deflated by the
// journal itself (print.go). A compaction runs up to 8 builds at once
// (plus one per split), two compactions at a time, none of it settable:
// what one build holds is what can be bounded. With 256 KiB tables, the
// compactions that follow a backlog of 100,000 operations kept 26 MB of
// builders live (heap profile of the agent draining it), 3 to 7 MB with
// 64 KiB. Tables stay compressed: uncompressed, the
// backlog of 100,000 operations took three times the disk, and the pages of
// its mapped tables, read and rewritten by the drain's compactions, made
// 85 MB of the agent's RSS instead of 36 (BenchmarkFootprint, one run each).
func badgerOptions(dir string, logger *slog.Logger) badger.Options {
	return badger.DefaultOptions(dir).
		// Durability is ours: the group-commit writer calls DB.Sync once per
		// batch of appends, after its one transaction. SyncWrites would sync
		// on every Badger write, including acks that need not wait for it.
		WithSyncWrites(false).
		// 2 MiB memtables instead of 64 MiB: a memtable is an arena held in
		// memory plus a WAL file of twice its size, and it is flushed as one
		// L0 table whose build holds it twice (blocks, then encrypted). The
		// largest transaction Badger accepts is 15 % of this (307 KiB), far
		// above one batch of appends, which the writer caps itself.
		WithMemTableSize(2 << 20).
		// Badger's default value threshold (1 MiB) must not exceed that
		// largest transaction.
		WithValueThreshold(valueThreshold).
		// One memtable being written and one being flushed, not five.
		WithNumMemtables(2).
		// Flush L0 to L1 early and stall writes late: fewer, smaller tables
		// kept open (each is a file and an mmap), while a burst of writes on
		// a slow SD card is not stalled by a compaction that has not caught up.
		WithNumLevelZeroTables(2).
		WithNumLevelZeroTablesStall(8).
		// 64 KiB tables and a 4 MiB base level instead of 2 and 10 MiB:
		// the whole journal is tens of megabytes, so levels stay few and
		// small. Badger fills a table up to this size in compressed bytes,
		// so a build holds several times as much (its blocks and their
		// compressed and encrypted copies, in an allocator that starts at
		// twice the table size and doubles), and Badger runs up to 8
		// builds per compaction at once.
		WithBaseTableSize(64 << 10).
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
		// Values (operations of under 1 KiB, print jobs of a few KiB) stay
		// in the LSM tree, below valueThreshold; the value log takes none,
		// but Badger always opens one. 16 MiB files instead of
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
