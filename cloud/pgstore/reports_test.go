package pgstore_test

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/comptoir/comptoir/cloud"
	"github.com/comptoir/comptoir/cloud/pgstore"
	"github.com/comptoir/comptoir/cloud/storetest"
	"github.com/comptoir/comptoir/edge"
)

// TestReportFactsMigration: a schema from before report_facts (the
// reports' fixture stored, then the table of 0010 dropped, the stuck index
// of 0006 back and the migrations forgotten) gets the facts of its returns
// from their steps at Open, and its reports answer what they answered.
func TestReportFactsMigration(t *testing.T) {
	testReportsMigration(t, `DROP TABLE report_facts; DROP INDEX parcels_awaiting_handover, parcels_awaiting_carrier;
		CREATE INDEX parcels_waiting ON parcels (status, since) WHERE status IN ('deposited', 'received_in_store', 'handed_over');
		DELETE FROM schema_version WHERE version IN (10, 12, 14, 17, 18)`)
}

// TestFactsOnlyMigration: a schema that kept report_durations (0012 to
// 0017) loses it at Open (0018), its facts get their stages' durations
// (s0 to s3) and their arrays compare bytewise, and its reports answer
// what they answered.
func TestFactsOnlyMigration(t *testing.T) {
	again := testReportsMigration(t, `ALTER TABLE report_facts DROP COLUMN s0, DROP COLUMN s1, DROP COLUMN s2, DROP COLUMN s3;
		DELETE FROM schema_version WHERE version IN (12, 14, 18)`)
	var durations *string
	var collations []string
	err := again.Pool().QueryRow(context.Background(), `SELECT to_regclass('report_durations')::text,
		ARRAY(SELECT coalesce(collation_name, '-') FROM information_schema.columns
			WHERE table_schema = current_schema() AND table_name = 'report_facts' AND column_name IN ('reasons', 'skus', 'dispositions'))`).Scan(&durations, &collations)
	if err != nil || durations != nil || fmt.Sprint(collations) != "[C C C]" {
		t.Fatalf("after 0018: report_durations %v, the facts' arrays' collations %v, %v; want no table, [C C C]", durations, collations, err)
	}
}

// TestLegacyPendingSteps: steps queued in report_pending by instances of
// a version before 0019 are folded (and deleted) before the outbox's,
// whether the cursor is past them or not (a rolling upgrade: a step in
// both applied twice changes nothing), also in a schema of 0018 migrated
// with them pending, and the reports equal those of a store that folds
// from the outbox as the steps come.
func TestLegacyPendingSteps(t *testing.T) {
	ctx := context.Background()
	scopes, period := fixtureScopes, fixturePeriod
	want := fixtureReports(t, MustOpen(t))
	for _, c := range []struct {
		name       string
		skip, undo bool
	}{{"cursor past them", true, false}, {"cursor before them", false, false}, {"0018 migrated", true, true}} {
		t.Run(c.name, func(t *testing.T) {
			dsn, s := unfoldedFixture(t)
			n, err := s.QueueLegacy(ctx, c.skip)
			if err != nil || n < 10 {
				t.Fatalf("%d steps queued, %v; want the fixture's", n, err)
			}
			if c.undo {
				if _, err := s.Pool().Exec(ctx, `ALTER TABLE outbox DROP COLUMN statuses, DROP COLUMN ats; DROP TABLE report_cursor;
					DELETE FROM schema_version WHERE version = 19`); err != nil {
					t.Fatal(err)
				}
				s.Close()
				if s, err = pgstore.OpenWith(ctx, dsn, pgstore.Options{FoldEvery: -1}); err != nil {
					t.Fatal(err)
				}
				defer s.Close()
			}
			if got := reports(t, s.ReturnsReport, scopes, period); got != want {
				t.Errorf("reports:\n%s\nwant (folded as they came):\n%s", got, want)
			}
			var left int
			if err := s.Pool().QueryRow(ctx, `SELECT (SELECT count(*) FROM report_pending) + (SELECT h.seq - c.seq FROM outbox_head h, report_cursor c)`).Scan(&left); err != nil || left != 0 {
				t.Fatalf("%d steps left after a report, %v; want none", left, err)
			}
			checkReportsOfFacts(t, s, scopes, period)
		})
	}
}

// The reports' fixture's scopes and period (from and to).
var (
	fixtureScopes = []cloud.Scope{cloud.Network, cloud.MerchantScope("acme"), cloud.MerchantScope("beta")}
	fixturePeriod = []time.Time{time.Date(2026, 11, 5, 0, 0, 0, 0, time.UTC), time.Date(2026, 11, 22, 0, 0, 0, 0, time.UTC)}
)

// fixtureReports stores the reports' fixture in s and returns its
// reports, checked for the fixture's figures.
func fixtureReports(t *testing.T, s *pgstore.Store) string {
	t.Helper()
	storetest.ReportFixture(t, s)
	want := reports(t, s.ReturnsReport, fixtureScopes, fixturePeriod)
	if !strings.Contains(want, `"key":"RESTOCK"`) || !strings.Contains(want, `"refunded":1`) || !strings.Contains(want, `_p90_s":172800`) {
		t.Fatalf("the fixture's reports miss its figures:\n%s", want)
	}
	return want
}

// unfoldedFixture stores the reports' fixture in a fresh schema (its dsn)
// through a store that folds only for reports (closed at the end of the
// test).
func unfoldedFixture(t *testing.T) (string, *pgstore.Store) {
	t.Helper()
	dsn := freshSchema(t)
	s, err := pgstore.OpenWith(context.Background(), dsn, pgstore.Options{FoldEvery: -1})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	storetest.ReportFixture(t, s)
	return dsn, s
}

// testReportsMigration stores the reports' fixture, undoes migrations
// (undo), opens the schema again and compares the reports of every
// dimension and scope before and after; it returns the store opened
// again (closed at the end of the test).
func testReportsMigration(t *testing.T, undo string) *pgstore.Store {
	ctx := context.Background()
	dsn := freshSchema(t)
	s, err := pgstore.Open(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	scopes, period := fixtureScopes, fixturePeriod
	want := fixtureReports(t, s)
	if _, err := s.Pool().Exec(ctx, undo); err != nil {
		t.Fatal(err)
	}
	again, err := pgstore.Open(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { again.Close() })
	if got := reports(t, again.ReturnsReport, scopes, period); got != want {
		t.Errorf("reports after the migration:\n%s\nwant:\n%s", got, want)
	}
	return again
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

// factsReport is a report computed in Go from the facts of every return
// (what a fold left): each return counted in each of its rows, and the
// median and 90th percentile by nearest rank of the durations of each
// stage (cloud.ReturnFacts.Durations) in each row. TestReportPercentiles
// holds the store's SQL to it.
func factsReport(facts map[string]cloud.ReturnFacts, scope cloud.Scope, q cloud.ReportQuery) []cloud.ReportRow {
	rows := map[string]*cloud.ReportRow{}
	secs := map[string]*[cloud.NumStages][]int64{}
	for _, f := range facts {
		if (!scope.All() && f.Merchant != scope.Merchant) || f.Created.Before(q.From) || !f.Created.Before(q.To) {
			continue
		}
		for k := range f.CreatedCounts() {
			if k.By != q.By {
				continue
			}
			r := rows[k.Key]
			if r == nil {
				r, secs[k.Key] = &cloud.ReportRow{Key: k.Key}, &[cloud.NumStages][]int64{}
				rows[k.Key] = r
			}
			r.Returns++
			for _, c := range []struct {
				n  *int64
				ok bool
			}{{&r.Deposited, f.Deposited}, {&r.ReceivedInStore, f.InStore}, {&r.Cancelled, f.Cancelled}, {&r.HandedOver, !f.HandedAt.IsZero()},
				{&r.ReceivedAtWarehouse, !f.WarehouseAt.IsZero()}, {&r.Refunded, f.Refunded}, {&r.Exchanged, f.Exchanged}} {
				if c.ok {
					*c.n++
				}
			}
			for _, d := range f.Durations() {
				if d.ReportKey == k {
					secs[k.Key][d.Stage] = append(secs[k.Key][d.Stage], d.Secs)
				}
			}
		}
	}
	out := []cloud.ReportRow{}
	for key, r := range rows {
		for st, ds := range secs[key] {
			if len(ds) > 0 {
				slices.Sort(ds)
				rank := func(pct int) int64 { return ds[(len(ds)*pct+99)/100-1] }
				r.SetDuration(st, rank(50), rank(90))
			}
		}
		out = append(out, *r)
	}
	slices.SortFunc(out, func(a, b cloud.ReportRow) int { return strings.Compare(a.Key, b.Key) })
	return out
}

// checkReportsOfFacts fails t unless every report of scopes and periods
// (from and to in pairs) equals, byte for byte, factsReport of the
// store's facts.
func checkReportsOfFacts(t *testing.T, s *pgstore.Store, scopes []cloud.Scope, periods []time.Time) string {
	t.Helper()
	facts, err := s.AllFacts(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	want := reports(t, func(_ context.Context, scope cloud.Scope, q cloud.ReportQuery) ([]cloud.ReportRow, error) {
		return factsReport(facts, scope, q), nil
	}, scopes, periods)
	if got := reports(t, s.ReturnsReport, scopes, periods); got != want {
		t.Errorf("reports:\n%s\nwant (of the facts):\n%s", got, want)
	}
	return want
}

// TestReportPercentiles: on the insight benchmark's network at a smaller
// volume (thousands of returns, their steps batched as terminals send
// them), every report equals, byte for byte, the counts and percentiles
// of the facts computed in Go (factsReport): for the network and a
// merchant, over the three months, a month and a day. A return whose
// first drop-off moves (deposited at t-a, cancelled, deposited again at
// t-b by a clock an hour behind) counts at t-b, from the earlier time.
func TestReportPercentiles(t *testing.T) {
	ctx := context.Background()
	s := MustOpen(t)
	from, to := storetest.LoadInsight(t, s, 30_000)
	periods := []time.Time{from, to, to.AddDate(0, -1, 0), to, to.AddDate(0, 0, -5), to.AddDate(0, 0, -4)}
	scopes := []cloud.Scope{cloud.Network, cloud.MerchantScope("m-03")}
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
	facts, err := s.AllFacts(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if f := facts["MOVED1"]; f.Relay != "t-b" || f.StageSecs()[cloud.StageToDropOff] != 7200 || f.StageSecs()[cloud.StageToHandover] != 10800 {
		t.Fatalf("facts of the moved return = %+v (%v); want relay t-b, 7200 s to the drop-off, 10800 to the handover", f, f.StageSecs())
	}
	var resolved int
	for _, f := range facts {
		if f.StageSecs()[cloud.StageToResolved] >= 0 {
			resolved++
		}
	}
	if resolved < 100 {
		t.Fatalf("%d returns refunded or exchanged; want hundreds", resolved)
	}
	want := checkReportsOfFacts(t, s, scopes, periods)
	if !strings.Contains(want, `"dropped_off_to_resolved_p90_s":`) || !strings.Contains(want, `"key":"t-b"`) {
		t.Fatalf("the reports miss durations to the refund, or the moved return's relay point:\n%.2000s", want)
	}
}

// TestDurationWithinBucket: a step that changes a return's duration but
// not the bucket of Badger's histograms (cloud.ReturnFacts.Observe's
// counters do not change) is stored all the same: deposited at +3h,
// cancelled, deposited again at the same relay point at +2h50 (the same
// bucket, 2h to 4h), the report's percentile is the new duration, and
// a handover at +4h05 counts from the new first drop-off.
func TestDurationWithinBucket(t *testing.T) {
	ctx := context.Background()
	s := MustOpen(t)
	created := time.Date(2026, 11, 20, 8, 0, 0, 0, time.UTC)
	if err := s.CreateMerchant(ctx, cloud.Merchant{ID: "m-bucket", Name: "Bucket", CreatedAt: created}); err != nil {
		t.Fatal(err)
	}
	if err := s.CreateReturn(ctx, cloud.Return{ID: "ra-bucket", Merchant: "m-bucket", Tracking: "BUCKET1", Carrier: "UPS", CreatedAt: created,
		ExpiresAt: created.AddDate(0, 1, 0), Token: "t", Items: []edge.Item{{SKU: "S1", Qty: 1, Reason: edge.ReasonDamaged}}}); err != nil {
		t.Fatal(err)
	}
	deposit := func(seq uint64, at time.Time) edge.Operation {
		o := storetest.Op("t-bucket", seq, edge.OpReturnDeposited, "BUCKET1", at)
		o.Data = []byte(`{"ra_id":"ra-bucket","verified":true,"mode":"LABEL_AT_COUNTER"}`)
		return o
	}
	batches := [][]edge.Operation{
		{deposit(1, created.Add(3*time.Hour)), storetest.Op("t-bucket", 2, edge.OpReturnCancelled, "BUCKET1", created.Add(4*time.Hour))},
		{deposit(3, created.Add(2*time.Hour+50*time.Minute))},
		{storetest.Op("t-bucket", 4, edge.OpParcelHandedOver, "BUCKET1", created.Add(4*time.Hour+5*time.Minute))},
	}
	for _, batch := range batches {
		if res, err := s.StoreEvents(ctx, "t-bucket", batch, created.Add(5*time.Hour)); err != nil || len(res.Conflicts) > 0 {
			t.Fatalf("StoreEvents = %+v, %v", res, err)
		}
	}
	rows, err := s.ReturnsReport(ctx, cloud.MerchantScope("m-bucket"), cloud.ReportQuery{From: created.Truncate(24 * time.Hour), To: created.AddDate(0, 0, 1), By: cloud.ByCarrier})
	if err != nil || len(rows) != 1 {
		t.Fatalf("ReturnsReport = %+v, %v; want a row", rows, err)
	}
	r := rows[0]
	if r.CreatedToDroppedOffP50 == nil || *r.CreatedToDroppedOffP50 != 10200 || r.DroppedOffToHandoverP50 == nil || *r.DroppedOffToHandoverP50 != 4500 {
		b, _ := json.Marshal(r)
		t.Errorf("report row = %s; want created_to_dropped_off_p50_s 10200 (2h50), dropped_off_to_handed_over_p50_s 4500 (1h15)", b)
	}
}

// TestInsightTwoInstances: two instances store the steps of the same
// returns at once (each return deposited at two relay points, an hour
// apart, each terminal through its own instance, then cancelled and
// deposited again earlier, then handed over, refunded through the
// partners' path; which of two steps at once agrees with a parcel, and
// which is a conflict, is the race's): every return is counted once, and
// the reports hold exactly the durations of the facts. The
// instances fold the pending steps every second (the report folds what is
// left), and every millisecond: both try to fold while the steps come.
func TestInsightTwoInstances(t *testing.T) {
	for _, every := range []time.Duration{time.Second, time.Millisecond} {
		t.Run("fold="+every.String(), func(t *testing.T) {
			testInsightTwoInstances(t, openInstancesWith(t, 2, pgstore.Options{FoldEvery: every}))
		})
	}
}

func testInsightTwoInstances(t *testing.T, stores []*pgstore.Store) {
	ctx := context.Background()
	created := time.Date(2026, 11, 20, 8, 0, 0, 0, time.UTC)
	if err := stores[0].CreateMerchant(ctx, cloud.Merchant{ID: "m-two", Name: "Two", CreatedAt: created}); err != nil {
		t.Fatal(err)
	}
	const n = 40
	tr := func(i int) string { return fmt.Sprintf("TWO%03d", i) }
	for i := range n {
		if err := stores[i%2].CreateReturn(ctx, cloud.Return{ID: fmt.Sprintf("ra-two-%d", i), Merchant: "m-two", Tracking: tr(i), Carrier: "UPS",
			CreatedAt: created, ExpiresAt: created.AddDate(0, 1, 0), Token: "t",
			Items: []edge.Item{{SKU: "S1", Qty: 1, Reason: edge.ReasonDamaged}, {SKU: fmt.Sprintf("S%d", i%3+2), Qty: 1, Reason: edge.ReasonWrongSize}}}); err != nil {
			t.Fatal(err)
		}
	}
	seqs := map[string]uint64{}
	batch := func(tid string, typ edge.OpType, at time.Duration) []edge.Operation {
		evs := make([]edge.Operation, n)
		for i := range evs {
			seqs[tid]++
			evs[i] = storetest.Op(tid, seqs[tid], typ, tr(i), created.Add(at+time.Duration(i)*time.Minute))
			if typ == edge.OpReturnDeposited {
				evs[i].Data = []byte(fmt.Sprintf(`{"ra_id":"ra-two-%d","verified":true,"mode":"LABEL_AT_COUNTER"}`, i))
			}
		}
		return evs
	}
	for _, round := range [][2][]edge.Operation{
		{batch("t-1", edge.OpReturnDeposited, 3*time.Hour), batch("t-2", edge.OpReturnDeposited, 4*time.Hour)},
		{batch("t-1", edge.OpReturnCancelled, 5*time.Hour), batch("t-2", edge.OpReturnDeposited, 2*time.Hour)},
		{batch("t-1", edge.OpParcelHandedOver, 6*time.Hour), batch("t-2", edge.OpParcelHandedOver, 7*time.Hour)},
	} {
		var wg sync.WaitGroup
		errs := make(chan error, 2)
		for i, evs := range round {
			wg.Add(1)
			go func() {
				defer wg.Done()
				if _, err := stores[i].StoreEvents(ctx, evs[0].Terminal, evs, created.Add(8*time.Hour)); err != nil {
					errs <- err
				}
			}()
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			t.Fatal(err)
		}
	}
	refund := func(p cloud.Parcel) (cloud.Parcel, error) {
		p.Status = cloud.StatusRefunded
		return p, nil
	}
	for i := range n {
		e := cloud.TimelineEntry{EventID: fmt.Sprintf("refund-%d", i), Status: cloud.StatusRefunded, OccurredAt: created.Add(30 * time.Hour), Source: "partner"}
		if _, err := stores[(i+1)%2].AddPartnerEntry(ctx, cloud.MerchantScope("m-two"), tr(i), e, refund); err != nil {
			t.Fatal(err)
		}
	}
	checkReportsOfFacts(t, stores[0], []cloud.Scope{cloud.MerchantScope("m-two")}, []time.Time{created.Truncate(24 * time.Hour), created.AddDate(0, 0, 1)})
	rows, err := stores[1].ReturnsReport(ctx, cloud.MerchantScope("m-two"), cloud.ReportQuery{From: created.Truncate(24 * time.Hour), To: created.AddDate(0, 0, 1), By: cloud.ByCarrier})
	if err != nil || len(rows) != 1 || rows[0].Returns != n || rows[0].Deposited != n || rows[0].Refunded != n {
		t.Fatalf("report = %+v, %v; want %d returns deposited and refunded", rows, err, n)
	}
}

// TestInsightPendingCrash: steps stored by an instance that folds nothing
// (FoldEvery below 0) stay pending, the facts unmoved; a fold that ends
// before its commit (an instance's crash: its transaction rolled back)
// leaves them pending; an instance that opens the schema afterwards
// reports every figure of the fixture, as the instance that folds as it
// goes, and its reports are those of its facts. A report waits for the
// fold's lease that another connection holds (a fold under way).
func TestInsightPendingCrash(t *testing.T) {
	ctx := context.Background()
	scopes, period := fixtureScopes, fixturePeriod
	want := fixtureReports(t, MustOpen(t))

	dsn, s := unfoldedFixture(t)
	db := s.Pool()
	count := func(sql string) int {
		t.Helper()
		var n int
		if err := db.QueryRow(ctx, sql).Scan(&n); err != nil {
			t.Fatal(err)
		}
		return n
	}
	const unfolded = `SELECT coalesce(sum(n), 0) FROM outbox WHERE merchant <> '' AND last > (SELECT seq FROM report_cursor)`
	pending := count(unfolded)
	if pending < 10 || count(`SELECT count(*) FROM report_facts WHERE dropped_at IS NOT NULL`) != 0 {
		t.Fatalf("%d steps pending, or facts moved; want the fixture's steps pending, nothing folded", pending)
	}
	tx, err := s.Pool().Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock(x'636f6d70746f6966'::bigint); UPDATE report_cursor SET seq = (SELECT seq FROM outbox_head)`); err != nil {
		t.Fatal(err)
	}
	if err := tx.Rollback(ctx); err != nil { // the crash
		t.Fatal(err)
	}
	s.Close()

	again, err := pgstore.OpenWith(ctx, dsn, pgstore.Options{FoldEvery: -1})
	if err != nil {
		t.Fatal(err)
	}
	defer again.Close()
	db = again.Pool()
	if n := count(unfolded); n != pending {
		t.Fatalf("%d steps pending after the crash, want %d", n, pending)
	}
	lease, err := again.Pool().Acquire(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := lease.Exec(ctx, `SELECT pg_advisory_lock(x'636f6d70746f6966'::bigint)`); err != nil {
		t.Fatal(err)
	}
	done := make(chan string)
	go func() { done <- reports(t, again.ReturnsReport, scopes, period) }()
	for waiting := 0; waiting == 0; {
		time.Sleep(10 * time.Millisecond)
		if err := again.Pool().QueryRow(ctx, `SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND NOT granted
			AND objid::bigint = x'746f6966'::bigint`).Scan(&waiting); err != nil {
			t.Fatal(err)
		}
	}
	if n := count(unfolded); n != pending {
		t.Fatalf("%d steps pending while the lease is held, want %d", n, pending)
	}
	if _, err := lease.Exec(ctx, `SELECT pg_advisory_unlock(x'636f6d70746f6966'::bigint)`); err != nil {
		t.Fatal(err)
	}
	lease.Release()
	if got := <-done; got != want {
		t.Errorf("reports after the crash:\n%s\nwant (folded as they came):\n%s", got, want)
	}
	if !strings.Contains(want, `"key":"RESTOCK"`) || !strings.Contains(want, `"refunded":1`) || !strings.Contains(want, `_p90_s":172800`) {
		t.Fatalf("the fixture's reports miss its figures:\n%s", want)
	}
	if n := count(unfolded); n != 0 {
		t.Fatalf("%d steps pending after a report, want none", n)
	}
	checkReportsOfFacts(t, again, scopes, period)
}
