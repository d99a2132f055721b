package journal

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/comptoir/comptoir/edge"
)

func seqs(ops []edge.Operation) []uint64 {
	s := []uint64{}
	for _, op := range ops {
		s = append(s, op.Seq)
	}
	return s
}

func equalSeqs(a, b []uint64) bool {
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

func span(first, last uint64) []uint64 {
	s := []uint64{}
	for q := first; q <= last; q++ {
		s = append(s, q)
	}
	return s
}

func TestOutbox(t *testing.T) {
	type ack struct{ first, last uint64 }
	tests := []struct {
		name        string
		acks        []ack
		after       uint64
		limit       int
		wantPending []uint64 // Pending(after, limit)
		wantCount   int      // OutboxStats pending
		wantOldest  uint64   // seq whose time OutboxStats reports, 0 for none
	}{
		{name: "nothing acked", wantPending: span(1, 10), wantCount: 10, wantOldest: 1},
		{name: "limit", limit: 3, wantPending: span(1, 3), wantCount: 10, wantOldest: 1},
		{name: "after", after: 7, wantPending: span(8, 10), wantCount: 10, wantOldest: 1},
		{name: "after the last", after: 10, wantPending: []uint64{}, wantCount: 10, wantOldest: 1},
		{name: "prefix acked", acks: []ack{{1, 4}}, wantPending: span(5, 10), wantCount: 6, wantOldest: 5},
		{name: "hole acked", acks: []ack{{3, 5}}, wantPending: []uint64{1, 2, 6, 7, 8, 9, 10}, wantCount: 7, wantOldest: 1},
		{name: "idempotent", acks: []ack{{1, 4}, {1, 4}, {2, 3}}, wantPending: span(5, 10), wantCount: 6, wantOldest: 5},
		{name: "overlapping", acks: []ack{{1, 4}, {3, 6}}, wantPending: span(7, 10), wantCount: 4, wantOldest: 7},
		{name: "future seqs ignored", acks: []ack{{9, 500}, {600, 700}}, wantPending: span(1, 8), wantCount: 8, wantOldest: 1},
		{name: "reversed range ignored", acks: []ack{{5, 2}}, wantPending: span(1, 10), wantCount: 10, wantOldest: 1},
		{name: "zero first", acks: []ack{{0, 2}}, wantPending: span(3, 10), wantCount: 8, wantOldest: 3},
		{name: "all acked", acks: []ack{{1, 10}}, wantPending: []uint64{}, wantCount: 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx := context.Background()
			j := MustOpen(t, "", Config{})
			times := map[uint64]time.Time{}
			for i := range 10 {
				op := refusedOp(edge.Expired)
				op.OccurredAt = t0.Add(time.Duration(i) * time.Minute)
				got := MustAppend(t, j, op)
				times[got.Seq] = got.OccurredAt
			}
			for _, a := range tt.acks {
				if err := j.Ack(ctx, a.first, a.last); err != nil {
					t.Fatalf("ack %d-%d: %v", a.first, a.last, err)
				}
			}
			pending, err := j.Pending(ctx, tt.after, tt.limit)
			if err != nil {
				t.Fatal(err)
			}
			if got := seqs(pending); !equalSeqs(got, tt.wantPending) {
				t.Errorf("pending: got %v, want %v", got, tt.wantPending)
			}
			n, oldest, err := j.OutboxStats(ctx)
			if err != nil {
				t.Fatal(err)
			}
			if n != tt.wantCount {
				t.Errorf("outbox stats pending: got %d, want %d", n, tt.wantCount)
			}
			if want := times[tt.wantOldest]; !oldest.Equal(want) {
				t.Errorf("outbox stats oldest: got %v, want %v", oldest, want)
			}
			// Acked operations leave the outbox, not the history.
			all, err := j.Operations(ctx, 0, 0)
			if err != nil || !equalSeqs(seqs(all), span(1, 10)) {
				t.Errorf("operations: got %v, %v; want 1..10", seqs(all), err)
			}
		})
	}
}

func TestOutboxAfterReopen(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	j := MustOpen(t, dir, Config{})
	for range 5 {
		MustAppend(t, j, refusedOp(edge.Expired))
	}
	if err := j.Ack(ctx, 2, 3); err != nil {
		t.Fatal(err)
	}
	j.Close()
	j = MustOpen(t, dir, Config{})
	pending, _ := j.Pending(ctx, 0, 0)
	if got, want := seqs(pending), []uint64{1, 4, 5}; !equalSeqs(got, want) {
		t.Errorf("pending after reopen: got %v, want %v", got, want)
	}
	if n, _, _ := j.OutboxStats(ctx); n != 3 {
		t.Errorf("outbox count after reopen: got %d, want 3", n)
	}
}

func TestAckLargeRange(t *testing.T) {
	// More markers than one ack transaction deletes.
	const n = ackChunk + 100
	ctx := context.Background()
	j := MustOpen(t, "", Config{})
	var wg sync.WaitGroup
	for w := range 50 {
		wg.Go(func() {
			for i := w; i < n; i += 50 {
				if _, err := j.Append(ctx, refusedOp(edge.Expired)); err != nil {
					t.Error(err)
				}
			}
		})
	}
	wg.Wait()
	if err := j.Ack(ctx, 1, n-1); err != nil {
		t.Fatal(err)
	}
	pending, _ := j.Pending(ctx, 0, 0)
	if got := seqs(pending); !equalSeqs(got, []uint64{n}) {
		t.Errorf("pending: got %v, want [%d]", got, n)
	}
	if c, _, _ := j.OutboxStats(ctx); c != 1 {
		t.Errorf("outbox count: got %d, want 1", c)
	}
}

func TestOperationNotFound(t *testing.T) {
	j := MustOpen(t, "", Config{})
	MustAppend(t, j, refusedOp(edge.Expired))
	for _, seq := range []uint64{0, 2, 1000} {
		if _, err := j.Operation(context.Background(), seq); edge.ErrorCode(err) != edge.ENOTFOUND {
			t.Errorf("operation %d: got %v, want code %s", seq, err, edge.ENOTFOUND)
		}
	}
}
