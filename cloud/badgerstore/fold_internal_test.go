package badgerstore

import (
	"fmt"
	"testing"
	"time"

	"github.com/comptoir/comptoir/cloud"
	"github.com/comptoir/comptoir/edge"
)

// TestFoldStepAllocs: a fold's steps allocate nothing a step or a
// return (the returns' facts are in the fold's array, one closure counts
// them, their counters' changes are added in place): what 512 steps of
// 256 returns folded lately allocate is the fold's own and a sum a
// counter. The fold allocated each return's facts before.
func TestFoldStepAllocs(t *testing.T) {
	l := newInsightLog()
	at := time.Date(2026, 11, 20, 8, 0, 0, 0, time.UTC)
	items := []edge.Item{{SKU: "S1", Reason: edge.ReasonDamaged}, {SKU: "S2", Reason: edge.ReasonWrongSize}}
	var steps []cloud.PendingStep
	for i := range 256 {
		tracking := fmt.Sprintf("AL%06d", i)
		f := cloud.NewReturnFacts(cloud.Return{Merchant: "acme", Carrier: "UPS", CreatedAt: at, Items: items})
		l.folded[tracking] = &f
		steps = append(steps,
			cloud.PendingStep{Tracking: tracking, Status: cloud.StatusDeposited, At: at.Add(time.Hour), Terminal: "t-1"},
			cloud.PendingStep{Tracking: tracking, Status: cloud.StatusHandedOver, At: at.Add(3 * time.Hour)})
	}
	rs := []*insight{{steps: steps}}
	var g *folding
	allocs := testing.AllocsPerRun(10, func() {
		g = newFolding(rs, 0)
		if err := g.steps(nil, l, steps); err != nil { // all in memory: no f/ read
			t.Fatal(err)
		}
	})
	if len(g.counts) != 6 || g.reads != 0 {
		t.Fatalf("%d counters, %d reads; want 6 (2 reasons, 2 SKUs, the relay point, the carrier), none", len(g.counts), g.reads)
	}
	for tracking, ff := range g.facts {
		if !ff.changed || ff.f.Relay != "t-1" || ff.f.HandedAt.IsZero() {
			t.Fatalf("%s: %+v, want changed, dropped off at t-1 and handed over", tracking, ff)
		}
	}
	if n := len(steps) / 16; allocs > float64(n) {
		t.Errorf("%v allocations for %d steps and %d counters, want %d at most", allocs, len(steps), len(g.counts), n)
	}
	t.Logf("%v allocations for %d steps and %d counters", allocs, len(steps), len(g.counts))
}
