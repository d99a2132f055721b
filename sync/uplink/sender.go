package uplink

import (
	"context"
	"slices"
	"time"

	"github.com/comptoir/comptoir/edge"
	"github.com/comptoir/comptoir/sync/wire"
)

// batch is one events message in flight: published, not yet wholly acked.
// It keeps its encoded payload, so that a resend carries the same events.
type batch struct {
	seqs     []uint64 // sorted
	acked    []bool   // acked[i] is true once seqs[i] is acked
	left     int      // seqs not yet acked
	payload  []byte
	gen      uint64    // session it was last published in; 0 before the first
	attempts int       // publishes so far
	due      time.Time // when to publish again without an ack
}

// ack marks the seqs of b within [first, last]; it reports whether all of
// b is now acked.
func (b *batch) ack(first, last uint64) bool {
	i, _ := slices.BinarySearch(b.seqs, first)
	for ; i < len(b.seqs) && b.seqs[i] <= last; i++ {
		if !b.acked[i] {
			b.acked[i] = true
			b.left--
		}
	}
	return b.left == 0
}

// sender is the state of the send loop, owned by its goroutine. Nothing of
// it survives a restart: the outbox alone says what is left to send.
type sender struct {
	cursor   uint64   // highest seq put in a batch so far
	inflight []*batch // in seq order
}

// sendLoop publishes the outbox in batches, at most Window in flight, and
// resends each batch until the cloud acks all of it.
func (u *Uplink) sendLoop(ctx context.Context) {
	var s sender
	timer := time.NewTimer(idlePoll)
	defer timer.Stop()
	for {
		u.applyAcks(ctx, &s)
		wait := idlePoll
		if sess, gen := u.current(); sess != nil {
			wait = u.send(ctx, &s, gen)
		}
		timer.Reset(wait)
		select {
		case <-ctx.Done():
			return
		case <-u.wake:
		case <-timer.C:
		}
	}
}

// send publishes what is due in the session of generation gen and fills the
// window; it returns how long to wait before the next resend is due.
func (u *Uplink) send(ctx context.Context, s *sender, gen uint64) time.Duration {
	now := time.Now()
	for _, b := range s.inflight {
		if b.gen != gen || !now.Before(b.due) {
			u.publish(b, gen, now)
		}
	}
	for len(s.inflight) < u.cfg.Window {
		b, err := u.nextBatch(ctx, s)
		if err != nil {
			if ctx.Err() == nil {
				u.log.Error("read outbox", "err", err)
			}
			break
		}
		if b == nil {
			break
		}
		s.inflight = append(s.inflight, b)
		u.publish(b, gen, now)
	}
	wait := idlePoll
	for _, b := range s.inflight {
		wait = min(wait, time.Until(b.due))
	}
	return max(wait, time.Millisecond)
}

// publish sends b without waiting for its PUBACK, which proves nothing: only
// the cloud's ack frees b. A failed publish is simply retried when due.
func (u *Uplink) publish(b *batch, gen uint64, now time.Time) {
	b.gen = gen
	b.attempts++
	b.due = now.Add(wire.ResendAfter(u.cfg.AckTimeout, b.attempts))
	if b.attempts > 1 {
		u.log.Debug("resend batch", "first", b.seqs[0], "last", b.seqs[len(b.seqs)-1], "attempt", b.attempts)
	}
	c := u.client()
	if c == nil {
		return
	}
	tok := c.Publish(u.topics.events, 1, false, b.payload)
	select {
	case <-tok.Done():
		if err := tok.Error(); err != nil {
			u.log.Warn("publish batch", "err", err)
		}
	default:
	}
}

// nextBatch reads the operations after the cursor and makes a batch of at
// most wire.MaxBatchEvents events and wire.MaxBatchBytes bytes; it returns
// nil when the outbox has nothing more.
func (u *Uplink) nextBatch(ctx context.Context, s *sender) (*batch, error) {
	for {
		ops, err := u.outbox.Pending(ctx, s.cursor, wire.MaxBatchEvents)
		if err != nil || len(ops) == 0 {
			return nil, err
		}
		b, last := u.encode(ops)
		s.cursor = last
		if b != nil {
			return b, nil
		}
	}
}

// encode builds the batch of the first of ops that fit (wire.BatchBuilder).
// It returns the batch (nil when no op could be encoded) and the seq of the
// last op it consumed. An operation that cannot be encoded is logged and
// skipped: it stays in the outbox, and is tried again after a restart.
func (u *Uplink) encode(ops []edge.Operation) (*batch, uint64) {
	bb := wire.NewBatchBuilder(u.cfg.Terminal)
	b := &batch{}
	var last uint64
	for _, op := range ops {
		added, err := bb.Add(op)
		if err != nil {
			u.log.Error("operation cannot be encoded: left in the outbox", "seq", op.Seq, "err", err)
			last = op.Seq
			continue
		}
		if !added {
			break
		}
		b.seqs = append(b.seqs, op.Seq)
		last = op.Seq
	}
	if len(b.seqs) == 0 {
		return nil, last
	}
	if bb.Oversized() {
		// Sent alone anyway, so that it is seen rather than stuck.
		u.log.Error("operation larger than a batch", "seq", b.seqs[0], "bytes", len(bb.Payload()))
	}
	b.payload = bb.Payload()
	b.acked = make([]bool, len(b.seqs))
	b.left = len(b.seqs)
	return b, last
}

// applyAcks takes the ranges the cloud acked since the last call, has the
// outbox forget them, and frees the batches they complete. Ranges are
// applied even when no batch in flight holds them (acks of a previous run):
// the cloud's ack is the proof of storage.
func (u *Uplink) applyAcks(ctx context.Context, s *sender) {
	u.mu.Lock()
	ranges := u.acks
	u.acks = nil
	u.mu.Unlock()
	if len(ranges) == 0 {
		return
	}
	for _, r := range merge(ranges) {
		if err := u.outbox.Ack(ctx, r[0], r[1]); err != nil {
			// Keep the batch in flight: its resend brings the ack again.
			if ctx.Err() == nil {
				u.log.Error("ack outbox", "first", r[0], "last", r[1], "err", err)
			}
			continue
		}
		s.inflight = slices.DeleteFunc(s.inflight, func(b *batch) bool {
			return b.seqs[len(b.seqs)-1] >= r[0] && b.seqs[0] <= r[1] && b.ack(r[0], r[1])
		})
	}
}

// merge sorts ranges and joins those that overlap or touch.
func merge(ranges [][2]uint64) [][2]uint64 {
	slices.SortFunc(ranges, func(a, b [2]uint64) int {
		switch {
		case a[0] < b[0]:
			return -1
		case a[0] > b[0]:
			return 1
		}
		return 0
	})
	out := ranges[:1]
	for _, r := range ranges[1:] {
		last := &out[len(out)-1]
		if r[0] <= last[1] || r[0] == last[1]+1 {
			last[1] = max(last[1], r[1])
			continue
		}
		out = append(out, r)
	}
	return out
}
