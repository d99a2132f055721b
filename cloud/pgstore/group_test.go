package pgstore

import (
	"context"
	"encoding/json"
	"reflect"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/comptoir/comptoir/cloud/storetest"
	"github.com/comptoir/comptoir/edge"
)

// TestStoreGroupAsOneByOne: a group stored in one transaction's pipelines
// (storeGroup: a terminal's second batch in a second wave, two terminals'
// chains on one parcel, a resend, a gap filled) leaves the results, the
// parcels and the events' statuses that the same batches leave stored
// one after the other.
func TestStoreGroupAsOneByOne(t *testing.T) {
	ctx := context.Background()
	at := time.Date(2026, 12, 5, 9, 0, 0, 0, time.UTC)
	op := storetest.Op
	batches := []struct {
		tid string
		evs []edge.Operation
	}{
		{"t-1", []edge.Operation{op("t-1", 1, edge.OpReturnDeposited, "GR1", at), op("t-1", 2, edge.OpReturnDeposited, "GR2", at)}},
		{"t-2", []edge.Operation{op("t-2", 1, edge.OpReturnDeposited, "GR1", at), op("t-2", 3, edge.OpReturnDeposited, "GR3", at)}},
		{"t-1", []edge.Operation{op("t-1", 2, edge.OpReturnDeposited, "GR2", at), op("t-1", 3, edge.OpParcelHandedOver, "GR1", at.Add(time.Minute))}},
		{"t-2", []edge.Operation{op("t-2", 2, edge.OpParcelHandedOver, "GR3", at.Add(time.Minute))}},
		{"t-3", []edge.Operation{op("t-3", 1, edge.OpParcelHandedOver, "GR2", at.Add(2*time.Minute))}},
	}
	type outcome struct {
		Results   []string
		Parcels   []string
		Statuses  []string
		Conflicts []string
	}
	run := func(together bool) outcome {
		s := openFresh(t)
		var o outcome
		var group []*pgWrite
		for _, b := range batches {
			w, err := s.newWrite(b.tid, b.evs, at.Add(time.Hour))
			if err != nil {
				t.Fatal(err)
			}
			group = append(group, w)
			if !together {
				if err := s.commit([]*pgWrite{w}); err != nil {
					t.Fatal(err)
				}
			}
		}
		if together {
			if err := s.commit(group); err != nil {
				t.Fatal(err)
			}
		}
		for _, b := range batches { // commit sorts the group
			for _, w := range group {
				if w.tid == b.tid && reflect.DeepEqual(w.events, b.evs) {
					res, _ := json.Marshal(w.res)
					o.Results = append(o.Results, b.tid+" "+string(res))
				}
			}
		}
		for q, dst := range map[string]*[]string{
			`SELECT tracking || ' ' || status || ' ' || holder || ' ' || terminal FROM parcels ORDER BY 1`:     &o.Parcels,
			`SELECT terminal || '/' || seq || ' ' || coalesce(status, '-') FROM events ORDER BY terminal, seq`: &o.Statuses,
			`SELECT event_id || ' ' || reason || ' ' || coalesce(parcel::text, '-') FROM conflicts ORDER BY 1`: &o.Conflicts,
		} {
			rows, err := s.pool.Query(ctx, q)
			if err != nil {
				t.Fatal(err)
			}
			if *dst, err = pgx.CollectRows(rows, pgx.RowTo[string]); err != nil {
				t.Fatal(err)
			}
		}
		return o
	}
	want, got := run(false), run(true)
	if len(want.Parcels) == 0 || len(want.Statuses) != 7 || len(want.Conflicts) != 3 {
		t.Fatalf("one by one: %+v; want parcels, 7 events, 3 conflicts", want)
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("as a group:\n%+v\none by one:\n%+v", got, want)
	}
}
