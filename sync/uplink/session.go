package uplink

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"os"
	"time"

	"github.com/comptoir/comptoir/sync/wire"
	mqtt "github.com/eclipse/paho.mqtt.golang"
)

// A session is one connection to the broker, with a paho client of its own.
// The uplink reconnects itself rather than through paho's auto-reconnect, so
// that each connection starts with an empty paho store (no pile of stale
// packet ids) and the sender knows exactly when to resend what is in flight.
type session struct {
	client mqtt.Client
	done   chan error // one value: why the connection ended
	dead   bool       // guarded by Uplink.mu: done was signalled
}

// end records that the session is over; only the first reason is kept.
func (u *Uplink) end(s *session, err error) {
	u.mu.Lock()
	defer u.mu.Unlock()
	if s.dead {
		return
	}
	s.dead = true
	s.done <- err
	if u.sess == s {
		u.sess = nil
		u.connected.Store(false)
	}
}

// connectLoop keeps a session up until ctx is done, waiting
// wire.ReconnectAfter between attempts: jittered from the first one, so
// that a fleet dropped at once by a cloud restart does not come back in
// one wave, and doubling up to wire.ReconnectMax.
func (u *Uplink) connectLoop(ctx context.Context) {
	attempt := 0
	retry := func() bool {
		attempt++
		return sleep(ctx, wire.ReconnectAfter(attempt))
	}
	for {
		// Read the TLS files at each attempt: enrolment may write them late.
		tlsCfg, err := u.tlsConfig()
		if err != nil {
			u.log.Error("tls config", "err", err, "attempt", attempt+1)
			if !retry() {
				return
			}
			continue
		}
		s := u.newSession(tlsCfg)
		tok := s.client.Connect()
		if !waitToken(ctx, tok, opTimeout) {
			if ctx.Err() != nil {
				// onConnect runs beside this wait: the session may have
				// come up and become current meanwhile, so it is left as
				// a shutdown leaves it (TestOfflineStatusOnShutdown saw
				// Connected() true after Run returned).
				u.goodbye(s)
				return
			}
			cerr := tok.Error()
			if cerr == nil {
				cerr = errors.New("timeout")
			}
			u.end(s, cerr) // a late onConnect finds it dead
			s.client.Disconnect(0)
			u.log.Warn("connect failed", "broker", u.broker, "err", cerr, "attempt", attempt+1)
			if !retry() {
				return
			}
			continue
		}
		attempt = 0
		select {
		case <-ctx.Done():
			u.goodbye(s)
			return
		case err := <-s.done:
			u.log.Warn("connection lost", "err", err)
			s.client.Disconnect(0)
		}
		if !retry() {
			return
		}
	}
}

// goodbye leaves the retained offline status (a clean disconnect sends no
// will) and disconnects.
func (u *Uplink) goodbye(s *session) {
	u.end(s, context.Canceled)
	if s.client.IsConnected() {
		tok := s.client.Publish(u.topics.status, 1, true, offlinePayload)
		if tok.WaitTimeout(2*time.Second) && tok.Error() != nil {
			u.log.Warn("offline status", "err", tok.Error())
		}
	}
	s.client.Disconnect(250)
}

// newSession builds a paho client: persistent session, last will, no
// auto-reconnect, unordered delivery to handlers that never block.
func (u *Uplink) newSession(tlsCfg *tls.Config) *session {
	s := &session{done: make(chan error, 1)}
	o := mqtt.NewClientOptions().
		AddBroker(u.broker).
		SetClientID(u.cfg.Terminal).
		SetUsername(u.cfg.Username).
		SetPassword(u.cfg.Password).
		SetCleanSession(false).
		SetStore(newCopyStore()).
		SetAutoReconnect(false).
		SetConnectRetry(false).
		SetResumeSubs(false).
		SetOrderMatters(false).
		SetKeepAlive(30*time.Second).
		SetPingTimeout(10*time.Second).
		SetConnectTimeout(opTimeout).
		SetWriteTimeout(opTimeout).
		SetBinaryWill(u.topics.status, offlinePayload, 1, true).
		SetDefaultPublishHandler(u.dispatch).
		SetOnConnectHandler(func(c mqtt.Client) { u.onConnect(s) }).
		SetConnectionLostHandler(func(c mqtt.Client, err error) { u.end(s, err) })
	if tlsCfg != nil {
		o.SetTLSConfig(tlsCfg)
	}
	o.SetCustomOpenConnectionFn(dial)
	s.client = mqtt.NewClient(o)
	return s
}

// onConnect renews the subscriptions (a restarted broker may have lost the
// session), then makes the session current: the sender resends what is in
// flight and the status is refreshed.
func (u *Uplink) onConnect(s *session) {
	filters := map[string]byte{u.topics.acks: 1, u.topics.commands: 1, wire.TrustTopic: 1}
	// A nil callback routes to the default handler, which also takes the
	// messages the persistent session delivers before this subscription.
	tok := s.client.SubscribeMultiple(filters, nil)
	if !tok.WaitTimeout(opTimeout) || tok.Error() != nil {
		err := tok.Error()
		if err == nil {
			err = errors.New("timeout")
		}
		u.end(s, fmt.Errorf("subscribe: %w", err))
		return
	}
	u.mu.Lock()
	if s.dead {
		u.mu.Unlock()
		return
	}
	u.sess = s
	u.gen++
	u.connected.Store(true)
	u.mu.Unlock()
	u.log.Info("connected", "broker", u.broker)
	signal(u.wake)
	signal(u.statusWake)
}

// dispatch receives every message on a paho goroutine: it decodes and hands
// off, and never blocks.
func (u *Uplink) dispatch(_ mqtt.Client, m mqtt.Message) {
	switch m.Topic() {
	case u.topics.acks:
		a, err := wire.DecodeAcks(m.Payload())
		if err != nil {
			u.log.Warn("dropped malformed ack", "err", err)
			return
		}
		if !a.At.IsZero() && u.cfg.CloudTime != nil {
			u.cfg.CloudTime(a.At)
		}
		if len(a.Ranges) == 0 {
			return
		}
		u.mu.Lock()
		u.acks = append(u.acks, a.Ranges...)
		u.mu.Unlock()
		signal(u.wake)
	case u.topics.commands:
		c, err := wire.DecodeCommand(m.Payload())
		if err != nil {
			u.log.Warn("dropped malformed command", "err", err)
			return
		}
		u.mu.Lock()
		if !u.recent.add(c.ID) {
			u.mu.Unlock()
			u.log.Debug("dropped repeated command", "command", c.ID)
			return
		}
		if len(u.commands) >= maxQueuedCommands {
			u.mu.Unlock()
			u.log.Warn("dropped command: queue full", "command", c.ID, "type", c.Type)
			return
		}
		u.commands = append(u.commands, c)
		u.mu.Unlock()
		signal(u.cbWake)
	case wire.TrustTopic:
		if len(m.Payload()) == 0 {
			return // a cleared retained message
		}
		u.mu.Lock()
		u.trust = append([]byte(nil), m.Payload()...)
		u.mu.Unlock()
		signal(u.cbWake)
	default:
		u.log.Debug("ignored message", "topic", m.Topic())
	}
}

// tlsConfig returns the TLS settings (mqtts:// alone uses the system
// roots); it is unused for plain TCP.
func (u *Uplink) tlsConfig() (*tls.Config, error) {
	c := u.cfg
	cfg := &tls.Config{MinVersion: tls.VersionTLS12, ClientSessionCache: u.tlsSessions}
	if c.CAFile != "" {
		pem, err := os.ReadFile(c.CAFile)
		if err != nil {
			return nil, fmt.Errorf("uplink: ca file: %w", err)
		}
		cfg.RootCAs = x509.NewCertPool()
		if !cfg.RootCAs.AppendCertsFromPEM(pem) {
			return nil, fmt.Errorf("uplink: ca file %s: no PEM certificate", c.CAFile)
		}
	}
	if c.CertFile != "" || c.KeyFile != "" {
		cert, err := tls.LoadX509KeyPair(c.CertFile, c.KeyFile)
		if err != nil {
			return nil, fmt.Errorf("uplink: client certificate: %w", err)
		}
		cfg.Certificates = []tls.Certificate{cert}
	}
	return cfg, nil
}

// waitToken waits for tok until timeout or ctx; it reports whether tok
// completed without error.
func waitToken(ctx context.Context, tok mqtt.Token, timeout time.Duration) bool {
	t := time.NewTimer(timeout)
	defer t.Stop()
	select {
	case <-tok.Done():
		return tok.Error() == nil
	case <-t.C:
		return false
	case <-ctx.Done():
		return false
	}
}

// sleep waits d or until ctx is done; it reports whether d passed.
func sleep(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-ctx.Done():
		return false
	}
}
