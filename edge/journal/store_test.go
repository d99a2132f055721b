package journal

import (
	"context"
	"testing"
	"time"

	"github.com/comptoir/comptoir/edge"
)

func TestPrintJobs(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	j := MustOpen(t, dir, Config{})
	op := MustAppend(t, j, depositOp("XY1", "", "001"),
		edge.PrintJob{ID: "label-1", Printer: edge.PrinterLabel, Format: edge.FormatZPL, Data: []byte("^XA^XZ"), CreatedAt: t0},
		edge.PrintJob{ID: "receipt-1", Printer: edge.PrinterReceipt, Format: edge.FormatESCPOS, Data: []byte{0x1b, 0x40}, CreatedAt: t0.Add(time.Second)},
	)
	MustAppend(t, j, depositOp("XY2", "", "002"),
		edge.PrintJob{ID: "label-0", Printer: edge.PrinterLabel, Data: []byte("^XA^XZ"), CreatedAt: t0.Add(-time.Hour)})

	pendingIDs := func() []string {
		t.Helper()
		jobs, err := j.PendingJobs(ctx)
		if err != nil {
			t.Fatal(err)
		}
		ids := []string{}
		for _, job := range jobs {
			ids = append(ids, job.ID)
		}
		return ids
	}
	same := func(a, b []string) bool {
		if len(a) != len(b) {
			return false
		}
		for i := range a {
			if a[i] != b[i] {
				return false
			}
		}
		return true
	}
	if got, want := pendingIDs(), []string{"label-0", "label-1", "receipt-1"}; !same(got, want) {
		t.Errorf("pending, oldest first: got %v, want %v", got, want)
	}

	job, err := j.PrintJob(ctx, "label-1")
	if err != nil || job.OperationID != op.ID || string(job.Data) != "^XA^XZ" || job.State != edge.JobPending {
		t.Fatalf("print job: got %+v, %v", job, err)
	}
	if _, err := j.PrintJob(ctx, "nope"); edge.ErrorCode(err) != edge.ENOTFOUND {
		t.Errorf("missing job: got %v, want code %s", err, edge.ENOTFOUND)
	}

	job.State, job.Attempts, job.UpdatedAt = edge.JobDone, 2, t0.Add(time.Minute)
	if err := j.PutPrintJob(ctx, job); err != nil {
		t.Fatal(err)
	}
	if got, want := pendingIDs(), []string{"label-0", "receipt-1"}; !same(got, want) {
		t.Errorf("pending after done: got %v, want %v", got, want)
	}
	failed, _ := j.PrintJob(ctx, "receipt-1")
	failed.Attempts, failed.LastError = 1, "paper out"
	if err := j.PutPrintJob(ctx, failed); err != nil {
		t.Fatal(err)
	}
	// A reprint makes a done job pending again.
	job.State = edge.JobPending
	if err := j.PutPrintJob(ctx, job); err != nil {
		t.Fatal(err)
	}
	j.Close()

	j = MustOpen(t, dir, Config{})
	if got, want := pendingIDs(), []string{"label-0", "label-1", "receipt-1"}; !same(got, want) {
		t.Errorf("pending after reopen: got %v, want %v", got, want)
	}
	if got, _ := j.PrintJob(ctx, "receipt-1"); got.LastError != "paper out" || got.Attempts != 1 {
		t.Errorf("updated job after reopen: got %+v", got)
	}
	if err := j.PutPrintJob(ctx, edge.PrintJob{}); edge.ErrorCode(err) != edge.EINVALID {
		t.Errorf("job without id: got %v, want code %s", err, edge.EINVALID)
	}
}

func TestStaff(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	j := MustOpen(t, dir, Config{})
	tests := []struct {
		name     string
		staff    edge.Staff
		wantCode string
	}{
		{name: "clerk", staff: edge.Staff{ID: "s-1", Name: "Ana", Role: edge.RoleClerk, PINHash: "h1"}},
		{name: "manager", staff: edge.Staff{ID: "s-2", Name: "Ben", Role: edge.RoleManager, PINHash: "h2"}},
		{name: "replace", staff: edge.Staff{ID: "s-1", Name: "Ana B.", Role: edge.RoleClerk, PINHash: "h3", Disabled: true}},
		{name: "no id", staff: edge.Staff{Name: "X", Role: edge.RoleClerk}, wantCode: edge.EINVALID},
		{name: "bad role", staff: edge.Staff{ID: "s-3", Role: "root"}, wantCode: edge.EINVALID},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if err := j.PutStaff(ctx, tt.staff); edge.ErrorCode(err) != tt.wantCode {
				t.Errorf("got %v, want code %q", err, tt.wantCode)
			}
		})
	}
	j.Close()
	j = MustOpen(t, dir, Config{})
	staff, err := j.ListStaff(ctx)
	if err != nil {
		t.Fatal(err)
	}
	want := []edge.Staff{
		{ID: "s-1", Name: "Ana B.", Role: edge.RoleClerk, PINHash: "h3", Disabled: true},
		{ID: "s-2", Name: "Ben", Role: edge.RoleManager, PINHash: "h2"},
	}
	if len(staff) != len(want) || staff[0] != want[0] || staff[1] != want[1] {
		t.Errorf("staff after reopen: got %+v, want %+v", staff, want)
	}
}
