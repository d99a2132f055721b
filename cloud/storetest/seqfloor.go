package storetest

import (
	"context"
	"testing"

	"github.com/comptoir/comptoir/cloud"
	"github.com/comptoir/comptoir/edge"
)

// testSeqFloor: the floor of a terminal is the highest seq held, acked or
// stored above a gap; a terminal never heard of has 0.
func testSeqFloor(t *testing.T, s cloud.Store) {
	ctx := context.Background()
	floor := func(tid string) uint64 {
		t.Helper()
		n, err := s.SeqFloor(ctx, tid)
		if err != nil {
			t.Fatal(err)
		}
		return n
	}
	if n := floor("t-new"); n != 0 {
		t.Errorf("floor of a terminal with no event = %d, want 0", n)
	}
	mustStore(t, s, "t-1", Op("t-1", 1, edge.OpReturnDeposited, "XY1", t0), Op("t-1", 2, edge.OpReturnDeposited, "XY2", t0))
	if n := floor("t-1"); n != 2 {
		t.Errorf("floor after seqs 1-2 = %d, want 2", n)
	}
	res := mustStore(t, s, "t-1", Op("t-1", 5, edge.OpReturnDeposited, "XY5", t0))
	if res.AckedSeq != 2 {
		t.Fatalf("acked over a gap: %d", res.AckedSeq)
	}
	if n := floor("t-1"); n != 5 {
		t.Errorf("floor with seq 5 above a gap = %d, want 5", n)
	}
	if n := floor("t-2"); n != 0 {
		t.Errorf("another terminal's floor = %d, want 0", n)
	}
}
