package pgstore

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/comptoir/comptoir/cloud"
)

// stuckStatuses are the parcels' statuses of each stage.
var stuckStatuses = map[cloud.Stage][]string{
	cloud.StageAwaitingHandover: {string(cloud.StatusDeposited), string(cloud.StatusReceivedInStore)},
	cloud.StageAwaitingCarrier:  {string(cloud.StatusHandedOver)},
}

// StuckParcels implements cloud.Store through the partial indexes of
// parcels by (status, since) and (merchant, status, since) of 0006_stuck.sql.
func (s *Store) StuckParcels(ctx context.Context, scope cloud.Scope, q cloud.StuckQuery) ([]cloud.StuckParcel, error) {
	rows, err := s.pool.Query(ctx, `
		SELECT tracking, since, terminal FROM parcels
		WHERE status = ANY($1) AND since < $2 AND ($3 = '' OR merchant = $3)
		ORDER BY since, tracking COLLATE "C" LIMIT $4`,
		stuckStatuses[q.Stage], q.Before.UTC(), scopeMerchant(scope), q.Limit)
	if err != nil {
		return nil, fmt.Errorf("pgstore: stuck parcels: %w", err)
	}
	out, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (cloud.StuckParcel, error) {
		p := cloud.StuckParcel{Stage: q.Stage}
		err := row.Scan(&p.Tracking, &p.Since, &p.Terminal)
		p.Since = p.Since.UTC()
		return p, err
	})
	if err != nil {
		return nil, fmt.Errorf("pgstore: stuck parcels: %w", err)
	}
	if out == nil {
		out = []cloud.StuckParcel{}
	}
	return out, nil
}

// CountStuck implements cloud.Store.
func (s *Store) CountStuck(ctx context.Context, stage cloud.Stage, before time.Time) (int, error) {
	var n int
	err := s.pool.QueryRow(ctx, `SELECT count(*) FROM parcels WHERE status = ANY($1) AND since < $2`,
		stuckStatuses[stage], before.UTC()).Scan(&n)
	if err != nil {
		return 0, fmt.Errorf("pgstore: count stuck: %w", err)
	}
	return n, nil
}
