package powerfs

import (
	"context"
	"sort"
	"syscall"

	"github.com/hanwen/go-fuse/v2/fs"
	"github.com/hanwen/go-fuse/v2/fuse"
)

// fsNode is what go-fuse calls for one file or directory of the model.
type fsNode struct {
	fs.Inode
	p *server
	n *node
}

var (
	_ fs.NodeLookuper   = (*fsNode)(nil)
	_ fs.NodeReaddirer  = (*fsNode)(nil)
	_ fs.NodeGetattrer  = (*fsNode)(nil)
	_ fs.NodeSetattrer  = (*fsNode)(nil)
	_ fs.NodeCreater    = (*fsNode)(nil)
	_ fs.NodeMkdirer    = (*fsNode)(nil)
	_ fs.NodeUnlinker   = (*fsNode)(nil)
	_ fs.NodeRmdirer    = (*fsNode)(nil)
	_ fs.NodeRenamer    = (*fsNode)(nil)
	_ fs.NodeOpener     = (*fsNode)(nil)
	_ fs.NodeReader     = (*fsNode)(nil)
	_ fs.NodeWriter     = (*fsNode)(nil)
	_ fs.NodeFsyncer    = (*fsNode)(nil)
	_ fs.NodeFlusher    = (*fsNode)(nil)
	_ fs.NodeAllocater  = (*fsNode)(nil)
	_ fs.NodeStatfser   = (*fsNode)(nil)
	_ fs.NodeOpendirer  = (*fsNode)(nil)
	_ fs.NodeGetxattrer = (*fsNode)(nil)
)

func (f *fsNode) child(ctx context.Context, c *node, out *fuse.EntryOut) *fs.Inode {
	attr(c, &out.Attr)
	mode := uint32(fuse.S_IFREG)
	if c.dir {
		mode = fuse.S_IFDIR
	}
	return f.NewInode(ctx, &fsNode{p: f.p, n: c}, fs.StableAttr{Mode: mode, Ino: c.ino})
}

func attr(n *node, a *fuse.Attr) {
	a.Ino = n.ino
	if n.dir {
		a.Mode = fuse.S_IFDIR | n.perm
		a.Nlink = 2
		return
	}
	a.Mode = fuse.S_IFREG | n.perm
	a.Nlink = 1
	a.Size = uint64(n.size)
	a.Blocks = uint64(n.size+511) / 512
	a.Blksize = pageSize
}

func (f *fsNode) Lookup(ctx context.Context, name string, out *fuse.EntryOut) (*fs.Inode, syscall.Errno) {
	if !f.p.lock() {
		return nil, errDead
	}
	defer f.p.mu.Unlock()
	c, ok := f.n.entries[name]
	if !ok {
		return nil, syscall.ENOENT
	}
	return f.child(ctx, c, out), 0
}

func (f *fsNode) Opendir(context.Context) syscall.Errno {
	if !f.p.lock() {
		return errDead
	}
	f.p.mu.Unlock()
	return 0
}

func (f *fsNode) Readdir(context.Context) (fs.DirStream, syscall.Errno) {
	if !f.p.lock() {
		return nil, errDead
	}
	defer f.p.mu.Unlock()
	list := make([]fuse.DirEntry, 0, len(f.n.entries))
	for name, c := range f.n.entries {
		mode := uint32(fuse.S_IFREG)
		if c.dir {
			mode = fuse.S_IFDIR
		}
		list = append(list, fuse.DirEntry{Name: name, Ino: c.ino, Mode: mode})
	}
	sort.Slice(list, func(a, b int) bool { return list[a].Name < list[b].Name })
	return fs.NewListDirStream(list), 0
}

func (f *fsNode) Getattr(_ context.Context, _ fs.FileHandle, out *fuse.AttrOut) syscall.Errno {
	if !f.p.lock() {
		return errDead
	}
	defer f.p.mu.Unlock()
	attr(f.n, &out.Attr)
	return 0
}

func (f *fsNode) Setattr(_ context.Context, _ fs.FileHandle, in *fuse.SetAttrIn, out *fuse.AttrOut) syscall.Errno {
	if !f.p.lock() {
		return errDead
	}
	defer f.p.mu.Unlock()
	if sz, ok := in.GetSize(); ok && !f.n.dir {
		f.n.truncate(int64(sz))
	}
	if m, ok := in.GetMode(); ok {
		f.n.perm = m & 0o7777
	}
	attr(f.n, &out.Attr)
	return 0
}

// Getxattr answers that there are no extended attributes (the kernel asks
// for security.capability before every write).
func (f *fsNode) Getxattr(context.Context, string, []byte) (uint32, syscall.Errno) {
	return 0, syscall.ENODATA
}

func (f *fsNode) Statfs(_ context.Context, out *fuse.StatfsOut) syscall.Errno {
	out.Bsize, out.Frsize = pageSize, pageSize
	out.Blocks, out.Bfree, out.Bavail = 1<<24, 1<<23, 1<<23
	out.Files, out.Ffree = 1<<20, 1<<19
	out.NameLen = 255
	return 0
}

func (f *fsNode) Create(ctx context.Context, name string, flags, mode uint32, out *fuse.EntryOut) (*fs.Inode, fs.FileHandle, uint32, syscall.Errno) {
	if !f.p.lock() {
		return nil, nil, 0, errDead
	}
	defer f.p.mu.Unlock()
	c, ok := f.n.entries[name]
	if ok && flags&syscall.O_EXCL != 0 {
		return nil, nil, 0, syscall.EEXIST
	}
	if !ok {
		c = f.p.newNode(false)
		c.parent, c.name, c.perm = f.n, name, mode&0o7777
		f.n.entries[name] = c
	} else if flags&syscall.O_TRUNC != 0 && !c.dir {
		c.truncate(0)
	}
	return f.child(ctx, c, out), nil, 0, 0
}

func (f *fsNode) Mkdir(ctx context.Context, name string, mode uint32, out *fuse.EntryOut) (*fs.Inode, syscall.Errno) {
	if !f.p.lock() {
		return nil, errDead
	}
	defer f.p.mu.Unlock()
	if _, ok := f.n.entries[name]; ok {
		return nil, syscall.EEXIST
	}
	c := f.p.newNode(true)
	c.parent, c.name, c.perm = f.n, name, mode&0o7777
	f.n.entries[name] = c
	return f.child(ctx, c, out), 0
}

func (f *fsNode) Unlink(_ context.Context, name string) syscall.Errno {
	return f.remove(name, false)
}

func (f *fsNode) Rmdir(_ context.Context, name string) syscall.Errno {
	return f.remove(name, true)
}

func (f *fsNode) remove(name string, dir bool) syscall.Errno {
	if !f.p.lock() {
		return errDead
	}
	defer f.p.mu.Unlock()
	c, ok := f.n.entries[name]
	switch {
	case !ok:
		return syscall.ENOENT
	case dir && !c.dir:
		return syscall.ENOTDIR
	case !dir && c.dir:
		return syscall.EISDIR
	case dir && len(c.entries) > 0:
		return syscall.ENOTEMPTY
	}
	delete(f.n.entries, name)
	return 0
}

func (f *fsNode) Rename(_ context.Context, name string, newParent fs.InodeEmbedder, newName string, flags uint32) syscall.Errno {
	if !f.p.lock() {
		return errDead
	}
	defer f.p.mu.Unlock()
	to, ok := newParent.(*fsNode)
	if !ok || flags&^uint32(renameNoReplace) != 0 {
		return syscall.ENOTSUP
	}
	c, ok := f.n.entries[name]
	if !ok {
		return syscall.ENOENT
	}
	if old, ok := to.n.entries[newName]; ok {
		switch {
		case flags&renameNoReplace != 0:
			return syscall.EEXIST
		case old.dir != c.dir:
			return syscall.EISDIR
		case old.dir && len(old.entries) > 0:
			return syscall.ENOTEMPTY
		}
	}
	delete(f.n.entries, name)
	to.n.entries[newName] = c
	return 0
}

// Open keeps no handle: reads and writes go to the node. The kernel's page
// cache is dropped at every open, so a remount shows only what is here.
func (f *fsNode) Open(_ context.Context, flags uint32) (fs.FileHandle, uint32, syscall.Errno) {
	if !f.p.lock() {
		return nil, 0, errDead
	}
	defer f.p.mu.Unlock()
	if flags&syscall.O_TRUNC != 0 && !f.n.dir {
		f.n.truncate(0)
	}
	return nil, 0, 0
}

func (f *fsNode) Read(_ context.Context, _ fs.FileHandle, dest []byte, off int64) (fuse.ReadResult, syscall.Errno) {
	if !f.p.lock() {
		return nil, errDead
	}
	defer f.p.mu.Unlock()
	return fuse.ReadResultData(f.n.read(dest, off)), 0
}

func (f *fsNode) Write(_ context.Context, _ fs.FileHandle, data []byte, off int64) (uint32, syscall.Errno) {
	if !f.p.lock() {
		return 0, errDead
	}
	defer f.p.mu.Unlock()
	f.p.stats.Writes++
	f.n.write(data, off)
	return uint32(len(data)), 0
}

// Fsync makes a file's content, or a directory's entries, durable: it is
// called for fsync, fdatasync, msync and fsync of a directory.
func (f *fsNode) Fsync(context.Context, fs.FileHandle, uint32) syscall.Errno {
	if !f.p.lock() {
		return errDead
	}
	defer f.p.mu.Unlock()
	f.p.sync(f.n)
	return 0
}

func (f *fsNode) Flush(context.Context, fs.FileHandle) syscall.Errno {
	if !f.p.lock() {
		return errDead
	}
	f.p.mu.Unlock()
	return 0
}

func (f *fsNode) Allocate(_ context.Context, _ fs.FileHandle, off, size uint64, mode uint32) syscall.Errno {
	if !f.p.lock() {
		return errDead
	}
	defer f.p.mu.Unlock()
	const keepSize = 1 // FALLOC_FL_KEEP_SIZE
	if mode&keepSize == 0 && int64(off+size) > f.n.size {
		f.n.truncate(int64(off + size))
	}
	return 0
}

// renameNoReplace is RENAME_NOREPLACE of renameat2(2).
const renameNoReplace = 1
