package journal

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/comptoir/comptoir/edge"
	"github.com/dgraph-io/badger/v4"
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
		{name: "out of order", acks: []ack{{7, 8}, {3, 4}}, wantPending: []uint64{1, 2, 5, 6, 9, 10}, wantCount: 6, wantOldest: 1},
		{name: "hole filled", acks: []ack{{3, 4}, {7, 8}, {1, 2}}, wantPending: []uint64{5, 6, 9, 10}, wantCount: 4, wantOldest: 5},
		{name: "ranges joined", acks: []ack{{3, 4}, {7, 8}, {5, 6}}, wantPending: []uint64{1, 2, 9, 10}, wantCount: 4, wantOldest: 1},
		{name: "all joined", acks: []ack{{9, 10}, {3, 4}, {6, 6}, {1, 2}, {5, 8}}, wantPending: []uint64{}, wantCount: 0},
		{name: "after skips acked", acks: []ack{{5, 6}}, after: 3, limit: 3, wantPending: []uint64{4, 7, 8}, wantCount: 8, wantOldest: 1},
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
	// More operations than one transaction of deletes held when an ack
	// deleted a marker per operation; now one ack moves the watermark.
	const n = 4096 + 100
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

func TestAckSet(t *testing.T) {
	var s ackSet
	for _, r := range []seqRange{{10, 12}, {5, 6}, {14, 14}, {7, 7}, {2, 3}, {13, 13}, {4, 4}, {20, 25}} {
		s = s.add(r.first, r.last)
	}
	// 2..7 and 10..14 and 20..25; 1 is missing, so nothing moved the watermark.
	if s.to != 0 || len(s.ranges) != 3 || s.ranges[0] != (seqRange{2, 7}) || s.ranges[1] != (seqRange{10, 14}) || s.ranges[2] != (seqRange{20, 25}) {
		t.Fatalf("ack set: got %+v", s)
	}
	if got := s.count(22); got != 6+5+3 {
		t.Errorf("count up to 22: got %d, want 14", got)
	}
	for seq, want := range map[uint64]bool{1: false, 2: true, 7: true, 8: false, 14: true, 15: false, 25: true, 26: false} {
		if s.acked(seq) != want {
			t.Errorf("acked(%d): got %v, want %v", seq, !want, want)
		}
	}
	if end, ok := s.ackedTo(11); !ok || end != 14 {
		t.Errorf("ackedTo(11): got %d, %v; want 14, true", end, ok)
	}
	before := s
	s = s.add(1, 1)
	if s.to != 7 || len(s.ranges) != 2 {
		t.Errorf("after acking 1: got %+v, want watermark 7 and two ranges", s)
	}
	if before.to != 0 || len(before.ranges) != 3 || before.ranges[0] != (seqRange{2, 7}) {
		t.Errorf("add changed the set it was called on: %+v", before)
	}
}

// TestOutOfOrderAcksAfterReopen acks ranges out of order, reopens, and
// checks that the acked ranges above the watermark were kept and still join
// it when the hole is acked.
func TestOutOfOrderAcksAfterReopen(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	j := MustOpen(t, dir, Config{})
	for range 12 {
		MustAppend(t, j, refusedOp(edge.Expired))
	}
	for _, a := range [][2]uint64{{1, 2}, {6, 7}, {9, 10}, {4, 4}} {
		if err := j.Ack(ctx, a[0], a[1]); err != nil {
			t.Fatal(err)
		}
	}
	want := []uint64{3, 5, 8, 11, 12}
	check := func(when string, want []uint64) {
		t.Helper()
		pending, err := j.Pending(ctx, 0, 0)
		if got := seqs(pending); err != nil || !equalSeqs(got, want) {
			t.Errorf("pending %s: got %v, %v; want %v", when, got, err, want)
		}
		if n, _, _ := j.OutboxStats(ctx); n != len(want) {
			t.Errorf("outbox count %s: got %d, want %d", when, n, len(want))
		}
	}
	check("before reopen", want)
	j.Close()
	j = MustOpen(t, dir, Config{})
	check("after reopen", want)
	// Acking 3 and 5 joins 1..7 under the watermark; 8 then joins 9..10.
	for _, a := range [][2]uint64{{5, 5}, {3, 3}, {8, 8}} {
		if err := j.Ack(ctx, a[0], a[1]); err != nil {
			t.Fatal(err)
		}
	}
	check("after the holes were acked", []uint64{11, 12})
	j.Close()
	j = MustOpen(t, dir, Config{})
	check("after a second reopen", []uint64{11, 12})
	if j.acks.to != 10 || len(j.acks.ranges) != 0 {
		t.Errorf("acks after reopen: got %+v, want watermark 10 and no range", j.acks)
	}
	// Appends go on after the watermark; history is whole.
	MustAppend(t, j, refusedOp(edge.Expired))
	check("after an append", []uint64{11, 12, 13})
	if all, err := j.Operations(ctx, 0, 0); err != nil || !equalSeqs(seqs(all), span(1, 13)) {
		t.Errorf("operations: got %v, %v; want 1..13", seqs(all), err)
	}
}

// TestOutboxMarkersMigrated opens a journal written with one outbox marker
// per unacked operation (ob/<seq>) and no watermark: the seqs without a
// marker are acked, the others pending, and the markers are gone.
func TestOutboxMarkersMigrated(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	j := MustOpen(t, dir, Config{})
	for range 8 {
		MustAppend(t, j, refusedOp(edge.Expired))
	}
	logger := j.logger
	j.Close()
	// Rewrite it as the old journal had it: 1, 2, 5 and 7 acked.
	db, err := badger.Open(badgerOptions(dir, logger))
	if err != nil {
		t.Fatal(err)
	}
	err = db.Update(func(txn *badger.Txn) error {
		if err := txn.Delete(keyAckedTo); err != nil {
			return err
		}
		for _, seq := range []uint64{3, 4, 6, 8} {
			if err := txn.Set(seqKey(prefixOutbox, seq), u64(uint64(time.Now().UnixNano()))); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}

	j = MustOpen(t, dir, Config{})
	pending, err := j.Pending(ctx, 0, 0)
	if got, want := seqs(pending), []uint64{3, 4, 6, 8}; err != nil || !equalSeqs(got, want) {
		t.Errorf("pending after migration: got %v, %v; want %v", got, err, want)
	}
	if n, _, _ := j.OutboxStats(ctx); n != 4 {
		t.Errorf("outbox count after migration: got %d, want 4", n)
	}
	markers := 0
	j.db.View(func(txn *badger.Txn) error {
		it := txn.NewIterator(badger.IteratorOptions{Prefix: prefixOutbox})
		defer it.Close()
		for it.Rewind(); it.Valid(); it.Next() {
			markers++
		}
		return nil
	})
	if markers != 0 {
		t.Errorf("%d outbox markers left after migration", markers)
	}
	// The watermark was written: a reopen reads it, not markers.
	if err := j.Ack(ctx, 3, 4); err != nil {
		t.Fatal(err)
	}
	j.Close()
	j = MustOpen(t, dir, Config{})
	if pending, _ := j.Pending(ctx, 0, 0); !equalSeqs(seqs(pending), []uint64{6, 8}) {
		t.Errorf("pending after reopen: got %v, want [6 8]", seqs(pending))
	}
}

// TestSeqFloor: a new journal given the cloud's seq floor numbers its
// first operation above it, has nothing pending below it, and keeps both
// across a reopen; a floor below the journal's seqs changes nothing; a
// journal with unacked operations refuses a floor above them.
func TestSeqFloor(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	j := MustOpen(t, dir, Config{})
	if err := j.SeqFloor(41); err != nil {
		t.Fatal(err)
	}
	if op := MustAppend(t, j, depositOp("XY1", "", "A1")); op.Seq != 42 {
		t.Fatalf("first seq above floor 41 = %d", op.Seq)
	}
	if n, _, err := j.OutboxStats(ctx); err != nil || n != 1 {
		t.Fatalf("pending = %d, %v; want the one operation", n, err)
	}
	ops, err := j.Pending(ctx, 0, 10)
	if err != nil || !equalSeqs(seqs(ops), []uint64{42}) {
		t.Fatalf("pending = %v, %v; want [42]", seqs(ops), err)
	}
	if err := j.SeqFloor(10); err != nil || j.LastSeq() != 42 {
		t.Errorf("a lower floor: %v, last seq %d; want no change", err, j.LastSeq())
	}
	if err := j.SeqFloor(100); err == nil {
		t.Error("a floor above an unacked operation was taken")
	}
	j.Close()

	j = MustOpen(t, dir, Config{})
	if n, _, err := j.OutboxStats(ctx); err != nil || n != 1 || j.LastSeq() != 42 {
		t.Fatalf("after reopen: pending %d, last %d, %v", n, j.LastSeq(), err)
	}
	if err := j.Ack(ctx, 1, 42); err != nil {
		t.Fatal(err)
	}
	if err := j.SeqFloor(100); err != nil {
		t.Fatalf("a floor above a journal with everything acked: %v", err)
	}
	if op := MustAppend(t, j, depositOp("XY2", "", "A2")); op.Seq != 101 {
		t.Errorf("seq after floor 100 = %d", op.Seq)
	}
}
