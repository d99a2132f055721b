package journal

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"testing"

	"github.com/comptoir/comptoir/edge"
)

func TestShelf(t *testing.T) {
	// step builds an operation from the ids of the deposits made so far.
	type step func(deposits map[string]string) edge.Operation
	deposit := func(tracking, ra string) step {
		return func(map[string]string) edge.Operation { return depositOp(tracking, ra, "slot-"+tracking) }
	}
	cancel := func(tracking string) step {
		return func(d map[string]string) edge.Operation { return cancelOp(d[tracking]) }
	}
	handover := func(tracking string) step {
		return func(map[string]string) edge.Operation { return handoverOp(tracking) }
	}
	tests := []struct {
		name  string
		steps []step
		want  []string // trackings on the shelf, oldest first
	}{
		{name: "empty", want: []string{}},
		{name: "deposits, oldest first", steps: []step{deposit("A", "ra-a"), deposit("B", ""), deposit("C", "ra-c")}, want: []string{"A", "B", "C"}},
		{name: "cancel by deposit id", steps: []step{deposit("A", "ra-a"), deposit("B", ""), cancel("A")}, want: []string{"B"}},
		{name: "handover by tracking", steps: []step{deposit("A", "ra-a"), deposit("B", ""), handover("B")}, want: []string{"A"}},
		{name: "unknown cancel and handover change nothing", steps: []step{deposit("A", ""), cancel("Z"), handover("Z")}, want: []string{"A"}},
		{name: "handover twice", steps: []step{deposit("A", ""), handover("A"), handover("A")}, want: []string{}},
		{name: "deposited again after handover", steps: []step{deposit("A", "ra-a"), handover("A"), deposit("A", "ra-a")}, want: []string{"A"}},
		{name: "refusals do not shelve", steps: []step{func(map[string]string) edge.Operation { return refusedOp(edge.Expired) }}, want: []string{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx := context.Background()
			dir := t.TempDir()
			j := MustOpen(t, dir, Config{})
			deposits := map[string]string{}
			for _, s := range tt.steps {
				op := MustAppend(t, j, s(deposits))
				if op.Type == edge.OpReturnDeposited {
					deposits[op.Tracking] = op.ID
				}
			}
			shelf, err := j.Shelf(ctx)
			if err != nil {
				t.Fatal(err)
			}
			got := []string{}
			for _, p := range shelf {
				got = append(got, p.Tracking)
				if p.DepositID != deposits[p.Tracking] {
					t.Errorf("parcel %s: deposit id %q, want %q", p.Tracking, p.DepositID, deposits[p.Tracking])
				}
			}
			if len(got) != len(tt.want) {
				t.Fatalf("shelf: got %v, want %v", got, tt.want)
			}
			for i := range got {
				if got[i] != tt.want[i] {
					t.Fatalf("shelf: got %v, want %v", got, tt.want)
				}
			}
			// The count the writer keeps agrees, and so does the one a
			// reopened journal counts.
			if n, err := j.ShelfCount(ctx); err != nil || n != len(got) {
				t.Errorf("ShelfCount %d, %v; want %d", n, err, len(got))
			}
			if err := j.Close(); err != nil {
				t.Fatal(err)
			}
			j = MustOpen(t, dir, Config{})
			if n, err := j.ShelfCount(ctx); err != nil || n != len(got) {
				t.Errorf("ShelfCount after reopening %d, %v; want %d", n, err, len(got))
			}
			// The slots taken are exactly those of the parcels on the shelf.
			slots, err := j.ShelfSlots(ctx)
			if err != nil {
				t.Fatal(err)
			}
			wantSlots := []string{}
			for _, g := range got {
				wantSlots = append(wantSlots, "slot-"+g)
			}
			slices.Sort(slots)
			slices.Sort(wantSlots)
			if !slices.Equal(slots, wantSlots) {
				t.Errorf("ShelfSlots: got %v, want %v", slots, wantSlots)
			}
			// FindDeposit agrees with the shelf, by tracking and RA id.
			for tracking := range deposits {
				_, found, err := j.FindDeposit(ctx, "", tracking)
				if err != nil {
					t.Fatal(err)
				}
				onShelf := false
				for _, g := range got {
					onShelf = onShelf || g == tracking
				}
				if found != onShelf {
					t.Errorf("FindDeposit(%q): found %v, on the shelf %v", tracking, found, onShelf)
				}
			}
		})
	}
}

func TestFindDeposit(t *testing.T) {
	ctx := context.Background()
	j := MustOpen(t, "", Config{})
	a := MustAppend(t, j, depositOp("XY111", "ra-1", "004"))
	MustAppend(t, j, depositOp("XY222", "", "005"))
	tests := []struct {
		name, ra, tracking string
		wantFound          bool
		wantTracking       string
	}{
		{name: "by RA id", ra: "ra-1", wantFound: true, wantTracking: "XY111"},
		{name: "by tracking", tracking: "XY222", wantFound: true, wantTracking: "XY222"},
		{name: "RA unknown, tracking known", ra: "ra-9", tracking: "XY222", wantFound: true, wantTracking: "XY222"},
		{name: "unknown", ra: "ra-9", tracking: "XY999"},
		{name: "nothing asked"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, found, err := j.FindDeposit(ctx, tt.ra, tt.tracking)
			if err != nil {
				t.Fatal(err)
			}
			if found != tt.wantFound || p.Tracking != tt.wantTracking {
				t.Errorf("got %+v found %v, want tracking %q found %v", p, found, tt.wantTracking, tt.wantFound)
			}
		})
	}
	p, _, _ := j.FindDeposit(ctx, "ra-1", "")
	want := edge.ShelfParcel{DepositID: a.ID, Seq: a.Seq, Tracking: "XY111", RAID: "ra-1", Carrier: "colis",
		Slot: "004", WeightG: 1200, DepositedAt: a.OccurredAt, Operator: "clerk-1"}
	if p.DepositID != want.DepositID || p.Seq != want.Seq || p.Slot != want.Slot || p.Carrier != want.Carrier ||
		p.WeightG != want.WeightG || !p.DepositedAt.Equal(want.DepositedAt) || p.Operator != want.Operator {
		t.Errorf("shelf parcel: got %+v, want %+v", p, want)
	}
}

// TestShelfSameBatch checks that a handover sees the deposit written before
// it in the same transaction.
func TestShelfSameBatch(t *testing.T) {
	ctx := context.Background()
	j := MustOpen(t, "", Config{})
	release := holdWriter(t, j)
	dep := appendAsync(j, depositOp("A", "ra-a", "001"))
	waitQueued(t, j, 1)
	keep := appendAsync(j, depositOp("B", "ra-b", "002"))
	waitQueued(t, j, 2)
	hand := appendAsync(j, handoverOp("A"))
	waitQueued(t, j, 3)
	syncs := j.syncs.Load()
	release()
	for _, c := range []<-chan appended{dep, keep, hand} {
		if r := <-c; r.err != nil {
			t.Fatal(r.err)
		}
	}
	if got := j.syncs.Load() - syncs; got != 1 {
		t.Fatalf("the three appends took %d syncs, want 1 batch", got)
	}
	shelf, _ := j.Shelf(ctx)
	if len(shelf) != 1 || shelf[0].Tracking != "B" {
		t.Errorf("shelf: got %+v, want only B", shelf)
	}
	if _, found, _ := j.FindDeposit(ctx, "ra-a", "A"); found {
		t.Error("A handed over in the same batch is still found")
	}
}

// TestShelfCountConcurrent: deposits and handovers from many writers,
// which the writer commits in shared transactions (a deposit and its
// handover may share one), and appends refused on the way, leave the count
// where they leave the shelf.
func TestShelfCountConcurrent(t *testing.T) {
	ctx := context.Background()
	j := MustOpen(t, "", Config{})
	var wg sync.WaitGroup
	for w := range 8 {
		wg.Go(func() {
			for i := range 25 {
				tracking := fmt.Sprintf("W%dP%d", w, i)
				if _, err := j.Append(ctx, depositOp(tracking, "", "slot-"+tracking)); err != nil {
					t.Error(err)
					return
				}
				bad := depositOp(tracking+"X", "", "slot-X")
				bad.Data = []byte("{")
				if _, err := j.Append(ctx, bad); err == nil {
					t.Error("a deposit with malformed data was taken")
				}
				if i%3 != 0 {
					if _, err := j.Append(ctx, handoverOp(tracking)); err != nil {
						t.Error(err)
						return
					}
				}
			}
		})
	}
	wg.Wait()
	shelf, err := j.Shelf(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if n, err := j.ShelfCount(ctx); err != nil || n != len(shelf) || n != 8*9 {
		t.Errorf("ShelfCount %d, %v; the shelf holds %d, want %d", n, err, len(shelf), 8*9)
	}
}
