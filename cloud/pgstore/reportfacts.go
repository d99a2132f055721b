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
)

// The reports (issue 15) read report_facts (0010_insight_reads.sql): a row
// a merchant's return, cloud.ReturnFacts, made with the return and moved
// by each step of its parcel that agreed with it, as the Badger store
// keeps its facts. The reports' counting and their durations'
// percentiles stay SQL's (reports.go).
//
// Ingest only appends its steps to report_pending
// (0016_insight_pending.sql), in the transaction that stores them; a fold
// applies them, in their order, to the facts and deletes them, in one
// transaction under the fold's lease (an advisory lock: one instance
// folds at a time). Each instance folds every FoldEvery, and each report
// folds what is pending first: a crash between ingest and fold leaves the
// steps pending, none lost or applied twice.

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
	// The steps in their order: their ids are taken as the rows come.
	insertPending = `
INSERT INTO report_pending (tracking, status, at, terminal, instore)
SELECT u.tracking, u.status, u.at, u.terminal, u.instore
FROM unnest($1::text[], $2::text[], $3::timestamptz[], $4::text[], $5::text[]) WITH ORDINALITY AS u(tracking, status, at, terminal, instore, n)
ORDER BY u.n`
	// The first steps pending, taken (deleted) by a fold.
	takePending = `
DELETE FROM report_pending WHERE id IN (SELECT id FROM report_pending ORDER BY id LIMIT $1)
RETURNING id, tracking, status, at, terminal, instore`
	// foldLease is the advisory lock key held by a fold.
	foldLease = 0x636f6d70746f6966 // "comptoif"
	// foldSteps is the most steps a fold takes.
	foldSteps = 8192
)

// queueSteps appends the steps to report_pending, in their order (the
// careful path of commit, and AddPartnerEntry; storeGroup sends
// pendingParams in its last pipeline).
func queueSteps(ctx context.Context, tx pgx.Tx, steps []cloud.PendingStep) error {
	p := pendingParams(steps)
	if p == nil {
		return nil
	}
	defer p.release()
	return p.execGeneric(ctx, tx, insertPending)
}

// pendingParams returns insertPending's parameters for steps, or nil when
// there are none.
func pendingParams(steps []cloud.PendingStep) *params {
	if len(steps) == 0 {
		return nil
	}
	trs, statuses, terminals := make([]string, len(steps)), make([]string, len(steps)), make([]string, len(steps))
	ats, instore := make([]time.Time, len(steps)), make([]*string, len(steps))
	for i, st := range steps {
		trs[i], statuses[i], terminals[i] = text(st.Tracking), string(st.Status), text(st.Terminal)
		ats[i] = st.At.UTC()
		if st.Instore != nil {
			d := text(string(st.Instore))
			instore[i] = &d
		}
	}
	p := newParams()
	p.texts(trs)
	p.texts(statuses)
	p.times(ats)
	p.texts(terminals)
	p.textPtrs(instore)
	return p
}

// fold applies the first steps pending (foldSteps at most) to the facts
// and deletes them, in one transaction under the fold's lease: waiting
// for it when wait, else doing nothing when another holds it. more
// reports that steps may be left.
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
		rows, err := tx.Query(ctx, takePending, foldSteps)
		if err != nil {
			return err
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
			return err
		}
		slices.SortFunc(taken, func(a, b pending) int { return cmp.Compare(a.id, b.id) })
		steps := make([]cloud.PendingStep, len(taken))
		for i, p := range taken {
			steps[i] = p.PendingStep
		}
		more = len(taken) == foldSteps
		return observeFacts(ctx, tx, steps)
	})
	if err != nil {
		return false, fmt.Errorf("pgstore: fold report steps: %w", err)
	}
	return more, nil
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

// factsSteps returns the steps of the chain's events that agreed with
// parcels of merchants (those that may have facts).
func (c *chain) factsSteps() []cloud.PendingStep {
	var out []cloud.PendingStep
	for _, st := range c.steps {
		if _, ok := c.status[st.seq]; !ok || st.alias {
			continue
		}
		p, ok := c.next[st.op.Tracking]
		if !ok {
			p = c.parcels[st.op.Tracking]
		}
		if p.Merchant == "" {
			continue
		}
		out = append(out, cloud.PendingStepOf(st.op))
	}
	return out
}
