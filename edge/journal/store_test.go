package journal

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/json"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/comptoir/comptoir/edge"
	"github.com/dgraph-io/badger/v4"
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

// TestPrintJobData: a receipt's raster is stored deflated and read back as
// it was; a job stored before deflate (its data as it is) still reads; a job
// whose stored form would reach Badger's value log is refused.
func TestPrintJobData(t *testing.T) {
	ctx := context.Background()
	receipt, err := os.ReadFile(filepath.Join("..", "..", "printer", "testdata", "receipt_80mm.bin"))
	if err != nil {
		t.Fatal(err)
	}
	j := MustOpen(t, t.TempDir(), Config{})
	MustAppend(t, j, depositOp("XY1", "", "001"),
		edge.PrintJob{ID: "receipt-1", Printer: edge.PrinterReceipt, Format: edge.FormatESCPOS, Data: receipt, CreatedAt: t0})
	job, err := j.PrintJob(ctx, "receipt-1")
	if err != nil || !bytes.Equal(job.Data, receipt) {
		t.Fatalf("receipt read back: %d bytes, %v; want its %d bytes", len(job.Data), err, len(receipt))
	}
	stored := func(id string) []byte {
		t.Helper()
		var v []byte
		err := j.db.View(func(txn *badger.Txn) error {
			item, err := txn.Get(strKey(prefixJob, id))
			if err != nil {
				return err
			}
			v, err = item.ValueCopy(nil)
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
	if n := len(stored("receipt-1")); n > len(receipt)/4 {
		t.Errorf("receipt of %d bytes stored in %d, want at most a quarter", len(receipt), n)
	}

	// The stored form of before: the JSON, a newline, the data as it is.
	old := job
	old.ID, old.Data = "receipt-old", nil
	meta, err := json.Marshal(old)
	if err != nil {
		t.Fatal(err)
	}
	err = j.db.Update(func(txn *badger.Txn) error {
		return txn.Set(strKey(prefixJob, old.ID), append(append(meta, '\n'), receipt...))
	})
	if err != nil {
		t.Fatal(err)
	}
	if got, err := j.PrintJob(ctx, old.ID); err != nil || !bytes.Equal(got.Data, receipt) {
		t.Errorf("job stored before deflate: %d bytes, %v; want %d", len(got.Data), err, len(receipt))
	}

	// Random bytes do not deflate: over the threshold, refused.
	big := make([]byte, valueThreshold)
	rand.Read(big)
	if err := j.PutPrintJob(ctx, edge.PrintJob{ID: "big", Data: big}); edge.ErrorCode(err) != edge.ETOOLARGE {
		t.Errorf("job of %d random bytes: got %v, want code %s", len(big), err, edge.ETOOLARGE)
	}
	if _, err := j.PrintJob(ctx, "big"); edge.ErrorCode(err) != edge.ENOTFOUND {
		t.Errorf("refused job: got %v, want code %s", err, edge.ENOTFOUND)
	}
}
