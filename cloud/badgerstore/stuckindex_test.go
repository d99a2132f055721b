package badgerstore

import (
	"fmt"
	"testing"
	"time"

	"github.com/comptoir/comptoir/cloud"
)

// TestStuckIndexMoves: a parcel set again leaves its old place in the
// trees and the hours' counts (no copy left behind), one that waits no
// more leaves the index, and a merchant with no parcel waiting has no
// trees left.
func TestStuckIndexMoves(t *testing.T) {
	at := time.Date(2026, 11, 20, 10, 30, 0, 0, time.UTC)
	x := newStuckIndex()
	set := func(tracking, merchant string, status cloud.Status, since time.Time) {
		x.set(cloud.Parcel{Tracking: tracking, Merchant: merchant, Status: status, Since: since, Terminal: "t-1"})
	}
	set("P1", "acme", cloud.StatusDeposited, at)
	set("P2", "acme", cloud.StatusDeposited, at.Add(time.Minute))
	set("P3", "", cloud.StatusDeposited, at.Add(-time.Hour))
	set("P1", "acme", cloud.StatusHandedOver, at.Add(2*time.Hour))       // moves stage
	set("P2", "acme", cloud.StatusReceivedInStore, at.Add(-2*time.Hour)) // same stage, earlier
	set("P3", "", cloud.StatusInTransit, at.Add(3*time.Hour))            // waits no more
	list := func(scope cloud.Scope, stage cloud.Stage) string {
		var s []string
		for _, p := range x.list(scope, stage, at.Add(24*time.Hour), 10) {
			s = append(s, fmt.Sprintf("%s@%s/%s", p.Tracking, p.Since.Sub(at), p.Terminal))
		}
		return fmt.Sprint(s)
	}
	for _, tt := range []struct {
		scope cloud.Scope
		stage cloud.Stage
		want  string
	}{
		{cloud.Network, cloud.StageAwaitingHandover, "[P2@-2h0m0s/t-1]"},
		{cloud.Network, cloud.StageAwaitingCarrier, "[P1@2h0m0s/t-1]"},
		{cloud.MerchantScope("acme"), cloud.StageAwaitingHandover, "[P2@-2h0m0s/t-1]"},
		{cloud.MerchantScope("acme"), cloud.StageAwaitingCarrier, "[P1@2h0m0s/t-1]"},
	} {
		if got := list(tt.scope, tt.stage); got != tt.want {
			t.Errorf("%q %s = %s, want %s", tt.scope.Merchant, tt.stage, got, tt.want)
		}
	}
	for _, tt := range []struct {
		stage  cloud.Stage
		before time.Time
		want   int
	}{
		{cloud.StageAwaitingHandover, at.Add(24 * time.Hour), 1},
		{cloud.StageAwaitingHandover, at.Add(-2 * time.Hour), 0}, // not strictly before
		{cloud.StageAwaitingHandover, at.Add(-2*time.Hour + 1), 1},
		{cloud.StageAwaitingCarrier, at.Add(2*time.Hour + 1), 1},
		{cloud.StageAwaitingCarrier, at.Add(2 * time.Hour), 0},
	} {
		if got := x.count(tt.stage, tt.before); got != tt.want {
			t.Errorf("count(%s, %s) = %d, want %d", tt.stage, tt.before.Sub(at), got, tt.want)
		}
	}
	set("P1", "acme", cloud.StatusRefunded, at.Add(4*time.Hour))
	set("P2", "acme", cloud.StatusCancelled, at.Add(4*time.Hour))
	if len(x.m) != 0 || len(x.merchants) != 0 || x.network[0].Len()+x.network[1].Len() != 0 || len(x.hours[0])+len(x.hours[1]) != 0 {
		t.Errorf("index after every parcel left: %d parcels, %d merchants, %d+%d in trees, %d+%d hours",
			len(x.m), len(x.merchants), x.network[0].Len(), x.network[1].Len(), len(x.hours[0]), len(x.hours[1]))
	}
}
