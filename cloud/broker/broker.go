// Package broker embeds an MQTT broker (mochi-mqtt) in the cloud, with the
// authentication and access rules of DESIGN.md: each terminal logs in with
// its own credentials and may only publish under its own topics and read its
// own acks and commands and the trust topic; the cloud's own clients log in
// as an internal user whose random password lives in memory only.
package broker

import (
	"cmp"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"net"
	"sync/atomic"
	"syscall"
	"time"

	mqtt "github.com/mochi-mqtt/server/v2"
	"github.com/mochi-mqtt/server/v2/listeners"

	"github.com/comptoir/comptoir/cloud"
	"github.com/comptoir/comptoir/edge"
	"github.com/comptoir/comptoir/sync/wire"
)

// InternalUser is the MQTT username of the cloud's own clients. It is not a
// valid terminal id (the underscore), so no terminal can be enrolled as it.
const InternalUser = "_comptoir-cloud"

// DefaultAddr is the default listen address; 1883 is left to a Mosquitto
// that development machines often run.
const DefaultAddr = "127.0.0.1:1884"

// closeTimeout bounds Close: mochi's Server.Close can deadlock when a
// client leaves while it shuts down (mochi-mqtt/server#488, not fixed as of
// v2.7.9, the latest release).
const closeTimeout = 5 * time.Second

// MaxPacketSize bounds an MQTT packet: four times a maximal events batch.
const MaxPacketSize = 4 * wire.MaxBatchBytes

// DefaultTerminalQueue is the most messages the cloud's embedded broker
// holds waiting to be written to one terminal's connection. What a
// terminal receives is small and paced by itself: an ack a batch (at most
// its window of 8 in flight, and their resends), commands, the trust list.
// mochi's default, 8,192, is sized for a consumer of the whole fleet: it
// preallocates a 64 KiB queue a client, two thirds of what a connected
// terminal cost (BenchmarkFleet). A message past the queue is dropped for
// that client; a terminal resends the batch whose ack it missed.
const DefaultTerminalQueue = 128

// readBuffer is the read buffer of a client's connection.
const readBuffer = 512

// DefaultAcceptRate is how many terminal connections a second the broker
// accepts by default: with TLS a connection costs the cloud 1 to 2 ms of
// CPU (BenchmarkFleet), so 1,000 a second keeps a 2-core cloud answering
// its API and ingest through a reconnect storm of its whole fleet.
const DefaultAcceptRate = 1000

// SessionExpiry is how long the broker keeps the persistent session of a
// terminal that has gone (its subscriptions and the messages queued for
// it): long enough for a relay point closed for the summer, bounded so
// that the sessions of terminals gone for good do not pile up.
const SessionExpiry = 45 * 24 * time.Hour

// Passwords finds the hash of a terminal's MQTT password (cloud.HashSecret).
// It returns an error (ENOTFOUND) for a terminal that is not enrolled.
type Passwords interface {
	PasswordHash(ctx context.Context, tid string) ([]byte, error)
}

// PasswordsFunc adapts a function to Passwords.
type PasswordsFunc func(ctx context.Context, tid string) ([]byte, error)

// PasswordHash calls f.
func (f PasswordsFunc) PasswordHash(ctx context.Context, tid string) ([]byte, error) {
	return f(ctx, tid)
}

// StorePasswords returns the Passwords of the terminals of a store; a
// decommissioned terminal has none.
func StorePasswords(s cloud.Store) Passwords {
	return PasswordsFunc(func(ctx context.Context, tid string) ([]byte, error) {
		t, err := s.FindTerminal(ctx, tid)
		if err != nil {
			return nil, err
		} else if t.Decommissioned() {
			return nil, edge.Errorf(edge.EFORBIDDEN, "Terminal %q is decommissioned.", tid)
		}
		return t.PasswordHash, nil
	})
}

// Broker is the embedded MQTT broker.
type Broker struct {
	// Addr is the TCP address to listen on (DefaultAddr when empty; port 0
	// picks a free port, see Addr after Open).
	Addr string
	// Logger receives the broker's log.
	Logger *slog.Logger
	// OnTerminalDisconnect, when set, is called (on the broker's
	// goroutine) when a terminal's connection ends.
	OnTerminalDisconnect func(tid string)
	// Metrics, when set, counts what the broker refuses.
	Metrics *Metrics
	// TLS, when set, makes Addr a TLS listener (terminals connect with
	// mqtts://). The cloud's own clients then connect through a second,
	// plain listener on loopback (InternalURL), the only one where the
	// internal user may log in. With TLS.ClientCAs set and
	// TLS.ClientAuth at tls.RequireAndVerifyClientCert, a terminal also
	// needs a certificate whose common name is its id.
	TLS *tls.Config
	// TerminalQueue, when set, is the most messages waiting to be written
	// to a terminal (DefaultTerminalQueue in the cloud); the cloud's own
	// clients get ConsumerQueue, since one of them consumes the whole
	// fleet. mochi sizes a client's queue from one server-wide setting
	// when it accepts the connection, so Open then serves only the
	// internal listener, where the cloud's clients connect, and
	// AdmitTerminals lowers the setting and opens the terminals' listener.
	TerminalQueue int
	// AcceptRate, when positive, bounds the terminal connections accepted
	// a second: the rest wait in the kernel's backlog (and past it, the
	// terminals retry with their backoff), so a reconnect storm costs the
	// cloud a bounded share of its CPU.
	AcceptRate float64
	// ConsumerQueue, with a TerminalQueue or TLS, is the queue of the
	// cloud's own clients (DefaultConsumerQueue when 0); without either,
	// every client has mochi's 8,192. Terminals' publishes wait while a
	// consumer has half of it in flight (consumerGate) rather than be
	// dropped.
	ConsumerQueue int

	passwords    Passwords
	internalPass string
	server       *mqtt.Server
	listener     *listeners.Net
	ln           net.Listener
	internal     *listeners.Net
	internalLn   net.Listener
	caps         *mqtt.Capabilities
	admitted     atomic.Bool
}

// Listener ids: terminals come through public, the cloud's own clients
// through internal when the public one is TLS.
const (
	publicListener   = "tcp"
	internalListener = "internal"
)

// New returns a broker that checks terminals' passwords with p. It generates
// the internal user's password.
func New(p Passwords) *Broker {
	return &Broker{Addr: DefaultAddr, Logger: slog.Default(), passwords: p, internalPass: cloud.RandomSecret(32)}
}

// Open listens and starts serving. An address already in use is reported as
// such, naming the address.
func (b *Broker) Open() error {
	logger := b.Logger.With("component", "broker")
	quiet := slog.New(mochiHandler{Handler: logger.Handler()})
	caps := mqtt.NewDefaultServerCapabilities()
	// Room for any valid message, so that a batch over the protocol's
	// limit is still read and dead-lettered as TOO_LARGE; beyond, the
	// client is disconnected.
	caps.MaximumPacketSize = MaxPacketSize
	caps.MaximumSessionExpiryInterval = uint32(SessionExpiry / time.Second)
	queue := int(caps.MaximumClientWritesPending)
	if b.TLS != nil || b.TerminalQueue > 0 {
		// The cloud's clients connect first, on the internal listener,
		// and get this queue; AdmitTerminals lowers it for terminals.
		queue = cmp.Or(b.ConsumerQueue, DefaultConsumerQueue)
		caps.MaximumClientWritesPending = int32(queue)
		// A client's window of unacknowledged messages is the other
		// bound past which mochi drops; it is allocated as used.
		caps.MaximumInflight = uint16(min(max(queue, int(caps.MaximumInflight)), math.MaxUint16))
	}
	b.caps = caps
	// A connection's read buffer lives as long as the connection: mochi's
	// 2 KiB was 1.65 KB a terminal in a profile at 10,000. Most of what a
	// terminal sends is a few hundred bytes (status, a batch of a few
	// events); a larger packet's body is read past the buffer.
	b.server = mqtt.New(&mqtt.Options{Logger: quiet, Capabilities: caps, ClientNetReadBufferSize: readBuffer})
	if b.Metrics != nil {
		b.Metrics.server.Store(b.server)
	}
	hook := &authHook{passwords: b.passwords, internalPass: b.internalPass, log: logger, onDisconnect: b.OnTerminalDisconnect, admitted: &b.admitted,
		clients: b.server.Clients, identities: newIdentityGuard(logger, b.Metrics)}
	if b.TLS != nil || b.TerminalQueue > 0 {
		hook.internalOnly = internalListener
	}
	if b.TLS != nil {
		hook.certCN = b.TLS.ClientAuth == tls.RequireAndVerifyClientCert
	}
	if err := b.server.AddHook(hook, nil); err != nil {
		return fmt.Errorf("broker: add hook: %w", err)
	}
	for _, h := range []mqtt.Hook{newConsumerGate(queue), new(statusNotRetained)} {
		if err := b.server.AddHook(h, nil); err != nil {
			return fmt.Errorf("broker: add hook: %w", err)
		}
	}
	// The broker listens on a socket of its own, so that Close stops
	// taking connections even when mochi's Close hangs.
	ln, err := net.Listen("tcp", b.Addr)
	if err != nil {
		if errors.Is(err, syscall.EADDRINUSE) {
			return fmt.Errorf("broker: MQTT address %s is already in use: %w", b.Addr, err)
		}
		return fmt.Errorf("broker: listen on %s: %w", b.Addr, err)
	}
	b.ln = ln
	if b.AcceptRate > 0 {
		ln = &paced{Listener: ln, every: time.Duration(float64(time.Second) / b.AcceptRate)}
	}
	if b.TLS != nil {
		ln = tls.NewListener(ln, b.TLS)
	}
	b.listener = listeners.NewNet(publicListener, releasing{ln})
	if b.TerminalQueue == 0 {
		if err := b.server.AddListener(b.listener); err != nil {
			b.ln.Close()
			return fmt.Errorf("broker: listen on %s: %w", b.Addr, err)
		}
		b.admitted.Store(true)
	}
	if b.TLS != nil || b.TerminalQueue > 0 {
		if b.internalLn, err = net.Listen("tcp", "127.0.0.1:0"); err != nil {
			b.ln.Close()
			return fmt.Errorf("broker: internal listener: %w", err)
		}
		b.internal = listeners.NewNet(internalListener, b.internalLn)
		if err := b.server.AddListener(b.internal); err != nil {
			b.ln.Close()
			b.internalLn.Close()
			return fmt.Errorf("broker: internal listener: %w", err)
		}
	}
	if err := b.server.Serve(); err != nil {
		return fmt.Errorf("broker: serve: %w", err)
	}
	logger.Info("mqtt broker listening", "addr", b.listener.Address(), "tls", b.TLS != nil, "max_open_files", openFileLimit())
	return nil
}

// AdmitTerminals opens the terminals' listener of a broker with a
// TerminalQueue, once the cloud's own clients are connected: clients
// accepted from now on get a queue of TerminalQueue messages. Without a
// TerminalQueue the listener is open since Open, and it does nothing.
func (b *Broker) AdmitTerminals() error {
	if b.server == nil || b.admitted.Load() {
		return nil
	}
	// Reading the clients map takes the lock that the clients connected
	// so far took when they were added, after mochi had read the queue
	// size for them; the terminals' listener starts after the change.
	b.server.Clients.Len()
	b.caps.MaximumClientWritesPending = int32(b.TerminalQueue)
	if err := b.server.AddListener(b.listener); err != nil {
		return fmt.Errorf("broker: listen on %s: %w", b.Addr, err)
	}
	b.server.Listeners.Serve(publicListener, b.server.EstablishConnection)
	b.admitted.Store(true)
	return nil
}

// openFileLimit returns how many files the process may open, which bounds
// the connections the broker can hold (Go raises the soft limit to the
// hard one at start).
func openFileLimit() uint64 {
	var l syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &l); err != nil {
		return 0
	}
	return l.Cur
}

// ListenAddr returns the address the broker listens on, with the actual port.
func (b *Broker) ListenAddr() string {
	if b.listener == nil {
		return b.Addr
	}
	return b.listener.Address()
}

// URL returns the broker's address as an MQTT URL: tcp://host:port, or
// mqtts://host:port with TLS.
func (b *Broker) URL() string {
	scheme := "tcp://"
	if b.TLS != nil {
		scheme = "mqtts://"
	}
	host, port, err := net.SplitHostPort(b.ListenAddr())
	if err != nil {
		return scheme + b.ListenAddr()
	}
	if host == "" || host == "0.0.0.0" || host == "::" {
		host = "127.0.0.1"
	}
	return scheme + net.JoinHostPort(host, port)
}

// InternalURL returns the address the cloud's own clients connect to: the
// plain loopback listener when the public one is TLS or has a
// TerminalQueue, else URL.
func (b *Broker) InternalURL() string {
	if b.internal == nil {
		return b.URL()
	}
	return "tcp://" + b.internal.Address()
}

// InternalCredentials returns the username and password of the cloud's own
// clients. They are never written anywhere.
func (b *Broker) InternalCredentials() (user, pass string) {
	return InternalUser, b.internalPass
}

// Close stops listening, then disconnects every client. It gives up
// after closeTimeout, should mochi deadlock (mochi-mqtt/server#488): the
// socket is closed by then, so the address can be bound again, and the
// process can exit.
func (b *Broker) Close() error {
	if b.server == nil {
		return nil
	}
	srv := b.server
	b.server = nil
	if b.ln != nil {
		b.ln.Close()
	}
	if b.internalLn != nil {
		b.internalLn.Close()
	}
	done := make(chan error, 1)
	go func() { done <- srv.Close() }()
	select {
	case err := <-done:
		if err != nil {
			return fmt.Errorf("broker: close: %w", err)
		}
		return nil
	case <-time.After(closeTimeout):
		b.Logger.Warn("mqtt broker close timed out; giving up on its clients (mochi-mqtt/server#488)", "component", "broker")
		return fmt.Errorf("broker: close: timed out after %s", closeTimeout)
	}
}
