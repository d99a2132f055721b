package storetest

import (
	"context"
	"encoding/json"
	"fmt"
	"testing"
	"time"

	"github.com/comptoir/comptoir/cloud"
	"github.com/comptoir/comptoir/edge"
)

// day is the day the returns of the reports' tests are created; their
// steps take durations that are bounds of cloud.HistBounds, so that the
// percentiles of both stores are the durations themselves.
var day = time.Date(2026, 11, 20, 0, 0, 0, 0, time.UTC)

// ReportFixture stores a known set of returns and steps in s:
//
//	acme A1 DEMO  [S1 CHANGED_MIND, S2 DAMAGED]  deposited at t-1 after 1h, handed over 2h later,
//	                                             at the warehouse 1d after the drop-off, refunded 2d after
//	acme A2 DEMO  [S1 CHANGED_MIND]              deposited at t-2 after 4h, cancelled
//	acme A3 UPS   [S3 WRONG_SIZE]                received in store at t-1 after 1d: RESTOCK, EXCHANGE
//	acme A4 DEMO  [S2 NOT_AS_DESCRIBED]          never dropped off
//	acme A5 DEMO  [S1 CHANGED_MIND]              created ten days before, deposited at t-1
//	beta B1 DEMO  [S1 CHANGED_MIND]              deposited at t-1 after 1h, handed over 2h later
//
// beside a carrier's parcel with no return (deposited at t-1), a deposit
// of A1 by t-2 (a conflict) and a refusal: none of them is counted. The
// merchants acme, beta and zeta (with no return) are created unless they
// exist.
func ReportFixture(t testing.TB, s cloud.Store) {
	ctx := context.Background()
	for _, m := range []string{"acme", "beta", "zeta"} {
		err := s.CreateMerchant(ctx, cloud.Merchant{ID: m, Name: m, CreatedAt: day.AddDate(0, -1, 0)})
		if err != nil && edge.ErrorCode(err) != edge.ECONFLICT {
			t.Fatal(err)
		}
	}
	item := func(sku, reason string) edge.Item { return edge.Item{SKU: sku, Qty: 1, Reason: reason} }
	returns := []cloud.Return{
		{ID: "ra-a1", Merchant: "acme", Tracking: "A1", Carrier: "DEMO", Items: []edge.Item{item("S1", edge.ReasonChangedMind), item("S2", edge.ReasonDamaged)}},
		{ID: "ra-a2", Merchant: "acme", Tracking: "A2", Carrier: "DEMO", Items: []edge.Item{item("S1", edge.ReasonChangedMind)}},
		{ID: "ra-a3", Merchant: "acme", Tracking: "A3", Carrier: "UPS", Items: []edge.Item{item("S3", edge.ReasonWrongSize)}},
		{ID: "ra-a4", Merchant: "acme", Tracking: "A4", Carrier: "DEMO", Items: []edge.Item{item("S2", edge.ReasonNotAsDescribed)}, CreatedAt: day.Add(5 * time.Hour)},
		{ID: "ra-a5", Merchant: "acme", Tracking: "A5", Carrier: "DEMO", Items: []edge.Item{item("S1", edge.ReasonChangedMind)}, CreatedAt: day.AddDate(0, 0, -10)},
		{ID: "ra-b1", Merchant: "beta", Tracking: "B1", Carrier: "DEMO", Items: []edge.Item{item("S1", edge.ReasonChangedMind)}},
	}
	for _, r := range returns {
		if r.CreatedAt.IsZero() {
			r.CreatedAt = day
		}
		r.Token, r.ExpiresAt = "token-"+r.ID, r.CreatedAt.AddDate(0, 1, 0)
		if err := s.CreateReturn(ctx, r); err != nil {
			t.Fatal(err)
		}
	}
	h := time.Hour
	d := 24 * h
	op := func(tid string, seq uint64, typ edge.OpType, tracking string, at time.Time, data any) edge.Operation {
		o := Op(tid, seq, typ, tracking, at)
		o.Data, _ = json.Marshal(data)
		return o
	}
	dep := func(raID string) edge.DepositData {
		return edge.DepositData{RAID: raID, Verified: true, Mode: edge.ModeLabelAtCounter}
	}
	handover := edge.HandedOverData{ManifestID: "m-1", Carrier: "DEMO"}
	instore := edge.InstoreData{RAID: "ra-a3", Resolution: edge.ResolutionExchange, Items: []edge.InstoreItem{
		{SKU: "S3", Qty: 1, Condition: edge.ConditionOpened, Disposition: edge.DispositionRestock}}}
	store := func(tid string, evs ...edge.Operation) {
		t.Helper()
		res, err := s.StoreEvents(ctx, tid, evs, day.AddDate(0, 0, 5))
		if err != nil {
			t.Fatal(err)
		}
		if len(res.Conflicts) > 1 {
			t.Fatalf("conflicts of %s: %+v", tid, res.Conflicts)
		}
	}
	store("t-1",
		op("t-1", 1, edge.OpReturnDeposited, "A1", day.Add(h), dep("ra-a1")),
		op("t-1", 2, edge.OpReturnDeposited, "CARRIER1", day.Add(h), dep("")),
		op("t-1", 3, edge.OpInstoreReceived, "A3", day.Add(d), instore),
		op("t-1", 4, edge.OpParcelHandedOver, "A1", day.Add(3*h), handover),
		op("t-1", 5, edge.OpReturnDeposited, "B1", day.Add(h), dep("ra-b1")),
		op("t-1", 6, edge.OpParcelHandedOver, "B1", day.Add(3*h), handover),
		op("t-1", 7, edge.OpReturnDeposited, "A5", day.Add(-9*d), dep("ra-a5")),
		op("t-1", 8, edge.OpReturnRefused, "", day.Add(h), edge.RefusedData{Reason: edge.RefusalCode("EXPIRED"), Digest: "ab12"}),
	)
	store("t-2",
		op("t-2", 1, edge.OpReturnDeposited, "A2", day.Add(4*h), dep("ra-a2")),
		op("t-2", 2, edge.OpReturnCancelled, "A2", day.Add(5*h), edge.CancelledData{DepositID: "t-2-1"}),
		op("t-2", 3, edge.OpReturnDeposited, "A1", day.Add(2*h), dep("ra-a1")), // A1 is on t-1's shelf: a conflict
	)
	ps := &cloud.Partners{Store: s, Now: func() time.Time { return day.AddDate(0, 0, 10) }}
	res, err := ps.Post(ctx, cloud.MerchantScope("acme"), []cloud.PartnerEvent{
		{ID: "p-1", Tracking: "A1", Status: cloud.StatusInTransit, OccurredAt: day.Add(4 * h)},
		{ID: "p-2", Tracking: "A1", Status: cloud.StatusReceivedAtWarehouse, OccurredAt: day.Add(h + d)},
		{ID: "p-3", Tracking: "A1", Status: cloud.StatusRefunded, OccurredAt: day.Add(h + 2*d)},
		{ID: "p-3", Tracking: "A1", Status: cloud.StatusRefunded, OccurredAt: day.Add(h + 2*d)}, // a resend
	})
	if err != nil || res.Added != 3 || len(res.Refused) != 0 {
		t.Fatalf("partner events = %+v, %v", res, err)
	}
}

// row returns a report row: the counts in the order of ReportRow, then
// pairs of durations in seconds (-1: none).
func row(key string, n [8]int64, d ...int64) cloud.ReportRow {
	r := cloud.ReportRow{Key: key, Returns: n[0], Deposited: n[1], ReceivedInStore: n[2], Cancelled: n[3],
		HandedOver: n[4], ReceivedAtWarehouse: n[5], Refunded: n[6], Exchanged: n[7]}
	for st := 0; st+1 < len(d); st += 2 {
		if d[st] >= 0 {
			r.SetDuration(st/2, d[st], d[st+1])
		}
	}
	return r
}

func testReturnsReport(t *testing.T, s cloud.Store) {
	ReportFixture(t, s)
	const h, d = 3600, 86400
	acme, beta := cloud.MerchantScope("acme"), cloud.MerchantScope("beta")
	tests := []struct {
		scope    cloud.Scope
		by       cloud.ReportBy
		from, to string
		want     []cloud.ReportRow
	}{
		{acme, cloud.ByReason, "2026-11-20", "2026-11-20", []cloud.ReportRow{
			row("CHANGED_MIND", [8]int64{2, 2, 0, 1, 1, 1, 1, 0}, h, 4*h, 2*h, 2*h, d, d, 2*d, 2*d),
			row("DAMAGED", [8]int64{1, 1, 0, 0, 1, 1, 1, 0}, h, h, 2*h, 2*h, d, d, 2*d, 2*d),
			row("NOT_AS_DESCRIBED", [8]int64{1, 0, 0, 0, 0, 0, 0, 0}),
			row("WRONG_SIZE", [8]int64{1, 0, 1, 0, 0, 0, 0, 1}, d, d, -1, -1, -1, -1, 0, 0),
		}},
		{acme, cloud.BySKU, "2026-11-19", "2026-11-21", []cloud.ReportRow{
			row("S1", [8]int64{2, 2, 0, 1, 1, 1, 1, 0}, h, 4*h, 2*h, 2*h, d, d, 2*d, 2*d),
			row("S2", [8]int64{2, 1, 0, 0, 1, 1, 1, 0}, h, h, 2*h, 2*h, d, d, 2*d, 2*d),
			row("S3", [8]int64{1, 0, 1, 0, 0, 0, 0, 1}, d, d, -1, -1, -1, -1, 0, 0),
		}},
		{acme, cloud.ByRelayPoint, "2026-11-20", "2026-11-20", []cloud.ReportRow{
			row("t-1", [8]int64{2, 1, 1, 0, 1, 1, 1, 1}, h, d, 2*h, 2*h, d, d, 0, 2*d),
			row("t-2", [8]int64{1, 1, 0, 1, 0, 0, 0, 0}, 4*h, 4*h),
		}},
		{acme, cloud.ByDisposition, "2026-11-20", "2026-11-20", []cloud.ReportRow{
			row("RESTOCK", [8]int64{1, 0, 1, 0, 0, 0, 0, 1}, d, d, -1, -1, -1, -1, 0, 0),
		}},
		{acme, cloud.ByResolution, "2026-11-20", "2026-11-20", []cloud.ReportRow{
			row("EXCHANGE", [8]int64{1, 0, 1, 0, 0, 0, 0, 1}, d, d, -1, -1, -1, -1, 0, 0),
		}},
		{acme, cloud.ByCarrier, "2026-11-01", "2026-11-30", []cloud.ReportRow{
			row("DEMO", [8]int64{4, 3, 0, 1, 1, 1, 1, 0}, 4*h, d, 2*h, 2*h, d, d, 2*d, 2*d),
			row("UPS", [8]int64{1, 0, 1, 0, 0, 0, 0, 1}, d, d, -1, -1, -1, -1, 0, 0),
		}},
		// Only A5, created ten days before.
		{acme, cloud.ByCarrier, "2026-11-10", "2026-11-10", []cloud.ReportRow{
			row("DEMO", [8]int64{1, 1, 0, 0, 0, 0, 0, 0}, d, d),
		}},
		{beta, cloud.ByReason, "2026-11-20", "2026-11-20", []cloud.ReportRow{
			row("CHANGED_MIND", [8]int64{1, 1, 0, 0, 1, 0, 0, 0}, h, h, 2*h, 2*h),
		}},
		{cloud.Network, cloud.ByRelayPoint, "2026-11-20", "2026-11-20", []cloud.ReportRow{
			row("t-1", [8]int64{3, 2, 1, 0, 2, 1, 1, 1}, h, d, 2*h, 2*h, d, d, 0, 2*d),
			row("t-2", [8]int64{1, 1, 0, 1, 0, 0, 0, 0}, 4*h, 4*h),
		}},
		// Another merchant's key sees none of it.
		{cloud.MerchantScope("zeta"), cloud.ByReason, "2026-11-01", "2026-11-30", []cloud.ReportRow{}},
		{acme, cloud.ByReason, "2026-11-21", "2026-11-30", []cloud.ReportRow{}},
	}
	for _, tt := range tests {
		q, err := cloud.ParseReportQuery(tt.from, tt.to, string(tt.by))
		if err != nil {
			t.Fatal(err)
		}
		got, err := s.ReturnsReport(context.Background(), tt.scope, q)
		if err != nil {
			t.Fatalf("%s by %s: %v", tt.scope.Merchant, tt.by, err)
		}
		if g, w := rowsText(got), rowsText(tt.want); g != w {
			t.Errorf("%q by %s, %s to %s:\n got %s\nwant %s", tt.scope.Merchant, tt.by, tt.from, tt.to, g, w)
		}
	}
}

func rowsText(rows []cloud.ReportRow) string {
	if rows == nil {
		return "nil"
	}
	out := ""
	for _, r := range rows {
		out += fmt.Sprint(r.Record()) + " "
	}
	return "[" + out + "]"
}

// testDropOffMovedWithinBucket: a return deposited, cancelled and
// deposited again 10 minutes earlier (a drop-off moved within its
// histogram bucket: no counter changes) then handed over counts its
// durations from the earlier drop-off, as a return deposited once at that
// time does: 65 minutes to the handover, not the 55 of the first drop-off
// (another bucket). Two merchants, the same carrier: their rows' durations
// must agree.
func testDropOffMovedWithinBucket(t *testing.T, s cloud.Store) {
	ctx := context.Background()
	created := time.Date(2026, 11, 20, 8, 0, 0, 0, time.UTC)
	ret := func(merchant, tracking string) {
		t.Helper()
		if err := s.CreateMerchant(ctx, cloud.Merchant{ID: merchant, Name: merchant, CreatedAt: created}); err != nil {
			t.Fatal(err)
		}
		if err := s.CreateReturn(ctx, cloud.Return{ID: "ra-" + tracking, Merchant: merchant, Tracking: tracking, Carrier: "UPS", CreatedAt: created,
			ExpiresAt: created.AddDate(0, 1, 0), Token: "t", Items: []edge.Item{{SKU: "S1", Qty: 1, Reason: edge.ReasonDamaged}}}); err != nil {
			t.Fatal(err)
		}
	}
	deposit := func(tid string, seq uint64, tracking string, at time.Time) edge.Operation {
		o := Op(tid, seq, edge.OpReturnDeposited, tracking, at)
		o.Data = []byte(`{"ra_id":"ra-` + tracking + `","verified":true,"mode":"LABEL_AT_COUNTER"}`)
		return o
	}
	store := func(tid string, batches ...[]edge.Operation) {
		t.Helper()
		for _, b := range batches {
			if res, err := s.StoreEvents(ctx, tid, b, created.Add(5*time.Hour)); err != nil || len(res.Conflicts) > 0 {
				t.Fatalf("StoreEvents = %+v, %v", res, err)
			}
		}
	}
	dropped, handed := created.Add(2*time.Hour+50*time.Minute), created.Add(3*time.Hour+55*time.Minute)
	ret("m-moved", "MOVED1")
	store("t-moved",
		[]edge.Operation{deposit("t-moved", 1, "MOVED1", created.Add(3*time.Hour)), Op("t-moved", 2, edge.OpReturnCancelled, "MOVED1", created.Add(3*time.Hour+time.Minute))},
		[]edge.Operation{deposit("t-moved", 3, "MOVED1", dropped)},
		[]edge.Operation{Op("t-moved", 4, edge.OpParcelHandedOver, "MOVED1", handed)})
	ret("m-once", "ONCE1")
	store("t-once",
		[]edge.Operation{deposit("t-once", 1, "ONCE1", dropped)},
		[]edge.Operation{Op("t-once", 2, edge.OpParcelHandedOver, "ONCE1", handed)})

	row := func(merchant string) cloud.ReportRow {
		t.Helper()
		rows, err := s.ReturnsReport(ctx, cloud.MerchantScope(merchant), cloud.ReportQuery{From: created.Truncate(24 * time.Hour), To: created.AddDate(0, 0, 1), By: cloud.ByCarrier})
		if err != nil || len(rows) != 1 {
			t.Fatalf("ReturnsReport(%s) = %+v, %v; want a row", merchant, rows, err)
		}
		return rows[0]
	}
	moved, once := row("m-moved"), row("m-once")
	p := func(v *int64) string {
		if v == nil {
			return "none"
		}
		return fmt.Sprint(*v)
	}
	if p(moved.CreatedToDroppedOffP50) != p(once.CreatedToDroppedOffP50) || p(moved.DroppedOffToHandoverP50) != p(once.DroppedOffToHandoverP50) ||
		p(once.DroppedOffToHandoverP50) == "none" {
		t.Errorf("drop-off moved: created->dropped %s, dropped->handed over %s; deposited once: %s, %s",
			p(moved.CreatedToDroppedOffP50), p(moved.DroppedOffToHandoverP50), p(once.CreatedToDroppedOffP50), p(once.DroppedOffToHandoverP50))
	}
}
