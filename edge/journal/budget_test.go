package journal

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/comptoir/comptoir/edge"
)

// TestDiskWarning fills a journal past 80 % of its budget, then to
// STORAGE_FULL, and checks that nothing unsynced is dropped on the way:
// every accepted deposit stays in the outbox, and compaction keeps them all.
func TestDiskWarning(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	j := MustOpen(t, dir, Config{})
	base := j.DiskUsage()
	j.Close()

	const room = 64 << 10
	budget := base + room
	j = MustOpen(t, dir, Config{DiskBudgetBytes: budget})
	if j.DiskWarning() {
		t.Fatalf("warning on at usage %d of budget %d", j.DiskUsage(), budget)
	}
	label := edge.PrintJob{Printer: edge.PrinterLabel, Data: make([]byte, 2048)}
	accepted, warnedAt := 0, -1
	for i := range 10_000 {
		_, err := j.Append(ctx, depositOp(fmt.Sprintf("XY%09dFR", i), "", fmt.Sprintf("%03d", i%200)), label)
		if edge.ErrorCode(err) == string(edge.StorageFull) {
			break
		} else if err != nil {
			t.Fatal(err)
		}
		accepted++
		if warnedAt < 0 && j.DiskWarning() {
			warnedAt = accepted
			if u := j.DiskUsage(); float64(u) < WarnFraction*float64(budget) {
				t.Errorf("warning on at usage %d, below 80%% of %d", u, budget)
			}
		}
	}
	if warnedAt <= 0 || warnedAt >= accepted {
		t.Fatalf("warning came on after deposit %d of %d accepted: want before STORAGE_FULL", warnedAt, accepted)
	}
	if !j.DiskWarning() {
		t.Error("warning off once full")
	}
	// Nothing is dropped to make room: every deposit waits for its ack,
	// and compaction does not touch unacked operations however old.
	if _, err := j.Compact(ctx, -time.Hour); err != nil {
		t.Fatal(err)
	}
	pending, _, err := j.OutboxStats(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if pending != accepted {
		t.Errorf("outbox pending %d, want all %d accepted deposits", pending, accepted)
	}
	ops, err := j.Pending(ctx, 0, accepted+1)
	if err != nil || len(ops) != accepted {
		t.Errorf("pending operations: %d, %v; want %d", len(ops), err, accepted)
	}
}
