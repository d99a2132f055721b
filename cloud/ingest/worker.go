package ingest

import (
	"time"

	"github.com/comptoir/comptoir/cloud"
	"github.com/comptoir/comptoir/edge"
	"github.com/comptoir/comptoir/sync/wire"
)

// work handles the messages of its share of terminals, one at a time
// (batches: receive queues statuses to their shards, queueStatus).
func (i *Ingest) work(jobs <-chan message) {
	defer i.wg.Done()
	for {
		select {
		case m := <-jobs:
			i.handle(m)
		case <-i.ctx.Done():
			return
		}
	}
}

func (i *Ingest) handle(m message) {
	tid, kind, ok := wire.ParseTerminalTopic(m.topic)
	switch {
	case !ok:
		i.deadLetter(m, "", edge.Errorf(wire.ErrMalformed, "topic %q is not a terminal's", m.topic))
	case kind == wire.KindEvents:
		i.handleEvents(m, tid)
	}
}

// handleEvents stores a batch, durably, then acks every seq of it: those
// stored now and those stored before (a resend whose ack was lost).
func (i *Ingest) handleEvents(m message, tid string) {
	b, err := wire.DecodeBatch(tid, m.payload)
	if err != nil {
		i.deadLetter(m, tid, err)
		return
	}
	res, err := i.store.StoreEvents(i.ctx, tid, b.Events, m.at)
	if edge.ErrorCode(err) == edge.EINVALID {
		// A batch no store takes (a seq over 2^63): resending it changes
		// nothing, so it is kept aside for an operator.
		i.deadLetter(m, tid, edge.Errorf(wire.ErrMalformed, "%s", edge.ErrorMessage(err)))
		return
	}
	if err != nil {
		// Not acked: the terminal sends it again later.
		i.metrics.StoreErrors.Inc()
		i.log.Error("store events", "terminal", tid, "events", len(b.Events), "err", err)
		return
	}
	seqs := make([]uint64, len(b.Events))
	for n, ev := range b.Events {
		seqs[n] = ev.Seq
	}
	// The ack carries the cloud's time: terminals measure their clock by
	// it (edge.TrustedClock.Sync).
	ack := wire.Marshal(wire.Acks{V: wire.Version, Ranges: wire.Ranges(seqs), At: i.now().UTC()})
	// Counted before the ack leaves, so that whoever sees the ack sees the
	// counts too.
	i.metrics.Events.Add(float64(res.Stored))
	i.metrics.Duplicates.Add(float64(res.Duplicates))
	for _, c := range res.Conflicts {
		i.metrics.Conflicts.WithLabelValues(c.Reason).Inc()
	}
	if n := len(res.Conflicts); n > 0 {
		// One line a batch, not one an event: a terminal that sends a
		// batch of 256 bad events must not flood the log. Each conflict
		// is listed at GET /v1/conflicts.
		first := res.Conflicts[0]
		i.log.Warn("events kept off the timeline", "terminal", tid, "conflicts", n, "first_seq", first.Seq, "first_reason", first.Reason)
	}
	i.metrics.Batches.Inc()
	i.metrics.Seconds.Observe(time.Since(m.at).Seconds())
	// The ack is not awaited: if it is lost, the terminal resends and the
	// resend is acked as a duplicate.
	i.client.Publish(wire.TerminalTopic(tid, wire.KindAcks), 1, false, ack)
}

// deadLetter keeps a refused message, bounded (cloud.DeadLetterBox), and
// counts it.
func (i *Ingest) deadLetter(m message, tid string, cause error) {
	reason := edge.ErrorCode(cause)
	i.metrics.DeadLetters.WithLabelValues(reason).Inc()
	i.log.Warn("dead letter", "terminal", tid, "topic", m.topic, "reason", reason, "err", edge.ErrorMessage(cause))
	d := cloud.NewDeadLetter(tid, m.topic, reason, edge.ErrorMessage(cause), m.payload, m.at)
	box := cloud.DeadLetterBox{Store: i.store, Limits: i.DeadLetters, Now: i.now}
	if err := box.Keep(i.ctx, d); err != nil {
		i.log.Error("add dead letter", "terminal", tid, "err", err)
	}
}
