package pgstore

import (
	"context"
	"fmt"
	"time"

	"github.com/comptoir/comptoir/cloud"
	"github.com/comptoir/comptoir/edge"
)

// StatementCounts implements cloud.Store: the terminal's events (through
// the primary key's terminal prefix) up to its watermark that occurred in
// the period, the steps that agreed with their parcels (a status) and the
// refusals.
func (s *Store) StatementCounts(ctx context.Context, tid string, from, to time.Time) (cloud.StatementCounts, error) {
	var out cloud.StatementCounts
	rows, err := s.pool.Query(ctx, `
		SELECT type, count(*) FROM events
		WHERE terminal = $1 AND occurred_at >= $2 AND occurred_at < $3
		  AND seq <= coalesce((SELECT acked_seq FROM watermarks WHERE terminal = $1), 0)
		  AND (status IS NOT NULL OR type = $4)
		GROUP BY type`, tid, from.UTC(), to.UTC(), string(edge.OpReturnRefused))
	if err != nil {
		return out, fmt.Errorf("pgstore: statement counts: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var typ string
		var n int64
		if err := rows.Scan(&typ, &n); err != nil {
			return out, fmt.Errorf("pgstore: statement counts: %w", err)
		}
		out.Count(edge.OpType(typ), n)
	}
	if err := rows.Err(); err != nil {
		return out, fmt.Errorf("pgstore: statement counts: %w", err)
	}
	return out, nil
}
