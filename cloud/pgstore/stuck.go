package pgstore

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/comptoir/comptoir/cloud"
)

// stuckStatuses are the conditions on the parcels' status of each stage,
// written out rather than passed as an array: the planner then sees that
// they imply the partial indexes' predicate (a prepared statement's generic
// plan does not know an array's values).
var stuckStatuses = map[cloud.Stage]string{
	cloud.StageAwaitingHandover: `status IN ('deposited', 'received_in_store')`,
	cloud.StageAwaitingCarrier:  `status = 'handed_over'`,
}

// StuckParcels implements cloud.Store through the partial indexes of
// parcels: the network's by stage and (since, tracking), read in the
// list's order (0010_insight_reads.sql), a merchant's by (merchant,
// status, since) (0007_lean_ingest.sql).
func (s *Store) StuckParcels(ctx context.Context, scope cloud.Scope, q cloud.StuckQuery) ([]cloud.StuckParcel, error) {
	cond, ok := stuckStatuses[q.Stage]
	if !ok {
		return nil, fmt.Errorf("pgstore: stuck parcels: no stage %q", q.Stage)
	}
	// merchant <> '' written out: it implies the predicate of the partial
	// index parcels_merchant_waiting (0007_lean_ingest.sql).
	merchant, settings := `merchant = $2 AND merchant <> ''`, ""
	if scope.All() {
		merchant, settings = `$2 = ''`, stuckSettings
	}
	sql := `SELECT tracking, since, terminal FROM parcels
		WHERE ` + cond + ` AND since < $1 AND ` + merchant + `
		ORDER BY since, tracking COLLATE "C" LIMIT $3`
	var out []cloud.StuckParcel
	err := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		if settings != "" {
			if _, err := tx.Exec(ctx, settings); err != nil {
				return err
			}
		}
		rows, err := tx.Query(ctx, sql, q.Before.UTC(), scopeMerchant(scope), q.Limit)
		if err != nil {
			return err
		}
		out, err = pgx.CollectRows(rows, func(row pgx.CollectableRow) (cloud.StuckParcel, error) {
			p := cloud.StuckParcel{Stage: q.Stage}
			err := row.Scan(&p.Tracking, &p.Since, &p.Terminal)
			p.Since = p.Since.UTC()
			return p, err
		})
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("pgstore: stuck parcels: %w", err)
	}
	if out == nil {
		out = []cloud.StuckParcel{}
	}
	return out, nil
}

// stuckSettings are the settings of the network's stuck list: no bitmap
// scan, so that the plan reads the stage's index in the list's order up
// to its limit (about 1 ms) whatever the statistics of parcels say.
// Without them (a table just loaded and not analyzed yet: autovacuum off,
// or not come by) the planner guessed a few hundred waiting parcels of
// tens of thousands, and the custom plans of each connection's first five
// executions of the prepared statement read all of them through a bitmap
// and sorted them (100 ms and more), the outliers of BenchmarkInsight.
const stuckSettings = `SET LOCAL enable_bitmapscan = off`

// CountStuck implements cloud.Store.
func (s *Store) CountStuck(ctx context.Context, stage cloud.Stage, before time.Time) (int, error) {
	var n int
	cond, ok := stuckStatuses[stage]
	if !ok {
		return 0, fmt.Errorf("pgstore: count stuck: no stage %q", stage)
	}
	err := s.pool.QueryRow(ctx, `SELECT count(*) FROM parcels WHERE `+cond+` AND since < $1`, before.UTC()).Scan(&n)
	if err != nil {
		return 0, fmt.Errorf("pgstore: count stuck: %w", err)
	}
	return n, nil
}
