// Package powerfs is a file system for power-loss tests: it holds files in
// memory, mounted with FUSE (github.com/hanwen/go-fuse/v2), and keeps two
// states of everything, what a program sees and what a disk would have made
// durable. A file's content and size become durable when the file is synced
// (fsync, fdatasync, msync); a directory's entries (a file created, renamed,
// removed) when the directory itself is synced, as POSIX requires, with one
// exception that ext4, XFS and F2FS (the file systems of our terminals'
// SD cards and eMMC) all make: syncing a new file or directory also makes
// the entry it was created under durable. Badger relies on that exception
// (it does not sync the directory between writing a new table and naming
// it in its manifest). Cut simulates a power cut: from that moment
// every operation fails (nothing more becomes durable), the file system is
// unmounted, everything that was not durable is dropped, and it is mounted
// again at the same place, as after a reboot.
package powerfs

import (
	"fmt"
	"sync"
	"syscall"
	"time"

	"github.com/hanwen/go-fuse/v2/fs"
	"github.com/hanwen/go-fuse/v2/fuse"
)

// pageSize is the unit in which file contents are kept and made durable.
const pageSize = 4096

// server holds the file system's state and serves it; it runs in a process
// of its own (serve.go).
type server struct {
	dir    string
	mu     sync.Mutex
	root   *node
	nextIn uint64
	// dead is set by Cut: every operation fails until the remount.
	dead  bool
	fuse  *fuse.Server
	stats Stats
}

// Stats counts what the file system saw and what power cuts threw away.
type Stats struct {
	Cuts, Writes, Syncs, DirSyncs int
	// LostPages and LostEntries count the file pages and directory entries
	// that cuts dropped because they had not been synced.
	LostPages, LostEntries int
}

// node is a file or a directory, in its two states.
type node struct {
	ino uint64
	dir bool
	// perm is the permission bits, as created or changed (chmod); they are
	// not subject to power cuts.
	perm uint32
	// A file's content by page, as seen and as durable; a page of cur is
	// copied before its first write after a sync, so that dur keeps the
	// synced one. dirty lists the pages changed since the last sync.
	size, durSize int64
	cur, dur      map[int64][]byte
	dirty         map[int64]bool
	// A directory's entries, as seen and as durable.
	entries, durEntries map[string]*node
	// parent and name are where the node was created, until that entry is
	// durable.
	parent *node
	name   string
}

func (p *server) newNode(dir bool) *node {
	n := &node{ino: p.nextIn, dir: dir, perm: 0o644}
	p.nextIn++
	if dir {
		n.perm = 0o755
		n.entries, n.durEntries = map[string]*node{}, map[string]*node{}
	} else {
		n.cur, n.dur, n.dirty = map[int64][]byte{}, map[int64][]byte{}, map[int64]bool{}
	}
	return n
}

func (p *server) mount() error {
	zero := time.Duration(0)
	opts := &fs.Options{
		// No caching of names or attributes in the kernel: what it shows
		// is always the state held here.
		EntryTimeout: &zero, AttrTimeout: &zero, NegativeTimeout: &zero,
		MountOptions: fuse.MountOptions{
			// As root, mount(2) directly: no fusermount needed.
			DirectMount: true,
			FsName:      "powerfs",
			Name:        "powerfs",
		},
	}
	s, err := fs.Mount(p.dir, &fsNode{p: p, n: p.root}, opts)
	if err != nil {
		return err
	}
	p.mu.Lock()
	p.fuse = s
	p.mu.Unlock()
	return nil
}

// unmount unmounts s, waiting up to 10 s for the files open on it to be
// closed (a killed process's are closed as it exits).
func unmount(s *fuse.Server) error {
	var err error
	for range 100 {
		if err = s.Unmount(); err == nil {
			s.Wait()
			return nil
		}
		time.Sleep(100 * time.Millisecond)
	}
	return fmt.Errorf("unmount: %w", err)
}

// cut cuts the power: every operation fails from now on, so nothing more is
// made durable.
func (p *server) cut() {
	p.mu.Lock()
	p.dead = true
	p.mu.Unlock()
}

// restart unmounts the file system, drops everything that was not durable
// and mounts it again: the state a disk would show after a power cut.
func (p *server) restart() error {
	p.mu.Lock()
	p.dead = true
	s := p.fuse
	p.fuse = nil
	p.mu.Unlock()
	if s != nil {
		if err := unmount(s); err != nil {
			return err
		}
	}
	p.mu.Lock()
	p.stats.Cuts++
	p.reset(p.root, map[*node]bool{})
	p.dead = false
	p.mu.Unlock()
	return p.mount()
}

// reset brings n and what its durable entries name back to their durable
// state; what no durable entry names is gone.
func (p *server) reset(n *node, seen map[*node]bool) {
	if seen[n] {
		return
	}
	seen[n] = true
	if !n.dir {
		p.stats.LostPages += len(n.dirty)
		copyPages(n.cur, n.dur, n.dirty)
		clear(n.dirty)
		n.size = n.durSize
		return
	}
	for name, c := range n.entries {
		if n.durEntries[name] != c {
			p.stats.LostEntries++
		}
	}
	n.entries = clone(n.durEntries)
	for _, c := range n.entries {
		p.reset(c, seen)
	}
}

func clone[K comparable, V any](m map[K]V) map[K]V {
	c := make(map[K]V, len(m))
	for k, v := range m {
		c[k] = v
	}
	return c
}

// counts returns what the file system has counted so far.
func (p *server) counts() Stats {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.stats
}

// errDead is the answer to every operation between Cut and Restart.
var errDead = syscall.EIO

// lock takes the file system's lock, or reports that the power is cut.
func (p *server) lock() bool {
	p.mu.Lock()
	if p.dead {
		p.mu.Unlock()
		return false
	}
	return true
}

// write copies data into f at off.
func (n *node) write(data []byte, off int64) {
	for len(data) > 0 {
		i, o := off/pageSize, off%pageSize
		pg := n.cur[i]
		if !n.dirty[i] {
			c := make([]byte, pageSize)
			copy(c, pg)
			pg = c
			n.cur[i] = pg
			n.dirty[i] = true
		}
		k := copy(pg[o:], data)
		data, off = data[k:], off+int64(k)
	}
	if off > n.size {
		n.size = off
	}
}

// truncate sets f's size; the bytes beyond it read as zero if it grows again.
func (n *node) truncate(size int64) {
	if size < n.size {
		for i := range n.cur {
			if i*pageSize >= size {
				delete(n.cur, i)
				n.dirty[i] = true
			}
		}
		if o := size % pageSize; o != 0 {
			if _, ok := n.cur[size/pageSize]; ok {
				n.write(make([]byte, pageSize-o), size)
			}
		}
	}
	n.size = size
}

func (n *node) read(dest []byte, off int64) []byte {
	if off >= n.size {
		return nil
	}
	end := min(off+int64(len(dest)), n.size)
	dest = dest[:end-off]
	for k := int64(0); k < int64(len(dest)); {
		i, o := (off+k)/pageSize, (off+k)%pageSize
		var w int
		if pg, ok := n.cur[i]; ok {
			w = copy(dest[k:], pg[o:])
		} else {
			w = copy(dest[k:], make([]byte, pageSize-o))
		}
		k += int64(w)
	}
	return dest
}

// sync makes f's content or a directory's entries durable, and the entry a
// new node was created under.
func (p *server) sync(n *node) {
	if d := n.parent; d != nil {
		if d.entries[n.name] == n {
			d.durEntries[n.name] = n
		}
		n.parent = nil
	}
	if n.dir {
		p.stats.DirSyncs++
		n.durEntries = clone(n.entries)
		return
	}
	p.stats.Syncs++
	copyPages(n.dur, n.cur, n.dirty)
	clear(n.dirty)
	n.durSize = n.size
}

// copyPages makes the given pages of dst what they are in src (absent
// where src has none).
func copyPages(dst, src map[int64][]byte, pages map[int64]bool) {
	for i := range pages {
		if pg, ok := src[i]; ok {
			dst[i] = pg
		} else {
			delete(dst, i)
		}
	}
}
