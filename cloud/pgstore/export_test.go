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
