package uplink_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net"
	"sync"
	"testing"
	"time"

	"github.com/comptoir/comptoir/edge"
	"github.com/comptoir/comptoir/sync/uplink"
	"github.com/comptoir/comptoir/sync/wire"
	paho "github.com/eclipse/paho.mqtt.golang"
	mochi "github.com/mochi-mqtt/server/v2"
	"github.com/mochi-mqtt/server/v2/listeners"
	"github.com/mochi-mqtt/server/v2/packets"
)

// waitLimit bounds every wait of these tests: it is a guard against hangs,
// not a timing assertion.
const waitLimit = 60 * time.Second

// quiet discards logs unless -v.
func quiet(tb testing.TB) *slog.Logger {
	if testing.Verbose() {
		return slog.Default()
	}
	return slog.New(slog.NewTextHandler(io.Discard, nil))
}

// startBroker runs an embedded mochi broker on addr ("127.0.0.1:0" for any
// port) and returns what stops it and its address.
func startBroker(tb testing.TB, addr string) (stop func(), _ string) {
	tb.Helper()
	srv := mochi.New(&mochi.Options{InlineClient: false, Logger: quiet(tb)})
	if err := srv.AddHook(new(allowHook), nil); err != nil {
		tb.Fatal(err)
	}
	l := listeners.NewTCP(listeners.Config{ID: "t1", Address: addr})
	var err error
	for range 100 { // the old listener of a restart may linger a moment
		if err = srv.AddListener(l); err == nil {
			break
		}
		time.Sleep(50 * time.Millisecond)
	}
	if err != nil {
		tb.Fatalf("broker listen %s: %v", addr, err)
	}
	go func() {
		if err := srv.Serve(); err != nil {
			tb.Errorf("broker serve: %v", err)
		}
	}()
	stop = sync.OnceFunc(func() { stopBroker(srv, "t1") })
	tb.Cleanup(stop)
	return stop, l.Address()
}

// stopBroker closes srv without its Close closing the clients, which can
// deadlock in mochi v2.7.9 (Clients.GetByListener read-locks twice; a client
// leaving meanwhile waits for the write lock: mochi-mqtt/server#488). It
// closes the listeners (a no-op closer marks them ended), then the clients.
func stopBroker(srv *mochi.Server, listenerIDs ...string) {
	for _, id := range listenerIDs {
		srv.Listeners.Close(id, func(string) {})
	}
	for _, cl := range srv.Clients.GetAll() {
		cl.Stop(packets.ErrServerShuttingDown)
	}
	srv.Close()
}

// allowHook lets every client connect and use every topic, as mochi's
// auth.AllowHook does; that package would pull gopkg.in/yaml.v3 into go.sum
// for no gain here.
type allowHook struct{ mochi.HookBase }

func (h *allowHook) ID() string { return "allow-all" }

func (h *allowHook) Provides(b byte) bool {
	return b == mochi.OnConnectAuthenticate || b == mochi.OnACLCheck
}

func (h *allowHook) OnConnectAuthenticate(*mochi.Client, packets.Packet) bool { return true }

func (h *allowHook) OnACLCheck(*mochi.Client, string, bool) bool { return true }

// uniqueTID returns a terminal id no other run uses, for a shared broker.
func uniqueTID(prefix string) string {
	return fmt.Sprintf("%s-%d-%08x", prefix, time.Now().UnixNano()%1e9, rand.Uint32())
}

// memOutbox is an in-memory Outbox that counts how often each op is acked.
type memOutbox struct {
	mu      sync.Mutex
	ops     []edge.Operation // seq order
	acked   []bool
	covered []int // Ack calls that named each op
	pending int
}

var _ uplink.Outbox = (*memOutbox)(nil)

func newOutbox(tid string, n int) *memOutbox {
	o := &memOutbox{}
	o.add(tid, n)
	return o
}

// add appends n operations of terminal tid.
func (o *memOutbox) add(tid string, n int) {
	o.mu.Lock()
	defer o.mu.Unlock()
	at := time.Date(2026, 11, 22, 10, 15, 3, 0, time.UTC)
	for range n {
		seq := uint64(len(o.ops) + 1)
		data, _ := json.Marshal(edge.DepositData{
			RAID: fmt.Sprintf("0193b0c4-%04x-7000-8000-000000000000", seq%65536), Issuer: "shop-1",
			Carrier: "colis", Verified: true, Mode: "label_at_counter", WeightG: 1200,
			DimsMM: []int{300, 200, 100}, ReceiptID: fmt.Sprintf("r-%d", seq), ShelfSlot: "A3",
		})
		o.ops = append(o.ops, edge.Operation{
			ID: fmt.Sprintf("0193b0c4-0000-7000-8000-%012d", seq), Terminal: tid, Seq: seq,
			Type: "return.deposited", OccurredAt: at.Add(time.Duration(seq) * time.Second),
			Operator: "clerk-1", Tracking: fmt.Sprintf("XY%09dFR", seq), Data: data,
		})
		o.acked = append(o.acked, false)
		o.covered = append(o.covered, 0)
		o.pending++
	}
}

func (o *memOutbox) Pending(_ context.Context, after uint64, limit int) ([]edge.Operation, error) {
	o.mu.Lock()
	defer o.mu.Unlock()
	var out []edge.Operation
	for i := int(min(after, uint64(len(o.ops)))); i < len(o.ops) && len(out) < limit; i++ {
		if !o.acked[i] {
			out = append(out, o.ops[i])
		}
	}
	return out, nil
}

func (o *memOutbox) Ack(_ context.Context, first, last uint64) error {
	o.mu.Lock()
	defer o.mu.Unlock()
	for s := first; s <= last && s <= uint64(len(o.ops)); s++ {
		o.covered[s-1]++
		if !o.acked[s-1] {
			o.acked[s-1] = true
			o.pending--
		}
	}
	return nil
}

func (o *memOutbox) OutboxStats(context.Context) (int, time.Time, error) {
	o.mu.Lock()
	defer o.mu.Unlock()
	for i, a := range o.acked {
		if !a {
			return o.pending, o.ops[i].OccurredAt, nil
		}
	}
	return 0, time.Time{}, nil
}

func (o *memOutbox) left() int {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.pending
}

// checkAckedOnce fails unless every op is acked, by exactly one Ack call.
func (o *memOutbox) checkAckedOnce(tb testing.TB) {
	tb.Helper()
	o.mu.Lock()
	defer o.mu.Unlock()
	for i := range o.ops {
		if !o.acked[i] || o.covered[i] != 1 {
			tb.Fatalf("seq %d: acked=%v by %d Ack calls, want acked by exactly 1", i+1, o.acked[i], o.covered[i])
		}
	}
}

// checkAckedPerDelivery fails unless every op is acked, by no more Ack
// calls than cl received it. With a short ack timeout, a batch whose ack is
// merely slow is resent and acked twice, which the protocol allows; an
// op acked more often than it was delivered would be an uplink bug.
func (o *memOutbox) checkAckedPerDelivery(tb testing.TB, cl *cloud) {
	tb.Helper()
	o.mu.Lock()
	defer o.mu.Unlock()
	for i := range o.ops {
		seq := uint64(i + 1)
		if n := cl.times(seq); !o.acked[i] || o.covered[i] < 1 || o.covered[i] > n {
			tb.Fatalf("seq %d: acked=%v by %d Ack calls, delivered %d times; want acked, by 1 to %d calls", seq, o.acked[i], o.covered[i], n, n)
		}
	}
}

// cloud is the test's cloud: a second MQTT client that records the batches
// of one terminal and acks them, unless hold says to keep the ack back.
type cloud struct {
	tb     testing.TB
	tid    string
	client paho.Client

	mu          sync.Mutex
	hold        func(b wire.Batch) bool
	received    map[uint64]int // deliveries of each seq
	batches     int            // batches received, resends included
	held        []wire.Batch
	outstanding map[uint64]bool // first seq of batches received and not acked
	maxOut      int             // most distinct batches outstanding at once
	bad         []error
	subscribed  int // sessions whose subscription is up
}

// newCloud connects a cloud to the broker at addr (host:port).
func newCloud(tb testing.TB, addr, tid string) *cloud {
	tb.Helper()
	c := &cloud{tb: tb, tid: tid, received: map[uint64]int{}, outstanding: map[uint64]bool{}}
	o := paho.NewClientOptions().AddBroker("tcp://" + addr).
		SetClientID(uniqueTID("cloud")).SetCleanSession(true).SetOrderMatters(false).
		SetAutoReconnect(true).SetMaxReconnectInterval(200 * time.Millisecond).
		SetOnConnectHandler(func(pc paho.Client) {
			tok := pc.Subscribe(wire.TerminalTopic(tid, wire.KindEvents), 1, c.onEvents)
			if tok.WaitTimeout(waitLimit) && tok.Error() == nil {
				c.mu.Lock()
				c.subscribed++
				c.mu.Unlock()
			}
		})
	c.client = paho.NewClient(o)
	if tok := c.client.Connect(); !tok.WaitTimeout(waitLimit) || tok.Error() != nil {
		tb.Fatalf("cloud connect: %v", tok.Error())
	}
	tb.Cleanup(func() { c.client.Disconnect(100) })
	return c
}

func (c *cloud) onEvents(_ paho.Client, m paho.Message) {
	b, err := wire.DecodeBatch(c.tid, m.Payload())
	c.mu.Lock()
	defer c.mu.Unlock()
	if err != nil {
		c.bad = append(c.bad, err)
		return
	}
	c.batches++
	for _, ev := range b.Events {
		c.received[ev.Seq]++
	}
	c.outstanding[b.Events[0].Seq] = true
	c.maxOut = max(c.maxOut, len(c.outstanding))
	if c.hold != nil && c.hold(b) {
		c.held = append(c.held, b)
		return
	}
	c.ackLocked(b)
}

// ackLocked publishes the ack of b, without waiting: this runs on paho's
// goroutine.
func (c *cloud) ackLocked(b wire.Batch) {
	seqs := make([]uint64, len(b.Events))
	for i, ev := range b.Events {
		seqs[i] = ev.Seq
	}
	delete(c.outstanding, b.Events[0].Seq)
	c.client.Publish(wire.TerminalTopic(c.tid, wire.KindAcks), 1, false,
		wire.Marshal(wire.Acks{V: wire.Version, Ranges: wire.Ranges(seqs)}))
}

// setHold changes the hold rule.
func (c *cloud) setHold(f func(wire.Batch) bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.hold = f
}

// release stops holding and acks every held batch.
func (c *cloud) release() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.hold = nil
	for _, b := range c.held {
		c.ackLocked(b)
	}
	c.held = nil
}

// stats returns batches received and how many distinct seqs.
func (c *cloud) stats() (batches, seqs int) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.batches, len(c.received)
}

// times returns how often seq was delivered.
func (c *cloud) times(seq uint64) int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.received[seq]
}

// checkAll fails unless seqs 1..n all arrived, in valid batches.
func (c *cloud) checkAll(tb testing.TB, n int) {
	tb.Helper()
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.bad) > 0 {
		tb.Fatalf("cloud got %d invalid batches, first: %v", len(c.bad), c.bad[0])
	}
	for s := uint64(1); s <= uint64(n); s++ {
		if c.received[s] == 0 {
			tb.Fatalf("seq %d never arrived", s)
		}
	}
}

// startUplink runs an uplink for outbox until the test ends.
func startUplink(tb testing.TB, cfg uplink.Config, outbox uplink.Outbox) *uplink.Uplink {
	tb.Helper()
	if cfg.Logger == nil {
		cfg.Logger = quiet(tb)
	}
	u, err := uplink.New(cfg, outbox)
	if err != nil {
		tb.Fatal(err)
	}
	runUplink(tb, u)
	return u
}

// runUplink runs u until the test ends, and checks that Run returns.
func runUplink(tb testing.TB, u *uplink.Uplink) {
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- u.Run(ctx) }()
	tb.Cleanup(func() {
		cancel()
		select {
		case err := <-done:
			if err != nil {
				tb.Errorf("Run: %v", err)
			}
		case <-time.After(waitLimit):
			tb.Errorf("Run did not return after cancel")
		}
	})
}

// waitFor polls cond until it holds, or fails the test after waitLimit.
func waitFor(tb testing.TB, what string, cond func() bool) {
	tb.Helper()
	deadline := time.Now().Add(waitLimit)
	for !cond() {
		if time.Now().After(deadline) {
			tb.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// observe subscribes a fresh client to topic on addr and returns the
// messages it gets.
func observe(tb testing.TB, addr, topic string) <-chan paho.Message {
	tb.Helper()
	ch := make(chan paho.Message, 64)
	o := paho.NewClientOptions().AddBroker("tcp://" + addr).SetClientID(uniqueTID("obs")).
		SetOrderMatters(false)
	c := paho.NewClient(o)
	if tok := c.Connect(); !tok.WaitTimeout(waitLimit) || tok.Error() != nil {
		tb.Fatalf("observer connect: %v", tok.Error())
	}
	tb.Cleanup(func() { c.Disconnect(100) })
	tok := c.Subscribe(topic, 1, func(_ paho.Client, m paho.Message) {
		select {
		case ch <- m:
		default:
		}
	})
	if !tok.WaitTimeout(waitLimit) || tok.Error() != nil {
		tb.Fatalf("observer subscribe: %v", tok.Error())
	}
	return ch
}

// publish sends one message from a fresh client and waits for its PUBACK.
func publish(tb testing.TB, addr, topic string, retained bool, payload []byte) {
	tb.Helper()
	o := paho.NewClientOptions().AddBroker("tcp://" + addr).SetClientID(uniqueTID("pub"))
	c := paho.NewClient(o)
	if tok := c.Connect(); !tok.WaitTimeout(waitLimit) || tok.Error() != nil {
		tb.Fatalf("publisher connect: %v", tok.Error())
	}
	defer c.Disconnect(100)
	if tok := c.Publish(topic, 1, retained, payload); !tok.WaitTimeout(waitLimit) || tok.Error() != nil {
		tb.Fatalf("publish %s: %v", topic, tok.Error())
	}
}

// cleanupTerminal clears the retained status of tid and its persistent
// session on a shared broker.
func cleanupTerminal(tb testing.TB, addr, tid string) {
	tb.Cleanup(func() {
		publish(tb, addr, wire.TerminalTopic(tid, wire.KindStatus), true, nil)
		o := paho.NewClientOptions().AddBroker("tcp://" + addr).SetClientID(tid).SetCleanSession(true)
		c := paho.NewClient(o)
		if tok := c.Connect(); tok.WaitTimeout(waitLimit) && tok.Error() == nil {
			c.Disconnect(100)
		}
	})
}

// proxy forwards TCP to a broker, so that a test can cut the uplink's
// connection the way a network would.
type proxy struct {
	ln     net.Listener
	target string
	mu     sync.Mutex
	conns  []net.Conn
	paused bool // refuse connections for now
}

func newProxy(tb testing.TB, target string) *proxy {
	tb.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatal(err)
	}
	p := &proxy{ln: ln, target: target}
	go p.serve()
	tb.Cleanup(p.close)
	return p
}

func (p *proxy) addr() string { return p.ln.Addr().String() }

func (p *proxy) serve() {
	for {
		in, err := p.ln.Accept()
		if err != nil {
			return
		}
		p.mu.Lock()
		paused := p.paused
		p.mu.Unlock()
		if paused {
			in.Close()
			continue
		}
		out, err := net.Dial("tcp", p.target)
		if err != nil {
			in.Close()
			continue
		}
		p.mu.Lock()
		p.conns = append(p.conns, in, out)
		p.mu.Unlock()
		go func() { io.Copy(out, in); out.Close() }()
		go func() { io.Copy(in, out); in.Close() }()
	}
}

// drop cuts every connection; new ones are still accepted.
func (p *proxy) drop() {
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, c := range p.conns {
		c.Close()
	}
	p.conns = nil
}

// pause cuts every connection and refuses new ones until resume.
func (p *proxy) pause() {
	p.mu.Lock()
	p.paused = true
	p.mu.Unlock()
	p.drop()
}

func (p *proxy) resume() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.paused = false
}

// close stops accepting and cuts every connection.
func (p *proxy) close() {
	p.ln.Close()
	p.drop()
}
