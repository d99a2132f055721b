package pgstore

import (
	"context"
	"encoding/json"
	"fmt"
	"math"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgtype"

	"github.com/comptoir/comptoir/cloud"
	"github.com/comptoir/comptoir/edge"
)

// outRow is an entry of the outbox (migrations/0013_outbox_batches.sql):
// the event of a terminal's event (terminal and evSeq, entryID NULL) or
// of an API entry (entryID, the others NULL), with the status it marks
// and when (the returns insight's step, 0019_insight_from_outbox.sql).
// Values, not pointers: a batch makes one a event, and pgtype's Valid
// says NULL without an allocation each.
type outRow struct {
	merchant, tracking string
	terminal           pgtype.Text
	evSeq              pgtype.Int8
	entryID            pgtype.Text
	status             cloud.Status
	at                 time.Time
}

// terminalOut returns the row of event op, seq of its terminal, marking
// status s on the timeline of parcel p.
func terminalOut(p cloud.Parcel, op edge.Operation, seq int64, s cloud.Status) outRow {
	return outRow{merchant: p.Merchant, tracking: text(p.Tracking),
		terminal: pgtype.Text{String: op.Terminal, Valid: true}, evSeq: pgtype.Int8{Int64: seq, Valid: true}, status: s, at: op.OccurredAt}
}

// entryOut returns the row of API entry e of parcel p.
func entryOut(p cloud.Parcel, e cloud.TimelineEntry) outRow {
	return outRow{merchant: p.Merchant, tracking: text(p.Tracking), entryID: pgtype.Text{String: text(e.EventID), Valid: true},
		status: e.Status, at: e.OccurredAt}
}

// outboxChunk is the most entries an outbox row holds: a feed's page
// expands a few rows, not thousands of entries.
const outboxChunk = 256

// insertOutbox inserts the rows of a transaction's entries, numbered after
// the last seq given, which it moves on (outbox_head, migrations/
// 0011_outbox_numbered.sql). $2 to $5 are the entries' columns, in the
// order of their seqs; row i holds the entries lo..hi ($6[i], $7[i],
// 1-based) of merchant $1[i] (migrations/0013_outbox_batches.sql), and
// a merchant's row their statuses and times $8 and $9, unless those are
// empty (a store without the returns insight; carriers' parcels have
// none: 0019_insight_from_outbox.sql). It is
// the last statement of the transactions that publish: from it to the
// commit they hold outbox_head, so that they commit in the order of their
// seqs and a reader's cursor never passes a seq still to come. Events of
// one parcel keep their order: their transactions lock the parcel (or
// its terminal's watermark), so the later one takes its seqs after the
// earlier one committed.
const insertOutbox = `
WITH head AS (
    UPDATE outbox_head SET seq = seq + cardinality($2::text[])
    RETURNING seq - cardinality($2::text[]) AS base)
INSERT INTO outbox (last, n, merchant, trackings, terminals, ev_seqs, entry_ids, statuses, ats)
SELECT head.base + r.hi, r.hi - r.lo + 1, r.merchant,
       ($2::text[])[r.lo:r.hi], ($3::text[])[r.lo:r.hi], ($4::bigint[])[r.lo:r.hi], ($5::text[])[r.lo:r.hi],
       CASE WHEN r.merchant <> '' AND cardinality($8::text[]) > 0 THEN ($8::text[])[r.lo:r.hi] END,
       CASE WHEN r.merchant <> '' AND cardinality($8::text[]) > 0 THEN ($9::timestamptz[])[r.lo:r.hi] END
FROM head, unnest($1::text[], $6::int[], $7::int[]) AS r(merchant, lo, hi)`

// publish inserts rows into the outbox in tx, as its last statement
// (insertOutbox), in their order: a row per run of entries of one
// merchant, cut every outboxChunk entries (an ingest of carriers'
// parcels, most of the deposits, makes a row per 256 events), with their
// steps when insight.
func publish(ctx context.Context, tx pgx.Tx, rows []outRow, insight bool) error {
	p := outboxParams(rows, insight)
	if p == nil {
		return nil
	}
	defer p.release()
	return p.execGeneric(ctx, tx, insertOutbox)
}

// outboxParams returns insertOutbox's parameters for rows, with their
// steps when insight, or nil when there are none. The caller releases
// them.
func outboxParams(rows []outRow, insight bool) *params {
	if len(rows) == 0 {
		return nil
	}
	n := len(rows)
	trackings, terminals := make([]string, n), make([]pgtype.Text, n)
	evSeqs, entries := make([]pgtype.Int8, n), make([]pgtype.Text, n)
	var merchants, statuses []string
	var ats []time.Time
	if insight {
		statuses, ats = make([]string, n), make([]time.Time, n)
	}
	var los, his []int32
	start := 0
	for i, r := range rows {
		trackings[i], terminals[i], evSeqs[i], entries[i] = r.tracking, r.terminal, r.evSeq, r.entryID
		if insight {
			statuses[i], ats[i] = string(r.status), r.at.UTC()
		}
		if i+1 == n || rows[i+1].merchant != r.merchant || i+1-start == outboxChunk {
			merchants, los, his = append(merchants, r.merchant), append(los, int32(start+1)), append(his, int32(i+1))
			start = i + 1
		}
	}
	p := newParams()
	p.texts(merchants)
	p.texts(trackings)
	p.pgTexts(terminals)
	p.pgInt8s(evSeqs)
	p.pgTexts(entries)
	p.int4s(los)
	p.int4s(his)
	p.texts(statuses)
	p.times(ats)
	return p
}

// publishGroup inserts the outbox rows of a group of batches.
func publishGroup(ctx context.Context, tx pgx.Tx, group []*pgWrite, insight bool) error {
	return publish(ctx, tx, groupOut(group), insight)
}

// groupOut returns the outbox rows of a group of batches.
func groupOut(group []*pgWrite) []outRow {
	n := 0
	for _, w := range group {
		n += len(w.out)
	}
	rows := make([]outRow, 0, n)
	for _, w := range group {
		rows = append(rows, w.out...)
	}
	return rows
}

// EventsHead implements cloud.Store: the last seq given.
func (s *Store) EventsHead(ctx context.Context) (uint64, error) {
	var n int64
	if err := s.pool.QueryRow(ctx, `SELECT seq FROM outbox_head`).Scan(&n); err != nil {
		return 0, fmt.Errorf("pgstore: events head: %w", err)
	}
	return uint64(n), nil
}

// EventsAt implements cloud.Store: the seq before the first entry
// recorded at t or later (the BRIN index of at finds the recent rows; a
// row's entries were recorded together).
func (s *Store) EventsAt(ctx context.Context, t time.Time) (uint64, error) {
	var first *int64
	var head int64
	if err := s.pool.QueryRow(ctx, `
		SELECT (SELECT min(last - n) FROM outbox WHERE at >= $1), (SELECT seq FROM outbox_head)`, t).Scan(&first, &head); err != nil {
		return 0, fmt.Errorf("pgstore: events at: %w", err)
	}
	if first == nil {
		return uint64(head), nil
	}
	return uint64(*first), nil
}

// FeedHeads implements cloud.FeedHeads: the last seq of each merchant's
// entries, each read backwards on outbox_merchant (whose predicate the query
// names: a merchant's id is never empty).
func (s *Store) FeedHeads(ctx context.Context, merchants []string) (map[string]uint64, error) {
	rows, err := s.pool.Query(ctx, `
		SELECT m, coalesce((SELECT max(last) FROM outbox WHERE merchant = m AND merchant <> ''), 0)
		FROM unnest($1::text[]) AS m`, merchants)
	if err != nil {
		return nil, fmt.Errorf("pgstore: feed heads: %w", err)
	}
	defer rows.Close()
	heads := make(map[string]uint64, len(merchants))
	for rows.Next() {
		var m string
		var head int64
		if err := rows.Scan(&m, &head); err != nil {
			return nil, fmt.Errorf("pgstore: feed heads: %w", err)
		}
		heads[m] = uint64(head)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("pgstore: feed heads: %w", err)
	}
	return heads, nil
}

// pruneOutbox deletes up to 1,000 rows recorded before $1 whose entries
// every active subscription of their merchant has passed, never the last
// (as the contract says of both stores; outbox_head numbers on after
// it), nor one after $2 (the returns insight's fold has not read it:
// report_cursor), and returns how many rows and entries it deleted. A row goes
// when its last entry is passed: a subscription whose cursor is among a
// row's entries keeps them all.
const pruneOutbox = `
WITH gone AS (
    DELETE FROM outbox WHERE last IN (
        SELECT o.last FROM outbox o
        WHERE o.at < $1 AND o.last < (SELECT max(last) FROM outbox) AND o.last <= $2
          AND NOT EXISTS (
            SELECT 1 FROM webhooks w
            WHERE w.merchant = o.merchant AND coalesce(w.body->>'disabled', '') = ''
              AND (w.body->>'cursor')::numeric < o.last)
        LIMIT 1000)
    RETURNING n)
SELECT count(*), coalesce(sum(n), 0) FROM gone`

// PruneEvents implements cloud.Store, 1,000 rows (up to 256,000 entries)
// a transaction; it returns the entries deleted. It folds the returns
// insight's steps first: a row goes once the fold has read it.
func (s *Store) PruneEvents(ctx context.Context, before time.Time) (int, error) {
	folded := int64(math.MaxInt64)
	if s.insight {
		if err := s.foldAll(ctx); err != nil {
			return 0, fmt.Errorf("pgstore: prune events: %w", err)
		}
		if err := s.pool.QueryRow(ctx, `SELECT seq FROM report_cursor`).Scan(&folded); err != nil {
			return 0, fmt.Errorf("pgstore: prune events: %w", err)
		}
	}
	n := 0
	for {
		var rows, entries int64
		if err := s.pool.QueryRow(ctx, pruneOutbox, before, folded).Scan(&rows, &entries); err != nil {
			return n, fmt.Errorf("pgstore: prune events: %w", err)
		}
		n += int(entries)
		if rows < 1000 {
			return n, nil
		}
	}
}

// eventsQuery reads the outbox's entries after $1 in the scope of
// merchant $2, up to $3. The rows are read in order of their last seq
// until they hold $3 entries after the cursor (before counts those of the
// rows read earlier), and only those are expanded. A query of its own for
// each scope: with one for both ("$2 = ” OR o.merchant = $2"), the generic
// plan of the prepared statement scanned every row after the cursor for a
// merchant's (its index unused), and a webhook of a merchant with no new
// events reads from the same cursor every poll. A merchant's also says
// that merchant is not empty (a merchant's id never is), the predicate of
// outbox_merchant, which the plan must see to use it.
const eventsQuery = `
WITH x AS (
    SELECT b.last - b.n + u.i AS seq, b.merchant, u.tracking, u.terminal, u.ev_seq, u.entry_id
    FROM (SELECT o.*, sum(least(o.n, o.last - $1)) OVER (ORDER BY o.last ROWS UNBOUNDED PRECEDING) - least(o.n, o.last - $1) AS before
          FROM outbox o WHERE o.last > $1 AND %s ORDER BY o.last LIMIT $3) AS b,
         unnest(b.trackings, b.terminals, b.ev_seqs, b.entry_ids) WITH ORDINALITY AS u(tracking, terminal, ev_seq, entry_id, i)
    WHERE b.before < $3 AND b.last - b.n + u.i > $1
    ORDER BY 1 LIMIT $3)
SELECT x.seq, x.merchant, x.tracking, coalesce(p.ra_id, ''), e.op::text,
       coalesce(t.status, ''), coalesce(t.occurred_at, 'epoch'), coalesce(t.location, ''), coalesce(t.event_id, '')
FROM x
LEFT JOIN parcels p ON p.tracking = x.tracking
LEFT JOIN events e ON e.terminal = x.terminal AND e.seq = x.ev_seq
LEFT JOIN timeline_entries t ON t.event_id = x.entry_id
ORDER BY x.seq`

var (
	networkEvents  = fmt.Sprintf(eventsQuery, "$2 = ''")
	merchantEvents = fmt.Sprintf(eventsQuery, "o.merchant = $2 AND o.merchant <> ''")
)

// Events implements cloud.Store: the rows are joined to the events and
// entries they refer to and to their parcel, in the merchant's scope.
func (s *Store) Events(ctx context.Context, scope cloud.Scope, after uint64, limit int) ([]cloud.Event, uint64, error) {
	if after > maxInt64 {
		return []cloud.Event{}, after, nil
	}
	query := merchantEvents
	if scope.All() {
		query = networkEvents
	}
	rows, err := s.pool.Query(ctx, query, int64(after), scopeMerchant(scope), limit)
	if err != nil {
		return nil, 0, fmt.Errorf("pgstore: events: %w", err)
	}
	defer rows.Close()
	out, last := []cloud.Event{}, after
	for rows.Next() {
		var seq int64
		var p cloud.Parcel
		var op *string
		var e cloud.TimelineEntry
		var status string
		if err := rows.Scan(&seq, &p.Merchant, &p.Tracking, &p.RAID, &op, &status, &e.OccurredAt, &e.Location, &e.EventID); err != nil {
			return nil, 0, fmt.Errorf("pgstore: events: %w", err)
		}
		ev, err := outEvent(p, op, e, status)
		if err != nil {
			return nil, 0, fmt.Errorf("pgstore: event %d: %w", seq, err)
		}
		ev.Seq = uint64(seq)
		out, last = append(out, ev), uint64(seq)
	}
	if err := rows.Err(); err != nil {
		return nil, 0, fmt.Errorf("pgstore: events: %w", err)
	}
	return out, last, nil
}

// outEvent makes the event of an outbox row: of the terminal's event op,
// or else of the entry e of status.
func outEvent(p cloud.Parcel, op *string, e cloud.TimelineEntry, status string) (cloud.Event, error) {
	if op == nil {
		e.Status, e.OccurredAt = cloud.Status(status), e.OccurredAt.UTC()
		return cloud.EntryEvent(p, e), nil
	}
	var o edge.Operation
	if err := json.Unmarshal([]byte(*op), &o); err != nil {
		return cloud.Event{}, err
	}
	ev, ok := cloud.TerminalEvent(o, p)
	if !ok {
		return ev, fmt.Errorf("event %q marks no status", o.ID)
	}
	return ev, nil
}

// maxInt64 is the largest cursor the outbox can have passed.
const maxInt64 = 1<<63 - 1

// ParcelEvents implements cloud.Store: the parcel in scope, then its
// terminals' events that mark a status and its API entries, in the order of
// Timeline.
func (s *Store) ParcelEvents(ctx context.Context, scope cloud.Scope, tracking string) ([]cloud.Event, error) {
	p, err := s.FindParcel(ctx, scope, tracking)
	if err != nil {
		return nil, err
	}
	rows, err := s.pool.Query(ctx, `
		SELECT op::text, '', occurred_at, received_at, '', id
		FROM events WHERE tracking = $1 AND status IS NOT NULL
		UNION ALL
		SELECT NULL, status, occurred_at, received_at, location, event_id
		FROM timeline_entries WHERE tracking = $1
		ORDER BY 3, 4, 6`, p.Tracking)
	if err != nil {
		return nil, fmt.Errorf("pgstore: parcel events: %w", err)
	}
	defer rows.Close()
	out := []cloud.Event{}
	for rows.Next() {
		var op *string
		var status string
		var e cloud.TimelineEntry
		if err := rows.Scan(&op, &status, &e.OccurredAt, &e.ReceivedAt, &e.Location, &e.EventID); err != nil {
			return nil, fmt.Errorf("pgstore: parcel events: %w", err)
		}
		ev, err := outEvent(p, op, e, status)
		if err != nil {
			return nil, fmt.Errorf("pgstore: parcel events of %s: %w", tracking, err)
		}
		out = append(out, ev)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("pgstore: parcel events: %w", err)
	}
	return out, nil
}
