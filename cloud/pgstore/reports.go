package pgstore

import (
	"context"
	"fmt"

	"github.com/jackc/pgx/v5"

	"github.com/comptoir/comptoir/cloud"
)

// reportKeys are, for each dimension, the key of a return's rows, or keys
// (unnest), none when NULL (f is a row of report_facts, reportfacts.go).
var reportKeys = map[cloud.ReportBy]string{
	cloud.ByReason:      `unnest(f.reasons)`,
	cloud.BySKU:         `unnest(f.skus)`,
	cloud.ByDisposition: `unnest(f.dispositions)`,
	cloud.ByResolution:  `NULLIF(f.resolution, '')`,
	cloud.ByRelayPoint:  `f.relay`,
	cloud.ByCarrier:     `f.carrier`,
}

// reportRows counts the facts by key, each step once per return, and
// takes the durations' median and 90th percentile by nearest rank
// (percentile_disc) of report_durations (whole seconds rounded down,
// negative ones as 0: cloud.Seconds), read by key, stage and duration from
// its index, so that each key's sort finds its durations sorted.
const reportRows = `
WITH c AS (
	SELECT key, count(*) AS n, count(*) FILTER (WHERE dep) AS dep, count(*) FILTER (WHERE ins) AS ins,
		count(*) FILTER (WHERE can) AS can, count(handed_at) AS handed, count(wh_at) AS wh,
		count(*) FILTER (WHERE refunded) AS refunded, count(*) FILTER (WHERE exchanged) AS exchanged
	FROM (SELECT %s AS key, dep, ins, can, handed_at, wh_at, refunded, exchanged FROM report_facts f
		WHERE %s AND f.created_at >= $2 AND f.created_at < $3) f
	WHERE key IS NOT NULL
	GROUP BY key
), d AS (
	SELECT key, stage, percentile_disc(ARRAY[0.5, 0.9]) WITHIN GROUP (ORDER BY secs) AS p
	FROM report_durations d WHERE d.dim = $4 AND %s AND d.created_at >= $2 AND d.created_at < $3
	GROUP BY key, stage
)
SELECT c.key, n, dep, ins, can, handed, wh, refunded, exchanged,
	d0.p[1], d0.p[2], d1.p[1], d1.p[2], d2.p[1], d2.p[2], d3.p[1], d3.p[2]
FROM c LEFT JOIN d d0 ON d0.key = c.key AND d0.stage = 0 LEFT JOIN d d1 ON d1.key = c.key AND d1.stage = 1
	LEFT JOIN d d2 ON d2.key = c.key AND d2.stage = 2 LEFT JOIN d d3 ON d3.key = c.key AND d3.stage = 3
ORDER BY c.key COLLATE "C"`

// reportSettings are the settings of a report's transaction: no JIT
// compilation (its cost estimate of a network's quarter turned it on, and
// compiling took longer than the query), and no parallel workers (the
// planner gave the counts' scan of the facts one: on 2 shared cores the
// network's quarter waited for it, 408 and 946 ms at the median against
// 228 and 358 without, alternated, at load 33 to 35).
const reportSettings = `SET LOCAL jit = off; SET LOCAL max_parallel_workers_per_gather = 0`

// ReturnsReport implements cloud.Store with one SQL query: the facts of
// the returns of the period through their index by (merchant,
// created_at), or by created_at for the network, counted by key, and
// their durations through the index of the scope.
func (s *Store) ReturnsReport(ctx context.Context, scope cloud.Scope, q cloud.ReportQuery) ([]cloud.ReportRow, error) {
	keys, ok := reportKeys[q.By]
	if !ok {
		return nil, fmt.Errorf("pgstore: returns report: no dimension %q", q.By)
	}
	// Written out for each scope, as the stuck lists' conditions, so that
	// the plan uses the index of the scope.
	facts, durations := `f.merchant = $1`, `d.merchant = $1`
	if scope.All() {
		facts, durations = `$1 = ''`, `$1 = ''`
	}
	sql := fmt.Sprintf(reportRows, keys, facts, durations)
	out := []cloud.ReportRow{}
	if err := s.foldAll(ctx); err != nil { // the steps stored before the report
		return nil, fmt.Errorf("pgstore: returns report: %w", err)
	}
	err := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, reportSettings); err != nil {
			return err
		}
		rows, err := tx.Query(ctx, sql, scopeMerchant(scope), q.From, q.To, string(q.By))
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
