package pgstore

import (
	"context"
	"fmt"

	"github.com/comptoir/comptoir/cloud"
)

// reportFacts is, for each return created in the period ($2 to $3) in
// scope ($1, ” for the network), what reports count: the first drop-off
// (its time and terminal), which steps its parcel took and when first,
// and the grades of its first in-store receipt. The terminals' steps are
// the events that agreed with the parcel (status not NULL), the partners'
// the API's timeline entries; both are read by tracking number through the
// timelines' indexes. It mirrors cloud.ReturnFacts, which the Badger store
// keeps as counters.
const reportFacts = `
WITH r AS (
	SELECT id, body->>'tracking' AS tracking, created_at, body->>'carrier' AS carrier, body->'items' AS items
	FROM returns
	WHERE ($1 = '' OR merchant = $1) AND created_at >= $2 AND created_at < $3
), f AS (
	SELECT r.created_at, r.carrier, r.items, d.dropped_at, d.relay, i.data AS instore,
		coalesce(s.dep, false) AS dep, coalesce(s.ins, false) AS ins, coalesce(s.can, false) AS can,
		s.handed_at, p.wh_at,
		coalesce(p.refunded, false) OR coalesce(i.data->>'resolution' = 'REFUND', false) AS refunded,
		coalesce(p.exchanged, false) OR coalesce(i.data->>'resolution' = 'EXCHANGE', false) AS exchanged,
		least(p.resolved_at, CASE WHEN i.data->>'resolution' IN ('REFUND', 'EXCHANGE') THEN i.at END) AS resolved_at
	FROM r
	LEFT JOIN LATERAL (
		SELECT e.occurred_at AS dropped_at, e.terminal AS relay FROM events e
		WHERE e.tracking = r.tracking AND e.status IN ('deposited', 'received_in_store')
		ORDER BY e.occurred_at, e.received_at, e.id LIMIT 1) d ON true
	LEFT JOIN LATERAL (
		SELECT bool_or(e.status = 'deposited') AS dep, bool_or(e.status = 'received_in_store') AS ins,
			bool_or(e.status = 'cancelled') AS can,
			min(e.occurred_at) FILTER (WHERE e.status = 'handed_over') AS handed_at
		FROM events e WHERE e.tracking = r.tracking AND e.status IS NOT NULL) s ON true
	LEFT JOIN LATERAL (
		SELECT min(t.occurred_at) FILTER (WHERE t.status = 'received_at_warehouse') AS wh_at,
			bool_or(t.status = 'refunded') AS refunded, bool_or(t.status = 'exchanged') AS exchanged,
			min(t.occurred_at) FILTER (WHERE t.status IN ('refunded', 'exchanged')) AS resolved_at
		FROM timeline_entries t WHERE t.tracking = r.tracking) p ON true
	LEFT JOIN LATERAL (
		SELECT e.op->'data' AS data, e.occurred_at AS at FROM events e
		WHERE e.tracking = r.tracking AND e.status = 'received_in_store'
		ORDER BY e.occurred_at, e.received_at, e.id LIMIT 1) i ON true
)`

// reportKeys are, for each dimension, the keys of a return's rows (f is a
// row of reportFacts).
var reportKeys = map[cloud.ReportBy]string{
	cloud.ByReason:      `SELECT DISTINCT coalesce(x->>'reason', '') FROM json_array_elements(f.items) x`,
	cloud.BySKU:         `SELECT DISTINCT x->>'sku' FROM json_array_elements(f.items) x`,
	cloud.ByDisposition: `SELECT DISTINCT x->>'disposition' FROM json_array_elements(f.instore->'items') x WHERE coalesce(x->>'disposition', '') <> ''`,
	cloud.ByResolution:  `SELECT f.instore->>'resolution' WHERE coalesce(f.instore->>'resolution', '') <> ''`,
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
FROM f, LATERAL (%s) AS k(key)
GROUP BY key ORDER BY key COLLATE "C"`

// ReturnsReport implements cloud.Store with one SQL query: the returns of
// the period through their index by (merchant, created_at), their
// parcels' steps by tracking number, aggregated by key.
func (s *Store) ReturnsReport(ctx context.Context, scope cloud.Scope, q cloud.ReportQuery) ([]cloud.ReportRow, error) {
	keys, ok := reportKeys[q.By]
	if !ok {
		return nil, fmt.Errorf("pgstore: returns report: no dimension %q", q.By)
	}
	sql := reportFacts + fmt.Sprintf(reportRows, keys)
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
