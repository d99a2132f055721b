package pgstore

import (
	"context"
	"fmt"

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

// reportRows counts the facts by key: each step once per return, and the
// durations' median and 90th percentile by nearest rank (percentile_disc),
// in whole seconds rounded down, negative ones as 0 (cloud.Seconds).
const reportRows = `
SELECT key, count(*), count(*) FILTER (WHERE dep), count(*) FILTER (WHERE ins), count(*) FILTER (WHERE can),
	count(handed_at), count(wh_at), count(*) FILTER (WHERE refunded), count(*) FILTER (WHERE exchanged),
	percentile_disc(0.5) WITHIN GROUP (ORDER BY secs(dropped_at - created_at)),
	percentile_disc(0.9) WITHIN GROUP (ORDER BY secs(dropped_at - created_at)),
	percentile_disc(0.5) WITHIN GROUP (ORDER BY secs(handed_at - dropped_at)),
	percentile_disc(0.9) WITHIN GROUP (ORDER BY secs(handed_at - dropped_at)),
	percentile_disc(0.5) WITHIN GROUP (ORDER BY secs(wh_at - dropped_at)),
	percentile_disc(0.9) WITHIN GROUP (ORDER BY secs(wh_at - dropped_at)),
	percentile_disc(0.5) WITHIN GROUP (ORDER BY secs(resolved_at - dropped_at)),
	percentile_disc(0.9) WITHIN GROUP (ORDER BY secs(resolved_at - dropped_at))
FROM report_facts f, LATERAL (%s) AS k(key)
WHERE %s AND f.created_at >= $2 AND f.created_at < $3
GROUP BY key ORDER BY key COLLATE "C"`

// ReturnsReport implements cloud.Store with one SQL query: the facts of
// the returns of the period through their index by (merchant,
// created_at), or by created_at for the network, aggregated by key.
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
	rows, err := s.pool.Query(ctx, sql, scopeMerchant(scope), q.From, q.To)
	if err != nil {
		return nil, fmt.Errorf("pgstore: returns report: %w", err)
	}
	defer rows.Close()
	out := []cloud.ReportRow{}
	for rows.Next() {
		var r cloud.ReportRow
		var d [2 * cloud.NumStages]*int64
		if err := rows.Scan(&r.Key, &r.Returns, &r.Deposited, &r.ReceivedInStore, &r.Cancelled, &r.HandedOver,
			&r.ReceivedAtWarehouse, &r.Refunded, &r.Exchanged, &d[0], &d[1], &d[2], &d[3], &d[4], &d[5], &d[6], &d[7]); err != nil {
			return nil, fmt.Errorf("pgstore: returns report: %w", err)
		}
		for st := 0; st < cloud.NumStages; st++ {
			if d[2*st] != nil {
				r.SetDuration(st, *d[2*st], *d[2*st+1])
			}
		}
		out = append(out, r)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("pgstore: returns report: %w", err)
	}
	return out, nil
}
