package pgstore

import (
	"context"
	"encoding/json"
	"slices"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/comptoir/comptoir/cloud"
)

// The reports (issue 15) read report_facts (0010_insight_reads.sql): a row
// a merchant's return, cloud.ReturnFacts, made with the return and moved
// by each step of its parcel that agreed with it, in the transaction that
// stores the step, as the Badger store keeps its facts; and
// report_durations (0012_report_durations.sql), the facts' durations
// (cloud.ReturnFacts.Durations), changed with them. The reports' counting
// stays SQL's (reports.go).

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
	updateFacts = `
UPDATE report_facts f SET relay = NULLIF(u.relay, ''), dispositions = ARRAY(SELECT json_array_elements_text(u.dispositions::json)),
	resolution = u.resolution, dropped_at = u.dropped_at, instore_at = u.instore_at, handed_at = u.handed_at,
	wh_at = u.wh_at, resolved_at = u.resolved_at, dep = u.dep, ins = u.ins, can = u.can, refunded = u.refunded, exchanged = u.exchanged
FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::timestamptz[], $6::timestamptz[], $7::timestamptz[],
	$8::timestamptz[], $9::timestamptz[], $10::bool[], $11::bool[], $12::bool[], $13::bool[], $14::bool[])
	AS u(tracking, relay, dispositions, resolution, dropped_at, instore_at, handed_at, wh_at, resolved_at, dep, ins, can, refunded, exchanged)
WHERE f.tracking = u.tracking`
	deleteDurations = `
DELETE FROM report_durations d USING unnest($1::text[], $2::text[], $3::text[], $4::smallint[]) AS u(tracking, dim, key, stage)
WHERE d.tracking = u.tracking AND d.dim = u.dim AND d.key = u.key AND d.stage = u.stage`
	upsertDurations = `
INSERT INTO report_durations (tracking, dim, key, stage, secs, merchant, created_at)
SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::smallint[], $5::bigint[], $6::text[], $7::timestamptz[])
ON CONFLICT (tracking, dim, key, stage) DO UPDATE SET secs = excluded.secs`
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

// factsStep is a step of a parcel that agreed with it.
type factsStep struct {
	tracking string
	step     func() cloud.ReportStep
}

// observeFacts applies the steps, in order, to the facts of their returns
// and stores those that changed. Steps of parcels with no facts (no
// return) change nothing.
func observeFacts(ctx context.Context, tx pgx.Tx, steps []factsStep) error {
	if len(steps) == 0 {
		return nil
	}
	trackings := make([]string, len(steps))
	for i, st := range steps {
		trackings[i] = text(st.tracking)
	}
	rows, err := tx.Query(ctx, selectFacts, trackings)
	if err != nil {
		return err
	}
	facts := map[string]*cloud.ReturnFacts{}
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
		facts[tr] = &f
		return struct{}{}, err
	})
	if err != nil {
		return err
	}
	before := map[string]map[durationKey]int64{}
	was := map[string]cloud.ReturnFacts{}
	for _, st := range steps {
		tr := text(st.tracking)
		f := facts[tr]
		if f == nil {
			continue
		}
		if _, ok := before[tr]; !ok {
			before[tr], was[tr] = durations(*f), *f
		}
		f.Observe(st.step())
	}
	// A return changed when its facts did, whether or not the counters
	// Observe returns did: a duration that stays in its histogram bucket
	// changes no counter but the exact percentiles and the later steps'
	// durations.
	changed := map[string]bool{}
	for tr, f := range was {
		if !sameFacts(f, *facts[tr]) {
			changed[tr] = true
		}
	}
	if len(changed) == 0 {
		return nil
	}
	if err := storeDurations(ctx, tx, facts, before, changed); err != nil {
		return err
	}
	n := len(changed)
	trs, relays, disps, res := make([]string, 0, n), make([]string, 0, n), make([]string, 0, n), make([]string, 0, n)
	var times [5][]*time.Time
	var flags [5][]bool
	for tr := range changed {
		f := facts[tr]
		d, _ := json.Marshal(f.Dispositions)
		if f.Dispositions == nil {
			d = []byte("[]")
		}
		trs, relays, disps, res = append(trs, tr), append(relays, text(f.Relay)), append(disps, string(d)), append(res, text(f.Resolution))
		for i, t := range []time.Time{f.DroppedAt, f.InstoreAt, f.HandedAt, f.WarehouseAt, f.ResolvedAt} {
			var p *time.Time
			if !t.IsZero() {
				p = &t
			}
			times[i] = append(times[i], p)
		}
		for i, b := range []bool{f.Deposited, f.InStore, f.Cancelled, f.Refunded, f.Exchanged} {
			flags[i] = append(flags[i], b)
		}
	}
	_, err = tx.Exec(ctx, updateFacts, trs, relays, disps, res, times[0], times[1], times[2], times[3], times[4],
		flags[0], flags[1], flags[2], flags[3], flags[4])
	return err
}

// sameFacts reports whether a and b, facts of one return, are the same
// in what a step may change.
func sameFacts(a, b cloud.ReturnFacts) bool {
	return a.Relay == b.Relay && slices.Equal(a.Dispositions, b.Dispositions) && a.Resolution == b.Resolution &&
		a.DroppedAt.Equal(b.DroppedAt) && a.InstoreAt.Equal(b.InstoreAt) && a.HandedAt.Equal(b.HandedAt) &&
		a.WarehouseAt.Equal(b.WarehouseAt) && a.ResolvedAt.Equal(b.ResolvedAt) && a.Deposited == b.Deposited &&
		a.InStore == b.InStore && a.Cancelled == b.Cancelled && a.Refunded == b.Refunded && a.Exchanged == b.Exchanged
}

// durationKey is a row of report_durations of a return.
type durationKey struct {
	dim, key string
	stage    int
}

// durations returns the durations of f as report_durations holds them:
// keys as stored (text), seconds between times as stored (to the
// microsecond, truncated as pgx sends them).
func durations(f cloud.ReturnFacts) map[durationKey]int64 {
	for _, t := range []*time.Time{&f.Created, &f.DroppedAt, &f.InstoreAt, &f.HandedAt, &f.WarehouseAt, &f.ResolvedAt} {
		*t = t.Truncate(time.Microsecond)
	}
	out := map[durationKey]int64{}
	for _, d := range f.Durations() {
		out[durationKey{string(d.By), text(d.Key), d.Stage}] = d.Secs
	}
	return out
}

// storeDurations stores the durations of the facts that changed: it
// deletes those no longer taken and writes those new or changed, from
// before, the durations of each return before its steps.
func storeDurations(ctx context.Context, tx pgx.Tx, facts map[string]*cloud.ReturnFacts, before map[string]map[durationKey]int64, changed map[string]bool) error {
	var del struct {
		trs, dims, keys []string
		stages          []int16
	}
	var up struct {
		trs, dims, keys, merchants []string
		stages                     []int16
		secs                       []int64
		created                    []time.Time
	}
	for tr := range changed {
		f := facts[tr]
		after := durations(*f)
		for k := range before[tr] {
			if _, ok := after[k]; !ok {
				del.trs, del.dims, del.keys, del.stages = append(del.trs, tr), append(del.dims, k.dim), append(del.keys, k.key), append(del.stages, int16(k.stage))
			}
		}
		for k, secs := range after {
			if was, ok := before[tr][k]; !ok || was != secs {
				up.trs, up.dims, up.keys, up.stages = append(up.trs, tr), append(up.dims, k.dim), append(up.keys, k.key), append(up.stages, int16(k.stage))
				up.secs, up.merchants, up.created = append(up.secs, secs), append(up.merchants, f.Merchant), append(up.created, f.Created)
			}
		}
	}
	if len(del.trs) > 0 {
		if _, err := tx.Exec(ctx, deleteDurations, del.trs, del.dims, del.keys, del.stages); err != nil {
			return err
		}
	}
	if len(up.trs) > 0 {
		if _, err := tx.Exec(ctx, upsertDurations, up.trs, up.dims, up.keys, up.stages, up.secs, up.merchants, up.created); err != nil {
			return err
		}
	}
	return nil
}

// factsSteps returns the steps of the chain's events that agreed with
// parcels of merchants (those that may have facts).
func (c *chain) factsSteps() []factsStep {
	var out []factsStep
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
		op := st.op
		out = append(out, factsStep{op.Tracking, func() cloud.ReportStep { return cloud.ReportStepOf(op) }})
	}
	return out
}
