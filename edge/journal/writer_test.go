package journal

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/comptoir/comptoir/edge"
)

// holdWriter blocks the writer goroutine until release is called, so that a
// test can queue requests that the writer then takes as one batch.
func holdWriter(t *testing.T, j *Journal) (release func()) {
	t.Helper()
	started, hold := make(chan struct{}), make(chan struct{})
	go j.write(context.Background(), false, func() error {
		close(started)
		<-hold
		return nil
	})
	<-started
	return func() { close(hold) }
}

// waitQueued waits until n requests wait in the writer's queue, and fails
// the test after a minute (a guard against a hang, not a timing
// assertion): the goroutines of appendAsync reach the queue on their own.
func waitQueued(t *testing.T, j *Journal, n int) {
	t.Helper()
	deadline := time.Now().Add(time.Minute)
	for len(j.reqs) < n {
		if time.Now().After(deadline) {
			t.Fatalf("%d requests queued after a minute, want %d", len(j.reqs), n)
		}
		time.Sleep(time.Millisecond)
	}
}

type appended struct {
	op  edge.Operation
	err error
}

// appendAsync appends op in a goroutine and returns where its result comes.
func appendAsync(j *Journal, op edge.Operation) <-chan appended {
	c := make(chan appended, 1)
	go func() {
		got, err := j.Append(context.Background(), op)
		c <- appended{got, err}
	}()
	return c
}

func TestGroupCommitConcurrent(t *testing.T) {
	const writers, each = 32, 40
	j := MustOpen(t, "", Config{})
	var mu sync.Mutex
	got := make(map[uint64]edge.Operation)
	var wg sync.WaitGroup
	for w := range writers {
		wg.Go(func() {
			for i := range each {
				op := edge.NewOperation(edge.OpCommandApplied, t0, fmt.Sprintf("w%d", w), fmt.Sprintf("T-%d-%d", w, i),
					edge.CommandData{CommandID: fmt.Sprintf("%d/%d", w, i), Type: "ping"})
				res, err := j.Append(context.Background(), op)
				if err != nil {
					t.Errorf("writer %d append %d: %v", w, i, err)
					return
				}
				mu.Lock()
				if prev, dup := got[res.Seq]; dup {
					t.Errorf("seq %d given twice: %s and %s", res.Seq, prev.Tracking, res.Tracking)
				}
				got[res.Seq] = res
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	const n = writers * each
	if j.LastSeq() != n || len(got) != n {
		t.Fatalf("got last seq %d and %d distinct seqs, want %d", j.LastSeq(), len(got), n)
	}
	ops, err := j.Operations(context.Background(), 0, 0)
	if err != nil {
		t.Fatal(err)
	}
	if len(ops) != n {
		t.Fatalf("operations: got %d, want %d", len(ops), n)
	}
	for i, op := range ops {
		if op.Seq != uint64(i+1) {
			t.Fatalf("operation %d has seq %d: not gap-free", i, op.Seq)
		}
		if !sameOp(op, got[op.Seq]) {
			t.Errorf("seq %d: stored %+v, append returned %+v", op.Seq, op, got[op.Seq])
		}
	}
	if syncs := j.syncs.Load(); syncs >= n {
		t.Errorf("%d syncs for %d concurrent appends: no group commit", syncs, n)
	}
}

func TestGroupCommitOneSyncPerBatch(t *testing.T) {
	const n = 50
	j := MustOpen(t, "", Config{})
	release := holdWriter(t, j)
	results := make([]<-chan appended, n)
	for i := range n {
		results[i] = appendAsync(j, refusedOp(edge.Expired))
		waitQueued(t, j, i+1)
	}
	syncs := j.syncs.Load()
	release()
	for i, c := range results {
		r := <-c
		if r.err != nil {
			t.Fatalf("append %d: %v", i, r.err)
		}
		// The writer takes requests in the order they were queued.
		if r.op.Seq != uint64(i+1) {
			t.Errorf("append %d: got seq %d, want %d", i, r.op.Seq, i+1)
		}
	}
	if got := j.syncs.Load() - syncs; got != 1 {
		t.Errorf("got %d syncs for one batch of %d appends, want 1", got, n)
	}
}

func TestAppendLarge(t *testing.T) {
	j := MustOpen(t, "", Config{})
	ctx := context.Background()
	big := edge.NewOperation(edge.OpCommandApplied, t0, "", "", map[string]string{"blob": strings.Repeat("x", DefaultMaxDataBytes)})
	if _, err := j.Append(ctx, big); edge.ErrorCode(err) != edge.ETOOLARGE {
		t.Errorf("operation with %d bytes of data: got %v, want code %s", len(big.Data), err, edge.ETOOLARGE)
	}
	// A print job may be large (a label with a bitmap): Badger moves such
	// values to its value log, outside the transaction's size limit.
	label := []byte(strings.Repeat("^GFA,1,1,1,FF", 200_000))
	op := MustAppend(t, j, depositOp("XY1", "", "001"), edge.PrintJob{ID: "big-label", Printer: edge.PrinterLabel, Data: label})
	if op.Seq != 1 {
		t.Errorf("seq after a refused operation: got %d, want 1", op.Seq)
	}
	job, err := j.PrintJob(ctx, "big-label")
	if err != nil || string(job.Data) != string(label) {
		t.Errorf("%d byte print job read back: got %d bytes, %v", len(label), len(job.Data), err)
	}
}

func TestAppendWithJobsIsOneWrite(t *testing.T) {
	j := MustOpen(t, "", Config{})
	jobs := []edge.PrintJob{
		{Printer: edge.PrinterLabel, Format: edge.FormatZPL, Data: []byte("^XA^FDhello^FS^XZ")},
		{ID: "job-receipt", Printer: edge.PrinterReceipt, Format: edge.FormatESCPOS, Data: []byte{0x1b, 0x40}},
	}
	op := MustAppend(t, j, depositOp("XY1", "ra-1", "001"), jobs...)
	pending, err := j.PendingJobs(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if len(pending) != 2 {
		t.Fatalf("pending jobs: got %d, want 2", len(pending))
	}
	for i, pj := range pending {
		if pj.ID != "" {
			pj, err = j.PrintJob(context.Background(), pj.ID)
		}
		if err != nil || pj.OperationID != op.ID || pj.State != edge.JobPending || pj.ID == "" || string(pj.Data) != string(jobs[i].Data) {
			t.Errorf("job %d: got %+v, %v; want operation %s, pending, data %q", i, pj, err, op.ID, jobs[i].Data)
		}
	}
	var data edge.DepositData
	if err := json.Unmarshal(op.Data, &data); err != nil || data.ShelfSlot != "001" {
		t.Errorf("deposit data: got %+v, %v", data, err)
	}
}

func TestSyncFailure(t *testing.T) {
	ctx := context.Background()
	j := MustOpen(t, "", Config{})
	MustAppend(t, j, refusedOp(edge.Expired))
	// The writer is held: swapping its sync is no data race.
	release := holdWriter(t, j)
	j.syncDB = func() error { return errors.New("EIO") }
	c := appendAsync(j, refusedOp(edge.Expired))
	waitQueued(t, j, 1)
	release()
	if r := <-c; edge.ErrorCode(r.err) != edge.EUNAVAILABLE {
		t.Fatalf("append whose sync failed: got %v, want code %s", r.err, edge.EUNAVAILABLE)
	}
	// Nothing unsynced is shown, and the journal takes no more writes.
	if got := j.LastSeq(); got != 1 {
		t.Errorf("last seq after a failed sync: got %d, want 1", got)
	}
	if ops, _ := j.Pending(ctx, 0, 0); len(ops) != 1 {
		t.Errorf("pending after a failed sync: got seqs %v, want [1]", seqs(ops))
	}
	if _, err := j.Append(ctx, refusedOp(edge.Expired)); edge.ErrorCode(err) != edge.EUNAVAILABLE {
		t.Errorf("append after a failed sync: got %v, want code %s", err, edge.EUNAVAILABLE)
	}
	if err := j.PutStaff(ctx, edge.Staff{ID: "s", Role: edge.RoleClerk}); edge.ErrorCode(err) != edge.EUNAVAILABLE {
		t.Errorf("put staff after a failed sync: got %v, want code %s", err, edge.EUNAVAILABLE)
	}
}
