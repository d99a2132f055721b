package ingest

import (
	"encoding/json"
	"sync"

	"github.com/comptoir/comptoir/cloud"
	"github.com/comptoir/comptoir/edge"
	"github.com/comptoir/comptoir/sync/wire"
)

// statusShard holds, for its share of the terminals, each one's latest
// status message not yet stored, and stores them in the order they first
// came, one at a time. A status replaces its terminal's previous one still
// waiting: a status is the terminal's whole state, so only the last
// counts, and a fleet that sends more statuses than the store takes (a
// reconnect storm: a status a connection, each its own synced
// transaction) costs at most one stored status a terminal, in memory as in
// store writes. Statuses have their own shards, off the batches' workers,
// so that neither waits behind the other: receive never blocks on a
// status, and a batch is not stored after statuses queued before it.
//
// One shard a terminal keeps its statuses in order: a will (offline)
// and the status of the next connection are never stored out of turn.
// When a waiting online status is replaced by the terminal's will, the
// time it was seen is lost with it: last_seen then stays at the status
// stored before.
type statusShard struct {
	mu      sync.Mutex
	pending map[string]checkedStatus
	order   []string        // terminals with a status pending, first come first
	refused []checkedStatus // refused statuses to dead-letter, in the order they came
	wake    chan struct{}
}

// maxRefusedPending bounds the refused statuses waiting for their dead
// letter in a shard; past it they are still counted, but not kept.
const maxRefusedPending = 256

// checkedStatus is a status message checked where it enters (checkStatus):
// its verdict and whether the terminal asks for the cloud's time.
type checkedStatus struct {
	m        message
	tid      string
	status   wire.Status
	refused  error
	ackClock bool
}

func newStatusShard() *statusShard {
	return &statusShard{pending: map[string]checkedStatus{}, wake: make(chan struct{}, 1)}
}

// put queues c: a valid status becomes the status of its terminal to
// store, replacing one waiting (put reports whether it did); a refused one
// waits for its dead letter and replaces nothing, so a bad status never
// takes the place of a good one.
func (s *statusShard) put(c checkedStatus) (replaced, kept bool) {
	s.mu.Lock()
	switch {
	case c.refused != nil:
		kept = len(s.refused) < maxRefusedPending
		if kept {
			s.refused = append(s.refused, c)
		}
	default:
		var old checkedStatus
		old, replaced = s.pending[c.tid]
		c.ackClock = c.ackClock || old.ackClock
		s.pending[c.tid] = c
		if !replaced {
			s.order = append(s.order, c.tid)
		}
		kept = true
	}
	s.mu.Unlock()
	select {
	case s.wake <- struct{}{}:
	default:
	}
	return replaced, kept
}

// take removes and returns a refused status first, else the status that
// waited longest.
func (s *statusShard) take() (c checkedStatus, ok bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.refused) > 0 {
		c = s.refused[0]
		s.refused[0] = checkedStatus{}
		s.refused = s.refused[1:]
		if len(s.refused) == 0 {
			s.refused = nil
		}
		return c, true
	}
	if len(s.order) == 0 {
		return checkedStatus{}, false
	}
	tid := s.order[0]
	s.order[0] = ""
	s.order = s.order[1:]
	if len(s.order) == 0 {
		s.order = nil // let the array go once drained
	}
	c = s.pending[tid]
	delete(s.pending, tid)
	return c, true
}

// writeStatuses stores the statuses of shard s until the ingest closes.
func (i *Ingest) writeStatuses(s *statusShard) {
	defer i.wg.Done()
	for {
		for {
			c, ok := s.take()
			if !ok {
				break
			}
			i.handleStatus(c)
		}
		select {
		case <-s.wake:
		case <-i.ctx.Done():
			return
		}
	}
}

// queueStatus checks a status message where it enters, counts a refused
// one at once, and queues it to its terminal's shard.
func (i *Ingest) queueStatus(shard *statusShard, m message, tid string) {
	if len(m.payload) == 0 {
		return // a retained status being cleared
	}
	c := i.checkStatus(m, tid)
	if c.refused != nil {
		i.metrics.StatusRefused.WithLabelValues(edge.ErrorCode(c.refused)).Inc()
	}
	replaced, kept := shard.put(c)
	if replaced {
		i.metrics.StatusReplaced.Inc()
	}
	if !kept {
		i.metrics.DeadLetters.WithLabelValues(edge.ErrorCode(c.refused)).Inc()
		i.log.Warn("dead letter not kept: too many refused statuses waiting", "terminal", tid, "reason", edge.ErrorCode(c.refused))
	}
}

// checkStatus decodes a status message and checks it (cloud.CheckStatus).
func (i *Ingest) checkStatus(m message, tid string) checkedStatus {
	c := checkedStatus{m: m, tid: tid}
	if err := json.Unmarshal(m.payload, &c.status); err != nil {
		c.refused = edge.Errorf(wire.ErrMalformed, "status: %v", err)
		return c
	}
	if c.status.V != wire.Version {
		c.refused = edge.Errorf(wire.ErrVersion, "status: protocol version %d", c.status.V)
		return c
	}
	// A terminal with no recent reading of the cloud's time (it just
	// started, or sent nothing for a day) gets an ack of no ranges, which
	// gives it, even when its status is refused for a date its clock got
	// wrong. Only such terminals get one, so a fleet's statuses cost no
	// messages back.
	c.ackClock = c.status.Online && c.status.ClockUnsynced && !m.retained
	c.refused = cloud.CheckStatus(c.status, m.at)
	return c
}

// handleStatus records a checked status: a refused one is dead-lettered
// (it was counted where it entered), a valid one stored. A retained status
// (replayed by the broker when the ingest subscribes) does not make the
// terminal look seen now: its own "at" is taken instead.
func (i *Ingest) handleStatus(c checkedStatus) {
	m, tid, st := c.m, c.tid, c.status
	if c.ackClock {
		i.client.Publish(wire.TerminalTopic(tid, wire.KindAcks), 1, false,
			wire.Marshal(wire.Acks{V: wire.Version, Ranges: [][2]uint64{}, At: i.now().UTC()}))
	}
	if c.refused != nil {
		i.deadLetter(m, tid, c.refused)
		return
	}
	u := cloud.StatusUpdate{Online: st.Online}
	if st.Online {
		u.Status = json.RawMessage(m.payload)
		u.SeenAt = m.at
		if m.retained {
			u.SeenAt = st.At
		}
	}
	if err := i.store.UpdateTerminalStatus(i.ctx, tid, u); err != nil {
		if edge.ErrorCode(err) == edge.ENOTFOUND {
			i.log.Warn("status of a terminal not enrolled", "terminal", tid)
			return
		}
		i.log.Error("update terminal status", "terminal", tid, "err", err)
	}
}
