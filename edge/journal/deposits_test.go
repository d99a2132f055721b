package journal

import (
	"context"
	"encoding/json"
	"sync"
	"testing"

	"github.com/comptoir/comptoir/edge"
)

func TestAppendAll(t *testing.T) {
	ctx := context.Background()
	j := MustOpen(t, "", Config{})
	d1 := MustAppend(t, j, depositOp("T1", "ra-1", "001"))
	MustAppend(t, j, depositOp("T2", "ra-2", "002"))

	// Concurrent appends go on while a group is written; the group's seqs
	// stay consecutive.
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() { MustAppend(t, j, refusedOp(edge.Expired)) })
	}
	manifest := edge.NewOperation(edge.OpManifestClosed, t0, "clerk-1", "", edge.ManifestData{ManifestID: "m-1", Carrier: "colis", Count: 2, Trackings: []string{"T1", "T2"}})
	job := edge.PrintJob{Printer: edge.PrinterReceipt, Format: edge.FormatESCPOS, Data: []byte("manifest")}
	ops, err := j.AppendAll(ctx, []edge.Operation{handoverOp("T1"), handoverOp("T2"), manifest}, job)
	wg.Wait()
	if err != nil {
		t.Fatal(err)
	}
	if len(ops) != 3 || ops[1].Seq != ops[0].Seq+1 || ops[2].Seq != ops[1].Seq+1 || ops[2].Type != edge.OpManifestClosed {
		t.Fatalf("group seqs: %+v", ops)
	}
	if shelf, _ := j.Shelf(ctx); len(shelf) != 0 {
		t.Errorf("shelf after the group: %+v", shelf)
	}
	rec, err := j.DepositByID(ctx, d1.ID)
	if err != nil || rec.State != edge.DepositHandedOver || rec.ClosedSeq != ops[0].Seq {
		t.Errorf("record of T1: %+v, %v", rec, err)
	}
	jobs, _ := j.PendingJobs(ctx)
	if len(jobs) != 1 || jobs[0].OperationID != ops[2].ID {
		t.Errorf("manifest job %+v", jobs)
	}

	// One bad op refuses the whole group.
	last := j.LastSeq()
	bad := edge.Operation{Type: edge.OpReturnCancelled, Data: json.RawMessage(`{"deposit_id":`)}
	if _, err := j.AppendAll(ctx, []edge.Operation{handoverOp("T3"), bad}); edge.ErrorCode(err) != edge.EINVALID {
		t.Errorf("group with a malformed op: %v, want INVALID", err)
	}
	if _, err := j.AppendAll(ctx, []edge.Operation{handoverOp("T3"), depositOp("T4", "", "003")}); edge.ErrorCode(err) != edge.EINVALID {
		t.Errorf("group with a deposit: %v, want INVALID", err)
	}
	if j.LastSeq() != last {
		t.Errorf("a refused group journalled something: seq %d -> %d", last, j.LastSeq())
	}
}

func TestDepositRecords(t *testing.T) {
	ctx := context.Background()
	j := MustOpen(t, "", Config{})
	if _, err := j.DepositByID(ctx, "nope"); edge.ErrorCode(err) != edge.ENOTFOUND {
		t.Errorf("unknown deposit: %v", err)
	}
	d1 := MustAppend(t, j, depositOp("T1", "ra-1", "001"))
	c := MustAppend(t, j, cancelOp(d1.ID))
	d2 := MustAppend(t, j, depositOp("T1", "ra-1", "001")) // deposited again after the cancel
	rec, _ := j.DepositByID(ctx, d1.ID)
	if rec.State != edge.DepositCancelled || rec.ClosedSeq != c.Seq {
		t.Errorf("cancelled record: %+v", rec)
	}
	rec, found, err := j.DepositByTracking(ctx, "T1")
	if err != nil || !found || rec.Parcel.DepositID != d2.ID || rec.State != edge.DepositOnShelf {
		t.Errorf("last deposit of T1: %+v %v %v", rec, found, err)
	}
	if _, found, _ := j.DepositByTracking(ctx, "T9"); found {
		t.Error("T9 found")
	}
	instore := edge.NewOperation(edge.OpInstoreReceived, t0, "clerk-1", "T5", edge.InstoreData{RAID: "ra-5", Resolution: edge.ResolutionRefund})
	MustAppend(t, j, instore)
	if ok, err := j.InstoreReceived(ctx, "ra-5"); !ok || err != nil {
		t.Errorf("instore ra-5: %v %v", ok, err)
	}
	if ok, _ := j.InstoreReceived(ctx, "ra-1"); ok {
		t.Error("ra-1 received in store")
	}

	// The records survive a restart and compaction of the history.
	dir := j.dir
	j.Close()
	j = MustOpen(t, dir, Config{})
	if err := j.Ack(ctx, 1, j.LastSeq()); err != nil {
		t.Fatal(err)
	}
	if n, err := j.Compact(ctx, -1); err != nil || n != 4 {
		t.Fatalf("compacted %d operations (%v), want 4", n, err)
	}
	if rec, err := j.DepositByID(ctx, d1.ID); err != nil || rec.State != edge.DepositCancelled {
		t.Errorf("record after compaction: %+v %v", rec, err)
	}
	if ok, _ := j.InstoreReceived(ctx, "ra-5"); !ok {
		t.Error("in-store index lost by compaction")
	}
}
