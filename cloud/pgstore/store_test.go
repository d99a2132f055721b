package pgstore_test

import (
	"context"
	"fmt"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/comptoir/comptoir/build/testenv"
	"github.com/comptoir/comptoir/cloud"
	"github.com/comptoir/comptoir/cloud/pgstore"
	"github.com/comptoir/comptoir/cloud/storetest"
	"github.com/comptoir/comptoir/edge"
)

func TestContract(t *testing.T) {
	storetest.Run(t, func(t *testing.T) cloud.Store { return MustOpen(t) })
}

// MustOpen opens a store on a schema of its own, dropped at the end of the
// test.
func MustOpen(tb testing.TB) *pgstore.Store {
	tb.Helper()
	return openDSN(tb, freshSchema(tb))
}

// openDSN opens a store on dsn (migrating it), closed at the end of the
// test.
func openDSN(tb testing.TB, dsn string) *pgstore.Store {
	tb.Helper()
	s, err := pgstore.Open(context.Background(), dsn)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { s.Close() })
	return s
}

// freshSchema returns the DSN of a new schema, dropped at the end of the
// test.
func freshSchema(tb testing.TB) string {
	tb.Helper()
	dsn, drop, err := pgstore.NewSchema(context.Background(), testenv.Postgres(tb))
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() {
		if err := drop(); err != nil {
			tb.Errorf("drop schema: %v", err)
		}
	})
	return dsn
}

// TestMigrateTwice checks that a second Open (a second instance, or a
// restart) applies nothing again and keeps the data.
func TestMigrateTwice(t *testing.T) {
	ctx := context.Background()
	dsn := freshSchema(t)
	var wg sync.WaitGroup
	stores := make([]*pgstore.Store, 3)
	errs := make([]error, 3)
	for i := range stores {
		wg.Add(1)
		go func() {
			defer wg.Done()
			stores[i], errs[i] = pgstore.Open(ctx, dsn)
		}()
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Fatalf("open %d at once: %v", i, err)
		}
		defer stores[i].Close()
	}
	at := time.Date(2026, 11, 22, 10, 0, 0, 0, time.UTC)
	if _, err := stores[0].StoreEvents(ctx, "t-1", []edge.Operation{storetest.Op("t-1", 1, edge.OpReturnDeposited, "XY1", at)}, at); err != nil {
		t.Fatal(err)
	}
	s, err := pgstore.Open(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	v, err := s.SchemaVersion(ctx)
	if err != nil || v < 1 {
		t.Fatalf("schema version = %d, %v", v, err)
	}
	// Each migration once: as many rows as files (their numbers may have
	// gaps while branches land).
	files, err := filepath.Glob("migrations/*.sql")
	if err != nil || len(files) == 0 {
		t.Fatalf("migrations: %v, %v", files, err)
	}
	var n int
	if err := s.Pool().QueryRow(ctx, `SELECT count(*) FROM schema_version`).Scan(&n); err != nil || n != len(files) {
		t.Fatalf("schema_version rows = %d, %v; want %d (each migration once)", n, err, len(files))
	}
	if tl, err := s.Timeline(ctx, cloud.Network, "XY1"); err != nil || len(tl) != 1 {
		t.Fatalf("timeline after reopen = %v, %v", tl, err)
	}
}

// openInstances opens n stores on one fresh schema, each with its own
// pool, as separate instances would.
func openInstances(t *testing.T, n int) []*pgstore.Store {
	return openInstancesWith(t, n, pgstore.Options{})
}

// openInstancesWith is openInstances with the stores' options.
func openInstancesWith(t *testing.T, n int, o pgstore.Options) []*pgstore.Store {
	dsn := freshSchema(t)
	stores := make([]*pgstore.Store, n)
	for i := range stores {
		s, err := pgstore.OpenWith(context.Background(), dsn, o)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { s.Close() })
		stores[i] = s
	}
	return stores
}

// TestConcurrentInstances stores the batches of one terminal from several
// goroutines at once, each with its own pool as separate instances would,
// with resends: every event is stored once and the watermark reaches the
// last seq.
func TestConcurrentInstances(t *testing.T) {
	ctx := context.Background()
	const instances, batches, size = 3, 40, 10
	stores := openInstances(t, instances)
	at := time.Now()
	var wg sync.WaitGroup
	errs := make(chan error, instances*batches*2)
	for b := 0; b < batches; b++ {
		evs := make([]edge.Operation, size)
		for j := range evs {
			q := uint64(b*size + j + 1)
			evs[j] = storetest.Op("t-1", q, edge.OpReturnDeposited, fmt.Sprintf("XY%d", q), at)
		}
		// Each batch goes to two instances: a resend racing the first send.
		for _, s := range []*pgstore.Store{stores[b%instances], stores[(b+1)%instances]} {
			wg.Add(1)
			go func() {
				defer wg.Done()
				if _, err := s.StoreEvents(ctx, "t-1", evs, at); err != nil {
					errs <- err
				}
			}()
		}
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	var n, distinct int
	if err := stores[0].Pool().QueryRow(ctx, `SELECT count(*), count(DISTINCT seq) FROM events WHERE terminal = 't-1'`).Scan(&n, &distinct); err != nil {
		t.Fatal(err)
	}
	if n != batches*size || distinct != n {
		t.Fatalf("rows = %d (%d distinct seqs), want %d", n, distinct, batches*size)
	}
	res, err := stores[2].StoreEvents(ctx, "t-1", []edge.Operation{storetest.Op("t-1", 1, edge.OpReturnDeposited, "XY1", at)}, at)
	if err != nil || res.AckedSeq != batches*size || res.Duplicates != 1 {
		t.Fatalf("resend after all = %+v, %v; want acked %d", res, err, batches*size)
	}
}

// TestParcelRace has two terminals, each through its own instance, deposit
// the same new parcels at the same moment: the transaction that inserts a
// parcel second fails on its primary key and runs again, and then finds it
// deposited at the other terminal. Each parcel ends with one deposit on its
// timeline and one conflict, and no call fails.
func TestParcelRace(t *testing.T) {
	ctx := context.Background()
	stores := openInstances(t, 2)
	at := time.Now()
	const rounds, size = 20, 8
	for r := 0; r < rounds; r++ {
		var wg sync.WaitGroup
		errs := make(chan error, 2)
		for i, tid := range []string{"t-1", "t-2"} {
			evs := make([]edge.Operation, size)
			for j := range evs {
				evs[j] = storetest.Op(tid, uint64(r*size+j+1), edge.OpReturnDeposited, fmt.Sprintf("RACE%02d%02d", r, j), at)
			}
			wg.Add(1)
			go func() {
				defer wg.Done()
				if _, err := stores[i].StoreEvents(ctx, tid, evs, at); err != nil {
					errs <- err
				}
			}()
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			t.Fatalf("round %d: %v", r, err)
		}
	}
	var parcels, onTimeline, conflicts int
	pool := stores[0].Pool()
	if err := pool.QueryRow(ctx, `SELECT count(*) FROM parcels WHERE tracking LIKE 'RACE%'`).Scan(&parcels); err != nil {
		t.Fatal(err)
	}
	if err := pool.QueryRow(ctx, `SELECT count(*) FROM events WHERE status IS NOT NULL`).Scan(&onTimeline); err != nil {
		t.Fatal(err)
	}
	if err := pool.QueryRow(ctx, `SELECT count(*) FROM conflicts`).Scan(&conflicts); err != nil {
		t.Fatal(err)
	}
	if want := rounds * size; parcels != want || onTimeline != want || conflicts != want {
		t.Fatalf("parcels %d, deposits on timelines %d, conflicts %d; want %d each", parcels, onTimeline, conflicts, want)
	}
}

// BenchmarkStoreEvents measures durable ingest of batches of 256 events.
func BenchmarkStoreEvents(b *testing.B) {
	s := MustOpen(b)
	at := time.Now()
	ctx := context.Background()
	seq := uint64(0)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		evs := make([]edge.Operation, 256)
		for j := range evs {
			seq++
			evs[j] = storetest.Op("t-1", seq, edge.OpReturnDeposited, fmt.Sprintf("XY%09dFR", seq), at)
		}
		if _, err := s.StoreEvents(ctx, "t-1", evs, at); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N*256)/b.Elapsed().Seconds(), "events/s")
}

// BenchmarkStoreReturnSteps measures the ingest of returns' steps
// (storetest.BenchReturnSteps) on a fresh schema; insight=off is the store
// writing no report facts or durations (Options.NoInsight): what they cost
// (the stuck and refusals indexes are kept on both sides). db_cpu_us/event
// is the CPU of the server's backends that serve the store, when the
// server runs on this machine (ServerCPU).
func BenchmarkStoreReturnSteps(b *testing.B) {
	for _, off := range []bool{false, true} {
		b.Run(map[bool]string{false: "insight=on", true: "insight=off"}[off], func(b *testing.B) {
			dsn := freshSchema(b)
			s, err := pgstore.OpenWith(context.Background(), dsn, pgstore.Options{NoInsight: off})
			if err != nil {
				b.Fatal(err)
			}
			defer s.Close()
			storetest.BenchReturnSteps(b, s, func() (time.Duration, bool) { return ServerCPU(b, dsn) })
		})
	}
}

// ServerCPU returns the CPU time (user + system) that the server's
// backends serving the schema of dsn (a DSN of NewSchema) have used, read
// from /proc; false when they are not processes of this machine. A
// backend that exits takes its time with it: the stores' pools keep
// theirs.
func ServerCPU(b *testing.B, dsn string) (time.Duration, bool) {
	pids, err := pgstore.SchemaBackends(context.Background(), dsn)
	if err != nil {
		b.Fatal(err)
	}
	return testenv.ProcessCPU(pids...)
}

// TestOddText stores events whose text PostgreSQL's text type refuses (NUL)
// or that are too long for a timeline: they are stored and acked, never
// refused, so that a terminal does not resend them forever; the operation
// is kept as sent.
func TestOddText(t *testing.T) {
	s := MustOpen(t)
	ctx := context.Background()
	at := time.Date(2026, 11, 22, 10, 0, 0, 0, time.UTC)
	a := storetest.Op("t-1", 1, edge.OpReturnDeposited, "XY\x00Z", at)
	b := storetest.Op("t-1", 2, edge.OpReturnDeposited, strings.Repeat("X", 300), at)
	b.ID = "id-with-\x00-nul"
	res, err := s.StoreEvents(ctx, "t-1", []edge.Operation{a, b}, at)
	if err != nil || res.Stored != 2 || res.AckedSeq != 2 {
		t.Fatalf("StoreEvents = %+v, %v; want 2 stored, acked 2", res, err)
	}
	var op string
	if err := s.Pool().QueryRow(ctx, `SELECT op::text FROM events WHERE terminal = 't-1' AND seq = 1`).Scan(&op); err != nil || !strings.Contains(op, `XY\u0000Z`) {
		t.Fatalf("op = %s, %v; want the tracking as sent", op, err)
	}
	if tl, err := s.Timeline(ctx, cloud.Network, "XY\x00Z"); err != nil || len(tl) != 0 {
		t.Fatalf("timeline of an invalid tracking = %v, %v", tl, err)
	}
}

// BenchmarkInsight loads a network's three months (1,000,000 events by
// default, BENCH_INSIGHT_EVENTS) on a fresh schema and times its reports
// and stuck lists (storetest.BenchInsight). The test server runs no
// autovacuum: the schema's tables are vacuumed and analyzed after the
// load, as autovacuum would within a minute of it, so that the planner
// has statistics and the reports' index-only scans a visibility map.
func BenchmarkInsight(b *testing.B) {
	s := MustOpen(b)
	storetest.BenchInsight(b, s, func() error { return vacuumSchema(s) })
}

// vacuumSchema runs VACUUM ANALYZE on each table of the store's schema
// (not the whole database: other tests' schemas are in it).
func vacuumSchema(s *pgstore.Store) error {
	ctx := context.Background()
	rows, err := s.Pool().Query(ctx, `SELECT quote_ident(tablename) FROM pg_tables WHERE schemaname = current_schema()`)
	if err != nil {
		return err
	}
	tables, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		return err
	}
	for _, t := range tables {
		if _, err := s.Pool().Exec(ctx, "VACUUM ANALYZE "+t); err != nil {
			return err
		}
	}
	return nil
}
