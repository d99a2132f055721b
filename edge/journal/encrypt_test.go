package journal

import (
	"bytes"
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"reflect"
	"testing"

	"github.com/comptoir/comptoir/edge"
	"github.com/dgraph-io/badger/v4"
)

func testKey(tb testing.TB) []byte {
	tb.Helper()
	k := make([]byte, KeySize)
	if _, err := rand.Read(k); err != nil {
		tb.Fatal(err)
	}
	return k
}

// secrets are what a stolen journal must not show: trackings (in keys and
// values), an item name and a staff PIN hash.
type secrets [][]byte

// fill journals n deposits with distinctive trackings and item names, a
// handover, acks and a staff account, and returns what must stay secret.
func fill(tb testing.TB, j *Journal, n int) secrets {
	tb.Helper()
	ctx := context.Background()
	var s secrets
	for i := range n {
		trk := fmt.Sprintf("ZQ%09dFR", 700000000+i)
		op := depositOp(trk, fmt.Sprintf("ra-%d", i), fmt.Sprintf("S%03d", i))
		op.Data = []byte(fmt.Sprintf(`{"ra_id":"ra-%d","items":[{"sku":"SKU-1","name":"Pull angora mauve %d","qty":1}],"shelf_slot":"S%03d"}`, i, i, i))
		MustAppend(tb, j, op)
		if i < 3 {
			s = append(s, []byte(trk), []byte(fmt.Sprintf("Pull angora mauve %d", i)))
		}
	}
	MustAppend(tb, j, handoverOp("ZQ700000000FR"))
	if err := j.Ack(ctx, 1, 2); err != nil {
		tb.Fatal(err)
	}
	hash := "$2a$10$Q9pmNfLkVhZbQzNf0c1IWeJcHqlcJxW9b3w7k8c1vQp9yq6z0m1x2"
	if err := j.PutStaff(ctx, edge.Staff{ID: "st-1", Name: "Ysolde Kervarec", Role: edge.RoleClerk, PINHash: hash}); err != nil {
		tb.Fatal(err)
	}
	return append(s, []byte(hash), []byte("Ysolde Kervarec"))
}

// found returns "file: secret" for every secret found in a file under dir.
func found(tb testing.TB, dir string, s secrets) []string {
	tb.Helper()
	var hits []string
	err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		for _, sec := range s {
			if bytes.Contains(b, sec) {
				hits = append(hits, filepath.Base(path)+": "+string(sec))
			}
		}
		return nil
	})
	if err != nil {
		tb.Fatal(err)
	}
	return hits
}

// snapshot reads everything a journal holds that a conversion must keep.
type snapshot struct {
	Ops     []edge.Operation
	LastSeq uint64
	Pending int
	Staff   []edge.Staff
	Shelf   []edge.ShelfParcel
}

func snap(tb testing.TB, j *Journal) snapshot {
	tb.Helper()
	ctx := context.Background()
	var s snapshot
	var err error
	if s.Ops, err = j.Operations(ctx, 0, 100000); err != nil {
		tb.Fatal(err)
	}
	s.LastSeq = j.LastSeq()
	if s.Pending, _, err = j.OutboxStats(ctx); err != nil {
		tb.Fatal(err)
	}
	if s.Staff, err = j.ListStaff(ctx); err != nil {
		tb.Fatal(err)
	}
	if s.Shelf, err = j.Shelf(ctx); err != nil {
		tb.Fatal(err)
	}
	return s
}

func TestEncryptedJournalShowsNoSecrets(t *testing.T) {
	for _, tt := range []struct {
		name  string
		key   bool
		clear bool // the secrets are expected in clear
	}{
		{name: "plain (control: the search finds them)", clear: true},
		{name: "encrypted", key: true},
	} {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			var key []byte
			if tt.key {
				key = testKey(t)
			}
			j := MustOpen(t, dir, Config{EncryptionKey: key})
			s := fill(t, j, 200)
			// While open: the write-ahead log of the memtable holds them.
			hits := found(t, dir, s)
			if tt.clear != (len(hits) > 0) {
				t.Errorf("open journal: secrets in clear: %q", hits)
			}
			if _, err := j.Compact(context.Background(), 0); err != nil {
				t.Fatal(err)
			}
			if err := j.Close(); err != nil {
				t.Fatal(err)
			}
			// Closed: the memtable is flushed to tables.
			hits = found(t, dir, s)
			if tt.clear != (len(hits) > 0) {
				t.Errorf("closed journal: secrets in clear: %q", hits)
			}
		})
	}
}

func TestOpenWithoutTheKey(t *testing.T) {
	dir := t.TempDir()
	key := testKey(t)
	j := MustOpen(t, dir, Config{EncryptionKey: key})
	MustAppend(t, j, depositOp("XY1", "ra-1", "001"))
	j.Close()
	for _, tt := range []struct {
		name string
		key  []byte
	}{
		{name: "no key"},
		{name: "another key", key: testKey(t)},
	} {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Open(dir, Config{Terminal: testTerminal, EncryptionKey: tt.key})
			if !errors.Is(err, ErrKeyMismatch) {
				t.Fatalf("got %v, want ErrKeyMismatch", err)
			}
		})
	}
	if _, err := Open(dir, Config{Terminal: testTerminal, EncryptionKey: key[:16]}); err == nil {
		t.Error("a 16-byte key was taken")
	}
	// Nothing was harmed: the right key still opens it, with its op.
	j = MustOpen(t, dir, Config{EncryptionKey: key})
	if got := j.LastSeq(); got != 1 {
		t.Errorf("last seq %d, want 1", got)
	}
}

func TestConvertPlainJournal(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "journal")
	j := MustOpen(t, dir, Config{})
	s := fill(t, j, 300)
	before := snap(t, j)
	j.Close()
	if len(found(t, dir, s)) == 0 {
		t.Fatal("control: the plain journal shows no secrets")
	}

	key := testKey(t)
	j = MustOpen(t, dir, Config{EncryptionKey: key})
	after := snap(t, j)
	if !reflect.DeepEqual(before, after) {
		t.Errorf("converted journal differs:\nbefore %d ops, last seq %d, pending %d, %d staff, %d on shelf\nafter  %d ops, last seq %d, pending %d, %d staff, %d on shelf",
			len(before.Ops), before.LastSeq, before.Pending, len(before.Staff), len(before.Shelf),
			len(after.Ops), after.LastSeq, after.Pending, len(after.Staff), len(after.Shelf))
	}
	// It goes on from there: the next op takes the next seq.
	if op := MustAppend(t, j, depositOp("XY2", "ra-x", "999")); op.Seq != before.LastSeq+1 {
		t.Errorf("next seq %d, want %d", op.Seq, before.LastSeq+1)
	}
	j.Close()
	parent := filepath.Dir(dir)
	if hits := found(t, parent, s); len(hits) > 0 {
		t.Errorf("secrets in clear after conversion: %q", hits)
	}
	entries, _ := os.ReadDir(parent)
	if len(entries) != 2 || entries[1].Name() != filepath.Base(seqMarkPath(dir)) {
		t.Errorf("left beside the journal and its seq mark: %v", entries)
	}
	// The plain journal is gone: opening without the key fails.
	if _, err := Open(dir, Config{Terminal: testTerminal}); !errors.Is(err, ErrKeyMismatch) {
		t.Errorf("open without key after conversion: %v, want ErrKeyMismatch", err)
	}
}

// TestConvertInterrupted stops the conversion after each of its steps, as
// a crash would, and checks that the next Open ends with the whole
// journal, encrypted, and nothing in clear.
func TestConvertInterrupted(t *testing.T) {
	steps := []string{"copy without marker", "marker written", "plain moved aside", "encrypted in place"}
	for _, step := range steps {
		t.Run(step, func(t *testing.T) {
			dir := filepath.Join(t.TempDir(), "journal")
			j := MustOpen(t, dir, Config{})
			s := fill(t, j, 50)
			before := snap(t, j)
			j.Close()
			key := testKey(t)
			interruptConversion(t, dir, key, step)

			j = MustOpen(t, dir, Config{EncryptionKey: key})
			if after := snap(t, j); !reflect.DeepEqual(before, after) {
				t.Errorf("after %s: %d ops, last seq %d; want %d ops, last seq %d", step, len(after.Ops), after.LastSeq, len(before.Ops), before.LastSeq)
			}
			j.Close()
			if hits := found(t, filepath.Dir(dir), s); len(hits) > 0 {
				t.Errorf("secrets in clear: %q", hits)
			}
		})
	}
}

// interruptConversion carries out the conversion of dir up to step and
// stops there.
func interruptConversion(t *testing.T, dir string, key []byte, step string) {
	t.Helper()
	tmp, done, old := conversionPaths(dir)
	opts := badgerOptions(dir, slog.New(slog.NewTextHandler(io.Discard, nil))).WithEncryptionKey(key)
	plain, err := badger.Open(opts.WithEncryptionKey(nil))
	if err != nil {
		t.Fatal(err)
	}
	_, err = copyDB(plain, opts.WithDir(tmp).WithValueDir(tmp))
	plain.Close()
	if err != nil {
		t.Fatal(err)
	}
	if step == "copy without marker" {
		return
	}
	must(t, writeSynced(done))
	if step == "marker written" {
		return
	}
	must(t, os.Rename(dir, old))
	if step == "plain moved aside" {
		return
	}
	must(t, os.Rename(tmp, dir))
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}
