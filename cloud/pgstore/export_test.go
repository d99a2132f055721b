package pgstore

import (
	"context"

	"github.com/jackc/pgx/v5"

	"github.com/comptoir/comptoir/cloud"
)

// FoldPending folds every report step pending, as a report does first.
func (s *Store) FoldPending(ctx context.Context) error { return s.foldAll(ctx) }

// AllFacts returns the facts of every return, as a fold reads them, once
// every step pending is folded.
func (s *Store) AllFacts(ctx context.Context) (map[string]cloud.ReturnFacts, error) {
	out := map[string]cloud.ReturnFacts{}
	if err := s.foldAll(ctx); err != nil {
		return nil, err
	}
	err := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		rows, err := tx.Query(ctx, `SELECT tracking FROM report_facts`)
		if err != nil {
			return err
		}
		trs, err := pgx.CollectRows(rows, pgx.RowTo[string])
		if err != nil {
			return err
		}
		index := make(map[string]int, len(trs))
		for i, tr := range trs {
			index[tr] = i
		}
		facts, err := readFacts(ctx, tx, trs, index)
		for i, f := range facts {
			out[trs[i]] = *f
		}
		return err
	})
	return out, err
}

// QueueLegacy appends the steps of the outbox after the fold's cursor to
// report_pending, as instances of a version before 0019 queued them, and
// moves the cursor past them when skip (else both hold them); it returns
// how many.
func (s *Store) QueueLegacy(ctx context.Context, skip bool) (int, error) {
	var n int
	err := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		var from, to int64
		if err := tx.QueryRow(ctx, `SELECT c.seq, h.seq FROM report_cursor c, outbox_head h`).Scan(&from, &to); err != nil {
			return err
		}
		steps, err := outboxStepsBetween(ctx, tx, from, to)
		if err != nil {
			return err
		}
		for _, st := range steps {
			var instore *string
			if st.Instore != nil {
				d := string(st.Instore)
				instore = &d
			}
			if _, err := tx.Exec(ctx, `INSERT INTO report_pending (tracking, status, at, terminal, instore) VALUES ($1, $2, $3, $4, $5)`,
				st.Tracking, string(st.Status), st.At, st.Terminal, instore); err != nil {
				return err
			}
		}
		n = len(steps)
		if skip {
			_, err = tx.Exec(ctx, `UPDATE report_cursor SET seq = $1`, to)
		}
		return err
	})
	return n, err
}
