package cloud

import (
	"context"
	"errors"
	"sync"
)

// ErrStoreClosed is returned by a write made after its store was closed.
var ErrStoreClosed = errors.New("store closed")

// GroupCommit is the group commit of a store: a transaction's cost is mostly
// its durable commit (a WAL sync or flush), so the writes waiting at the
// same moment are committed together. Each of its loops takes the write at
// hand and every write waiting behind it, up to a size, and commits them
// in one go; while one group is being synced the next one gathers, and the
// more callers at once the larger the groups. The queue is unbuffered: a
// write is either in a group or still with its caller.
//
// W is the store's write, a pointer through which commit returns results.
type GroupCommit[W any] struct {
	commit  func([]W) error
	size    func(W) int
	max     int
	queue   chan groupWrite[W]
	closing chan struct{}
	close1  sync.Once
	loops   sync.WaitGroup
}

type groupWrite[W any] struct {
	w    W
	done chan error // buffered: a loop never waits for the caller
}

// NewGroupCommit starts loops loops committing groups of at most max (as
// counted by size; a single larger write is a group of its own) with
// commit, which stores the writes of a group all or none. When commit
// fails on a group of several, the group is split and each half committed
// again, so that one write the store cannot take fails alone.
func NewGroupCommit[W any](loops, max int, size func(W) int, commit func([]W) error) *GroupCommit[W] {
	g := &GroupCommit[W]{commit: commit, size: size, max: max, queue: make(chan groupWrite[W]), closing: make(chan struct{})}
	g.loops.Add(loops)
	for range loops {
		go g.loop()
	}
	return g
}

// Do commits w with the writes waiting beside it and returns commit's
// error for it. When ctx ends first it returns ctx's error; w may still
// be committed then.
func (g *GroupCommit[W]) Do(ctx context.Context, w W) error {
	gw := groupWrite[W]{w: w, done: make(chan error, 1)}
	select {
	case g.queue <- gw:
	case <-g.closing:
		return ErrStoreClosed
	case <-ctx.Done():
		return ctx.Err()
	}
	select {
	case err := <-gw.done:
		return err
	case <-ctx.Done():
		return ctx.Err()
	}
}

// Close stops the loops once the groups in hand are committed. Writes made
// afterwards return ErrStoreClosed. It may be called more than once.
func (g *GroupCommit[W]) Close() {
	g.close1.Do(func() { close(g.closing) })
	g.loops.Wait()
}

func (g *GroupCommit[W]) loop() {
	defer g.loops.Done()
	for {
		var gw groupWrite[W]
		select {
		case gw = <-g.queue:
		case <-g.closing:
			return
		}
		group, n := []groupWrite[W]{gw}, g.size(gw.w)
	gather:
		for n < g.max {
			select {
			case gw = <-g.queue:
				group, n = append(group, gw), n+g.size(gw.w)
			default:
				break gather
			}
		}
		g.run(group)
	}
}

// run commits group and answers its callers, splitting it on failure.
func (g *GroupCommit[W]) run(group []groupWrite[W]) {
	ws := make([]W, len(group))
	for i, gw := range group {
		ws[i] = gw.w
	}
	err := g.commit(ws)
	if err != nil && len(group) > 1 {
		g.run(group[:len(group)/2])
		g.run(group[len(group)/2:])
		return
	}
	for _, gw := range group {
		gw.done <- err
	}
}
