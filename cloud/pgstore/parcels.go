package pgstore

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/comptoir/comptoir/cloud"
	"github.com/comptoir/comptoir/edge"
)

// seqAbove is a row of seqsAbove.
type seqAbove struct {
	Seq   int64
	Alias bool
}

// Parcels: a row whose status is ” is a placeholder that a deposit made
// so as to lock the tracking number while it was checked; it is no parcel,
// and readers and CreateReturn treat it as none.
const (
	insertPlaceholders = `
INSERT INTO parcels (tracking, created_at, status)
SELECT t, now(), '' FROM (SELECT DISTINCT unnest($1::text[]) AS t ORDER BY 1) x
ON CONFLICT DO NOTHING`
	lockParcels = `
SELECT tracking, merchant, ra_id, created_at, status, holder FROM parcels
WHERE tracking = ANY($1) ORDER BY tracking FOR UPDATE`
	upsertParcels = `
INSERT INTO parcels (tracking, merchant, ra_id, created_at, status, holder)
SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::timestamptz[], $5::text[], $6::text[])
ON CONFLICT (tracking) DO UPDATE SET status = excluded.status, holder = excluded.holder`
	setStatuses = `
UPDATE events SET status = u.status
FROM unnest($2::bigint[], $3::text[]) AS u(seq, status)
WHERE events.terminal = $1 AND events.seq = u.seq`
	insertConflicts = `
INSERT INTO conflicts (event_id, terminal, seq, type, tracking, reason, occurred_at, received_at, parcel)
SELECT * FROM unnest($1::text[], $2::text[], $3::bigint[], $4::text[], $5::text[], $6::text[], $7::timestamptz[], $8::timestamptz[], $9::json[])
ON CONFLICT DO NOTHING`
)

// passedEvent is an event the watermark passed, to check against its
// parcel.
type passedEvent struct {
	op       edge.Operation
	received time.Time
}

// apply checks the events the watermark passed, in seq order, against
// their parcels (cloud.ApplyTerminalEvent): those that agree get their
// status (so go on the timeline) and move their parcel; the others are
// kept as conflicts. stored holds the seqs this batch inserted; the others
// passed are read back.
func (w *pgWrite) apply(ctx context.Context, tx pgx.Tx, passed []seqAbove, stored map[int64]bool) error {
	if len(passed) == 0 {
		return nil
	}
	mine := make(map[int64]edge.Operation, len(w.events))
	for _, ev := range w.events {
		if stored[int64(ev.Seq)] {
			mine[int64(ev.Seq)] = ev
		}
	}
	evs := make([]passedEvent, 0, len(passed))
	var missing []int64
	for _, q := range passed {
		if q.Alias {
			continue
		}
		if op, ok := mine[q.Seq]; ok {
			evs = append(evs, passedEvent{op, w.received})
		} else {
			missing = append(missing, q.Seq)
			evs = append(evs, passedEvent{op: edge.Operation{Seq: uint64(q.Seq)}})
		}
	}
	if len(missing) > 0 {
		if err := readBack(ctx, tx, w.tid, missing, evs); err != nil {
			return err
		}
	}
	var news, all []string // trackings that deposits may create, and all checked
	for _, e := range evs {
		if _, marks := cloud.StatusOf(e.op.Type); marks && cloud.KnownOpType(e.op.Type) && cloud.ValidTracking(e.op.Tracking) {
			all = append(all, text(e.op.Tracking))
			if e.op.Type == edge.OpReturnDeposited || e.op.Type == edge.OpInstoreReceived {
				news = append(news, text(e.op.Tracking))
			}
		}
	}
	parcels := map[string]cloud.Parcel{}
	if len(all) > 0 {
		if len(news) > 0 {
			if _, err := tx.Exec(ctx, insertPlaceholders, news); err != nil {
				return err
			}
		}
		rows, err := tx.Query(ctx, lockParcels, all)
		if err != nil {
			return err
		}
		ps, err := pgx.CollectRows(rows, scanParcel)
		if err != nil {
			return err
		}
		for _, p := range ps {
			if p.Status != "" {
				parcels[p.Tracking] = p
			}
		}
	}
	var (
		seqs     []int64
		statuses []string
		changed  = map[string]cloud.Parcel{}
	)
	for _, e := range evs {
		p, found := parcels[e.op.Tracking]
		if _, marks := cloud.StatusOf(e.op.Type); !marks && cloud.KnownOpType(e.op.Type) {
			continue
		}
		next, ch, reason := cloud.ApplyTerminalEvent(p, found, e.op)
		if reason != "" {
			w.res.Conflicts = append(w.res.Conflicts, cloud.NewConflict(e.op, e.received, reason, p, found))
			continue
		}
		if ch {
			parcels[e.op.Tracking], changed[e.op.Tracking] = next, next
		}
		if s, ok := cloud.StatusOf(e.op.Type); ok {
			seqs, statuses = append(seqs, int64(e.op.Seq)), append(statuses, string(s))
		}
	}
	if len(seqs) > 0 {
		if _, err := tx.Exec(ctx, setStatuses, w.tid, seqs, statuses); err != nil {
			return err
		}
	}
	if len(changed) > 0 {
		if err := upsert(ctx, tx, changed); err != nil {
			return err
		}
	}
	if len(w.res.Conflicts) > 0 {
		return insertConflictRows(ctx, tx, w.res.Conflicts)
	}
	return nil
}

// readBack fills in the events of seqs (stored by earlier batches) in evs.
func readBack(ctx context.Context, tx pgx.Tx, tid string, seqs []int64, evs []passedEvent) error {
	rows, err := tx.Query(ctx, `SELECT seq, op::text, received_at FROM events WHERE terminal = $1 AND seq = ANY($2)`, tid, seqs)
	if err != nil {
		return err
	}
	defer rows.Close()
	at := make(map[int64]int, len(evs))
	for i, e := range evs {
		at[int64(e.op.Seq)] = i
	}
	for rows.Next() {
		var seq int64
		var op string
		var received time.Time
		if err := rows.Scan(&seq, &op, &received); err != nil {
			return err
		}
		i := at[seq]
		if err := json.Unmarshal([]byte(op), &evs[i].op); err != nil {
			return fmt.Errorf("event %s/%d: %w", tid, seq, err)
		}
		evs[i].received = received.UTC()
	}
	return rows.Err()
}

func upsert(ctx context.Context, tx pgx.Tx, ps map[string]cloud.Parcel) error {
	var tr, me, ra, st, ho []string
	var cr []time.Time
	for _, p := range ps {
		tr, me, ra = append(tr, text(p.Tracking)), append(me, p.Merchant), append(ra, text(p.RAID))
		cr, st, ho = append(cr, p.CreatedAt.UTC()), append(st, string(p.Status)), append(ho, p.Holder)
	}
	_, err := tx.Exec(ctx, upsertParcels, tr, me, ra, cr, st, ho)
	return err
}

func insertConflictRows(ctx context.Context, tx pgx.Tx, cs []cloud.Conflict) error {
	n := len(cs)
	ids, tids, types, trs, reasons, parcels := make([]string, n), make([]string, n), make([]string, n), make([]string, n), make([]string, n), make([]*string, n)
	seqs, occ, rec := make([]int64, n), make([]time.Time, n), make([]time.Time, n)
	for i, c := range cs {
		ids[i], tids[i], types[i], trs[i], reasons[i] = text(c.EventID), c.Terminal, text(string(c.Type)), text(c.Tracking), c.Reason
		seqs[i], occ[i], rec[i] = int64(c.Seq), c.OccurredAt, c.ReceivedAt
		if c.Parcel != nil {
			b, _ := json.Marshal(c.Parcel)
			s := string(b)
			parcels[i] = &s
		}
	}
	_, err := tx.Exec(ctx, insertConflicts, ids, tids, seqs, types, trs, reasons, occ, rec, parcels)
	return err
}

func scanParcel(row pgx.CollectableRow) (cloud.Parcel, error) {
	var p cloud.Parcel
	var status string
	err := row.Scan(&p.Tracking, &p.Merchant, &p.RAID, &p.CreatedAt, &status, &p.Holder)
	p.Status, p.CreatedAt = cloud.Status(status), p.CreatedAt.UTC()
	return p, err
}

// scopeMerchant is the merchant condition's parameter: ” matches every
// merchant (the network's scope).
func scopeMerchant(scope cloud.Scope) string { return scope.Merchant }

// FindParcel implements cloud.Store.
func (s *Store) FindParcel(ctx context.Context, scope cloud.Scope, tracking string) (cloud.Parcel, error) {
	rows, err := s.pool.Query(ctx, `
		SELECT tracking, merchant, ra_id, created_at, status, holder FROM parcels
		WHERE tracking = $1 AND status <> '' AND ($2 = '' OR merchant = $2)`, text(tracking), scopeMerchant(scope))
	if err != nil {
		return cloud.Parcel{}, fmt.Errorf("pgstore: find parcel: %w", err)
	}
	p, err := pgx.CollectExactlyOneRow(rows, scanParcel)
	if errors.Is(err, pgx.ErrNoRows) {
		return cloud.Parcel{}, cloud.ErrNotFound("parcel", tracking)
	} else if err != nil {
		return cloud.Parcel{}, fmt.Errorf("pgstore: find parcel: %w", err)
	}
	return p, nil
}

// Timeline implements cloud.Store: the terminals' events that mark a
// status and the API's entries, by occurred_at, received_at then event id.
// In a merchant's scope, the parcel's merchant is checked in the same
// query: no row of another merchant's parcel is read.
func (s *Store) Timeline(ctx context.Context, scope cloud.Scope, tracking string) ([]cloud.TimelineEntry, error) {
	out := []cloud.TimelineEntry{}
	if !cloud.ValidTracking(tracking) {
		if scope.All() {
			return out, nil
		}
		return nil, cloud.ErrNotFound("parcel", tracking)
	}
	rows, err := s.pool.Query(ctx, `
		WITH mine AS (SELECT $2 = '' OR EXISTS (
			SELECT 1 FROM parcels WHERE tracking = $1 AND merchant = $2 AND status <> '') AS ok)
		SELECT status, occurred_at, received_at, terminal, 'terminal:' || terminal, id
		FROM events, mine WHERE mine.ok AND tracking = $1 AND status IS NOT NULL
		UNION ALL
		SELECT status, occurred_at, received_at, location, source, event_id
		FROM timeline_entries, mine WHERE mine.ok AND tracking = $1
		ORDER BY 2, 3, 6`, tracking, scopeMerchant(scope))
	if err != nil {
		return nil, fmt.Errorf("pgstore: timeline: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var e cloud.TimelineEntry
		var status string
		if err := rows.Scan(&status, &e.OccurredAt, &e.ReceivedAt, &e.Location, &e.Source, &e.EventID); err != nil {
			return nil, fmt.Errorf("pgstore: timeline: %w", err)
		}
		e.Status = cloud.Status(status)
		e.OccurredAt, e.ReceivedAt = e.OccurredAt.UTC(), e.ReceivedAt.UTC()
		out = append(out, e)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("pgstore: timeline: %w", err)
	}
	// A merchant's parcel always has its "created" entry: none means the
	// parcel is not the merchant's.
	if len(out) == 0 && !scope.All() {
		return nil, cloud.ErrNotFound("parcel", tracking)
	}
	return out, nil
}

func checkEntry(tracking string, e cloud.TimelineEntry) error {
	if !cloud.ValidTracking(tracking) || e.EventID == "" || !e.Status.Valid() {
		return edge.Errorf(edge.EINVALID, "A timeline entry needs a tracking number, an event id and a known status.")
	}
	return nil
}

const insertEntry = `
INSERT INTO timeline_entries (event_id, tracking, status, occurred_at, received_at, location, source)
VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT DO NOTHING`

func entryArgs(tracking string, e cloud.TimelineEntry) []any {
	return []any{text(e.EventID), tracking, string(e.Status), e.OccurredAt.UTC(), e.ReceivedAt.UTC(), text(e.Location), text(e.Source)}
}

// AddTimelineEntry implements cloud.Store.
func (s *Store) AddTimelineEntry(ctx context.Context, tracking string, e cloud.TimelineEntry) (bool, error) {
	if err := checkEntry(tracking, e); err != nil {
		return false, err
	}
	tag, err := s.pool.Exec(ctx, insertEntry, entryArgs(tracking, e)...)
	if err != nil {
		return false, fmt.Errorf("pgstore: add timeline entry: %w", err)
	}
	return tag.RowsAffected() == 1, nil
}

// AddPartnerEntry implements cloud.Store: the parcel is locked (FOR
// UPDATE) while it is checked, so that two partner events of one parcel
// are checked one after the other.
func (s *Store) AddPartnerEntry(ctx context.Context, scope cloud.Scope, tracking string, e cloud.TimelineEntry, check func(cloud.Parcel) (cloud.Parcel, error)) (bool, error) {
	if err := checkEntry(tracking, e); err != nil {
		return false, err
	}
	added := false
	err := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		rows, err := tx.Query(ctx, `
			SELECT tracking, merchant, ra_id, created_at, status, holder FROM parcels
			WHERE tracking = $1 AND status <> '' AND ($2 = '' OR merchant = $2) FOR UPDATE`, tracking, scopeMerchant(scope))
		if err != nil {
			return err
		}
		p, err := pgx.CollectExactlyOneRow(rows, scanParcel)
		if errors.Is(err, pgx.ErrNoRows) {
			return cloud.ErrNotFound("parcel", tracking)
		} else if err != nil {
			return err
		}
		var dup bool
		if err := tx.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM timeline_entries WHERE event_id = $1)`, text(e.EventID)).Scan(&dup); err != nil || dup {
			return err
		}
		next, err := check(p)
		if err != nil {
			return err
		}
		tag, err := tx.Exec(ctx, insertEntry, entryArgs(tracking, e)...)
		if err != nil {
			return err
		}
		added = tag.RowsAffected() == 1
		return upsert(ctx, tx, map[string]cloud.Parcel{tracking: next})
	})
	if err != nil {
		if _, coded := err.(*edge.Error); coded {
			return false, err
		}
		return false, fmt.Errorf("pgstore: add partner entry: %w", err)
	}
	return added, nil
}

// Conflicts implements cloud.Store; the cursor is the row number of the
// last conflict.
func (s *Store) Conflicts(ctx context.Context, after string, limit int) ([]cloud.Conflict, string, error) {
	var from int64
	if after != "" {
		n, err := strconv.ParseInt(after, 10, 64)
		if err != nil || n < 0 {
			return nil, "", edge.Errorf(edge.EINVALID, "The cursor %q is not one this API gave.", after)
		}
		from = n
	}
	rows, err := s.pool.Query(ctx, `
		SELECT n, event_id, terminal, seq, type, tracking, reason, occurred_at, received_at, parcel::text
		FROM conflicts WHERE n > $1 ORDER BY n LIMIT $2`, from, limit)
	if err != nil {
		return nil, "", fmt.Errorf("pgstore: conflicts: %w", err)
	}
	defer rows.Close()
	out, next := []cloud.Conflict{}, after
	for rows.Next() {
		var c cloud.Conflict
		var n, seq int64
		var typ string
		var parcel *string
		if err := rows.Scan(&n, &c.EventID, &c.Terminal, &seq, &typ, &c.Tracking, &c.Reason, &c.OccurredAt, &c.ReceivedAt, &parcel); err != nil {
			return nil, "", fmt.Errorf("pgstore: conflicts: %w", err)
		}
		c.Seq, c.Type = uint64(seq), edge.OpType(typ)
		c.OccurredAt, c.ReceivedAt = c.OccurredAt.UTC(), c.ReceivedAt.UTC()
		if parcel != nil {
			c.Parcel = &cloud.ParcelSummary{}
			_ = json.Unmarshal([]byte(*parcel), c.Parcel)
		}
		out = append(out, c)
		next = strconv.FormatInt(n, 10)
	}
	if err := rows.Err(); err != nil {
		return nil, "", fmt.Errorf("pgstore: conflicts: %w", err)
	}
	return out, next, nil
}
