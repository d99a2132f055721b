//go:build linux

package journal

import (
	"bufio"
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"strconv"

	"github.com/dgraph-io/badger/v4"
	"golang.org/x/sys/unix"
)

// pageOutTables takes the pages of the journal's mapped tables (*.sst) out
// of this process's resident memory (MADV_DONTNEED): the kernel keeps them
// in its page cache while it has room, and a later read maps them again
// (or reads the file). On a shared file mapping the advice loses nothing,
// not even a page written and not yet synced.
//
// The advice must land on a table's mapping, and only there: on memory
// mapped at that address after Badger unmapped a deleted table, it would
// zero it. So a read iterator pins every table of the tree (Badger
// deletes a table only once no iterator holds it) while /proc/self/maps is
// read and the advice given, and only tables listed by Badger both before
// and after the pin are touched: a table in both lists was in the tree
// when the iterator took it. Tables being written by a compaction are left
// alone; the next round gets them.
func (j *Journal) pageOutTables() error {
	before := j.db.Tables()
	txn := j.db.NewTransaction(false)
	defer txn.Discard()
	it := txn.NewIterator(badger.IteratorOptions{})
	defer it.Close()
	listed := make(map[uint64]bool, len(before))
	for _, t := range before {
		listed[t.ID] = true
	}
	pinned := make(map[uint64]bool, len(before))
	for _, t := range j.db.Tables() {
		if listed[t.ID] {
			pinned[t.ID] = true
		}
	}
	return adviseTables(j.dir, pinned, unix.MADV_DONTNEED)
}

// adviseTables gives advice to every mapping of a table of the journal in
// dir whose id is in ids.
func adviseTables(dir string, ids map[uint64]bool, advice int) error {
	abs, err := filepath.Abs(dir)
	if err != nil {
		return err
	}
	if real, err := filepath.EvalSymlinks(abs); err == nil {
		abs = real
	}
	f, err := os.Open("/proc/self/maps")
	if err != nil {
		return err
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	var first error
	for sc.Scan() {
		start, end, path, ok := mapsLine(sc.Bytes())
		if !ok || !ids[tableID(abs, path)] {
			continue
		}
		_, _, errno := unix.Syscall(unix.SYS_MADVISE, start, end-start, uintptr(advice))
		if errno != 0 && first == nil {
			first = fmt.Errorf("madvise %s: %w", path, errno)
		}
	}
	if err := sc.Err(); err != nil {
		return err
	}
	return first
}

// tableID returns the id of the table file at path directly in dir
// (Badger names it "%06d.sst"), or 0 when path is no table of dir (Badger
// numbers tables from 1).
func tableID(dir string, path []byte) uint64 {
	name, found := bytes.CutPrefix(path, []byte(dir+"/"))
	if !found || bytes.IndexByte(name, '/') >= 0 {
		return 0
	}
	num, found := bytes.CutSuffix(name, []byte(".sst"))
	if !found {
		return 0
	}
	id, err := strconv.ParseUint(string(num), 10, 64)
	if err != nil {
		return 0
	}
	return id
}

// mapsLine parses a line of /proc/PID/maps (or a mapping's first line in
// /proc/PID/smaps): "start-end perms offset dev inode path". The path is
// what follows the first slash (no field before it has one; it may hold
// spaces), without the " (deleted)" of a file removed while mapped; it is
// nil for anonymous memory.
func mapsLine(l []byte) (start, end uintptr, path []byte, ok bool) {
	sp := bytes.IndexByte(l, ' ')
	if sp < 0 {
		return 0, 0, nil, false
	}
	lo, hi, found := bytes.Cut(l[:sp], []byte("-"))
	if !found {
		return 0, 0, nil, false
	}
	s, err1 := strconv.ParseUint(string(lo), 16, 64)
	e, err2 := strconv.ParseUint(string(hi), 16, 64)
	if err1 != nil || err2 != nil || e <= s {
		return 0, 0, nil, false
	}
	if i := bytes.IndexByte(l, '/'); i >= 0 {
		path = bytes.TrimSuffix(l[i:], []byte(" (deleted)"))
	}
	return uintptr(s), uintptr(e), path, true
}

// fileRSS returns the resident memory of this process's mapped files
// (RssFile of /proc/self/status), in bytes.
func fileRSS() (int64, bool) {
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return 0, false
	}
	for l := range bytes.Lines(b) {
		if v, found := bytes.CutPrefix(l, []byte("RssFile:")); found {
			kb, err := strconv.ParseInt(string(bytes.TrimSuffix(bytes.TrimSpace(v), []byte(" kB"))), 10, 64)
			return kb << 10, err == nil
		}
	}
	return 0, false
}
