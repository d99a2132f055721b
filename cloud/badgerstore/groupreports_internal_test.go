package badgerstore

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/comptoir/comptoir/cloud"
	"github.com/comptoir/comptoir/cloud/storetest"
	"github.com/comptoir/comptoir/edge"
)

// TestGroupReports: the steps of returns stored in one group commit (one
// batch, so one transaction: several steps of each return, many returns
// sharing their counters) leave the very facts and counters (f/ and a/
// keys, byte for byte) and reports that the same events stored one by one
// leave. The group's record holds all its steps, folded in one
// transaction; one by one, each step has a record.
func TestGroupReports(t *testing.T) {
	ctx := context.Background()
	day := time.Date(2026, 11, 20, 0, 0, 0, 0, time.UTC)
	items := []edge.Item{{SKU: "S1", Qty: 1, Reason: edge.ReasonChangedMind}, {SKU: "S2", Qty: 1, Reason: edge.ReasonWrongSize}}
	var evs []edge.Operation
	seq := uint64(0)
	op := func(typ edge.OpType, tracking string, at time.Time, data any) {
		seq++
		o := storetest.Op("t-1", seq, typ, tracking, at)
		o.Data, _ = json.Marshal(data)
		evs = append(evs, o)
	}
	var returns []cloud.Return
	for i := range 40 {
		r := cloud.Return{ID: fmt.Sprintf("ra-%d", i), Merchant: "acme", Tracking: fmt.Sprintf("RG%09dFR", i),
			Carrier: []string{"DEMO", "UPS"}[i%2], Items: items[:1+i%2], CreatedAt: day, Token: "t", ExpiresAt: day.AddDate(0, 1, 0)}
		returns = append(returns, r)
		h := time.Duration(i%5+1) * time.Hour
		if i%4 == 3 { // received in store, then handed over
			op(edge.OpInstoreReceived, r.Tracking, day.Add(h), edge.InstoreData{RAID: r.ID, Resolution: edge.ResolutionRefund,
				Items: []edge.InstoreItem{{SKU: "S1", Qty: 1, Condition: edge.ConditionOpened, Disposition: edge.DispositionRestock}}})
			op(edge.OpParcelHandedOver, r.Tracking, day.Add(h+3*time.Hour), edge.HandedOverData{ManifestID: "m-1", Carrier: r.Carrier})
			continue
		}
		// Deposited, cancelled, deposited again by a clock that makes it
		// the first drop-off (a minute earlier changes the facts and no
		// counter: every duration stays in its bucket; an hour earlier
		// moves the drop-off's), handed over.
		dep := edge.DepositData{RAID: r.ID, Verified: true, Mode: edge.ModeLabelAtCounter, Items: r.Items}
		op(edge.OpReturnDeposited, r.Tracking, day.Add(h), dep)
		op(edge.OpReturnCancelled, r.Tracking, day.Add(h+time.Hour), nil)
		op(edge.OpReturnDeposited, r.Tracking, day.Add(h-[]time.Duration{time.Minute, time.Hour + time.Minute}[i%2]), dep)
		op(edge.OpParcelHandedOver, r.Tracking, day.Add(h+3*time.Hour), edge.HandedOverData{ManifestID: "m-1", Carrier: r.Carrier})
	}
	// A carrier's parcel, of no return, in the same group.
	op(edge.OpReturnDeposited, "RGCARRIERFR", day.Add(time.Hour), edge.DepositData{Verified: true, Mode: edge.ModeLabelAtCounter})

	open := func(batch bool) *Store {
		s, err := OpenWith(t.TempDir(), Options{})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { s.Close() })
		if err := s.CreateMerchant(ctx, cloud.Merchant{ID: "acme", Name: "ACME", CreatedAt: day}); err != nil {
			t.Fatal(err)
		}
		for _, r := range returns {
			if err := s.CreateReturn(ctx, r); err != nil {
				t.Fatal(err)
			}
		}
		if batch {
			if res, err := s.StoreEvents(ctx, "t-1", evs, day.AddDate(0, 0, 1)); err != nil || len(res.Conflicts) != 0 {
				t.Fatal(res.Conflicts, err)
			}
			return s
		}
		for _, ev := range evs {
			if res, err := s.StoreEvents(ctx, "t-1", []edge.Operation{ev}, day.AddDate(0, 0, 1)); err != nil || len(res.Conflicts) != 0 {
				t.Fatal(res.Conflicts, err)
			}
		}
		return s
	}
	group, single := open(true), open(false)

	dump := func(s *Store) map[string][]byte {
		if err := s.fold(ctx); err != nil { // the records into f/ and a/ (insightlog.go)
			t.Fatal(err)
		}
		return keysUnder(t, s, "f/", "a/")
	}
	g, o := dump(group), dump(single)
	if len(g) != len(o) || len(g) < len(returns)+9 {
		t.Fatalf("group: %d keys, one by one: %d (returns: %d)", len(g), len(o), len(returns))
	}
	for k, v := range o {
		if !bytes.Equal(g[k], v) {
			t.Errorf("%q: group %x, one by one %x", k, g[k], v)
		}
	}
	q := cloud.ReportQuery{From: day, To: day.AddDate(0, 0, 1)}
	for _, by := range []cloud.ReportBy{cloud.ByReason, cloud.BySKU, cloud.ByDisposition, cloud.ByResolution, cloud.ByRelayPoint, cloud.ByCarrier} {
		q.By = by
		gr, err := group.ReturnsReport(ctx, cloud.MerchantScope("acme"), q)
		if err != nil {
			t.Fatal(err)
		}
		or, err := single.ReturnsReport(ctx, cloud.MerchantScope("acme"), q)
		if err != nil {
			t.Fatal(err)
		}
		records := func(rows []cloud.ReportRow) (out []string) {
			for _, r := range rows {
				out = append(out, strings.Join(r.Record(), " "))
			}
			return out
		}
		if g, o := records(gr), records(or); len(g) == 0 || !slices.Equal(g, o) {
			t.Errorf("by %s: group %q, one by one %q", by, g, o)
		}
	}
}
