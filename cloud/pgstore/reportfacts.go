package pgstore

import (
	"cmp"
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"slices"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/comptoir/comptoir/cloud"
	"github.com/comptoir/comptoir/edge"
)

// The reports (issue 15) read report_facts (0010_insight_reads.sql): a row
// a merchant's return, cloud.ReturnFacts, made with the return and moved
// by each step of its parcel that agreed with it, as the Badger store
// keeps its facts. The reports' counting and their durations'
// percentiles stay SQL's (reports.go).
//
// Ingest writes no step of its own (0019_insight_from_outbox.sql): the
// outbox's rows, which every agreed step of a merchant's parcel enters in
// the transaction that stores it, carry their statuses and times. A fold
// applies the steps after its cursor, in their order, to the facts and
// moves the cursor, in one transaction under the fold's lease (an
// advisory lock: one instance folds at a time). Each instance folds every
// FoldEvery, and each report folds what is left first: a crash between
// ingest and fold leaves the steps to fold, none lost. Steps that
// instances before 0019 queued in report_pending are folded first.

const (
	insertFacts = `
INSERT INTO report_facts (tracking, merchant, created_at, carrier, reasons, skus) VALUES ($1, $2, $3, $4, $5, $6)`
	// Each tracking looked up on its own in the primary key, as in
	// lockParcels, whatever the generic plan's statistics (OFFSET 0 keeps
	// the subquery from being flattened into a join the planner may make a
	// scan of the whole table).
	selectFacts = `
SELECT f.tracking, f.merchant, f.created_at, f.carrier, f.reasons, f.skus, coalesce(f.relay, ''), f.dispositions, f.resolution,
	f.dropped_at, f.instore_at, f.handed_at, f.wh_at, f.resolved_at, f.dep, f.ins, f.can, f.refunded, f.exchanged
FROM unnest($1::text[]) AS u(tracking),
     LATERAL (SELECT * FROM report_facts f WHERE f.tracking = u.tracking OFFSET 0) AS f`
	// What a step may change; the dispositions of each row as a JSON array
	// (unnest takes no array of arrays of different lengths).
	// The stages' durations (s0 to s3) are cloud.ReturnFacts.StageSecs,
	// NULL for a stage not taken.
	updateFacts = `
UPDATE report_facts f SET relay = NULLIF(u.relay, ''), dispositions = ARRAY(SELECT json_array_elements_text(u.dispositions::json)),
	resolution = u.resolution, dropped_at = u.dropped_at, instore_at = u.instore_at, handed_at = u.handed_at,
	wh_at = u.wh_at, resolved_at = u.resolved_at, dep = u.dep, ins = u.ins, can = u.can, refunded = u.refunded, exchanged = u.exchanged,
	s0 = u.s0, s1 = u.s1, s2 = u.s2, s3 = u.s3
FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::timestamptz[], $6::timestamptz[], $7::timestamptz[],
	$8::timestamptz[], $9::timestamptz[], $10::bool[], $11::bool[], $12::bool[], $13::bool[], $14::bool[],
	$15::bigint[], $16::bigint[], $17::bigint[], $18::bigint[])
	AS u(tracking, relay, dispositions, resolution, dropped_at, instore_at, handed_at, wh_at, resolved_at, dep, ins, can, refunded, exchanged,
	s0, s1, s2, s3)
WHERE f.tracking = u.tracking`
)

// insertReturnFacts stores the facts of a new return.
func insertReturnFacts(ctx context.Context, tx pgx.Tx, r cloud.Return) error {
	f := cloud.NewReturnFacts(r)
	_, err := tx.Exec(ctx, insertFacts, text(r.Tracking), f.Merchant, f.Created, text(f.Carrier), texts(f.Reasons), texts(f.SKUs))
	return err
}

// texts applies text to each of s, never nil (the columns are NOT NULL).
func texts(s []string) []string {
	out := make([]string, len(s))
	for i, v := range s {
		out[i] = text(v)
	}
	return out
}

const (
	// The steps queued by instances of a version before 0019 (legacy:
	// 0019_insight_from_outbox.sql), taken (deleted) by a fold first.
	takePending = `
DELETE FROM report_pending WHERE id IN (SELECT id FROM report_pending ORDER BY id LIMIT $1)
RETURNING id, tracking, status, at, terminal, instore`
	// The outbox's rows after seq $1 (the fold's cursor), in their order,
	// up to $2: their last seq, their entries and whether they are a
	// merchant's (carriers' parcels have no facts).
	outboxAfter = `
SELECT o.last, o.n, o.merchant <> '' FROM outbox o
WHERE o.last > $1 ORDER BY o.last LIMIT $2`
	// The steps of the merchants' rows of the outbox from $1 (excluded)
	// to $2, in the order of their seqs (rows without them skipped: see
	// 0019_insight_from_outbox.sql), but issuers' (a return created: $4).
	// An in-store receipt ($3) has its grades read from its event, found
	// in the events' primary key.
	outboxSteps = `
SELECT u.tracking, u.status, u.at, coalesce(u.terminal, ''),
	CASE WHEN u.status = $4 AND u.terminal IS NOT NULL THEN
		(SELECT (e.op->'data')::text FROM events e WHERE e.terminal = u.terminal AND e.seq = u.seq AND e.type = $3) END
FROM outbox o
CROSS JOIN LATERAL unnest(o.trackings, o.terminals, o.ev_seqs, o.statuses, o.ats) WITH ORDINALITY AS u(tracking, terminal, seq, status, at, i)
WHERE o.last > $1 AND o.last <= $2 AND o.merchant <> '' AND o.statuses IS NOT NULL AND u.status <> $5
ORDER BY o.last, u.i`
	// foldLease is the advisory lock key held by a fold.
	foldLease = 0x636f6d70746f6966 // "comptoif"
	// foldSteps is about the most steps a fold takes (the outbox's rows
	// are taken whole: up to outboxChunk more); foldRows the most rows of
	// the outbox it looks at (carriers' parcels: outboxChunk entries a
	// row, none a step).
	foldSteps = 8192
	foldRows  = 1024
)

// fold applies the first steps not applied, about foldSteps at most, to
// the facts, in one transaction under the fold's lease: waiting for it
// when wait, else doing nothing when another holds it. The steps are
// those queued in report_pending by an earlier version, deleted, else
// the outbox's after the fold's cursor, which it moves on. more reports
// that steps may be left.
func (s *Store) fold(ctx context.Context, wait bool) (more bool, err error) {
	err = pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		leased := true
		var err error
		if wait {
			_, err = tx.Exec(ctx, `SELECT pg_advisory_xact_lock($1)`, int64(foldLease))
		} else {
			err = tx.QueryRow(ctx, `SELECT pg_try_advisory_xact_lock($1)`, int64(foldLease)).Scan(&leased)
		}
		if err != nil || !leased {
			return err
		}
		steps, err := legacySteps(ctx, tx)
		if err != nil || len(steps) > 0 {
			more = true // the outbox's steps at least
			if err == nil {
				err = observeFacts(ctx, tx, steps)
			}
			return err
		}
		more, err = foldOutbox(ctx, tx)
		return err
	})
	if err != nil {
		return false, fmt.Errorf("pgstore: fold report steps: %w", err)
	}
	return more, nil
}

// legacySteps takes the first steps (foldSteps at most) queued in
// report_pending, in their order.
func legacySteps(ctx context.Context, tx pgx.Tx) ([]cloud.PendingStep, error) {
	rows, err := tx.Query(ctx, takePending, foldSteps)
	if err != nil {
		return nil, err
	}
	type pending struct {
		id int64
		cloud.PendingStep
	}
	taken, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (pending, error) {
		var p pending
		var status string
		var instore *string
		err := row.Scan(&p.id, &p.Tracking, &status, &p.At, &p.Terminal, &instore)
		p.Status = cloud.Status(status)
		if instore != nil {
			p.Instore = []byte(*instore)
		}
		return p, err
	})
	if err != nil {
		return nil, err
	}
	slices.SortFunc(taken, func(a, b pending) int { return cmp.Compare(a.id, b.id) })
	steps := make([]cloud.PendingStep, len(taken))
	for i, p := range taken {
		steps[i] = p.PendingStep
	}
	return steps, nil
}

// foldOutbox applies the steps of the outbox's rows after the fold's
// cursor, about foldSteps of them, and moves the cursor past those rows.
// Rows commit in the order of their seqs (insertOutbox), so the rows
// after the cursor that this transaction sees are all of those below
// the last it sees. more reports that rows may be left.
func foldOutbox(ctx context.Context, tx pgx.Tx) (more bool, err error) {
	var from int64
	if err := tx.QueryRow(ctx, `SELECT seq FROM report_cursor`).Scan(&from); err != nil {
		return false, err
	}
	rows, err := tx.Query(ctx, outboxAfter, from, foldRows)
	if err != nil {
		return false, err
	}
	to, entries, seen := from, 0, 0
	var last, n int64
	var merchant bool
	_, err = pgx.ForEachRow(rows, []any{&last, &n, &merchant}, func() error {
		seen++
		if entries < foldSteps {
			to = last
			if merchant {
				entries += int(n)
			}
		}
		return nil
	})
	if err != nil || to == from {
		return false, err
	}
	more = entries >= foldSteps || seen == foldRows
	steps, err := outboxStepsBetween(ctx, tx, from, to)
	if err == nil {
		err = observeFacts(ctx, tx, steps)
	}
	if err == nil {
		_, err = tx.Exec(ctx, `UPDATE report_cursor SET seq = $1`, to)
	}
	return more, err
}

// outboxStepsBetween returns the steps of the merchants' entries of the
// outbox after seq from up to to, in their order.
func outboxStepsBetween(ctx context.Context, tx pgx.Tx, from, to int64) ([]cloud.PendingStep, error) {
	rows, err := tx.Query(ctx, outboxSteps, from, to, string(edge.OpInstoreReceived), string(cloud.StatusReceivedInStore), string(cloud.StatusCreated))
	if err != nil {
		return nil, err
	}
	return pgx.CollectRows(rows, func(row pgx.CollectableRow) (cloud.PendingStep, error) {
		var st cloud.PendingStep
		var status string
		var instore *string
		err := row.Scan(&st.Tracking, &status, &st.At, &st.Terminal, &instore)
		st.Status = cloud.Status(status)
		if instore != nil {
			st.Instore = []byte(*instore)
		}
		return st, err
	})
}

// foldAll folds every step pending, waiting for the lease.
func (s *Store) foldAll(ctx context.Context) error {
	for more := true; more; {
		var err error
		if more, err = s.fold(ctx, true); err != nil {
			return err
		}
	}
	return nil
}

// folding folds what is pending every period until ctx is done, when no
// other instance holds the lease.
func (s *Store) folding(ctx context.Context, every time.Duration) {
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		for more := true; more; {
			var err error
			if more, err = s.fold(ctx, false); err != nil && ctx.Err() == nil {
				slog.Warn("returns insight: fold", "err", err) // the next fold or report folds them
			}
		}
	}
}

// observeFacts applies the steps, in order, to the facts of their returns
// and stores those that changed, in one round trip after the one that
// reads them (arrays over all the returns: a fold's steps are observed at
// once, a return's several steps written once). Steps of parcels with no
// facts (no return) change nothing.
func observeFacts(ctx context.Context, tx pgx.Tx, steps []cloud.PendingStep) error {
	if len(steps) == 0 {
		return nil
	}
	index := make(map[string]int, len(steps))
	trackings := make([]string, 0, len(steps))
	for _, st := range steps {
		if tr := text(st.Tracking); !has(index, tr) {
			index[tr] = len(trackings)
			trackings = append(trackings, tr)
		}
	}
	facts, err := readFacts(ctx, tx, trackings, index)
	if err != nil {
		return err
	}
	was := make([]cloud.ReturnFacts, len(facts))
	for i, f := range facts {
		if f != nil {
			was[i] = *f
		}
	}
	for _, st := range steps {
		if f := facts[index[text(st.Tracking)]]; f != nil {
			// Times as stored (to the microsecond, truncated as pgx sends
			// them), so that a step that changes nothing writes nothing.
			s := st.ReportStep()
			s.At = s.At.Truncate(time.Microsecond)
			f.Apply(s)
		}
	}
	var w factsWrites
	for i, f := range facts {
		// A return changed when its facts did, whether or not the
		// counters Observe returns did: a duration that stays in its
		// histogram bucket changes no counter but the exact percentiles
		// and the later steps' durations.
		if f != nil && !was[i].Same(*f) {
			w.add(trackings[i], *f)
		}
	}
	return w.send(ctx, tx)
}

// readFacts returns the facts of each of trackings (distinct; index maps
// each to its place), nil for those with none.
func readFacts(ctx context.Context, tx pgx.Tx, trackings []string, index map[string]int) ([]*cloud.ReturnFacts, error) {
	rows, err := tx.Query(ctx, selectFacts, trackings)
	if err != nil {
		return nil, err
	}
	facts := make([]*cloud.ReturnFacts, len(trackings))
	_, err = pgx.CollectRows(rows, func(row pgx.CollectableRow) (struct{}, error) {
		var tr string
		var f cloud.ReturnFacts
		var times [5]*time.Time
		err := row.Scan(&tr, &f.Merchant, &f.Created, &f.Carrier, &f.Reasons, &f.SKUs, &f.Relay, &f.Dispositions, &f.Resolution,
			&times[0], &times[1], &times[2], &times[3], &times[4], &f.Deposited, &f.InStore, &f.Cancelled, &f.Refunded, &f.Exchanged)
		for i, t := range []*time.Time{&f.DroppedAt, &f.InstoreAt, &f.HandedAt, &f.WarehouseAt, &f.ResolvedAt} {
			if times[i] != nil {
				*t = times[i].UTC()
			}
		}
		f.Created = f.Created.UTC()
		facts[index[tr]] = &f
		return struct{}{}, err
	})
	return facts, err
}

// has reports whether m holds k.
func has(m map[string]int, k string) bool {
	_, ok := m[k]
	return ok
}

// factsWrites gathers the facts that changed, as updateFacts' arrays.
type factsWrites struct {
	trs, relays, disps, res []string
	times                   [5][]*time.Time
	flags                   [5][]bool
	secs                    [cloud.NumStages][]*int64
}

// add gathers the facts f of tracking tr.
func (w *factsWrites) add(tr string, f cloud.ReturnFacts) {
	d, _ := json.Marshal(f.Dispositions)
	if f.Dispositions == nil {
		d = []byte("[]")
	}
	w.trs, w.relays, w.disps, w.res = append(w.trs, tr), append(w.relays, text(f.Relay)), append(w.disps, string(d)), append(w.res, text(f.Resolution))
	for i, t := range []time.Time{f.DroppedAt, f.InstoreAt, f.HandedAt, f.WarehouseAt, f.ResolvedAt} {
		var p *time.Time
		if !t.IsZero() {
			p = &t
		}
		w.times[i] = append(w.times[i], p)
	}
	for i, b := range []bool{f.Deposited, f.InStore, f.Cancelled, f.Refunded, f.Exchanged} {
		w.flags[i] = append(w.flags[i], b)
	}
	for st, secs := range f.StageSecs() {
		var p *int64
		if secs >= 0 {
			p = &secs
		}
		w.secs[st] = append(w.secs[st], p)
	}
}

// send updates the facts that changed, if any.
func (w *factsWrites) send(ctx context.Context, tx pgx.Tx) error {
	if len(w.trs) == 0 {
		return nil
	}
	_, err := tx.Exec(ctx, updateFacts, w.trs, w.relays, w.disps, w.res, w.times[0], w.times[1], w.times[2], w.times[3], w.times[4],
		w.flags[0], w.flags[1], w.flags[2], w.flags[3], w.flags[4], w.secs[0], w.secs[1], w.secs[2], w.secs[3])
	return err
}
