package broker

import (
	"bytes"
	"sync"
	"time"

	mqtt "github.com/mochi-mqtt/server/v2"
	"github.com/mochi-mqtt/server/v2/packets"
)

// DefaultConsumerQueue is the most messages the embedded broker holds for
// one of the cloud's own clients, the consumer of every terminal's events
// and statuses. mochi drops a message for a client whose queue (or window
// of unacknowledged messages) is full: when a fleet connected at once and
// the ingest fell behind, the broker dropped batches and statuses for the
// cloud by the thousand, each batch came back only after its terminal's
// resend timeout, and a 19,000-terminal run had acked 58,150 of 190,000
// events after 20 minutes. The queue is preallocated, 8 bytes a message.
const DefaultConsumerQueue = 16384

// gateWait bounds how long a terminal's publish waits for the consumer:
// under the terminals' 30 s keepalive plus its 10 s grace, since the
// broker does not read a waiting terminal's pings.
const gateWait = 20 * time.Second

// consumerGate makes terminals wait instead of having their messages
// dropped: a terminal's publish is held (its connection not read, so TCP
// pushes back on the terminal) while one of the cloud's own clients has
// half of its queue in flight, counting the publishes let through and not
// yet delivered, until that is down to a quarter. Without counting those,
// the thousands of terminals waiting at the gate all passed when it
// opened, before any reached the consumer's queue, and overflowed it (a
// 19,000-terminal run: 1,917 dropped).
type consumerGate struct {
	mqtt.HookBase
	high, low int

	mu        sync.Mutex
	consumers []*mqtt.Client
	passing   map[*mqtt.Client]struct{} // let through, not yet delivered
	open      chan struct{}             // closed when the gate opens; nil while open
}

func newConsumerGate(queue int) *consumerGate {
	return &consumerGate{high: queue / 2, low: queue / 4, passing: map[*mqtt.Client]struct{}{}}
}

func (g *consumerGate) ID() string { return "comptoir-consumer-gate" }

func (g *consumerGate) Provides(b byte) bool {
	return bytes.Contains([]byte{mqtt.OnSessionEstablished, mqtt.OnDisconnect, mqtt.OnPublish, mqtt.OnPublished, mqtt.OnQosComplete}, []byte{b})
}

// OnSessionEstablished keeps the cloud's own clients.
func (g *consumerGate) OnSessionEstablished(cl *mqtt.Client, _ packets.Packet) {
	if string(cl.Properties.Username) != InternalUser {
		return
	}
	g.mu.Lock()
	g.consumers = append(g.consumers, cl)
	g.mu.Unlock()
}

// OnDisconnect forgets a terminal's publish let through (its PUBACK
// could not be written, so it was not delivered), or a client of the
// cloud, then lets waiting terminals go: the gate closes again on the
// next consumer that falls behind.
func (g *consumerGate) OnDisconnect(cl *mqtt.Client, _ error, _ bool) {
	g.mu.Lock()
	defer g.mu.Unlock()
	if string(cl.Properties.Username) != InternalUser {
		delete(g.passing, cl)
		g.releaseIfLow()
		return
	}
	for i, c := range g.consumers {
		if c == cl {
			g.consumers = append(g.consumers[:i], g.consumers[i+1:]...)
			break
		}
	}
	g.release()
}

// OnQosComplete opens the gate once every consumer is down to low.
func (g *consumerGate) OnQosComplete(cl *mqtt.Client, _ packets.Packet) {
	if string(cl.Properties.Username) != InternalUser {
		return
	}
	g.mu.Lock()
	defer g.mu.Unlock()
	g.releaseIfLow()
}

// OnPublished counts a terminal's publish as delivered: it is now in the
// consumers' windows.
func (g *consumerGate) OnPublished(cl *mqtt.Client, _ packets.Packet) {
	if string(cl.Properties.Username) == InternalUser {
		return
	}
	g.mu.Lock()
	defer g.mu.Unlock()
	delete(g.passing, cl)
	g.releaseIfLow()
}

// OnPublish holds a terminal's message while the gate is closed, or
// closes it when a consumer has reached high, for at most gateWait.
func (g *consumerGate) OnPublish(cl *mqtt.Client, pk packets.Packet) (packets.Packet, error) {
	if string(cl.Properties.Username) == InternalUser {
		return pk, nil
	}
	deadline := time.Now().Add(gateWait)
	for {
		g.mu.Lock()
		if g.open == nil && g.most()+len(g.passing) >= g.high {
			g.open = make(chan struct{})
		}
		open := g.open
		if open == nil {
			g.passing[cl] = struct{}{}
		}
		g.mu.Unlock()
		if open == nil {
			return pk, nil
		}
		wait := time.Until(deadline)
		if wait <= 0 {
			return pk, nil // the consumer is stuck: mochi drops as it would
		}
		t := time.NewTimer(wait)
		select {
		case <-open:
		case <-t.C:
		}
		t.Stop()
	}
}

// most returns the most messages in flight to one consumer; g.mu is held.
func (g *consumerGate) most() int {
	n := 0
	for _, c := range g.consumers {
		n = max(n, c.State.Inflight.Len())
	}
	return n
}

// releaseIfLow opens the gate when the consumers are down to low; g.mu
// is held.
func (g *consumerGate) releaseIfLow() {
	if g.open != nil && g.most()+len(g.passing) <= g.low {
		g.release()
	}
}

// release opens the gate; g.mu is held.
func (g *consumerGate) release() {
	if g.open != nil {
		close(g.open)
		g.open = nil
	}
}
