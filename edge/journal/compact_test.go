package journal

import (
	"context"
	"testing"
	"time"

	"github.com/comptoir/comptoir/edge"
)

func TestDiskBudget(t *testing.T) {
	ctx := context.Background()
	j := MustOpen(t, "", Config{DiskBudgetBytes: 1})
	if j.DiskBudget() != 1 || j.DiskUsage() <= 1 {
		t.Fatalf("budget %d, usage %d: want 1 and more", j.DiskBudget(), j.DiskUsage())
	}
	MustAppend(t, j, refusedOp(edge.Expired))
	_, err := j.Append(ctx, depositOp("XY1", "ra-1", "001"))
	if code := edge.ErrorCode(err); code != string(edge.StorageFull) {
		t.Fatalf("deposit over budget: got %v, want code %s", err, edge.StorageFull)
	}
	if r := edge.Refusals(err); len(r) != 1 || r[0] != edge.StorageFull {
		t.Errorf("refusals: got %v, want [%s]", r, edge.StorageFull)
	}
	// Nothing else is refused, and the refused deposit took no seq.
	for i, op := range []edge.Operation{refusedOp(edge.StorageFull), handoverOp("XY0"), cancelOp("d-1")} {
		if got := MustAppend(t, j, op); got.Seq != uint64(i+2) {
			t.Errorf("%s over budget: got seq %d, want %d", op.Type, got.Seq, i+2)
		}
	}
	if shelf, _ := j.Shelf(ctx); len(shelf) != 0 {
		t.Errorf("shelf: got %d parcels, want none", len(shelf))
	}
}

func TestDiskBudgetFills(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	j := MustOpen(t, dir, Config{})
	base := j.DiskUsage()
	j.Close()

	j = MustOpen(t, dir, Config{DiskBudgetBytes: base + 64<<10})
	label := edge.PrintJob{Printer: edge.PrinterLabel, Data: make([]byte, 2048)}
	accepted := 0
	for i := range 10_000 {
		_, err := j.Append(ctx, depositOp("XY"+string(rune('A'+i%26)), "", "001"), label)
		if edge.ErrorCode(err) == string(edge.StorageFull) {
			break
		} else if err != nil {
			t.Fatal(err)
		}
		accepted++
	}
	t.Logf("%d deposits accepted under a budget of 64 KiB more than an empty journal", accepted)
	if accepted == 0 || accepted == 10_000 {
		t.Fatalf("accepted %d deposits under a 64 KiB budget: want some, then STORAGE_FULL", accepted)
	}
	if got := j.LastSeq(); got != uint64(accepted) {
		t.Errorf("last seq %d after %d accepted deposits", got, accepted)
	}
}

func TestCompact(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	j := MustOpen(t, dir, Config{})
	old := time.Now().Add(-48 * time.Hour)
	for i := range 10 {
		op := refusedOp(edge.Expired)
		op.OccurredAt = old.Add(time.Duration(i) * time.Minute)
		MustAppend(t, j, op, edge.PrintJob{ID: "job-" + string(rune('a'+i)), Printer: edge.PrinterReceipt})
	}
	recent := refusedOp(edge.Expired)
	recent.OccurredAt = time.Now()
	MustAppend(t, j, recent)
	MustAppend(t, j, edge.Operation{Type: edge.OpCommandApplied, OccurredAt: time.Now()})
	if err := j.Ack(ctx, 1, 6); err != nil {
		t.Fatal(err)
	}
	if err := j.Ack(ctx, 12, 12); err != nil {
		t.Fatal(err)
	}
	job, _ := j.PrintJob(ctx, "job-a")
	job.State, job.UpdatedAt = edge.JobDone, old
	j.PutPrintJob(ctx, job)
	job, _ = j.PrintJob(ctx, "job-b")
	job.State, job.UpdatedAt = edge.JobDone, time.Now()
	j.PutPrintJob(ctx, job)

	n, err := j.Compact(ctx, 24*time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	// Acked and old: 1..6. Unacked old (7..10) and recent ones stay.
	if n != 6 {
		t.Errorf("compact deleted %d operations, want 6", n)
	}
	ops, _ := j.Operations(ctx, 0, 0)
	if got, want := seqs(ops), span(7, 12); !equalSeqs(got, want) {
		t.Errorf("operations after compact: got %v, want %v", got, want)
	}
	if _, err := j.PrintJob(ctx, "job-a"); edge.ErrorCode(err) != edge.ENOTFOUND {
		t.Errorf("old done job after compact: got %v, want NOT_FOUND", err)
	}
	if _, err := j.PrintJob(ctx, "job-b"); err != nil {
		t.Errorf("recent done job after compact: %v", err)
	}
	if pending, _ := j.Pending(ctx, 0, 0); !equalSeqs(seqs(pending), span(7, 11)) {
		t.Errorf("pending after compact: got %v, want 7..11", seqs(pending))
	}

	// Compacting the whole history keeps the seq going, across a reopen.
	if err := j.Ack(ctx, 1, 12); err != nil {
		t.Fatal(err)
	}
	if n, err := j.Compact(ctx, -time.Hour); err != nil || n != 6 {
		t.Errorf("second compact: got %d, %v; want 6", n, err)
	}
	j.Close()
	j = MustOpen(t, dir, Config{})
	if ops, _ := j.Operations(ctx, 0, 0); len(ops) != 0 {
		t.Errorf("operations after compacting all: got %v", seqs(ops))
	}
	if got := MustAppend(t, j, refusedOp(edge.Expired)); got.Seq != 13 {
		t.Errorf("seq after compacting all and reopening: got %d, want 13", got.Seq)
	}
}
