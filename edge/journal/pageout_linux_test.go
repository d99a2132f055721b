//go:build linux

package journal

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// tablesRSS returns the resident memory of the journal's tables mapped in
// this process (the Rss of every *.sst mapping under dir, /proc/self/smaps).
func tablesRSS(tb testing.TB, dir string) int64 {
	tb.Helper()
	abs, err := filepath.Abs(dir)
	if err != nil {
		tb.Fatal(err)
	}
	if real, err := filepath.EvalSymlinks(abs); err == nil {
		abs = real
	}
	f, err := os.Open("/proc/self/smaps")
	if err != nil {
		tb.Fatal(err)
	}
	defer f.Close()
	var total int64
	in := false
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		l := sc.Bytes()
		if _, _, path, ok := mapsLine(l); ok {
			in = bytes.HasPrefix(path, []byte(abs+"/")) && bytes.HasSuffix(path, []byte(".sst"))
			continue
		}
		if v, found := bytes.CutPrefix(l, []byte("Rss:")); found && in {
			kb, err := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(string(v)), " kB"), 10, 64)
			if err != nil {
				tb.Fatal(err)
			}
			total += kb << 10
		}
	}
	if err := sc.Err(); err != nil {
		tb.Fatal(err)
	}
	return total
}

// TestPageOutTables reads a journal of a few megabytes of encrypted tables
// (their pages become resident), pages them out, and reads it again: the
// tables' resident memory falls to a quarter or less and every operation
// reads back the same.
func TestPageOutTables(t *testing.T) {
	dir := t.TempDir()
	cfg := Config{Terminal: "term-1", EncryptionKey: testKey(t)}
	j := MustOpen(t, dir, cfg)
	const n = 6000
	var wg sync.WaitGroup
	for w := range 4 {
		wg.Go(func() {
			for i := w; i < n; i += 4 {
				trk := fmt.Sprintf("PO%07dFR", i)
				MustAppend(t, j, depositOp(trk, "ra-"+trk, "A1"))
			}
		})
	}
	wg.Wait()
	if err := j.Close(); err != nil {
		t.Fatal(err)
	}
	// Reopened, the memtable is a table: the operations are read from the
	// mapped files.
	j = MustOpen(t, dir, cfg)
	defer j.Close()
	ctx := context.Background()
	before, err := j.Operations(ctx, 0, 0)
	if err != nil {
		t.Fatal(err)
	}
	if len(before) != n {
		t.Fatalf("read %d operations, want %d", len(before), n)
	}
	read := tablesRSS(t, j.dir)
	if read < 256<<10 {
		t.Fatalf("tables resident after reading %d operations: %d bytes, want at least 256 KiB", n, read)
	}
	// Badger's compactions of the reopened tables read them meanwhile and
	// map pages again: a few rounds are given for one to be measured
	// before that.
	after := read
	for range 5 {
		if err := j.pageOutTables(); err != nil {
			t.Fatal(err)
		}
		if after = tablesRSS(t, j.dir); after <= read/4 {
			break
		}
		time.Sleep(200 * time.Millisecond)
	}
	if after > read/4 {
		t.Errorf("tables resident after page out: %d bytes, want at most a quarter of %d", after, read)
	}
	again, err := j.Operations(ctx, 0, 0)
	if err != nil {
		t.Fatal(err)
	}
	if len(again) != n {
		t.Fatalf("read %d operations after page out, want %d", len(again), n)
	}
	for i := range before {
		if !sameOp(before[i], again[i]) {
			t.Fatalf("operation %d after page out: %+v, was %+v", i, again[i], before[i])
		}
	}
}

func TestMapsLine(t *testing.T) {
	for _, c := range []struct {
		line       string
		start, end uintptr
		path       string
		ok         bool
	}{
		{"7f1c2a000000-7f1c2a010000 rw-s 00000000 fd:01 1234 /data/journal/000012.sst", 0x7f1c2a000000, 0x7f1c2a010000, "/data/journal/000012.sst", true},
		{"7f1c2a000000-7f1c2a010000 rw-s 00000000 fd:01 1234 /data/my journal/000012.sst (deleted)", 0x7f1c2a000000, 0x7f1c2a010000, "/data/my journal/000012.sst", true},
		{"c000000000-c004000000 rw-p 00000000 00:00 0 ", 0xc000000000, 0xc004000000, "", true},
		{"7ffd1b2f0000-7ffd1b311000 rw-p 00000000 00:00 0                          [stack]", 0x7ffd1b2f0000, 0x7ffd1b311000, "", true},
		{"Rss:                 132 kB", 0, 0, "", false},
		{"zz-7f1c2a010000 r--s 00000000 fd:01 1234 /x.sst", 0, 0, "", false},
		{"7f1c2a010000-7f1c2a000000 r--s 00000000 fd:01 1234 /x.sst", 0, 0, "", false},
	} {
		start, end, path, ok := mapsLine([]byte(c.line))
		if ok != c.ok || start != c.start || end != c.end || string(path) != c.path {
			t.Errorf("mapsLine(%q) = %#x, %#x, %q, %v; want %#x, %#x, %q, %v", c.line, start, end, path, ok, c.start, c.end, c.path, c.ok)
		}
	}
}
