package pgstore_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/comptoir/comptoir/cloud/storetest"
	"github.com/comptoir/comptoir/edge"
)

// TestIngestGenericPlans: the ingest's statements of several parts (a
// batch's writes, the outbox's rows) run with their generic plans, never
// planned again at each batch — PostgreSQL's default would, since most of
// their parts get no rows (pgstore's execGeneric). Deposits then handovers
// of the same parcels, so that the parts that change parcels have rows.
func TestIngestGenericPlans(t *testing.T) {
	s := MustOpen(t)
	ctx := context.Background()
	at := time.Date(2026, 12, 5, 9, 0, 0, 0, time.UTC)
	const batches, size = 12, 16
	seq, stored := uint64(0), 0
	op := func(typ edge.OpType, tr string, at time.Time) edge.Operation {
		seq++
		return storetest.Op("t-1", seq, typ, tr, at)
	}
	for b := 0; b < batches; b++ {
		var evs []edge.Operation
		for i := 0; i < size; i++ {
			evs = append(evs, op(edge.OpReturnDeposited, fmt.Sprintf("GP%02d%03d", b, i), at))
			if b > 0 { // the parcels of the batch before, found and changed
				evs = append(evs, op(edge.OpParcelHandedOver, fmt.Sprintf("GP%02d%03d", b-1, i), at.Add(time.Minute)))
			}
		}
		res, err := s.StoreEvents(ctx, "t-1", evs, at)
		stored += len(evs)
		if err != nil || res.Stored != len(evs) || res.Conflicts != nil || res.AckedSeq != uint64(stored) {
			t.Fatalf("batch %d: %+v, %v; want %d stored, no conflict", b, res, err, len(evs))
		}
	}
	var handed int
	if err := s.Pool().QueryRow(ctx, `SELECT count(*) FROM parcels WHERE status = 'handed_over'`).Scan(&handed); err != nil || handed != (batches-1)*size {
		t.Fatalf("%d parcels handed over, %v; want %d", handed, err, (batches-1)*size)
	}
	plans := map[string][2]int64{} // statement's start -> generic, custom plans
	for _, c := range s.Pool().AcquireAllIdle(ctx) {
		rows, err := c.Query(ctx, `SELECT statement, generic_plans, custom_plans FROM pg_prepared_statements`)
		if err != nil {
			t.Fatal(err)
		}
		for rows.Next() {
			var st string
			var g, cu int64
			if err := rows.Scan(&st, &g, &cu); err != nil {
				t.Fatal(err)
			}
			for _, start := range []string{"WITH ev AS", "WITH head AS"} {
				if strings.HasPrefix(strings.TrimSpace(st), start) {
					p := plans[start]
					plans[start] = [2]int64{p[0] + g, p[1] + cu}
				}
			}
		}
		rows.Close()
		c.Release()
	}
	for _, start := range []string{"WITH ev AS", "WITH head AS"} {
		if p := plans[start]; p[0] < batches || p[1] != 0 {
			t.Errorf("%q: %d generic plans, %d custom; want %d or more generic, no custom", start, p[0], p[1], batches)
		}
	}
}

// TestOutboxLZ4: the outbox's arrays are compressed with LZ4 when the
// server has it (0015_outbox_lz4.sql, 0019_insight_from_outbox.sql).
func TestOutboxLZ4(t *testing.T) {
	s := MustOpen(t)
	ctx := context.Background()
	var lz4 bool
	if err := s.Pool().QueryRow(ctx, `SELECT 'lz4' = ANY(enumvals) FROM pg_settings WHERE name = 'default_toast_compression'`).Scan(&lz4); err != nil {
		t.Fatal(err)
	}
	if !lz4 {
		t.Skip("the server has no LZ4")
	}
	var methods string
	if err := s.Pool().QueryRow(ctx, `
		SELECT string_agg(attname || '=' || attcompression::text, ' ' ORDER BY attname) FROM pg_attribute
		WHERE attrelid = 'outbox'::regclass AND attname IN ('trackings', 'terminals', 'ev_seqs', 'entry_ids', 'statuses', 'ats')`).Scan(&methods); err != nil {
		t.Fatal(err)
	}
	if want := "ats=l entry_ids=l ev_seqs=l statuses=l terminals=l trackings=l"; methods != want {
		t.Fatalf("compression %q, want %q", methods, want)
	}
}
