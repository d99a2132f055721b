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
	pending map[string]message
	order   []string // terminals with a status pending, first come first
	wake    chan struct{}
}

func newStatusShard() *statusShard {
	return &statusShard{pending: map[string]message{}, wake: make(chan struct{}, 1)}
}

// put makes m the status of tid to store, replacing one waiting; it
// reports whether it replaced one.
func (s *statusShard) put(tid string, m message) (replaced bool) {
	s.mu.Lock()
	_, replaced = s.pending[tid]
	s.pending[tid] = m
	if !replaced {
		s.order = append(s.order, tid)
	}
	s.mu.Unlock()
	select {
	case s.wake <- struct{}{}:
	default:
	}
	return replaced
}

// take removes and returns the status that waited longest.
func (s *statusShard) take() (tid string, m message, ok bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.order) == 0 {
		return "", message{}, false
	}
	tid = s.order[0]
	s.order[0] = ""
	s.order = s.order[1:]
	if len(s.order) == 0 {
		s.order = nil // let the array go once drained
	}
	m = s.pending[tid]
	delete(s.pending, tid)
	return tid, m, true
}

// writeStatuses stores the statuses of shard s until the ingest closes.
func (i *Ingest) writeStatuses(s *statusShard) {
	defer i.wg.Done()
	for {
		for {
			tid, m, ok := s.take()
			if !ok {
				break
			}
			i.handleStatus(m, tid)
		}
		select {
		case <-s.wake:
		case <-i.ctx.Done():
			return
		}
	}
}

// handleStatus records a status message, once cloud.CheckStatus passes it
// (refused ones are counted and dead-lettered). A retained status (replayed by the
// broker when the ingest subscribes) does not make the terminal look seen
// now: its own "at" is taken instead.
func (i *Ingest) handleStatus(m message, tid string) {
	if len(m.payload) == 0 {
		return // a retained status being cleared
	}
	var st wire.Status
	var refused error
	if err := json.Unmarshal(m.payload, &st); err != nil {
		refused = edge.Errorf(wire.ErrMalformed, "status: %v", err)
	} else if st.V != wire.Version {
		refused = edge.Errorf(wire.ErrVersion, "status: protocol version %d", st.V)
	} else {
		if st.Online && st.ClockUnsynced && !m.retained {
			// The terminal has no recent reading of the cloud's time (it
			// just started, or sent nothing for a day): an ack of no
			// ranges gives it, even when its status is refused for a date
			// its clock got wrong. Only such terminals get one, so a
			// fleet's statuses cost no messages back.
			i.client.Publish(wire.TerminalTopic(tid, wire.KindAcks), 1, false,
				wire.Marshal(wire.Acks{V: wire.Version, Ranges: [][2]uint64{}, At: i.now().UTC()}))
		}
		refused = cloud.CheckStatus(st, m.at)
	}
	if refused != nil {
		i.metrics.StatusRefused.WithLabelValues(edge.ErrorCode(refused)).Inc()
		i.deadLetter(m, tid, refused)
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
