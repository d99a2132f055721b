package faulttest

import (
	"testing"
)

// brokers runs f against the cloud's embedded broker and against a real
// Mosquitto (skipped with a message when the mosquitto binary is absent,
// failing under COMPTOIR_REQUIRE_INTEGRATION=1).
func brokers(t *testing.T, f func(r *rig)) {
	for _, kind := range []brokerKind{embedded, mosquitto} {
		t.Run(string(kind), func(t *testing.T) { f(newRig(t, kind)) })
	}
}

// TestBrokerDown stops the broker while the counter keeps taking deposits,
// then starts it again. With the embedded broker that is the whole cloud.
func TestBrokerDown(t *testing.T) {
	brokers(t, func(r *rig) {
		r.startTerminal()
		for range 5 {
			r.deposit()
		}
		r.check()
		if r.kind == mosquitto {
			r.mosq.stop()
		} else {
			r.cloud.stop()
		}
		for range 20 {
			r.deposit()
		}
		if r.kind == mosquitto {
			r.startMosquitto()
		} else {
			r.startCloud()
		}
		r.check()
	})
}

// TestCloudKilled kills the cloud with SIGKILL while a backlog drains (the
// proxy paces the terminal so that batches are in flight), takes deposits
// while it is dead, and starts it again.
func TestCloudKilled(t *testing.T) {
	brokers(t, func(r *rig) {
		r.seed(1000)
		r.proxy.setRate(200_000)
		r.startTerminal()
		var acked uint64
		eventually(t, "first batches stored", func() bool { acked = r.ackedSeq(); return acked > 0 })
		r.cloud.kill()
		t.Logf("cloud killed at acked_seq %d of %d", acked, 2*len(r.want))
		if acked >= uint64(2*len(r.want)) {
			t.Fatalf("the cloud was killed after the drain (acked_seq %d of %d), not during it", acked, 2*len(r.want))
		}
		for range 5 {
			r.deposit()
		}
		r.proxy.setRate(0)
		r.startCloud()
		r.check()
	})
}

// TestTerminalKilled kills the terminal with SIGKILL while its backlog
// drains, and starts it again: it resumes from its journal alone.
func TestTerminalKilled(t *testing.T) {
	brokers(t, func(r *rig) {
		r.seed(1000)
		r.proxy.setRate(200_000)
		r.startTerminal()
		var acked uint64
		eventually(t, "first batches stored", func() bool { acked = r.ackedSeq(); return acked > 0 })
		r.term.kill()
		// What the cloud has once the terminal is dead: less than all of
		// it, or the kill came after the drain and proves nothing.
		acked = r.ackedSeq()
		t.Logf("terminal killed at acked_seq %d of %d", acked, 2*len(r.want))
		if acked >= uint64(2*len(r.want)) {
			t.Fatalf("the terminal was killed after the drain (acked_seq %d of %d), not during it", acked, 2*len(r.want))
		}
		r.proxy.setRate(0)
		r.startTerminal()
		for range 5 {
			r.deposit()
		}
		r.check()
	})
}

// TestNetworkCut stalls the link (connections held open, nothing passes),
// lets it resume, then cuts it (connections dropped, new ones refused) from
// a stall, with deposits all along.
func TestNetworkCut(t *testing.T) {
	brokers(t, func(r *rig) {
		r.startTerminal()
		for range 5 {
			r.deposit()
		}
		r.check()
		r.proxy.setState(proxyStalled)
		for range 10 {
			r.deposit()
		}
		r.proxy.setState(proxyOpen)
		r.check()
		r.proxy.setState(proxyStalled)
		for range 10 {
			r.deposit()
		}
		r.proxy.setState(proxyCut)
		for range 10 {
			r.deposit()
		}
		r.proxy.setState(proxyOpen)
		r.check()
	})
}
