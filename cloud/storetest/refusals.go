package storetest

import (
	"context"
	"encoding/json"
	"slices"
	"testing"
	"time"

	"github.com/comptoir/comptoir/cloud"
	"github.com/comptoir/comptoir/edge"
)

// testRefusals: ReportFixture's refusal at t-1, and t-3's refusals on the
// fixture's day and the next, one with no reason, one above a gap that
// counts once the gap fills.
func testRefusals(t *testing.T, s cloud.Store) {
	ReportFixture(t, s)
	ctx := context.Background()
	h := time.Hour
	refused := func(seq uint64, at time.Time, reason edge.RefusalCode) edge.Operation {
		o := Op("t-3", seq, edge.OpReturnRefused, "", at)
		if reason != "" {
			o.Data, _ = json.Marshal(edge.RefusedData{Reason: reason, Reasons: []edge.RefusalCode{reason, edge.Oversize}, Digest: "d"})
		}
		return o
	}
	store := func(evs ...edge.Operation) {
		t.Helper()
		if _, err := s.StoreEvents(ctx, "t-3", evs, day.AddDate(0, 0, 5)); err != nil {
			t.Fatal(err)
		}
	}
	store(refused(1, day.Add(2*h), edge.Revoked), refused(2, day.Add(3*h), edge.Revoked),
		refused(3, day.Add(25*h), edge.Overweight), refused(4, day.Add(5*h), ""),
		refused(6, day.Add(6*h), edge.Duplicate)) // above the gap at 5
	check := func(name string, from, to time.Time, want []cloud.RefusalRow) {
		t.Helper()
		got, err := s.RefusalCounts(ctx, from, to)
		if err != nil || !slices.Equal(got, want) {
			t.Errorf("%s: RefusalCounts = %+v, %v; want %+v", name, got, err, want)
		}
	}
	row := func(tid, reason string, n int64) cloud.RefusalRow {
		return cloud.RefusalRow{RelayPoint: tid, Reason: reason, Refusals: n}
	}
	check("the day", day, day.AddDate(0, 0, 1), []cloud.RefusalRow{row("t-1", "EXPIRED", 1), row("t-3", "", 1), row("t-3", "REVOKED", 2)})
	check("two days", day, day.AddDate(0, 0, 2), []cloud.RefusalRow{row("t-1", "EXPIRED", 1), row("t-3", "", 1), row("t-3", "OVERWEIGHT", 1), row("t-3", "REVOKED", 2)})
	check("the next day", day.AddDate(0, 0, 1), day.AddDate(0, 0, 2), []cloud.RefusalRow{row("t-3", "OVERWEIGHT", 1)})
	check("the day before", day.AddDate(0, 0, -1), day, []cloud.RefusalRow{})

	store(Op("t-3", 5, edge.OpCommandApplied, "", day.Add(6*h))) // the gap fills
	check("the day, gap filled", day, day.AddDate(0, 0, 1), []cloud.RefusalRow{row("t-1", "EXPIRED", 1), row("t-3", "", 1), row("t-3", "DUPLICATE", 1), row("t-3", "REVOKED", 2)})
	// A resend changes nothing.
	store(refused(1, day.Add(2*h), edge.Revoked), refused(6, day.Add(6*h), edge.Duplicate))
	check("after a resend", day, day.AddDate(0, 0, 1), []cloud.RefusalRow{row("t-1", "EXPIRED", 1), row("t-3", "", 1), row("t-3", "DUPLICATE", 1), row("t-3", "REVOKED", 2)})
}
