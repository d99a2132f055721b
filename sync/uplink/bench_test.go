package uplink_test

import (
	"testing"
	"time"

	"github.com/comptoir/comptoir/build/testenv"
	"github.com/comptoir/comptoir/sync/uplink"
)

// BenchmarkDrain100k drains a backlog of 100,000 operations through the
// embedded broker to a cloud that acks every batch (DESIGN.md target: under
// 10 s over loopback).
func BenchmarkDrain100k(b *testing.B) {
	_, addr := startBroker(b, "127.0.0.1:0")
	benchDrain(b, addr, false)
}

// BenchmarkDrain100kMosquitto is the same through Mosquitto.
func BenchmarkDrain100kMosquitto(b *testing.B) {
	benchDrain(b, testenv.Mosquitto(b), true)
}

// benchDrain times the drain alone: the uplink connects to an empty
// outbox first, then the backlog is added and the clock runs from the
// uplink's Notify to the last ack applied.
func benchDrain(b *testing.B, addr string, shared bool) {
	const n = 100_000
	var total time.Duration
	for range b.N {
		b.StopTimer()
		tid := uniqueTID("bench")
		if shared {
			cleanupTerminal(b, addr, tid)
		}
		newCloud(b, addr, tid)
		out := newOutbox(tid, 0)
		u := startUplink(b, uplink.Config{BrokerURL: "tcp://" + addr, Terminal: tid}, out)
		waitFor(b, "uplink connected", u.Connected)
		out.add(tid, n)
		b.StartTimer()
		start := time.Now()
		u.Notify()
		waitFor(b, "backlog drained", func() bool { return out.left() == 0 })
		total += time.Since(start)
	}
	secs := total.Seconds() / float64(b.N)
	b.ReportMetric(secs, "s/drain")
	b.ReportMetric(n/secs, "events/s")
}
