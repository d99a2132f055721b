package pgstore

import (
	"context"
	"fmt"
	"time"

	"github.com/comptoir/comptoir/cloud"
)

// RefusalCounts implements cloud.Store: the network's return.refused
// events (through the partial index events_refusals; the type is written
// out so that the prepared statement's generic plan can use it) up to
// each terminal's watermark, counted by terminal and reason.
func (s *Store) RefusalCounts(ctx context.Context, from, to time.Time) ([]cloud.RefusalRow, error) {
	rows, err := s.pool.Query(ctx, `
		SELECT e.terminal, coalesce(e.op->'data'->>'reason', ''), count(*)
		FROM events e JOIN watermarks w ON w.terminal = e.terminal
		WHERE e.type = 'return.refused' AND e.occurred_at >= $1 AND e.occurred_at < $2
		  AND e.seq <= w.acked_seq
		GROUP BY 1, 2`, from.UTC(), to.UTC())
	if err != nil {
		return nil, fmt.Errorf("pgstore: refusal counts: %w", err)
	}
	defer rows.Close()
	out := []cloud.RefusalRow{}
	for rows.Next() {
		var r cloud.RefusalRow
		if err := rows.Scan(&r.RelayPoint, &r.Reason, &r.Refusals); err != nil {
			return nil, fmt.Errorf("pgstore: refusal counts: %w", err)
		}
		out = append(out, r)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("pgstore: refusal counts: %w", err)
	}
	cloud.SortRefusals(out)
	return out, nil
}
