// Package pgstore implements cloud.Store on PostgreSQL through pgx: the
// store of a cloud that runs as several instances. The schema is in
// migrations/, embedded and applied at Open (each file once, recorded in
// schema_version, under an advisory lock so that instances starting
// together do not race).
//
// Tables: events (one row per terminal and seq, each event id once; the
// timeline status an event marks is a column, so that a batch is one
// INSERT), alias_seqs (seqs whose id was stored under another seq),
// watermarks (acked_seq per terminal), timeline_entries (entries from the
// API), returns, terminals, dead_letters, api_keys, revocations, outbox
// (the feed: the events that reached a timeline, a row per transaction
// and run of one merchant's events, numbered by the transaction that
// inserts it) and outbox_head (the last number given).
//
// Times are stored with PostgreSQL's microsecond precision.
package pgstore

import (
	"cmp"
	"context"
	"embed"
	"fmt"
	"io/fs"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/comptoir/comptoir/cloud"
)

//go:embed migrations/*.sql
var migrations embed.FS

// migrationLock is the advisory lock key held while migrating.
const migrationLock = 0x636f6d70746f6972 // "comptoir"

// Store is a cloud.Store on a PostgreSQL database.
type Store struct {
	pool *pgxpool.Pool

	group *cloud.GroupCommit[*pgWrite] // of StoreEvents

	// insight: the returns insight's facts are kept (Options.NoInsight).
	insight bool
	// stopFolding stops the folding of report steps (reportfacts.go);
	// folded is closed once it stopped.
	stopFolding context.CancelFunc
	folded      chan struct{}
}

// Options changes how a store works; the zero value is Open's.
type Options struct {
	// NoInsight writes none of the returns insight's facts (report_facts,
	// the outbox rows' steps) at ingest: for benchmarks only, to measure what
	// they cost (BenchmarkIngestInsight, which also drops the insight's
	// indexes). Reports of such a store answer nothing true, and a schema
	// written so must not be served without it later.
	NoInsight bool

	// FoldEvery is how often the instance folds the returns insight's
	// pending steps into the facts (reportfacts.go), when no other
	// instance is folding; 0 is every second, below 0 never (each report
	// still folds what is pending first: for tests).
	FoldEvery time.Duration
}

var _ cloud.Store = (*Store)(nil)

// Open connects to the database of dsn (a postgres:// URL or key=value
// string; search_path may pick the schema) and applies the migrations not
// yet applied.
func Open(ctx context.Context, dsn string) (*Store, error) {
	return OpenWith(ctx, dsn, Options{})
}

// OpenWith opens the store of dsn with o (see Open).
func OpenWith(ctx context.Context, dsn string, o Options) (*Store, error) {
	cfg, err := pgxpool.ParseConfig(dsn)
	if err != nil {
		return nil, fmt.Errorf("pgstore: parse DSN: %w", err)
	}
	if cfg.MaxConns < 24 {
		// The committers each hold one; the API reads beside.
		cfg.MaxConns = 24
	}
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("pgstore: connect: %w", err)
	}
	s := &Store{pool: pool, insight: !o.NoInsight}
	if err := s.migrate(ctx); err != nil {
		pool.Close()
		return nil, err
	}
	s.group = cloud.NewGroupCommit(committers, maxGroupEvents, func(w *pgWrite) int { return len(w.events) }, s.commit)
	var folding context.Context
	folding, s.stopFolding = context.WithCancel(context.Background())
	s.folded = make(chan struct{})
	if every := cmp.Or(o.FoldEvery, time.Second); s.insight && every > 0 {
		go func() {
			defer close(s.folded)
			s.folding(folding, every)
		}()
	} else {
		close(s.folded)
	}
	return s, nil
}

// Close closes the connection pool.
func (s *Store) Close() error {
	// Close is idempotent: the group commit stops once, and closing a
	// closed pool does nothing.
	s.group.Close()
	s.stopFolding()
	<-s.folded
	s.pool.Close()
	return nil
}

// Pool returns the connection pool, for tests and tools.
func (s *Store) Pool() *pgxpool.Pool { return s.pool }

// migrate applies, in one transaction and in the order of their numbers,
// the migrations not recorded in schema_version: also one numbered below
// the last applied (branches that land in another order than their
// numbers).
func (s *Store) migrate(ctx context.Context) error {
	files, err := fs.Glob(migrations, "migrations/*.sql")
	if err != nil {
		return err
	}
	sort.Strings(files)
	err = pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock($1)`, int64(migrationLock)); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `CREATE TABLE IF NOT EXISTS schema_version (
			version    int         PRIMARY KEY,
			applied_at timestamptz NOT NULL DEFAULT now())`); err != nil {
			return err
		}
		rows, err := tx.Query(ctx, `SELECT version FROM schema_version`)
		if err != nil {
			return err
		}
		versions, err := pgx.CollectRows(rows, pgx.RowTo[int])
		if err != nil {
			return err
		}
		for _, f := range files {
			name := strings.TrimPrefix(f, "migrations/")
			v, err := strconv.Atoi(strings.SplitN(name, "_", 2)[0])
			if err != nil {
				return fmt.Errorf("migration %s: no version number", name)
			}
			if slices.Contains(versions, v) {
				continue
			}
			sql, err := migrations.ReadFile(f)
			if err != nil {
				return err
			}
			if _, err := tx.Exec(ctx, string(sql)); err != nil {
				return fmt.Errorf("migration %s: %w", name, err)
			}
			if _, err := tx.Exec(ctx, `INSERT INTO schema_version (version) VALUES ($1)`, v); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("pgstore: migrate: %w", err)
	}
	return nil
}

// SchemaVersion returns the version of the last migration applied.
func (s *Store) SchemaVersion(ctx context.Context) (int, error) {
	var v int
	err := s.pool.QueryRow(ctx, `SELECT coalesce(max(version), 0) FROM schema_version`).Scan(&v)
	return v, err
}
