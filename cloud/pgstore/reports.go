package pgstore

import (
	"context"
	"fmt"

	"github.com/jackc/pgx/v5"

	"github.com/comptoir/comptoir/cloud"
)

// reportKeys are, for each dimension, the keys of a return's rows (f is a
// row of report_facts, reportfacts.go).
var reportKeys = map[cloud.ReportBy]string{
	cloud.ByReason:      `SELECT unnest(f.reasons)`,
	cloud.BySKU:         `SELECT unnest(f.skus)`,
	cloud.ByDisposition: `SELECT unnest(f.dispositions)`,
	cloud.ByResolution:  `SELECT f.resolution WHERE f.resolution <> ''`,
	cloud.ByRelayPoint:  `SELECT f.relay WHERE f.relay IS NOT NULL`,
	cloud.ByCarrier:     `SELECT f.carrier`,
}

// reportRows counts the facts by key, each step once per return, and
// takes the durations' median and 90th percentile by nearest rank
// (percentile_disc) of the facts' stages (s0 to s3, whole seconds,
// written by the fold from cloud.ReturnFacts.StageSecs).
//
// The durations had a table of their own (report_durations, a row per
// return, row of a report and stage, read in order from its index) while
// the keys sorted under the database's collation: a network's quarter by
// SKU took 198 ms of CPU from the facts, 82 from the table. Since every
// key is compared bytewise (0017_collate_c.sql, 0018_facts_only.sql) the
// facts answer about as fast, a merchant's reports faster, and ingest no
// longer writes about 13 rows a return into that table and its index,
// most of the insight's cost on the server (0018_facts_only.sql; the
// figures are in docs/scaling.md).
const reportRows = `
SELECT key, n, dep, ins, can, handed, wh, refunded, exchanged, d0[1], d0[2], d1[1], d1[2], d2[1], d2[2], d3[1], d3[2]
FROM (
	SELECT key, count(*) AS n, count(*) FILTER (WHERE dep) AS dep, count(*) FILTER (WHERE ins) AS ins,
		count(*) FILTER (WHERE can) AS can, count(handed_at) AS handed, count(wh_at) AS wh,
		count(*) FILTER (WHERE refunded) AS refunded, count(*) FILTER (WHERE exchanged) AS exchanged,
		percentile_disc(ARRAY[0.5, 0.9]) WITHIN GROUP (ORDER BY s0) AS d0,
		percentile_disc(ARRAY[0.5, 0.9]) WITHIN GROUP (ORDER BY s1) AS d1,
		percentile_disc(ARRAY[0.5, 0.9]) WITHIN GROUP (ORDER BY s2) AS d2,
		percentile_disc(ARRAY[0.5, 0.9]) WITHIN GROUP (ORDER BY s3) AS d3
	FROM report_facts f, LATERAL (%s) AS k(key)
	WHERE %s AND f.created_at >= $2 AND f.created_at < $3
	GROUP BY key
) q ORDER BY key COLLATE "C"`

// reportSettings are the settings of a report's transaction: no JIT
// compilation (its cost estimate of a network's quarter turned it on, and
// compiling took longer than the query), no parallel workers (the
// planner gave the counts' scan of the facts one: on 2 shared cores the
// network's quarter waited for it, 408 and 946 ms at the median against
// 228 and 358 without, alternated, at load 33 to 35), and the memory to
// sort a quarter's rows by key in memory rather than on disk.
const reportSettings = `SET LOCAL jit = off; SET LOCAL max_parallel_workers_per_gather = 0; SET LOCAL work_mem = '32MB'`

// ReturnsReport implements cloud.Store with one SQL query: the facts of
// the returns of the period through their index by (merchant,
// created_at), or by created_at for the network, counted by key with
// their durations' percentiles.
func (s *Store) ReturnsReport(ctx context.Context, scope cloud.Scope, q cloud.ReportQuery) ([]cloud.ReportRow, error) {
	keys, ok := reportKeys[q.By]
	if !ok {
		return nil, fmt.Errorf("pgstore: returns report: no dimension %q", q.By)
	}
	// Written out for each scope, as the stuck lists' conditions, so that
	// the plan uses the index of the scope.
	merchant := `f.merchant = $1`
	if scope.All() {
		merchant = `$1 = ''`
	}
	sql := fmt.Sprintf(reportRows, keys, merchant)
	out := []cloud.ReportRow{}
	if err := s.foldAll(ctx); err != nil { // the steps stored before the report
		return nil, fmt.Errorf("pgstore: returns report: %w", err)
	}
	err := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, reportSettings); err != nil {
			return err
		}
		rows, err := tx.Query(ctx, sql, scopeMerchant(scope), q.From, q.To)
		if err != nil {
			return err
		}
		out, err = scanReportRows(rows)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("pgstore: returns report: %w", err)
	}
	return out, nil
}

// scanReportRows reads the rows of reportRows.
func scanReportRows(rows pgx.Rows) ([]cloud.ReportRow, error) {
	defer rows.Close()
	out := []cloud.ReportRow{}
	for rows.Next() {
		var r cloud.ReportRow
		var d [2 * cloud.NumStages]*int64
		if err := rows.Scan(&r.Key, &r.Returns, &r.Deposited, &r.ReceivedInStore, &r.Cancelled, &r.HandedOver,
			&r.ReceivedAtWarehouse, &r.Refunded, &r.Exchanged, &d[0], &d[1], &d[2], &d[3], &d[4], &d[5], &d[6], &d[7]); err != nil {
			return nil, err
		}
		for st := 0; st < cloud.NumStages; st++ {
			if d[2*st] != nil {
				r.SetDuration(st, *d[2*st], *d[2*st+1])
			}
		}
		out = append(out, r)
	}
	return out, rows.Err()
}
