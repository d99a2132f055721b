package storetest

import (
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/comptoir/comptoir/cloud"
	"github.com/comptoir/comptoir/edge"
)

// testStuckParcels: on ReportFixture's parcels, ten days after, the
// parcels that wait are A5 (deposited at t-1 nine days before day), the
// carrier's parcel (deposited day+1h), A3 (received in store day+1d) on
// shelves, and B1 (handed over day+3h, never seen by the carrier).
func testStuckParcels(t *testing.T, s cloud.Store) {
	ReportFixture(t, s)
	now := day.AddDate(0, 0, 10)
	acme, beta := cloud.MerchantScope("acme"), cloud.MerchantScope("beta")
	shelf, carrier := string(cloud.StageAwaitingHandover), string(cloud.StageAwaitingCarrier)
	tests := []struct {
		scope                   cloud.Scope
		stage, olderThan, limit string
		want                    string
	}{
		{acme, shelf, "1h", "", "[A5@-216h0m0s/t-1 A3@24h0m0s/t-1]"},
		{cloud.Network, shelf, "1h", "", "[A5@-216h0m0s/t-1 CARRIER1@1h0m0s/t-1 A3@24h0m0s/t-1]"},
		{cloud.Network, shelf, "1h", "2", "[A5@-216h0m0s/t-1 CARRIER1@1h0m0s/t-1]"},
		{acme, shelf, "9d", "", "[A5@-216h0m0s/t-1]"}, // A3 since exactly 9 days: not older
		{cloud.Network, shelf, "30d", "", "[]"},
		{beta, carrier, "1h", "", "[B1@3h0m0s/t-1]"},
		{acme, carrier, "1h", "", "[]"}, // A1 reached the carrier
		{beta, shelf, "1h", "", "[]"},
		{cloud.MerchantScope("zeta"), shelf, "1m", "", "[]"},
	}
	st := &cloud.Stuck{Store: s, Now: func() time.Time { return now }}
	for _, tt := range tests {
		ps, err := st.List(context.Background(), tt.scope, tt.stage, tt.olderThan, tt.limit)
		if err != nil {
			t.Fatalf("%q %s %s: %v", tt.scope.Merchant, tt.stage, tt.olderThan, err)
		}
		var got []string
		for _, p := range ps {
			if string(p.Stage) != tt.stage {
				t.Errorf("%s in stage %s, want %s", p.Tracking, p.Stage, tt.stage)
			}
			got = append(got, fmt.Sprintf("%s@%s/%s", p.Tracking, p.Since.Sub(day), p.Terminal))
		}
		if g := fmt.Sprint(got); g != tt.want {
			t.Errorf("%q %s older than %s (limit %q) = %s, want %s", tt.scope.Merchant, tt.stage, tt.olderThan, tt.limit, g, tt.want)
		}
	}
	for stage, want := range map[cloud.Stage]int{cloud.StageAwaitingHandover: 3, cloud.StageAwaitingCarrier: 1} {
		if n, err := s.CountStuck(context.Background(), stage, now.Add(-time.Hour)); err != nil || n != want {
			t.Errorf("CountStuck(%s) = %d, %v; want %d", stage, n, err, want)
		}
	}
	if n, err := s.CountStuck(context.Background(), cloud.StageAwaitingHandover, day.Add(2*time.Hour)); err != nil || n != 2 {
		t.Errorf("CountStuck(awaiting_handover, day+2h) = %d, %v; want 2", n, err)
	}
}

// testStuckOldestFirst: 240 parcels of two merchants and none (carriers'
// parcels) deposited in shuffled order, pairs at the same time, a third
// of them handed over later; each list with a limit is the oldest of what
// was done first (then by tracking number), and each count is exact, at
// thresholds in the middle of the parcels' times.
func testStuckOldestFirst(t *testing.T, s cloud.Store) {
	ctx := context.Background()
	for _, m := range []string{"acme", "beta"} {
		if err := s.CreateMerchant(ctx, cloud.Merchant{ID: m, Name: m, CreatedAt: day.AddDate(0, -1, 0)}); err != nil && edge.ErrorCode(err) != edge.ECONFLICT {
			t.Fatal(err)
		}
	}
	const n = 240
	type want struct {
		tracking, merchant string
		stage              cloud.Stage
		since              time.Time
	}
	parcels := make([]want, n)
	perm := rand.New(rand.NewPCG(15, 15)).Perm(n)
	var deposits, handovers []edge.Operation
	for i := range n {
		p := want{tracking: fmt.Sprintf("OF%03d", i), merchant: []string{"acme", "beta", ""}[i%3], stage: cloud.StageAwaitingHandover}
		p.since = day.Add(time.Duration(perm[i]/2) * time.Hour) // two parcels at each time
		raID := ""
		if p.merchant != "" {
			raID = "ra-" + p.tracking
			r := cloud.Return{ID: raID, Merchant: p.merchant, Tracking: p.tracking, Carrier: "DEMO", CreatedAt: day.AddDate(0, 0, -1),
				Items: []edge.Item{{SKU: "S1", Qty: 1, Reason: edge.ReasonChangedMind}}}
			r.Token, r.ExpiresAt = "token-"+raID, day.AddDate(1, 0, 0)
			if err := s.CreateReturn(ctx, r); err != nil {
				t.Fatal(err)
			}
		}
		o := Op("t-1", uint64(len(deposits)+1), edge.OpReturnDeposited, p.tracking, p.since)
		o.Data, _ = json.Marshal(edge.DepositData{RAID: raID, Verified: true, Mode: edge.ModeLabelAtCounter})
		deposits = append(deposits, o)
		if i%3 == 1 { // handed over, in another order than deposited
			p.stage, p.since = cloud.StageAwaitingCarrier, day.AddDate(0, 0, 10).Add(time.Duration(perm[n-1-i]/2)*time.Hour)
			o := Op("t-1", uint64(n+len(handovers)+1), edge.OpParcelHandedOver, p.tracking, p.since)
			o.Data, _ = json.Marshal(edge.HandedOverData{ManifestID: "m-1", Carrier: "DEMO"})
			handovers = append(handovers, o)
		}
		parcels[i] = p
	}
	for _, batch := range [][]edge.Operation{deposits, handovers} {
		res, err := s.StoreEvents(ctx, "t-1", batch, day.AddDate(0, 0, 30))
		if err != nil || len(res.Conflicts) > 0 {
			t.Fatalf("StoreEvents = %+v, %v", res, err)
		}
	}
	slices.SortFunc(parcels, func(a, b want) int {
		if c := a.since.Compare(b.since); c != 0 {
			return c
		}
		return strings.Compare(a.tracking, b.tracking)
	})
	for _, scope := range []cloud.Scope{cloud.Network, cloud.MerchantScope("acme"), cloud.MerchantScope("beta"), cloud.MerchantScope("zeta")} {
		for _, stage := range cloud.Stages {
			for _, before := range []time.Time{day.Add(50 * time.Hour), day.Add(50*time.Hour + time.Minute), day.AddDate(0, 0, 10).Add(90 * time.Hour), day.AddDate(1, 0, 0)} {
				var all []string
				for _, p := range parcels {
					if p.stage == stage && p.since.Before(before) && (scope.All() || p.merchant == scope.Merchant) {
						all = append(all, fmt.Sprintf("%s@%s", p.tracking, p.since.Sub(day)))
					}
				}
				for _, limit := range []int{1, 7, 25, cloud.MaxStuckParcels} {
					ps, err := s.StuckParcels(ctx, scope, cloud.StuckQuery{Stage: stage, Before: before, Limit: limit})
					if err != nil {
						t.Fatal(err)
					}
					var got []string
					for _, p := range ps {
						got = append(got, fmt.Sprintf("%s@%s", p.Tracking, p.Since.Sub(day)))
					}
					if w := all[:min(limit, len(all))]; !slices.Equal(got, w) {
						t.Errorf("%q %s before %s, limit %d = %v, want %v", scope.Merchant, stage, before.Sub(day), limit, got, w)
					}
				}
				if !scope.All() {
					continue
				}
				if got, err := s.CountStuck(ctx, stage, before); err != nil || got != len(all) {
					t.Errorf("CountStuck(%s, %s) = %d, %v; want %d", stage, before.Sub(day), got, err, len(all))
				}
			}
		}
	}
}
