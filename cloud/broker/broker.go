// Package broker embeds an MQTT broker (mochi-mqtt) in the cloud, with the
// authentication and access rules of DESIGN.md: each terminal logs in with
// its own credentials and may only publish under its own topics and read its
// own acks and commands and the trust topic; the cloud's own clients log in
// as an internal user whose random password lives in memory only.
package broker

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"net"
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

	passwords    Passwords
	internalPass string
	server       *mqtt.Server
	listener     *listeners.Net
	ln           net.Listener
	internal     *listeners.Net
	internalLn   net.Listener
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
	b.server = mqtt.New(&mqtt.Options{Logger: quiet, Capabilities: caps})
	hook := &authHook{passwords: b.passwords, internalPass: b.internalPass, log: logger, onDisconnect: b.OnTerminalDisconnect,
		clients: b.server.Clients, identities: newIdentityGuard(logger, b.Metrics)}
	if b.TLS != nil {
		hook.internalOnly = internalListener
		hook.certCN = b.TLS.ClientAuth == tls.RequireAndVerifyClientCert
	}
	if err := b.server.AddHook(hook, nil); err != nil {
		return fmt.Errorf("broker: add hook: %w", err)
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
	if b.TLS != nil {
		ln = tls.NewListener(ln, b.TLS)
	}
	b.listener = listeners.NewNet(publicListener, ln)
	if err := b.server.AddListener(b.listener); err != nil {
		b.ln.Close()
		return fmt.Errorf("broker: listen on %s: %w", b.Addr, err)
	}
	if b.TLS != nil {
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
	logger.Info("mqtt broker listening", "addr", b.listener.Address(), "tls", b.TLS != nil)
	return nil
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
// plain loopback listener when the public one is TLS, else URL.
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
