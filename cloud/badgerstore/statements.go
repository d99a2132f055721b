package badgerstore

import (
	"context"
	"fmt"
	"time"

	"github.com/dgraph-io/badger/v4"

	"github.com/comptoir/comptoir/cloud"
	"github.com/comptoir/comptoir/edge"
)

// Relay points' statements (issue 15) are answered from counters of each
// terminal and month (UTC) of occurrence, kept by the commit loop as the
// watermark passes each event; a group's changes go in its record (i/,
// insightlog.go), added to these keys when the records are folded:
//
//	b/{tid}\x00{YYYY-MM}   -> cloud.StatementCounts JSON

func statementKey(tid string, at time.Time) []byte {
	return []byte("b/" + tid + "\x00" + at.UTC().Format("2006-01"))
}

// statement counts op, which the watermark just passed; agreed is false
// for a conflict, which no statement counts.
func (in *insight) statement(op edge.Operation, agreed bool) {
	var c cloud.StatementCounts
	if !agreed || !c.Count(op.Type, 1) {
		return
	}
	if op.Type == edge.OpReturnRefused {
		in.refusal(op)
	}
	in.addStatement(string(statementKey(op.Terminal, op.OccurredAt)), c)
}

// StatementCounts implements cloud.Store: the counters of the months from
// from to to.
func (s *Store) StatementCounts(ctx context.Context, tid string, from, to time.Time) (cloud.StatementCounts, error) {
	var out cloud.StatementCounts
	if err := s.fold(ctx); err != nil { // the records waiting count too
		return out, err
	}
	err := s.db.View(func(txn *badger.Txn) error {
		for m := from.UTC(); m.Before(to); m = m.AddDate(0, 1, 0) {
			var c cloud.StatementCounts
			if _, err := getJSON(txn, statementKey(tid, m), &c); err != nil {
				return err
			}
			out.Add(c)
		}
		return nil
	})
	if err != nil {
		return out, fmt.Errorf("badgerstore: statement counts: %w", err)
	}
	return out, nil
}
