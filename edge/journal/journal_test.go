package journal

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"reflect"
	"testing"
	"time"

	"github.com/comptoir/comptoir/edge"
)

const testTerminal = "t-test-01"

// MustOpen opens a journal in dir (a new temp dir when empty) and closes it
// when the test ends.
func MustOpen(tb testing.TB, dir string, cfg Config) *Journal {
	tb.Helper()
	if dir == "" {
		dir = tb.TempDir()
	}
	if cfg.Terminal == "" {
		cfg.Terminal = testTerminal
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	j, err := Open(dir, cfg)
	if err != nil {
		tb.Fatalf("open journal: %v", err)
	}
	tb.Cleanup(func() { j.Close() })
	return j
}

// MustAppend appends op or fails the test.
func MustAppend(tb testing.TB, j *Journal, op edge.Operation, jobs ...edge.PrintJob) edge.Operation {
	tb.Helper()
	got, err := j.Append(context.Background(), op, jobs...)
	if err != nil {
		tb.Fatalf("append %s: %v", op.Type, err)
	}
	return got
}

var t0 = time.Date(2026, 11, 22, 10, 15, 3, 123e6, time.UTC)

func depositOp(tracking, raID, slot string) edge.Operation {
	return edge.NewOperation(edge.OpReturnDeposited, t0, "clerk-1", tracking, edge.DepositData{
		RAID: raID, Issuer: "shop-1", Carrier: "colis", Verified: raID != "", Mode: "label_at_counter",
		WeightG: 1200, DimsMM: []int{300, 200, 100}, ReceiptID: "r-" + tracking, ShelfSlot: slot,
		Items: []edge.Item{{SKU: "SKU-1", Name: "Shirt", Qty: 1, Reason: "CHANGED_MIND"}},
	})
}

func refusedOp(reason edge.RefusalCode) edge.Operation {
	return edge.NewOperation(edge.OpReturnRefused, t0, "clerk-1", "", edge.RefusedData{Reason: reason, Digest: "abcd"})
}

func cancelOp(depositID string) edge.Operation {
	return edge.NewOperation(edge.OpReturnCancelled, t0, "clerk-1", "", edge.CancelledData{DepositID: depositID, Reason: "customer"})
}

func handoverOp(tracking string) edge.Operation {
	return edge.NewOperation(edge.OpParcelHandedOver, t0, "clerk-1", tracking, edge.HandedOverData{ManifestID: "m-1", Carrier: "colis"})
}

func TestOpenRequiresTerminal(t *testing.T) {
	if _, err := Open(t.TempDir(), Config{}); err == nil {
		t.Fatal("open without terminal: got no error")
	}
}

func TestAppend(t *testing.T) {
	tests := []struct {
		name     string
		op       edge.Operation
		wantCode string // edge.ErrorCode of the error, "" for success
		check    func(t *testing.T, in, got edge.Operation)
	}{
		{
			name: "assigns terminal, seq and a v7 id",
			op:   refusedOp(edge.Expired),
			check: func(t *testing.T, in, got edge.Operation) {
				if got.Terminal != testTerminal || got.Seq == 0 || len(got.ID) != 36 || got.ID[14] != '7' {
					t.Errorf("got terminal %q seq %d id %q, want %q, a seq, a UUID v7", got.Terminal, got.Seq, got.ID, testTerminal)
				}
			},
		},
		{
			name: "keeps the caller's id and overrides its terminal and seq",
			op: func() edge.Operation {
				op := refusedOp(edge.Expired)
				op.ID, op.Terminal, op.Seq = "0190a0a0-0000-7000-8000-000000000001", "other", 99
				return op
			}(),
			check: func(t *testing.T, in, got edge.Operation) {
				if got.ID != in.ID || got.Terminal != testTerminal || got.Seq == 99 {
					t.Errorf("got id %q terminal %q seq %d", got.ID, got.Terminal, got.Seq)
				}
			},
		},
		{
			name: "fills time and empty data",
			op:   edge.Operation{Type: edge.OpCommandApplied},
			check: func(t *testing.T, in, got edge.Operation) {
				if got.OccurredAt.IsZero() || string(got.Data) != "{}" {
					t.Errorf("got occurred_at %v data %s, want a time and {}", got.OccurredAt, got.Data)
				}
			},
		},
		{name: "no type", op: edge.Operation{Data: json.RawMessage(`{}`)}, wantCode: edge.EINVALID},
		{name: "data not JSON", op: edge.Operation{Type: edge.OpCommandApplied, Data: json.RawMessage(`{"x":`)}, wantCode: edge.EINVALID},
		{name: "refusal data not JSON", op: edge.Operation{Type: edge.OpReturnRefused, Data: json.RawMessage(`{"reason":`)}, wantCode: edge.EINVALID},
		{name: "deposit data malformed", op: edge.Operation{Type: edge.OpReturnDeposited, Data: json.RawMessage(`{"weight_g":"heavy"}`)}, wantCode: edge.EINVALID},
	}
	j := MustOpen(t, "", Config{})
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before := j.LastSeq()
			got, err := j.Append(context.Background(), tt.op)
			if code := edge.ErrorCode(err); code != tt.wantCode {
				t.Fatalf("got error %v (code %q), want code %q", err, code, tt.wantCode)
			}
			if tt.wantCode != "" {
				if j.LastSeq() != before {
					t.Errorf("a failed append moved the last seq from %d to %d", before, j.LastSeq())
				}
				return
			}
			if got.Seq != before+1 || j.LastSeq() != got.Seq {
				t.Errorf("got seq %d, last %d, want %d", got.Seq, j.LastSeq(), before+1)
			}
			stored, err := j.Operation(context.Background(), got.Seq)
			if err != nil {
				t.Fatalf("read back: %v", err)
			}
			if !sameOp(stored, got) {
				t.Errorf("stored %+v, want %+v", stored, got)
			}
			tt.check(t, tt.op, got)
		})
	}
}

// sameOp compares operations, times by instant and data as JSON.
func sameOp(a, b edge.Operation) bool {
	var da, db any
	json.Unmarshal(a.Data, &da)
	json.Unmarshal(b.Data, &db)
	return a.ID == b.ID && a.Terminal == b.Terminal && a.Seq == b.Seq && a.Type == b.Type &&
		a.OccurredAt.Equal(b.OccurredAt) && a.Operator == b.Operator && a.Tracking == b.Tracking &&
		reflect.DeepEqual(da, db)
}

func TestReopen(t *testing.T) {
	dir := t.TempDir()
	j := MustOpen(t, dir, Config{})
	var want []edge.Operation
	for i := range 10 {
		op := depositOp(fmt.Sprintf("XY%09dFR", i), fmt.Sprintf("ra-%d", i), fmt.Sprintf("%03d", i+1))
		if i%3 == 2 {
			op = refusedOp(edge.Overweight)
		}
		want = append(want, MustAppend(t, j, op, edge.PrintJob{Printer: edge.PrinterReceipt, Format: edge.FormatESCPOS, Data: []byte("receipt")}))
	}
	MustAppend(t, j, handoverOp("XY000000000FR"))
	if err := j.Ack(context.Background(), 1, 4); err != nil {
		t.Fatal(err)
	}
	byType, refusals := j.Counts()
	shelf, _ := j.Shelf(context.Background())
	jobs, _ := j.PendingJobs(context.Background())
	if err := j.Close(); err != nil {
		t.Fatalf("close: %v", err)
	}

	j = MustOpen(t, dir, Config{})
	ctx := context.Background()
	if got := j.LastSeq(); got != 11 {
		t.Errorf("last seq after reopen: got %d, want 11", got)
	}
	ops, err := j.Operations(ctx, 0, 0)
	if err != nil || len(ops) != 11 {
		t.Fatalf("operations after reopen: got %d, %v; want 11", len(ops), err)
	}
	for i, w := range want {
		if !sameOp(ops[i], w) {
			t.Errorf("op %d after reopen: got %+v, want %+v", i+1, ops[i], w)
		}
	}
	if pending, _, _ := j.OutboxStats(ctx); pending != 7 {
		t.Errorf("pending after reopen: got %d, want 7", pending)
	}
	gotType, gotRefusals := j.Counts()
	if !reflect.DeepEqual(gotType, byType) || !reflect.DeepEqual(gotRefusals, refusals) {
		t.Errorf("counts after reopen: got %v %v, want %v %v", gotType, gotRefusals, byType, refusals)
	}
	if gotShelf, _ := j.Shelf(ctx); len(gotShelf) != len(shelf) || len(shelf) != 6 {
		t.Errorf("shelf after reopen: got %d parcels, had %d, want 6", len(gotShelf), len(shelf))
	}
	if gotJobs, _ := j.PendingJobs(ctx); len(gotJobs) != len(jobs) || len(jobs) != 10 {
		t.Errorf("pending jobs after reopen: got %d, had %d, want 10", len(gotJobs), len(jobs))
	}
	if op := MustAppend(t, j, refusedOp(edge.Expired)); op.Seq != 12 {
		t.Errorf("seq after reopen: got %d, want 12", op.Seq)
	}
}

func TestCounts(t *testing.T) {
	j := MustOpen(t, "", Config{})
	MustAppend(t, j, depositOp("A1", "", "001"))
	MustAppend(t, j, refusedOp(edge.Expired))
	MustAppend(t, j, refusedOp(edge.Expired))
	MustAppend(t, j, refusedOp(edge.Overweight))
	MustAppend(t, j, handoverOp("A1"))
	byType, refusals := j.Counts()
	wantType := map[edge.OpType]int64{edge.OpReturnDeposited: 1, edge.OpReturnRefused: 3, edge.OpParcelHandedOver: 1}
	wantRefusals := map[edge.RefusalCode]int64{edge.Expired: 2, edge.Overweight: 1}
	if !reflect.DeepEqual(byType, wantType) {
		t.Errorf("by type: got %v, want %v", byType, wantType)
	}
	if !reflect.DeepEqual(refusals, wantRefusals) {
		t.Errorf("refusals: got %v, want %v", refusals, wantRefusals)
	}
}

func TestClosed(t *testing.T) {
	j := MustOpen(t, "", Config{})
	if err := j.Close(); err != nil {
		t.Fatal(err)
	}
	if err := j.Close(); err != nil {
		t.Errorf("second close: %v", err)
	}
	_, err := j.Append(context.Background(), refusedOp(edge.Expired))
	if code := edge.ErrorCode(err); code != edge.EUNAVAILABLE {
		t.Errorf("append after close: got %v, want code %s", err, edge.EUNAVAILABLE)
	}
}

func TestAppendCancelledContext(t *testing.T) {
	j := MustOpen(t, "", Config{})
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := j.Append(ctx, refusedOp(edge.Expired)); err == nil {
		t.Fatal("append with a cancelled context: got no error")
	}
	if got := MustAppend(t, j, refusedOp(edge.Expired)); got.Seq != 1 {
		t.Errorf("seq after a cancelled append: got %d, want 1", got.Seq)
	}
}
