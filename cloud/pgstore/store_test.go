package pgstore_test

import (
	"context"
	"encoding/json"
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
	dsn := freshSchema(tb)
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
	dsn := freshSchema(t)
	stores := make([]*pgstore.Store, n)
	for i := range stores {
		s, err := pgstore.Open(context.Background(), dsn)
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
// and stuck lists (storetest.BenchInsight).
func BenchmarkInsight(b *testing.B) {
	storetest.BenchInsight(b, MustOpen(b))
}

// TestReportFactsMigration: a schema from before report_facts (the
// reports' fixture stored, then the tables of 0010 and 0012 dropped, the
// stuck index of 0006 back and the migrations forgotten) gets the facts of
// its returns from their steps, and their durations from the facts, at
// Open, and its reports answer what they answered.
func TestReportFactsMigration(t *testing.T) {
	testReportsMigration(t, `DROP TABLE report_facts, report_durations; DROP INDEX parcels_awaiting_handover, parcels_awaiting_carrier;
		CREATE INDEX parcels_waiting ON parcels (status, since) WHERE status IN ('deposited', 'received_in_store', 'handed_over');
		DELETE FROM schema_version WHERE version >= 10`)
}

// TestReportDurationsMigration: a schema from before report_durations gets
// the durations of its returns from their facts at Open, and its reports
// answer what they answered.
func TestReportDurationsMigration(t *testing.T) {
	testReportsMigration(t, `DROP TABLE report_durations; DELETE FROM schema_version WHERE version >= 12`)
}

// testReportsMigration stores the reports' fixture, undoes migrations
// (undo), opens the schema again and compares the reports of every
// dimension and scope before and after.
func testReportsMigration(t *testing.T, undo string) {
	ctx := context.Background()
	dsn := freshSchema(t)
	s, err := pgstore.Open(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	storetest.ReportFixture(t, s)
	day := time.Date(2026, 11, 20, 0, 0, 0, 0, time.UTC)
	period := []time.Time{day.AddDate(0, 0, -15), day.AddDate(0, 0, 2)}
	scopes := []cloud.Scope{cloud.Network, cloud.MerchantScope("acme"), cloud.MerchantScope("beta")}
	want := reports(t, s.ReturnsReport, scopes, period)
	if !strings.Contains(want, `"key":"RESTOCK"`) || !strings.Contains(want, `"refunded":1`) || !strings.Contains(want, `_p90_s":172800`) {
		t.Fatalf("the fixture's reports miss its figures:\n%s", want)
	}
	if _, err := s.Pool().Exec(ctx, undo); err != nil {
		t.Fatal(err)
	}
	again, err := pgstore.Open(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer again.Close()
	if got := reports(t, again.ReturnsReport, scopes, period); got != want {
		t.Errorf("reports after the migration:\n%s\nwant:\n%s", got, want)
	}
}

// reports returns, as JSON lines, report's rows of every dimension for
// each scope and each period (periods: from and to in pairs).
func reports(t *testing.T, report func(context.Context, cloud.Scope, cloud.ReportQuery) ([]cloud.ReportRow, error), scopes []cloud.Scope, periods []time.Time) string {
	t.Helper()
	var out strings.Builder
	for i := 0; i+1 < len(periods); i += 2 {
		for _, scope := range scopes {
			for _, by := range cloud.ReportDims {
				rows, err := report(context.Background(), scope, cloud.ReportQuery{From: periods[i], To: periods[i+1], By: by})
				if err != nil {
					t.Fatal(err)
				}
				b, _ := json.Marshal(rows)
				fmt.Fprintf(&out, "%s %s %s %s %s\n", periods[i].Format(time.DateOnly), periods[i+1].Format(time.DateOnly), scope.Merchant, by, b)
			}
		}
	}
	return out.String()
}

// percentilesOfFacts is the query reports answered before report_durations
// (0012): the percentiles of each key's durations taken of report_facts,
// unnested and sorted. TestReportDurations checks that the durations
// answer the same.
const percentilesOfFacts = `
SELECT key, n, dep, ins, can, handed, wh, refunded, exchanged,
	secs(d0[1]), secs(d0[2]), secs(d1[1]), secs(d1[2]), secs(d2[1]), secs(d2[2]), secs(d3[1]), secs(d3[2])
FROM (
	SELECT key, count(*) AS n, count(*) FILTER (WHERE dep) AS dep, count(*) FILTER (WHERE ins) AS ins,
		count(*) FILTER (WHERE can) AS can, count(handed_at) AS handed, count(wh_at) AS wh,
		count(*) FILTER (WHERE refunded) AS refunded, count(*) FILTER (WHERE exchanged) AS exchanged,
		percentile_disc(ARRAY[0.5, 0.9]) WITHIN GROUP (ORDER BY dropped_at - created_at) AS d0,
		percentile_disc(ARRAY[0.5, 0.9]) WITHIN GROUP (ORDER BY handed_at - dropped_at) AS d1,
		percentile_disc(ARRAY[0.5, 0.9]) WITHIN GROUP (ORDER BY wh_at - dropped_at) AS d2,
		percentile_disc(ARRAY[0.5, 0.9]) WITHIN GROUP (ORDER BY resolved_at - dropped_at) AS d3
	FROM report_facts f, LATERAL (%s) AS k(key)
	WHERE ($1 = '' OR f.merchant = $1) AND f.created_at >= $2 AND f.created_at < $3
	GROUP BY key
) q ORDER BY key COLLATE "C"`

// factsKeys are the keys of each dimension for percentilesOfFacts.
var factsKeys = map[cloud.ReportBy]string{
	cloud.ByReason:      `SELECT unnest(f.reasons)`,
	cloud.BySKU:         `SELECT unnest(f.skus)`,
	cloud.ByDisposition: `SELECT unnest(f.dispositions)`,
	cloud.ByResolution:  `SELECT f.resolution WHERE f.resolution <> ''`,
	cloud.ByRelayPoint:  `SELECT f.relay WHERE f.relay IS NOT NULL`,
	cloud.ByCarrier:     `SELECT f.carrier`,
}

// TestReportDurations: on the insight benchmark's network at a smaller
// volume (thousands of returns, their steps batched as terminals send
// them), every report read from report_durations equals, byte for byte,
// the percentiles of report_facts (percentilesOfFacts): for the network
// and a merchant, over the three months, a month and a day.
func TestReportDurations(t *testing.T) {
	ctx := context.Background()
	s := MustOpen(t)
	from, to := storetest.LoadInsight(t, s, 30_000)
	periods := []time.Time{from, to, to.AddDate(0, -1, 0), to, to.AddDate(0, 0, -5), to.AddDate(0, 0, -4)}
	scopes := []cloud.Scope{cloud.Network, cloud.MerchantScope("m-03")}
	reference := func(ctx context.Context, scope cloud.Scope, q cloud.ReportQuery) ([]cloud.ReportRow, error) {
		rows, err := s.Pool().Query(ctx, fmt.Sprintf(percentilesOfFacts, factsKeys[q.By]), scope.Merchant, q.From, q.To)
		if err != nil {
			return nil, err
		}
		return pgstore.ScanReportRows(rows)
	}
	// A return whose first drop-off moves: deposited at t-a, cancelled,
	// deposited again at t-b by a clock an hour behind. Its durations at
	// t-a go, those at t-b come.
	created := to.AddDate(0, 0, -5).Add(time.Hour)
	if err := s.CreateReturn(ctx, cloud.Return{ID: "ra-moved", Merchant: "m-03", Tracking: "MOVED1", Carrier: "UPS", CreatedAt: created,
		ExpiresAt: to, Token: "t", Items: []edge.Item{{SKU: "S1", Qty: 1, Reason: edge.ReasonDamaged}}}); err != nil {
		t.Fatal(err)
	}
	deposit := func(tid string, seq uint64, at time.Time) edge.Operation {
		o := storetest.Op(tid, seq, edge.OpReturnDeposited, "MOVED1", at)
		o.Data = []byte(`{"ra_id":"ra-moved","verified":true,"mode":"LABEL_AT_COUNTER"}`)
		return o
	}
	for _, batch := range [][]edge.Operation{
		{deposit("t-a", 1, created.Add(3*time.Hour)), storetest.Op("t-a", 2, edge.OpReturnCancelled, "MOVED1", created.Add(4*time.Hour))},
		{deposit("t-b", 1, created.Add(2*time.Hour)), storetest.Op("t-b", 2, edge.OpParcelHandedOver, "MOVED1", created.Add(5*time.Hour))},
	} {
		if res, err := s.StoreEvents(ctx, batch[0].Terminal, batch, to); err != nil || len(res.Conflicts) > 0 {
			t.Fatalf("StoreEvents = %+v, %v", res, err)
		}
	}
	rows, err := s.Pool().Query(ctx, `SELECT dim || ' ' || key || ' ' || stage || ' ' || secs FROM report_durations
		WHERE tracking = 'MOVED1' AND dim IN ('relay_point', 'carrier') ORDER BY 1`)
	if err != nil {
		t.Fatal(err)
	}
	moved, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if w := "[carrier UPS 0 7200 carrier UPS 1 10800 relay_point t-b 0 7200 relay_point t-b 1 10800]"; err != nil || fmt.Sprint(moved) != w {
		t.Fatalf("durations of the moved return = %v, %v; want %s", moved, err, w)
	}
	want := reports(t, reference, scopes, periods)
	var durations int
	if err := s.Pool().QueryRow(ctx, `SELECT count(*) FROM report_durations WHERE stage = 3`).Scan(&durations); err != nil || durations < 500 {
		t.Fatalf("%d durations to the refund or exchange, %v; want hundreds", durations, err)
	}
	if got := reports(t, s.ReturnsReport, scopes, periods); got != want {
		t.Errorf("reports:\n%s\nwant (the percentiles of report_facts):\n%s", got, want)
	}
}
