package badgerstore

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/dgraph-io/badger/v4"
)

// TestValueLogGC rewrites values over the value threshold (so kept in the
// value log, as terminal records are) until the log holds mostly garbage:
// collectGarbage gives the space back, and the keys keep their last values.
func TestValueLogGC(t *testing.T) {
	dir := t.TempDir()
	s, err := open(badger.DefaultOptions(dir).WithValueThreshold(valueThreshold).
		WithValueLogFileSize(1<<20).WithMemTableSize(1<<20).WithNumLevelZeroTables(1), Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	const keys, rounds = 1000, 60
	pad := strings.Repeat("x", 400)
	for r := range rounds {
		wb := s.db.NewWriteBatch()
		for k := range keys {
			if err := wb.Set(fmt.Appendf(nil, "m/t-%04d", k), fmt.Appendf(nil, "%d %s", r, pad)); err != nil {
				t.Fatal(err)
			}
		}
		if err := wb.Flush(); err != nil {
			t.Fatal(err)
		}
	}
	before := vlogBytes(t, dir)
	// Compact, so that Badger knows what in the log is garbage.
	if err := s.db.Flatten(1); err != nil {
		t.Fatal(err)
	}
	n, err := s.collectGarbage()
	if err != nil {
		t.Fatal(err)
	}
	after := vlogBytes(t, dir)
	t.Logf("value log %d -> %d bytes, %d files rewritten", before, after, n)
	if n == 0 || after >= before/2 {
		t.Fatalf("value log %d -> %d bytes, %d files rewritten: garbage not collected", before, after, n)
	}
	err = s.db.View(func(txn *badger.Txn) error {
		for k := range keys {
			item, err := txn.Get(fmt.Appendf(nil, "m/t-%04d", k))
			if err != nil {
				return err
			}
			v, err := item.ValueCopy(nil)
			if err != nil {
				return err
			}
			if want := fmt.Sprintf("%d %s", rounds-1, pad); string(v) != want {
				return fmt.Errorf("key %d = %.10q..., want %.10q...", k, v, want)
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

func vlogBytes(t *testing.T, dir string) int64 {
	files, err := filepath.Glob(filepath.Join(dir, "*.vlog"))
	if err != nil {
		t.Fatal(err)
	}
	var total int64
	for _, f := range files {
		fi, err := os.Stat(f)
		if err != nil {
			t.Fatal(err)
		}
		total += fi.Size()
	}
	return total
}
