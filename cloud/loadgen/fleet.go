package loadgen

import (
	"bufio"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"net/url"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/comptoir/comptoir/edge"
	"github.com/comptoir/comptoir/sync/wire"
)

// FleetConfig configures a fleet of simulated terminals that stay
// connected, as a network's terminals do between their peaks: a persistent
// session each (client id = terminal id, clean session off), a retained
// status on connect and on the uplink's schedule, a last will, keepalive
// pings, and optionally a batch of events after each connection. Each
// terminal reconnects on its own after a lost connection, so that a
// restarted cloud meets the reconnect storm of its whole fleet.
type FleetConfig struct {
	// BrokerURL is tcp://host:port or mqtts://host:port; with Cloud set
	// and BrokerURL empty, the URL the cloud answers at enrolment.
	BrokerURL string
	// Cloud and OperatorKey enrol every terminal first (EnrolWorkers at
	// once, default 8); without them terminals log in with their id as
	// username and no password.
	Cloud, OperatorKey string
	EnrolWorkers       int
	Terminals          int
	// Prefix starts every terminal id (random by default).
	Prefix string
	// TLS is the client configuration for mqtts:// (its RootCAs trust the
	// broker). Each terminal keeps its own session cache of one entry, as
	// a real terminal does, so a reconnection may resume its TLS session.
	TLS *tls.Config
	// SourceAddrs are the local addresses connections are made from, in
	// turn: one address reaches one broker address with about 28,000
	// ports. For a loopback broker the default is as many of 127.0.0.1,
	// 127.0.0.2, ... as give each at most 20,000 connections.
	SourceAddrs []string
	// ConnectRate is how many terminals a second make their first
	// connection (0: all at once); each start is spread at random within
	// its slot.
	ConnectRate float64
	// StatusEvery is the status schedule (default the uplink's, 1 min);
	// Keepalive the MQTT keepalive (default 60 s).
	StatusEvery, Keepalive time.Duration
	// EventsPerConnect is how many events each terminal sends in one
	// batch after each connection; a batch not acked is sent again on the
	// next connection and after the uplink's resend schedule (AckTimeout,
	// default 10 s).
	EventsPerConnect int
	AckTimeout       time.Duration
}

// FleetStats counts what a fleet did.
type FleetStats struct {
	Terminals  int   `json:"terminals"`
	Connected  int64 `json:"connected"`
	Connects   int64 `json:"connects"`
	Failed     int64 `json:"failed_connects"`
	Resumed    int64 `json:"tls_resumed"`
	Sent       int64 `json:"sent"`
	Acked      int64 `json:"acked"`
	StatusSent int64 `json:"status_sent"`
}

// Fleet is a running fleet of simulated terminals.
type Fleet struct {
	cfg   FleetConfig
	terms []*fleetTerm
	stats struct {
		connected, connects, failed, resumed, sent, acked, status atomic.Int64
	}
	cancel context.CancelFunc
	wg     sync.WaitGroup
}

// fleetTerm is one terminal of a fleet.
type fleetTerm struct {
	id, user, pass, broker string
	src                    net.Addr
	tls                    *tls.Config
	// nextSeq is the first seq of the next batch; pending the batch in
	// flight, nil when all is acked. Only the terminal's goroutine uses
	// them.
	nextSeq uint64
	pending *batch
}

// fileLimitReserve is the open files a process needs besides its
// connections.
const fileLimitReserve = 64

// NewFleet checks the configuration and the open-file limit (raising the
// soft limit to the hard one) and enrols the terminals. It returns an
// EINVALID error for a configuration it cannot run.
func NewFleet(ctx context.Context, cfg FleetConfig) (*Fleet, error) {
	switch {
	case cfg.Terminals <= 0:
		return nil, edge.Errorf(edge.EINVALID, "loadgen: --terminals must be positive.")
	case cfg.BrokerURL == "" && cfg.Cloud == "":
		return nil, edge.Errorf(edge.EINVALID, "loadgen: a broker URL or a cloud URL is needed.")
	case cfg.EventsPerConnect > wire.MaxBatchEvents:
		return nil, edge.Errorf(edge.EINVALID, "loadgen: at most %d events a connection (one batch).", wire.MaxBatchEvents)
	}
	if limit, err := RaiseFileLimit(); err == nil && uint64(cfg.Terminals)+fileLimitReserve > limit {
		return nil, edge.Errorf(edge.EINVALID, "loadgen: %d terminals need %d open files and this process may open %d (RLIMIT_NOFILE): raise the hard limit (ulimit -Hn, LimitNOFILE=) or split the fleet over processes.", cfg.Terminals, cfg.Terminals+fileLimitReserve, limit)
	}
	if cfg.StatusEvery <= 0 {
		cfg.StatusEvery = time.Minute
	}
	if cfg.Keepalive <= 0 {
		cfg.Keepalive = time.Minute
	}
	if cfg.AckTimeout <= 0 {
		cfg.AckTimeout = 10 * time.Second
	}
	if cfg.EnrolWorkers <= 0 {
		cfg.EnrolWorkers = 8
	}
	if cfg.Prefix == "" {
		cfg.Prefix = randomPrefix()
	}
	f := &Fleet{cfg: cfg, terms: make([]*fleetTerm, cfg.Terminals)}
	for i := range f.terms {
		id := fmt.Sprintf("%s-%05d", cfg.Prefix, i)
		f.terms[i] = &fleetTerm{id: id, user: id, broker: cfg.BrokerURL, nextSeq: 1}
	}
	if cfg.Cloud != "" {
		if err := f.enrolAll(ctx); err != nil {
			return nil, err
		}
	}
	srcs, err := sourceAddrs(cfg.SourceAddrs, f.terms[0].broker, cfg.Terminals)
	if err != nil {
		return nil, err
	}
	for i, t := range f.terms {
		if len(srcs) > 0 {
			t.src = srcs[i%len(srcs)]
		}
		if strings.HasPrefix(t.broker, "mqtts://") || strings.HasPrefix(t.broker, "ssl://") || strings.HasPrefix(t.broker, "tls://") {
			c := &tls.Config{}
			if cfg.TLS != nil {
				c = cfg.TLS.Clone()
			}
			c.ClientSessionCache = tls.NewLRUClientSessionCache(1)
			t.tls = c
		}
	}
	return f, nil
}

// enrolAll enrols the terminals with EnrolWorkers requests at once.
func (f *Fleet) enrolAll(ctx context.Context) error {
	next := make(chan *fleetTerm)
	errs := make(chan error, f.cfg.EnrolWorkers)
	var wg sync.WaitGroup
	for range f.cfg.EnrolWorkers {
		wg.Go(func() {
			for t := range next {
				broker, user, pass, err := enrol(ctx, f.cfg.Cloud, f.cfg.OperatorKey, t.id)
				if err != nil {
					errs <- err
					return
				}
				if t.broker == "" {
					t.broker = broker
				}
				t.user, t.pass = user, pass
			}
		})
	}
	var err error
feed:
	for _, t := range f.terms {
		select {
		case next <- t:
		case err = <-errs:
			break feed
		}
	}
	close(next)
	wg.Wait()
	if err != nil {
		return err
	}
	select {
	case err := <-errs:
		return err
	default:
		return nil
	}
}

// Start connects the terminals, at ConnectRate a second, and keeps each
// connected until Close.
func (f *Fleet) Start(ctx context.Context) {
	ctx, f.cancel = context.WithCancel(ctx)
	start := time.Now()
	for i, t := range f.terms {
		var at time.Time
		if f.cfg.ConnectRate > 0 {
			slot := time.Duration(float64(time.Second) / f.cfg.ConnectRate)
			at = start.Add(time.Duration(i)*slot + randDuration(slot))
		}
		f.wg.Go(func() { f.keep(ctx, t, at) })
	}
}

// Close disconnects every terminal cleanly (no will) and waits for them.
func (f *Fleet) Close() {
	if f.cancel != nil {
		f.cancel()
	}
	f.wg.Wait()
}

// Account is a terminal's MQTT login.
type Account struct{ ClientID, Username, Password string }

// Accounts returns the terminals' logins (those of their enrolment): what
// a benchmark gives a broker's own account store.
func (f *Fleet) Accounts() []Account {
	out := make([]Account, len(f.terms))
	for i, t := range f.terms {
		out[i] = Account{t.id, t.user, t.pass}
	}
	return out
}

// Connected returns how many terminals are connected now.
func (f *Fleet) Connected() int { return int(f.stats.connected.Load()) }

// Stats returns the fleet's counts so far.
func (f *Fleet) Stats() FleetStats {
	return FleetStats{
		Terminals: len(f.terms), Connected: f.stats.connected.Load(),
		Connects: f.stats.connects.Load(), Failed: f.stats.failed.Load(),
		Resumed: f.stats.resumed.Load(), Sent: f.stats.sent.Load(),
		Acked: f.stats.acked.Load(), StatusSent: f.stats.status.Load(),
	}
}

// WaitConnected waits until n terminals are connected, polling, or ctx
// ends.
func (f *Fleet) WaitConnected(ctx context.Context, n int) error {
	return f.waitUntil(ctx, func() bool { return f.Connected() >= n })
}

// WaitDisconnected waits until no terminal is connected, or ctx ends.
func (f *Fleet) WaitDisconnected(ctx context.Context) error {
	return f.waitUntil(ctx, func() bool { return f.Connected() == 0 })
}

// WaitSent waits until n events have been sent, or ctx ends: a terminal
// counts as connected before it sends its batch.
func (f *Fleet) WaitSent(ctx context.Context, n int64) error {
	return f.waitUntil(ctx, func() bool { return f.stats.sent.Load() >= n })
}

// WaitAcked waits until every event sent has been acked, or ctx ends.
func (f *Fleet) WaitAcked(ctx context.Context) error {
	return f.waitUntil(ctx, func() bool { return f.stats.acked.Load() == f.stats.sent.Load() })
}

func (f *Fleet) waitUntil(ctx context.Context, cond func() bool) error {
	tick := time.NewTicker(10 * time.Millisecond)
	defer tick.Stop()
	for !cond() {
		select {
		case <-ctx.Done():
			return fmt.Errorf("loadgen: fleet: %w (%+v)", ctx.Err(), f.Stats())
		case <-tick.C:
		}
	}
	return nil
}

// keep connects t at its start time and again after every lost
// connection, waiting wire.ReconnectAfter between attempts, as the uplink
// does.
func (f *Fleet) keep(ctx context.Context, t *fleetTerm, at time.Time) {
	if !sleepCtx(ctx, time.Until(at)) {
		return
	}
	attempt := 0
	for {
		connected, err := f.session(ctx, t)
		if ctx.Err() != nil {
			return
		}
		if connected {
			attempt = 0
		}
		if err != nil && !connected {
			f.stats.failed.Add(1)
		}
		attempt++
		if !sleepCtx(ctx, wire.ReconnectAfter(attempt)) {
			return
		}
	}
}

// session makes one connection and serves it until it breaks or ctx ends
// (then it disconnects cleanly). It reports whether the connection was
// made.
func (f *Fleet) session(ctx context.Context, t *fleetTerm) (bool, error) {
	c, err := f.dial(ctx, t)
	if err != nil {
		return false, err
	}
	defer c.conn.Close()
	stop := context.AfterFunc(ctx, func() {
		_ = c.disconnect()
		c.conn.Close()
	})
	defer stop()
	acks, status := wire.TerminalTopic(t.id, wire.KindAcks), wire.TerminalTopic(t.id, wire.KindStatus)
	if err := c.subscribe(acks, wire.TerminalTopic(t.id, wire.KindCommands), wire.TrustTopic); err != nil {
		return false, err
	}
	if err := f.sendStatus(c, status); err != nil {
		return false, err
	}
	f.stats.connects.Add(1)
	f.stats.connected.Add(1)
	defer f.stats.connected.Add(-1)

	now := time.Now()
	if t.pending == nil && f.cfg.EventsPerConnect > 0 {
		last := t.nextSeq + uint64(f.cfg.EventsPerConnect) - 1
		t.pending = &batch{first: t.nextSeq, last: last, payload: depositBatch(t.id, t.id[len(t.id)-5:], now.UTC(), int(t.nextSeq), int(last))}
		t.nextSeq = last + 1
		f.stats.sent.Add(int64(f.cfg.EventsPerConnect))
	}
	events := wire.TerminalTopic(t.id, wire.KindEvents)
	if t.pending != nil {
		if _, err := c.publish(events, t.pending.payload, false, t.pending.attempts > 0); err != nil {
			return true, err
		}
		t.pending.due(now, f.cfg.AckTimeout)
	}
	nextPing, nextStatus := now.Add(f.cfg.Keepalive), now.Add(f.cfg.StatusEvery)
	for {
		due := nextPing
		if nextStatus.Before(due) {
			due = nextStatus
		}
		if t.pending != nil && t.pending.deadline.Before(due) {
			due = t.pending.deadline
		}
		_ = c.conn.SetReadDeadline(due)
		if _, err := c.r.Peek(1); err != nil {
			if !errors.Is(err, os.ErrDeadlineExceeded) {
				return true, err
			}
			now := time.Now()
			switch {
			case t.pending != nil && !now.Before(t.pending.deadline):
				_, err = c.publish(events, t.pending.payload, false, true)
				t.pending.due(now, f.cfg.AckTimeout)
			case !now.Before(nextStatus):
				err = f.sendStatus(c, status)
				nextStatus = now.Add(f.cfg.StatusEvery)
			default:
				err = c.ping()
				nextPing = now.Add(f.cfg.Keepalive)
			}
			if err != nil {
				return true, err
			}
			continue
		}
		// A packet has begun: the rest of it comes within a keepalive.
		_ = c.conn.SetReadDeadline(time.Now().Add(f.cfg.Keepalive))
		h, body, err := c.read()
		if err != nil {
			return true, err
		}
		if h>>4 != pktPublish {
			continue // SUBACK, PUBACK, PINGRESP
		}
		topic, id, payload, err := parsePublish(h, body)
		if err != nil {
			return true, err
		}
		if id != 0 {
			if err := c.puback(id); err != nil {
				return true, err
			}
		}
		if topic == acks && t.pending != nil {
			if a, err := wire.DecodeAcks(payload); err == nil && covers(a, t.pending.first, t.pending.last) {
				f.stats.acked.Add(int64(t.pending.last - t.pending.first + 1))
				t.pending = nil
			}
		}
	}
}

// dial connects t to its broker: TCP from its source address, TLS when the
// URL says so, then MQTT's CONNECT with a persistent session and the
// offline status as its will.
func (f *Fleet) dial(ctx context.Context, t *fleetTerm) (*mqttConn, error) {
	u, err := url.Parse(t.broker)
	if err != nil {
		return nil, fmt.Errorf("loadgen: broker URL %q: %w", t.broker, err)
	}
	d := net.Dialer{Timeout: 10 * time.Second, LocalAddr: t.src}
	conn, err := d.DialContext(ctx, "tcp", u.Host)
	if err != nil {
		return nil, fmt.Errorf("loadgen: dial %s: %w", u.Host, err)
	}
	_ = conn.SetDeadline(time.Now().Add(30 * time.Second))
	if t.tls != nil {
		c := t.tls
		if c.ServerName == "" {
			c.ServerName = u.Hostname()
		}
		tc := tls.Client(conn, c)
		if err := tc.HandshakeContext(ctx); err != nil {
			conn.Close()
			return nil, fmt.Errorf("loadgen: TLS handshake with %s: %w", u.Host, err)
		}
		if tc.ConnectionState().DidResume {
			f.stats.resumed.Add(1)
		}
		conn = tc
	}
	c := &mqttConn{conn: conn, r: bufio.NewReaderSize(conn, 512)}
	_, err = c.handshake(connectOpts{
		clientID: t.id, user: t.user, pass: t.pass, keepalive: f.cfg.Keepalive,
		willTopic: wire.TerminalTopic(t.id, wire.KindStatus), willPayload: []byte(`{"v":1,"online":false}`),
	})
	if err != nil {
		conn.Close()
		return nil, fmt.Errorf("loadgen: connect %s: %w", t.id, err)
	}
	return c, nil
}

// sendStatus publishes the terminal's retained status: online, with an
// empty outbox, as most of a fleet is most of the time.
func (f *Fleet) sendStatus(c *mqttConn, topic string) error {
	st := wire.Status{V: wire.Version, Online: true, Version: "loadgen", DiskFreeBytes: 8 << 30,
		Printers: map[string]wire.PrinterStatus{"label": {Up: true, State: "ready"}, "receipt": {Up: true, State: "ready"}},
		At:       time.Now().UTC()}
	_, err := c.publish(topic, wire.Marshal(st), true, false)
	if err == nil {
		f.stats.status.Add(1)
	}
	return err
}

// maxPerSource is the most connections a default loopback source address
// makes to one broker address, well under the ~28,000 ephemeral ports.
const maxPerSource = 20000

// sourceAddrs returns the source addresses for n connections to broker:
// those given, or enough loopback ones for a loopback broker.
func sourceAddrs(given []string, broker string, n int) ([]net.Addr, error) {
	var out []net.Addr
	for _, s := range given {
		ip := net.ParseIP(s)
		if ip == nil {
			return nil, edge.Errorf(edge.EINVALID, "loadgen: source address %q is not an IP address.", s)
		}
		out = append(out, &net.TCPAddr{IP: ip})
	}
	if len(out) > 0 {
		return out, nil
	}
	u, err := url.Parse(broker)
	if err != nil {
		return nil, edge.Errorf(edge.EINVALID, "loadgen: broker URL %q: %v", broker, err)
	}
	if ip := net.ParseIP(u.Hostname()); ip == nil || !ip.IsLoopback() || ip.To4() == nil || n <= maxPerSource {
		return nil, nil
	}
	for i := 0; i*maxPerSource < n; i++ {
		out = append(out, &net.TCPAddr{IP: net.IPv4(127, 0, 0, byte(1+i))})
	}
	return out, nil
}

// RaiseFileLimit raises this process's soft limit of open files to its
// hard limit (Go's runtime does it too, since Go 1.19) and returns it.
// Raising the hard limit needs CAP_SYS_RESOURCE, which it does not try.
func RaiseFileLimit() (uint64, error) {
	var l syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &l); err != nil {
		return 0, fmt.Errorf("rlimit: %w", err)
	}
	if l.Cur < l.Max {
		l.Cur = l.Max
		if err := syscall.Setrlimit(syscall.RLIMIT_NOFILE, &l); err != nil {
			return 0, fmt.Errorf("rlimit: %w", err)
		}
	}
	return l.Cur, nil
}

func sleepCtx(ctx context.Context, d time.Duration) bool {
	if d <= 0 {
		return ctx.Err() == nil
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return false
	case <-t.C:
		return true
	}
}
