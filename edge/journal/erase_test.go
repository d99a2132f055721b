package journal

import (
	"bytes"
	"context"
	"fmt"
	"testing"

	"github.com/comptoir/comptoir/edge"
	"github.com/dgraph-io/badger/v4"
)

// versionsWith counts the values, among every version Badger still holds
// (deleted ones included), that contain s: what someone with the key
// could read back from the disk.
func versionsWith(tb testing.TB, j *Journal, s string) int {
	tb.Helper()
	n := 0
	err := j.db.View(func(txn *badger.Txn) error {
		it := txn.NewIterator(badger.IteratorOptions{AllVersions: true})
		defer it.Close()
		for it.Rewind(); it.Valid(); it.Next() {
			v, err := it.Item().ValueCopy(nil)
			if err != nil {
				return err
			}
			if bytes.Contains(v, []byte(s)) {
				n++
			}
		}
		return nil
	})
	if err != nil {
		tb.Fatal(err)
	}
	return n
}

// TestCompactErases checks that Compact does not only hide the acked
// operations past retention but erases them: no version of their data is
// left in Badger, while the operations the cloud has not acked keep theirs
// and the skeleton (deposit records, counts, seqs) stays, across a reopen.
func TestCompactErases(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	j := MustOpen(t, dir, Config{})
	fill(t, j, 300)
	ops, err := j.Operations(ctx, 0, 1)
	if err != nil || len(ops) != 1 {
		t.Fatalf("first op: %v", err)
	}
	first := ops[0]
	acked := j.LastSeq()
	if err := j.Ack(ctx, 1, acked); err != nil {
		t.Fatal(err)
	}
	for i := range 5 {
		op := depositOp(fmt.Sprintf("ZU%09dFR", i), fmt.Sprintf("ra-u%d", i), fmt.Sprintf("U%02d", i))
		op.Data = []byte(fmt.Sprintf(`{"ra_id":"ra-u%d","items":[{"sku":"SKU-2","name":"Robe lin ocre","qty":1}],"shelf_slot":"U%02d"}`, i, i))
		MustAppend(t, j, op)
	}
	if got := versionsWith(t, j, "Pull angora mauve"); got != 300 {
		t.Fatalf("before compaction: %d versions with the acked items' names, want 300", got)
	}
	n, err := j.Compact(ctx, 0)
	if err != nil {
		t.Fatal(err)
	}
	if n != int(acked) {
		t.Errorf("compacted %d operations, want %d", n, acked)
	}
	for round := range 2 {
		if round == 1 {
			j = reopen(t, j, dir)
		}
		if got := versionsWith(t, j, "Pull angora mauve"); got != 0 {
			t.Errorf("round %d: %d versions with the acked items' names left, want 0", round, got)
		}
		if got := versionsWith(t, j, "Robe lin ocre"); got != 5 {
			t.Errorf("round %d: %d unacked ops with their items, want 5", round, got)
		}
		rec, err := j.DepositByID(ctx, first.ID)
		if err != nil || rec.Parcel.Tracking != first.Tracking {
			t.Errorf("round %d: deposit record of the first op: %+v, %v", round, rec, err)
		}
		if byType, _ := j.Counts(); byType[edge.OpReturnDeposited] != 305 {
			t.Errorf("round %d: %d deposits counted, want 305", round, byType[edge.OpReturnDeposited])
		}
		if got := j.LastSeq(); got != acked+5 {
			t.Errorf("round %d: last seq %d, want %d", round, got, acked+5)
		}
	}
}

func reopen(t *testing.T, j *Journal, dir string) *Journal {
	t.Helper()
	if err := j.Close(); err != nil {
		t.Fatal(err)
	}
	return MustOpen(t, dir, Config{})
}
