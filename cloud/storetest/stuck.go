package storetest

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/comptoir/comptoir/cloud"
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
