package pgstore

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/comptoir/comptoir/cloud"
	"github.com/comptoir/comptoir/edge"
)

// text makes s storable in a text column, which refuses NUL.
func text(s string) string { return strings.ReplaceAll(s, "\x00", "\uFFFD") }

// insertEvents inserts a batch in one statement; rows whose seq or id is
// stored already are skipped, as are seqs recorded as aliases. An event's
// status is the one it marks when it was checked and agreed with its
// parcel, else NULL (off the timeline: a conflict, or above a gap).
const insertEvents = `
INSERT INTO events (terminal, seq, id, type, tracking, status, occurred_at, received_at, op)
SELECT $1, u.seq, u.id, u.type, NULLIF(u.tracking, ''), u.status, u.occurred_at, $2, u.op::json
FROM unnest($3::bigint[], $4::text[], $5::text[], $6::text[], $7::timestamptz[], $8::text[], $9::text[])
     AS u(seq, id, type, tracking, occurred_at, op, status)
WHERE NOT EXISTS (SELECT 1 FROM alias_seqs a WHERE a.terminal = $1 AND a.seq = u.seq OFFSET 0)
ON CONFLICT DO NOTHING
RETURNING seq`

// insertNewEvents is insertEvents for rows known new: their seqs are above
// the watermark and not among the seqs stored above it (seqsAbove, read
// under the watermark's lock), and the batch names each id once. A plain
// insert: ON CONFLICT's speculative insertion (a lookup in both unique
// indexes, then a confirmation record in the WAL) and the alias lookup
// cost a third of the insert, for rows that are almost never stored. An
// id stored under another seq fails it with a unique violation; the group
// then runs again with insertEvents (errEventTaken).
const insertNewEvents = `
INSERT INTO events (terminal, seq, id, type, tracking, status, occurred_at, received_at, op)
SELECT $1, u.seq, u.id, u.type, NULLIF(u.tracking, ''), u.status, u.occurred_at, $2, u.op::json
FROM unnest($3::bigint[], $4::text[], $5::text[], $6::text[], $7::timestamptz[], $8::text[], $9::text[])
     AS u(seq, id, type, tracking, occurred_at, op, status)`

// errEventTaken: an event of a batch was stored meanwhile, or its id under
// another seq; the group runs again with the insert that skips them.
var errEventTaken = errors.New("pgstore: an event of the batch is stored already")

// insertAliases records seqs whose id is stored under another seq. It
// runs at every resend (the batch's events not inserted). OFFSET 0 keeps
// NOT EXISTS a lookup in the primary key for each seq (as insertEvents'
// in alias_seqs): as an anti-join, the generic plan made while the table
// was small read every event of the terminal into a hash.
const insertAliases = `
INSERT INTO alias_seqs (terminal, seq, id)
SELECT $1, u.seq, u.id FROM unnest($2::bigint[], $3::text[]) AS u(seq, id)
WHERE NOT EXISTS (SELECT 1 FROM events e WHERE e.terminal = $1 AND e.seq = u.seq OFFSET 0)
ON CONFLICT DO NOTHING`

// lockWatermark creates the terminal's watermark if need be, locks it
// until the transaction ends (so that instances storing batches of one
// terminal at once advance it one after the other) and returns it.
const lockWatermark = `
INSERT INTO watermarks (terminal, acked_seq) VALUES ($1, 0)
ON CONFLICT (terminal) DO UPDATE SET acked_seq = watermarks.acked_seq
RETURNING acked_seq`

// seqsAbove lists the stored seqs above the terminal's watermark: those
// of this batch and those waiting for a gap below them to fill; alias is
// true for a seq whose event was stored under another. It runs after
// lockWatermark, in the same pipeline (lockWatermarks) but as a statement
// of its own: its snapshot is taken once the lock is held, so that it
// sees what the transaction that held it before stored.
const seqsAbove = `
SELECT seq, false FROM events WHERE terminal = $1 AND seq > (SELECT acked_seq FROM watermarks WHERE terminal = $1)
UNION ALL
SELECT seq, true FROM alias_seqs WHERE terminal = $1 AND seq > (SELECT acked_seq FROM watermarks WHERE terminal = $1)
ORDER BY 1`

// StoreEvents implements cloud.Store: the batch's events are inserted and
// the terminal's watermark moved over the contiguous seqs, in the
// transaction of a group commit (commitLoop).
func (s *Store) StoreEvents(ctx context.Context, tid string, events []edge.Operation, receivedAt time.Time) (cloud.Ingested, error) {
	w, err := s.newWrite(tid, events, receivedAt)
	if err != nil {
		return cloud.Ingested{}, err
	}
	if err := s.group.Do(ctx, w); err != nil {
		return cloud.Ingested{}, fmt.Errorf("pgstore: store events: %w", err)
	}
	return w.res, nil
}

// newWrite checks a batch and returns it as a write of the group commit.
func (s *Store) newWrite(tid string, events []edge.Operation, receivedAt time.Time) (*pgWrite, error) {
	n := len(events)
	var (
		seqs                  = make([]int64, 0, n)
		ids, types, trackings = make([]string, 0, n), make([]string, 0, n), make([]string, 0, n)
		occurred              = make([]time.Time, 0, n)
		ops                   = make([]string, 0, n)
		rowOps                = make([]edge.Operation, 0, n)
		seenSeq               = make(map[uint64]bool, n)
		seenID                = make(map[string]bool, n)
	)
	for i, ev := range events {
		if err := cloud.CheckEvent(tid, i, ev); err != nil {
			return nil, err
		}
		if seenSeq[ev.Seq] {
			continue // counted a duplicate by the insert
		}
		seenSeq[ev.Seq] = true
		if seenID[ev.ID] {
			// The same id twice in a batch under two seqs: the second is
			// left to the alias step below.
			continue
		}
		seenID[ev.ID] = true
		b, err := json.Marshal(ev)
		if err != nil {
			return nil, edge.Errorf(edge.EINVALID, "Event %d: %v", i, err)
		}
		seqs = append(seqs, int64(ev.Seq))
		ids = append(ids, text(ev.ID))
		types = append(types, text(string(ev.Type)))
		trackings = append(trackings, text(ev.Tracking))
		occurred = append(occurred, ev.OccurredAt.UTC())
		ops = append(ops, string(b))
		rowOps = append(rowOps, ev)
	}
	return &pgWrite{tid: tid, events: events, received: receivedAt.UTC(), seqs: seqs, ids: ids, types: types,
		trackings: trackings, occurred: occurred, ops: ops, rowOps: rowOps}, nil
}

// pgWrite is one StoreEvents call waiting for the group commit, with its
// events as the columns of insertEvents.
type pgWrite struct {
	tid                        string
	events                     []edge.Operation
	received                   time.Time
	seqs                       []int64
	ids, types, trackings, ops []string
	occurred                   []time.Time
	rowOps                     []edge.Operation // the event of each row
	res                        cloud.Ingested
	out                        []outRow // the events that flow out, for publishGroup
}

// Group commit (cloud.GroupCommit): a transaction's cost is mostly its
// commit (a WAL flush), so the batches waiting at the same moment are
// stored in one transaction. A few committers run at once, so that the
// round trips of one group overlap another's flush.
const (
	committers     = 4
	maxGroupEvents = 4096
	groupTimeout   = time.Minute
)

// commit stores a group in one transaction. Every group takes its
// terminals' watermark locks in the same order, then its parcels' in
// theirs (storeGroup), so that two groups (of this instance or another)
// wait for one another rather than deadlock; a terminal's writes keep
// their order. A deadlock all the same (a resend racing its first send in
// another instance, a gap filled) runs the group again. After
// errEventTaken, the group runs again batch after batch (store), its
// events inserted with insertEvents.
func (s *Store) commit(group []*pgWrite) error {
	slices.SortStableFunc(group, func(a, b *pgWrite) int { return strings.Compare(a.tid, b.tid) })
	ctx, cancel := context.WithTimeout(context.Background(), groupTimeout)
	defer cancel()
	var err error
	careful := false
	for attempt := 0; attempt < 3; attempt++ {
		err = pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
			if !careful {
				return storeGroup(ctx, tx, group, s.insight)
			}
			for _, w := range group {
				if err := w.store(ctx, tx); err != nil {
					return err
				}
			}
			return publishGroup(ctx, tx, group, s.insight) // the events flow out (outbox.go)
		})
		careful = careful || errors.Is(err, errEventTaken)
		if sqlState(err) != "40P01" && !errors.Is(err, errParcelRace) && !errors.Is(err, errEventTaken) {
			break
		}
	}
	return err
}

// store runs the statements of one batch in tx, each in its round trip,
// after errEventTaken: lock the terminal's watermark, check the events it
// will pass against their parcels (apply), insert the events with the
// statuses that agree (insertEvents: those stored meanwhile skipped),
// record aliases, write the parcels and conflicts, move the watermark.
func (w *pgWrite) store(ctx context.Context, tx pgx.Tx) error {
	tid := w.tid
	wms, aboves, err := lockWatermarks(ctx, tx, []*pgWrite{w})
	if err != nil {
		return err
	}
	wm := wms[0]
	c := w.chain(wm, aboves[0])
	if err := c.readBack(ctx, tx, tid); err != nil {
		return err
	}
	if err := c.lock(ctx, tx); err != nil {
		return err
	}
	c.apply(w.received)
	rows, err := tx.Query(ctx, insertEvents, tid, w.received, w.seqs, w.ids, w.types, w.trackings, w.occurred, w.ops, c.rowStatuses())
	if err != nil {
		return err
	}
	inserted, err := pgx.CollectRows(rows, pgx.RowTo[int64])
	if err != nil {
		return err
	}
	stored := make(map[int64]bool, len(inserted))
	for _, q := range inserted {
		stored[q] = true
	}
	if c.dropAliases(stored) {
		// An event whose id was stored under another seq: it was checked
		// under that one, so the batch is checked again without it, and
		// the statuses just inserted are set anew (a terminal's bug: rare).
		c.apply(w.received)
		if err := c.setStatuses(ctx, tx, tid); err != nil {
			return err
		}
	}
	if err := w.recordAliases(ctx, tx, stored); err != nil {
		return err
	}
	if err := c.write(ctx, tx, tid, wm, w.received, eventRows{}); err != nil {
		return err
	}
	w.settle(c, len(inserted))
	return nil
}

// recordAliases records the batch's events not stored (their seq not in
// stored) as aliases: those whose seq is new (their id came under another
// seq), so that the watermark moves on and the terminal stops resending;
// the others are duplicates, which insertAliases skips.
func (w *pgWrite) recordAliases(ctx context.Context, tx pgx.Tx, stored map[int64]bool) error {
	var aliasSeqs []int64
	var aliasIDs []string
	for _, ev := range w.events {
		if q := int64(ev.Seq); !stored[q] {
			aliasSeqs = append(aliasSeqs, q)
			aliasIDs = append(aliasIDs, text(ev.ID))
		}
	}
	if len(aliasSeqs) == 0 {
		return nil
	}
	_, err := tx.Exec(ctx, insertAliases, w.tid, aliasSeqs, aliasIDs)
	return err
}

// settle records the batch's result once its chain is written: stored of
// its events inserted, the others duplicates.
func (w *pgWrite) settle(c *chain, stored int) {
	w.res = cloud.Ingested{Stored: stored, Duplicates: len(w.events) - stored, Conflicts: c.conflicts, AckedSeq: uint64(c.last)}
	w.out = c.out
}

// eventRows are the columns of insertNewEvents' rows.
type eventRows struct {
	seqs                       []int64
	ids, types, trackings, ops []string
	occurred                   []time.Time
	statuses                   []*string
}

// newRows returns the rows of the batch that are new (above the watermark
// wm and not stored above it), for insertNewEvents.
func (w *pgWrite) newRows(wm int64, above []seqAbove, statuses []*string) eventRows {
	stored := make(map[int64]bool, len(above))
	for _, a := range above {
		stored[a.Seq] = true
	}
	keep := make([]int, 0, len(w.seqs))
	for i, q := range w.seqs {
		if q > wm && !stored[q] {
			keep = append(keep, i)
		}
	}
	if len(keep) == 0 {
		return eventRows{}
	}
	r := eventRows{w.seqs, w.ids, w.types, w.trackings, w.ops, w.occurred, statuses}
	if len(keep) < len(w.seqs) { // a resend: the rows not stored yet
		r = eventRows{pick(r.seqs, keep), pick(r.ids, keep), pick(r.types, keep), pick(r.trackings, keep), pick(r.ops, keep),
			pick(r.occurred, keep), pick(r.statuses, keep)}
	}
	return r
}

// pick returns the elements of s at the indexes in keep.
func pick[T any](s []T, keep []int) []T {
	out := make([]T, len(keep))
	for j, i := range keep {
		out[j] = s[i]
	}
	return out
}

// isUnique reports whether err is a unique violation.
func isUnique(err error) bool { return sqlState(err) == "23505" }

// constraintOf returns the constraint a PostgreSQL error names, or "".
func constraintOf(err error) string {
	var pe *pgconn.PgError
	if errors.As(err, &pe) {
		return pe.ConstraintName
	}
	return ""
}

// sqlState returns the SQLSTATE of a PostgreSQL error, or "".
func sqlState(err error) string {
	var pe interface{ SQLState() string }
	if errors.As(err, &pe) {
		return pe.SQLState()
	}
	return ""
}
