package pgstore

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/comptoir/comptoir/cloud"
	"github.com/comptoir/comptoir/edge"
)

// A dead letter's ID is "{at in Unix microseconds}.{n}": the listing's
// order, (at, n), so that a page starts after its cursor on the index.

func deadLetterID(at time.Time, n int64) string {
	return strconv.FormatInt(at.UnixMicro(), 10) + "." + strconv.FormatInt(n, 10)
}

func parseDeadLetterID(id string) (time.Time, int64, bool) {
	a, b, ok := strings.Cut(id, ".")
	us, err1 := strconv.ParseInt(a, 10, 64)
	n, err2 := strconv.ParseInt(b, 10, 64)
	if !ok || err1 != nil || err2 != nil {
		return time.Time{}, 0, false
	}
	return time.UnixMicro(us).UTC(), n, true
}

// AddDeadLetter implements cloud.Store.
func (s *Store) AddDeadLetter(ctx context.Context, d cloud.DeadLetter) error {
	if d.At.IsZero() {
		d.At = time.Now()
	}
	_, err := s.pool.Exec(ctx, `
		INSERT INTO dead_letters (terminal, topic, reason, message, payload, at, size, sha256, truncated)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)`,
		text(d.Terminal), text(d.Topic), text(d.Reason), text(d.Message), d.Payload, d.At.UTC(),
		d.Size, d.SHA256, d.Truncated)
	if err != nil {
		return fmt.Errorf("pgstore: add dead letter: %w", err)
	}
	return nil
}

// DeadLetters implements cloud.Store.
func (s *Store) DeadLetters(ctx context.Context, after string, limit int) ([]cloud.DeadLetter, string, error) {
	const query = `SELECT n, terminal, topic, reason, message, payload, at, size, sha256, truncated FROM dead_letters `
	var rows pgx.Rows
	var err error
	if after == "" {
		rows, err = s.pool.Query(ctx, query+`ORDER BY at, n LIMIT $1`, limit+1)
	} else if at, n, ok := parseDeadLetterID(after); ok {
		rows, err = s.pool.Query(ctx, query+`WHERE (at, n) > ($1, $2) ORDER BY at, n LIMIT $3`, at, n, limit+1)
	} else {
		return nil, "", edge.Errorf(edge.EINVALID, "The cursor %q is not one this listing gave.", after)
	}
	if err != nil {
		return nil, "", fmt.Errorf("pgstore: dead letters: %w", err)
	}
	defer rows.Close()
	out := []cloud.DeadLetter{}
	for rows.Next() {
		var d cloud.DeadLetter
		var n int64
		if err := rows.Scan(&n, &d.Terminal, &d.Topic, &d.Reason, &d.Message, &d.Payload, &d.At, &d.Size, &d.SHA256, &d.Truncated); err != nil {
			return nil, "", fmt.Errorf("pgstore: dead letters: %w", err)
		}
		d.At = d.At.UTC()
		d.ID = deadLetterID(d.At, n)
		out = append(out, d)
	}
	if err := rows.Err(); err != nil {
		return nil, "", fmt.Errorf("pgstore: dead letters: %w", err)
	}
	page, next := cloud.DeadLetterPage(out, limit)
	return page, next, nil
}

// PruneDeadLetters implements cloud.Store.
func (s *Store) PruneDeadLetters(ctx context.Context, terminal string, keep int, before time.Time) (int, error) {
	old, err := s.pool.Exec(ctx, `DELETE FROM dead_letters WHERE at < $1`, before.UTC())
	if err != nil {
		return 0, fmt.Errorf("pgstore: prune dead letters: %w", err)
	}
	over, err := s.pool.Exec(ctx, `
		DELETE FROM dead_letters WHERE terminal = $1 AND n IN (
			SELECT n FROM dead_letters WHERE terminal = $1 ORDER BY at DESC, n DESC OFFSET $2)`,
		text(terminal), keep)
	if err != nil {
		return int(old.RowsAffected()), fmt.Errorf("pgstore: prune dead letters: %w", err)
	}
	return int(old.RowsAffected() + over.RowsAffected()), nil
}
