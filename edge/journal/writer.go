package journal

import (
	"context"
	"errors"
	"fmt"
	"runtime"

	"github.com/comptoir/comptoir/edge"
)

// request is one unit of work for the writer goroutine: an append, or a
// function that writes (acks, print jobs, staff, compaction) and must not
// interleave with the commit and sync of a batch of appends.
type request struct {
	ctx context.Context
	app *appendReq
	// more are operations appended with app in the same transaction: all
	// of them are journalled, or none (AppendAll).
	more []*appendReq
	fn   func() error
	sync bool // fn's writes must be durable before it is answered
	done chan error
}

func newRequest(ctx context.Context) *request {
	return &request{ctx: ctx, done: make(chan error, 1)}
}

// send queues r and waits for its answer. Once the writer has taken r it is
// answered promptly; a context cancelled before that drops it unwritten.
func (j *Journal) send(ctx context.Context, r *request) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	j.closeMu.RLock()
	if j.closed {
		j.closeMu.RUnlock()
		return ErrClosed
	}
	select {
	case j.reqs <- r:
	case <-ctx.Done():
		j.closeMu.RUnlock()
		return ctx.Err()
	}
	j.closeMu.RUnlock()
	return <-r.done
}

// write runs fn in the writer goroutine, then syncs if durable is set.
func (j *Journal) write(ctx context.Context, durable bool, fn func() error) error {
	r := newRequest(ctx)
	r.fn, r.sync = fn, durable
	return j.send(ctx, r)
}

// run is the writer goroutine: it takes whatever requests have queued up,
// up to the size of one transaction, and carries them out as one round.
func (j *Journal) run() {
	defer close(j.done)
	maxBytes := j.db.MaxBatchSize() / 2
	maxEntries := j.db.MaxBatchCount() / 2
	open := true
	var carry []*request
	for open || len(carry) > 0 {
		batch := carry
		if len(batch) == 0 {
			r, ok := <-j.reqs
			if !ok {
				return
			}
			batch = append(batch, r)
		}
		// Let the callers the last round answered queue their next
		// request before the batch is cut: bigger batches, fewer syncs.
		runtime.Gosched()
		var bytes, entries int64
		for _, r := range batch {
			bytes, entries = bytes+r.size(), entries+r.entries()
		}
	drain:
		for open && bytes < maxBytes && entries < maxEntries {
			select {
			case r, ok := <-j.reqs:
				if !ok {
					open = false
					break drain
				}
				batch = append(batch, r)
				bytes, entries = bytes+r.size(), entries+r.entries()
			default:
				break drain
			}
		}
		carry = j.round(batch)
	}
}

// answered pairs a request with its answer, given after the round's sync.
type answered struct {
	r   *request
	err error
}

// round carries out reqs: the functions one by one, the appends in one
// transaction, then one sync for all. It returns the appends that did not
// fit in the transaction, for the next round.
func (j *Journal) round(reqs []*request) (carry []*request) {
	j.mu.Lock()
	broken := j.broken
	j.mu.Unlock()

	var answers []answered
	var appends []*request
	needSync := false
	for _, r := range reqs {
		switch {
		case broken != nil:
			r.done <- broken
		case r.ctx.Err() != nil:
			r.done <- r.ctx.Err()
		case r.app != nil:
			appends = append(appends, r)
		default:
			err := r.fn()
			needSync = needSync || (r.sync && err == nil)
			answers = append(answers, answered{r, err})
		}
	}
	// DB.Sync syncs the WAL of the current memtable only. The appends'
	// commit may fill it and switch to a new one, leaving the writes above
	// in a WAL that nobody syncs: sync them first.
	if needSync && len(appends) > 0 {
		if !j.sync(answers) {
			for _, r := range appends {
				r.done <- j.broken
			}
			return nil
		}
		needSync = false
	}

	var b *batch
	if len(appends) > 0 {
		var written []*request
		var err error
		b, written, carry, err = j.writeAppends(appends)
		if err != nil {
			for _, r := range written {
				r.done <- fmt.Errorf("journal append: %w", err)
			}
			b = nil
		}
		if b != nil {
			needSync = true
			for _, r := range written {
				answers = append(answers, answered{r, nil})
			}
		}
	}
	if needSync && !j.sync(answers) {
		return carry
	}
	if b != nil {
		// The seq mark goes above the batch before the batch is seen.
		if err := j.raiseSeqMark(b.seq); err != nil {
			j.fail(err, answers)
			return carry
		}
		j.commitMemory(b)
	}
	j.afterWrite(b)
	for _, a := range answers {
		a.r.done <- a.err
	}
	return carry
}

// sync makes everything written so far durable. When it fails, the journal
// is broken and every answer becomes the error.
func (j *Journal) sync(answers []answered) bool {
	err := j.syncDB()
	if err == nil {
		j.syncs.Add(1)
		return true
	}
	// After a failed fsync the kernel may have dropped the dirty pages:
	// nothing of this round can be called durable, and retrying the sync
	// would lie. Refuse writes until the journal is reopened.
	j.fail(err, answers)
	return false
}

// fail breaks the journal after a failed sync (of Badger or of the seq
// mark) and answers the error to every request of the round.
func (j *Journal) fail(err error, answers []answered) {
	j.logger.Error("journal sync failed; the journal takes no more writes", "err", err)
	j.mu.Lock()
	j.broken = edge.Errorf(edge.EUNAVAILABLE, "The journal cannot write to disk.")
	j.mu.Unlock()
	for _, a := range answers {
		a.r.done <- fmt.Errorf("journal sync: %w", j.broken)
	}
}

// size estimates the bytes r adds to a transaction.
func (r *request) size() int64 {
	if r.app == nil {
		return 0
	}
	n := r.app.size
	for _, a := range r.more {
		n += a.size
	}
	return n
}

// entries estimates the number of keys r writes in a transaction.
func (r *request) entries() int64 {
	if r.app == nil {
		return 0
	}
	n := int64(8 + 2*len(r.app.jobs))
	for _, a := range r.more {
		n += int64(8 + 2*len(a.jobs))
	}
	return n
}

// isTooBig reports whether err is Badger's transaction-too-big error.
func isTooBig(err error) bool {
	return errors.Is(err, errTxnTooBig)
}
