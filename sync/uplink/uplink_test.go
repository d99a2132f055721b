package uplink_test

import (
	"context"
	"encoding/json"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/comptoir/comptoir/build/testenv"
	"github.com/comptoir/comptoir/sync/uplink"
	"github.com/comptoir/comptoir/sync/wire"
	paho "github.com/eclipse/paho.mqtt.golang"
)

func TestNewChecksConfig(t *testing.T) {
	out := newOutbox("t-1", 0)
	tests := []struct {
		name string
		cfg  uplink.Config
		ok   bool
	}{
		{"tcp", uplink.Config{BrokerURL: "tcp://127.0.0.1:1883", Terminal: "t-1"}, true},
		{"mqtts", uplink.Config{BrokerURL: "mqtts://broker.example:8883", Terminal: "t-1"}, true},
		{"bad terminal", uplink.Config{BrokerURL: "tcp://127.0.0.1:1883", Terminal: "T_1"}, false},
		{"no host", uplink.Config{BrokerURL: "tcp://", Terminal: "t-1"}, false},
		{"bad scheme", uplink.Config{BrokerURL: "http://127.0.0.1:1883", Terminal: "t-1"}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := uplink.New(tt.cfg, out)
			if got := err == nil; got != tt.ok {
				t.Fatalf("New: err = %v, want ok %v", err, tt.ok)
			}
		})
	}
	if _, err := uplink.New(tests[0].cfg, nil); err == nil {
		t.Fatal("New with nil outbox: no error")
	}
}

// testDrain drains a backlog through the broker at addr and checks that every
// op arrived and was acked into the outbox by exactly one Ack call.
func testDrain(t *testing.T, addr string, n int) {
	tid := uniqueTID("drain")
	cl := newCloud(t, addr, tid)
	out := newOutbox(tid, n)
	// A long ack timeout: no resend, so exactly one Ack per op.
	u := startUplink(t, uplink.Config{BrokerURL: "tcp://" + addr, Terminal: tid, AckTimeout: time.Hour}, out)
	waitFor(t, "backlog drained", func() bool { return out.left() == 0 })
	cl.checkAll(t, n)
	out.checkAckedOnce(t)
	if batches, _ := cl.stats(); batches < (n+wire.MaxBatchEvents-1)/wire.MaxBatchEvents {
		t.Fatalf("%d batches for %d ops: more than %d events in a batch", batches, n, wire.MaxBatchEvents)
	}
	if !u.Connected() {
		t.Fatal("Connected() = false after draining")
	}

	// Later appends are sent on Notify.
	out.add(tid, 10)
	u.Notify()
	waitFor(t, "appended ops drained", func() bool { return out.left() == 0 })
	cl.checkAll(t, n+10)
}

func TestDrainEmbedded(t *testing.T) {
	_, addr := startBroker(t, "127.0.0.1:0")
	testDrain(t, addr, 5000)
}

func TestDrainMosquitto(t *testing.T) {
	addr := testenv.Mosquitto(t)
	tid := uniqueTID("drain")
	cleanupTerminal(t, addr, tid)
	cl := newCloud(t, addr, tid)
	out := newOutbox(tid, 5000)
	startUplink(t, uplink.Config{BrokerURL: "tcp://" + addr, Terminal: tid, AckTimeout: time.Hour}, out)
	waitFor(t, "backlog drained", func() bool { return out.left() == 0 })
	cl.checkAll(t, 5000)
	out.checkAckedOnce(t)
}

func TestWindowLimit(t *testing.T) {
	_, addr := startBroker(t, "127.0.0.1:0")
	tid := uniqueTID("window")
	cl := newCloud(t, addr, tid)
	cl.setHold(func(wire.Batch) bool { return true })
	const window = 3
	out := newOutbox(tid, 20*wire.MaxBatchEvents)
	u := startUplink(t, uplink.Config{BrokerURL: "tcp://" + addr, Terminal: tid, Window: window, AckTimeout: time.Hour}, out)
	waitFor(t, "a full window", func() bool { b, _ := cl.stats(); return b >= window })
	u.Notify()
	if b, _ := cl.stats(); b != window {
		t.Fatalf("%d batches sent without acks, want the window of %d", b, window)
	}
	// No sleep to give a sender that ignores the window time to show it:
	// the cloud counts the batches outstanding at every moment of the drain
	// (maxOut), held ones and all, which is the window's promise.
	cl.release()
	waitFor(t, "backlog drained", func() bool { return out.left() == 0 })
	cl.mu.Lock()
	maxOut := cl.maxOut
	cl.mu.Unlock()
	if maxOut > window {
		t.Fatalf("%d batches were unacked at once, window is %d", maxOut, window)
	}
	out.checkAckedOnce(t)
}

func TestResendAfterAckTimeout(t *testing.T) {
	_, addr := startBroker(t, "127.0.0.1:0")
	tid := uniqueTID("resend")
	cl := newCloud(t, addr, tid)
	var once sync.Once
	cl.setHold(func(b wire.Batch) bool {
		held := false
		if b.Events[0].Seq == 1 {
			once.Do(func() { held = true })
		}
		return held
	})
	out := newOutbox(tid, 600)
	startUplink(t, uplink.Config{BrokerURL: "tcp://" + addr, Terminal: tid, AckTimeout: 100 * time.Millisecond}, out)
	waitFor(t, "backlog drained", func() bool { return out.left() == 0 })
	if got := cl.times(1); got < 2 {
		t.Fatalf("seq 1 delivered %d times, want a resend after its ack was withheld", got)
	}
	cl.checkAll(t, 600)
	// Not checkAckedOnce: 100 ms is short enough (under -race, on a busy
	// machine) for batches other than seq 1's to be resent and acked twice.
	out.checkAckedPerDelivery(t, cl)
}

func TestBrokerRestartMidDrain(t *testing.T) {
	stop, addr := startBroker(t, "127.0.0.1:0")
	tid := uniqueTID("restart")
	cl := newCloud(t, addr, tid)
	const n = 5000
	// Hold acks past the first thousand seqs, so that the restart comes
	// mid-drain with batches in flight.
	cl.setHold(func(b wire.Batch) bool { return b.Events[0].Seq > 1000 })
	out := newOutbox(tid, n)
	// The uplink goes through a proxy only so that it comes back after the
	// test cloud, which would otherwise miss the resent batches; and no ack
	// timeout is in sight, so only the reconnection can cause the resend.
	p := newProxy(t, addr)
	u := startUplink(t, uplink.Config{BrokerURL: "tcp://" + p.addr(), Terminal: tid, Window: 4, AckTimeout: time.Hour}, out)
	var heldSeq uint64
	waitFor(t, "batches held in flight", func() bool {
		cl.mu.Lock()
		defer cl.mu.Unlock()
		if len(cl.held) > 0 {
			heldSeq = cl.held[0].Events[0].Seq
		}
		return heldSeq != 0
	})

	p.pause()
	stop()
	waitFor(t, "uplink sees the broker gone", func() bool { return !u.Connected() })
	startBroker(t, addr)
	// Acks of the held batches went nowhere: the resend must bring them.
	cl.mu.Lock()
	cl.hold, cl.held = nil, nil
	cl.mu.Unlock()
	waitFor(t, "cloud back on the new broker", func() bool {
		cl.mu.Lock()
		defer cl.mu.Unlock()
		return cl.subscribed >= 2
	})
	p.resume()

	waitFor(t, "backlog drained after restart", func() bool { return out.left() == 0 })
	cl.checkAll(t, n)
	if got := cl.times(heldSeq); got < 2 {
		t.Fatalf("seq %d, in flight at the restart, delivered %d times, want a resend", heldSeq, got)
	}
}

func TestResumeFromOutboxAfterRestart(t *testing.T) {
	_, addr := startBroker(t, "127.0.0.1:0")
	tid := uniqueTID("resume")
	cl := newCloud(t, addr, tid)
	cl.setHold(func(b wire.Batch) bool { return b.Events[0].Seq > 1000 })
	const n = 3000
	out := newOutbox(tid, n)
	cfg := uplink.Config{BrokerURL: "tcp://" + addr, Terminal: tid, AckTimeout: time.Hour, Logger: quiet(t)}
	first, err := uplink.New(cfg, out)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- first.Run(ctx) }()
	waitFor(t, "held batches", func() bool {
		cl.mu.Lock()
		defer cl.mu.Unlock()
		return len(cl.held) > 0
	})
	cancel()
	if err := recv(t, (<-chan error)(done)); err != nil {
		t.Fatalf("Run: %v", err)
	}
	if out.left() == 0 {
		t.Fatal("everything acked before the restart: the test proves nothing")
	}

	// The acks of the held batches reach the broker while the terminal is
	// away; its persistent session keeps them. A new uplink, knowing only
	// the outbox, finishes the job.
	cl.release()
	startUplink(t, cfg, out)
	waitFor(t, "backlog drained by the second run", func() bool { return out.left() == 0 })
	cl.checkAll(t, n)
}

func TestBatchesSplitByBytes(t *testing.T) {
	_, addr := startBroker(t, "127.0.0.1:0")
	tid := uniqueTID("split")
	cl := newCloud(t, addr, tid)
	const n = 300
	out := newOutbox(tid, n)
	pad, _ := json.Marshal(map[string]string{"pad": strings.Repeat("x", 2000)})
	for i := range out.ops {
		out.ops[i].Data = pad
	}
	startUplink(t, uplink.Config{BrokerURL: "tcp://" + addr, Terminal: tid, AckTimeout: time.Hour}, out)
	waitFor(t, "backlog drained", func() bool { return out.left() == 0 })
	cl.checkAll(t, n) // the cloud's DecodeBatch refuses a batch over 128 KiB
	// 300 ops of 2 KiB make 600 KiB: at least 5 batches, though 2 would do
	// by count.
	if b, _ := cl.stats(); b < 5 {
		t.Fatalf("%d batches for %d KiB, want at least 5 of at most 128 KiB", b, n*2)
	}
	out.checkAckedOnce(t)
}

func TestLastWill(t *testing.T) {
	_, addr := startBroker(t, "127.0.0.1:0")
	tid := uniqueTID("will")
	p := newProxy(t, addr)
	status := observe(t, addr, wire.TerminalTopic(tid, wire.KindStatus))
	u := startUplink(t, uplink.Config{BrokerURL: "tcp://" + p.addr(), Terminal: tid, Version: "1.2.3"}, newOutbox(tid, 3))

	st := nextStatus(t, status)
	if !st.Online || st.Version != "1.2.3" || st.OutboxPending != 3 || st.V != wire.Version {
		t.Fatalf("status on connect = %+v, want online, version 1.2.3, 3 pending", st)
	}
	if !u.Connected() {
		t.Fatal("Connected() = false with status published")
	}
	p.close() // the network dies, and no reconnection is possible
	for st.Online {
		st = nextStatus(t, status)
	}

	// A client that subscribes now gets the will as the retained status.
	m := recv(t, observe(t, addr, wire.TerminalTopic(tid, wire.KindStatus)))
	if !m.Retained() || string(m.Payload()) != `{"v":1,"online":false}` {
		t.Fatalf("retained status = %q (retained %v), want the last will", m.Payload(), m.Retained())
	}
	waitFor(t, "Connected() false", func() bool { return !u.Connected() })
}

func nextStatus(t *testing.T, ch <-chan paho.Message) wire.Status {
	t.Helper()
	select {
	case m := <-ch:
		var st wire.Status
		if err := json.Unmarshal(m.Payload(), &st); err != nil {
			t.Fatalf("status %q: %v", m.Payload(), err)
		}
		return st
	case <-time.After(waitLimit):
		t.Fatal("no status message")
	}
	return wire.Status{}
}

func TestStatusFuncAndPublishStatus(t *testing.T) {
	_, addr := startBroker(t, "127.0.0.1:0")
	tid := uniqueTID("status")
	status := observe(t, addr, wire.TerminalTopic(tid, wire.KindStatus))
	u, err := uplink.New(uplink.Config{BrokerURL: "tcp://" + addr, Terminal: tid, Version: "9", Logger: quiet(t)}, newOutbox(tid, 0))
	if err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	shelf := 1
	u.SetStatusFunc(func() wire.Status {
		mu.Lock()
		defer mu.Unlock()
		return wire.Status{Shelf: shelf, DiskFreeBytes: 42}
	})
	runUplink(t, u)
	if st := nextStatus(t, status); !st.Online || st.Shelf != 1 || st.DiskFreeBytes != 42 || st.Version != "9" || st.At.IsZero() {
		t.Fatalf("status = %+v, want online, shelf 1, disk 42, version 9, at set", st)
	}
	// A status func that dates its status (by a clock of its own) keeps
	// its date.
	at := time.Date(2026, 12, 4, 23, 40, 0, 0, time.UTC)
	mu.Lock()
	shelf = 7
	mu.Unlock()
	u.SetStatusFunc(func() wire.Status {
		mu.Lock()
		defer mu.Unlock()
		return wire.Status{Shelf: shelf, At: at}
	})
	u.PublishStatus()
	st := nextStatus(t, status)
	for ; st.Shelf != 7; st = nextStatus(t, status) {
	}
	if !st.At.Equal(at) {
		t.Errorf("status dated %v, want the status func's %v", st.At, at)
	}
}

func TestTrustAndCommands(t *testing.T) {
	_, addr := startBroker(t, "127.0.0.1:0")
	tid := uniqueTID("cmds")
	trustSet := []byte(`{"keys":[{"kty":"OKP","crv":"Ed25519","kid":"shop-1","x":"AAAA"}],"revoked":[]}`)
	publish(t, addr, wire.TrustTopic, true, trustSet)

	p := newProxy(t, addr)
	u, err := uplink.New(uplink.Config{BrokerURL: "tcp://" + p.addr(), Terminal: tid, Logger: quiet(t)}, newOutbox(tid, 0))
	if err != nil {
		t.Fatal(err)
	}
	trusts := make(chan []byte, 16)
	cmds := make(chan wire.Command, 16)
	u.OnTrust(func(b []byte) { trusts <- b })
	u.OnCommand(func(c wire.Command) { cmds <- c })
	runUplink(t, u)

	if got := recv(t, trusts); string(got) != string(trustSet) {
		t.Fatalf("trust payload = %s, want %s", got, trustSet)
	}
	waitFor(t, "connected", u.Connected)

	topic := wire.TerminalTopic(tid, wire.KindCommands)
	for _, bad := range []string{`not json`, `{"v":2,"id":"x","type":"ping"}`, `{"v":1,"type":"ping"}`} {
		publish(t, addr, topic, false, []byte(bad))
	}
	publish(t, addr, topic, false, []byte(`{"v":1,"id":"c-1","type":"ping"}`))
	publish(t, addr, topic, false, []byte(`{"v":1,"id":"c-2","type":"revocations.add","revocations":["ra-9"]}`))
	got := []wire.Command{recv(t, cmds), recv(t, cmds)}
	slices.SortFunc(got, func(a, b wire.Command) int { return strings.Compare(a.ID, b.ID) })
	if got[0].ID != "c-1" || got[0].Type != wire.CmdPing || got[1].ID != "c-2" || !slices.Equal(got[1].Revocations, []string{"ra-9"}) {
		t.Fatalf("commands = %+v, want c-1 ping and c-2 revocations.add [ra-9]", got)
	}

	// On reconnection the subscriptions are renewed and the trust list
	// applied again.
	p.drop()
	if got := recv(t, trusts); string(got) != string(trustSet) {
		t.Fatalf("trust payload after reconnect = %s, want %s", got, trustSet)
	}
	waitFor(t, "reconnected", u.Connected)
	publish(t, addr, topic, false, []byte(`{"v":1,"id":"c-3","type":"ping"}`))
	// c-1 or c-2 may come again (QoS 1, a PUBACK cut with the connection):
	// the uplink drops repeats of recent ids.
	if c := recv(t, cmds); c.ID != "c-3" {
		t.Fatalf("command after reconnect = %+v, want c-3 only", c)
	}
	publish(t, addr, wire.TrustTopic, true, nil)
}

// TestCloudTime hands the cloud's time of acks to CloudTime: that of an
// ack with only a time, and none for an ack without one.
func TestCloudTime(t *testing.T) {
	_, addr := startBroker(t, "127.0.0.1:0")
	tid := uniqueTID("time")
	times := make(chan time.Time, 16)
	u, err := uplink.New(uplink.Config{BrokerURL: "tcp://" + addr, Terminal: tid, Logger: quiet(t), CloudTime: func(at time.Time) { times <- at }}, newOutbox(tid, 0))
	if err != nil {
		t.Fatal(err)
	}
	runUplink(t, u)
	waitFor(t, "connected", u.Connected)
	acks := wire.TerminalTopic(tid, wire.KindAcks)
	at := time.Date(2026, 12, 4, 23, 30, 0, 0, time.UTC)
	publish(t, addr, acks, false, []byte(`{"v":1,"ranges":[]}`))
	publish(t, addr, acks, false, wire.Marshal(wire.Acks{V: wire.Version, Ranges: [][2]uint64{}, At: at}))
	if got := recv(t, times); !got.Equal(at) {
		t.Fatalf("cloud time %v, want %v (the ack without a time gives none)", got, at)
	}
}

func TestMalformedAckDoesNotStopDrain(t *testing.T) {
	_, addr := startBroker(t, "127.0.0.1:0")
	tid := uniqueTID("badack")
	cl := newCloud(t, addr, tid)
	acks := wire.TerminalTopic(tid, wire.KindAcks)
	var once sync.Once
	// Before the first real ack, the uplink gets garbage on its acks topic.
	cl.setHold(func(b wire.Batch) bool {
		once.Do(func() {
			for _, bad := range []string{`}{`, `{"v":9,"ranges":[[1,5]]}`, `{"v":1,"ranges":[[5,2]]}`, `{"v":1,"ranges":[[0,3]]}`, `{"v":1}x`} {
				cl.client.Publish(acks, 1, false, []byte(bad))
			}
		})
		return false
	})
	out := newOutbox(tid, 2000)
	startUplink(t, uplink.Config{BrokerURL: "tcp://" + addr, Terminal: tid, AckTimeout: time.Hour}, out)
	waitFor(t, "backlog drained", func() bool { return out.left() == 0 })
	out.checkAckedOnce(t)
}

func recv[T any](t *testing.T, ch <-chan T) T {
	t.Helper()
	select {
	case v := <-ch:
		return v
	case <-time.After(waitLimit):
		t.Fatal("nothing received")
	}
	var zero T
	return zero
}

func TestOfflineStatusOnShutdown(t *testing.T) {
	_, addr := startBroker(t, "127.0.0.1:0")
	tid := uniqueTID("bye")
	u, err := uplink.New(uplink.Config{BrokerURL: "tcp://" + addr, Terminal: tid, Logger: quiet(t)}, newOutbox(tid, 0))
	if err != nil {
		t.Fatal(err)
	}
	status := observe(t, addr, wire.TerminalTopic(tid, wire.KindStatus))
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- u.Run(ctx) }()
	if st := nextStatus(t, status); !st.Online {
		t.Fatalf("status on connect = %+v, want online", st)
	}
	cancel()
	if err := recv(t, (<-chan error)(done)); err != nil {
		t.Fatalf("Run: %v", err)
	}
	if u.Connected() {
		t.Fatal("Connected() = true after Run returned")
	}
	// A clean disconnect sends no will: the uplink leaves the offline
	// status itself.
	m := recv(t, observe(t, addr, wire.TerminalTopic(tid, wire.KindStatus)))
	if !m.Retained() || string(m.Payload()) != `{"v":1,"online":false}` {
		t.Fatalf("retained status after shutdown = %q (retained %v), want offline", m.Payload(), m.Retained())
	}
}

func TestTrustKeptUntilCallbackSet(t *testing.T) {
	_, addr := startBroker(t, "127.0.0.1:0")
	tid := uniqueTID("late")
	trustSet := []byte(`{"keys":[],"revoked":["ra-1"]}`)
	publish(t, addr, wire.TrustTopic, true, trustSet)
	u := startUplink(t, uplink.Config{BrokerURL: "tcp://" + addr, Terminal: tid}, newOutbox(tid, 0))
	waitFor(t, "the retained trust list received before any callback", u.HasTrust)
	trusts := make(chan []byte, 1)
	u.OnTrust(func(b []byte) { trusts <- b })
	if got := recv(t, trusts); string(got) != string(trustSet) {
		t.Fatalf("trust payload = %s, want %s", got, trustSet)
	}
	publish(t, addr, wire.TrustTopic, true, nil)
}
