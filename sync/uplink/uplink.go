// Package uplink is the terminal's side of the MQTT protocol (DESIGN.md, "MQTT
// protocol"), over paho. It drains the journal's outbox to the cloud in
// batches, keeps its own window of batches in flight, and has the journal
// forget an operation only when the cloud's ack names it, never on a PUBACK.
// It also keeps the retained status message, and hands the cloud's commands
// and trust list to callbacks.
//
// The design works around known paho traps:
//   - a publish token can report success although the connection dropped
//     before delivery: tokens are never trusted, only the cloud's acks;
//   - old versions did not resend QoS 1 messages after an auto-reconnect:
//     the uplink reconnects itself, with a new paho client (and an empty
//     store) for each connection, and resends every batch in flight;
//   - more than 65,535 queued QoS 1 messages exhaust packet ids: at most
//     Window batches are ever in flight;
//   - a blocking handler with ordered delivery stalls every message: order
//     does not matter, and handlers only decode and hand off to a worker;
//   - a restarted broker forgets subscriptions: they are renewed on every
//     connect.
package uplink

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"sync"
	"sync/atomic"
	"time"

	"github.com/comptoir/comptoir/edge"
	"github.com/comptoir/comptoir/sync/wire"
	mqtt "github.com/eclipse/paho.mqtt.golang"
)

// Outbox is what the uplink needs of the journal. The Badger journal
// implements it.
type Outbox interface {
	// Pending returns at most limit unacked operations with a seq above
	// afterSeq, in seq order.
	Pending(ctx context.Context, afterSeq uint64, limit int) ([]edge.Operation, error)
	// Ack forgets the operations of seqs first to last inclusive. It is
	// idempotent: acking an unknown or already acked seq is no error.
	Ack(ctx context.Context, first, last uint64) error
	// OutboxStats returns how many operations wait for an ack and when the
	// oldest of them occurred.
	OutboxStats(ctx context.Context) (pending int, oldest time.Time, err error)
}

// Defaults of Config.
const (
	DefaultWindow      = 8
	DefaultAckTimeout  = 10 * time.Second
	DefaultStatusEvery = time.Minute
)

// Timings that are not worth a setting.
const (
	// idlePoll is how often the sender looks at the outbox when nobody
	// calls Notify, in case an append was not announced.
	idlePoll = 5 * time.Second
	// opTimeout bounds connect, subscribe and publish waits.
	opTimeout = 10 * time.Second
)

// offlinePayload is the last will and the status left on a clean shutdown.
var offlinePayload = []byte(`{"v":1,"online":false}`)

// Config is the uplink's configuration. Zero fields take the defaults above.
type Config struct {
	// BrokerURL is tcp://host:port, or mqtts://host:port for TLS.
	BrokerURL string
	// Terminal is the terminal id, also the MQTT client id; the session is
	// persistent (clean session off).
	Terminal           string
	Username, Password string
	// Window is the most batches in flight (unacked) at once.
	Window int
	// AckTimeout is how long a batch waits for its ack before it is sent
	// again (plus up to a fifth of it at random, doubling on each try up to
	// 8 times it).
	AckTimeout time.Duration
	// StatusEvery is the period of the retained status message.
	StatusEvery time.Duration
	// Version is the agent's version, put in the status.
	Version string
	Logger  *slog.Logger
	// CAFile, CertFile and KeyFile configure TLS; setting any of them turns
	// TLS on even for a tcp:// URL.
	CAFile, CertFile, KeyFile string
	// CloudTime, when set, is given the cloud's time of every ack that
	// carries one (edge.TrustedClock.Sync), on paho's goroutine: it must
	// not block.
	CloudTime func(at time.Time)
}

// Uplink drains an outbox to the cloud over MQTT and receives the cloud's
// acks, commands and trust list. Create it with New, then call Run.
type Uplink struct {
	cfg    Config
	outbox Outbox
	log    *slog.Logger
	broker string // BrokerURL with its scheme fixed for TLS
	topics topics
	// tlsSessions keeps the broker's last TLS session ticket across
	// reconnections, so that a terminal coming back resumes its session
	// instead of a full handshake (the cloud's certificate not signed and
	// checked again, at each of a fleet's reconnections after a restart).
	tlsSessions tls.ClientSessionCache

	running   atomic.Bool
	connected atomic.Bool

	wake       chan struct{} // sender: an op was appended or an ack arrived
	statusWake chan struct{} // status: publish now
	cbWake     chan struct{} // callbacks worker: a command or trust list arrived

	mu         sync.Mutex
	sess       *session // current ready session, nil while disconnected
	gen        uint64   // counts ready sessions; a batch sent in an older one is resent
	acks       [][2]uint64
	commands   []wire.Command
	recent     recentIDs // commands seen lately: QoS 1 may deliver one twice
	trust      []byte
	statusFunc func() wire.Status
	onTrust    func([]byte)
	onCommand  func(wire.Command)
}

type topics struct {
	events, acks, status, commands string
}

// New returns an uplink for the terminal of cfg, draining outbox. It checks
// cfg and fills its defaults; nothing connects before Run.
func New(cfg Config, outbox Outbox) (*Uplink, error) {
	if outbox == nil {
		return nil, errors.New("uplink: nil outbox")
	}
	if !wire.ValidTerminalID(cfg.Terminal) {
		return nil, fmt.Errorf("uplink: terminal id %q does not match [a-z0-9-]{3,64}", cfg.Terminal)
	}
	broker, err := brokerURL(cfg)
	if err != nil {
		return nil, err
	}
	if cfg.Window <= 0 {
		cfg.Window = DefaultWindow
	}
	if cfg.AckTimeout <= 0 {
		cfg.AckTimeout = DefaultAckTimeout
	}
	if cfg.StatusEvery <= 0 {
		cfg.StatusEvery = DefaultStatusEvery
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	tid := cfg.Terminal
	return &Uplink{
		cfg:    cfg,
		outbox: outbox,
		log:    cfg.Logger.With("component", "uplink", "terminal", tid),
		broker: broker,
		topics: topics{
			events:   wire.TerminalTopic(tid, wire.KindEvents),
			acks:     wire.TerminalTopic(tid, wire.KindAcks),
			status:   wire.TerminalTopic(tid, wire.KindStatus),
			commands: wire.TerminalTopic(tid, wire.KindCommands),
		},
		tlsSessions: tls.NewLRUClientSessionCache(1),
		wake:        make(chan struct{}, 1),
		statusWake:  make(chan struct{}, 1),
		cbWake:      make(chan struct{}, 1),
	}, nil
}

// brokerURL checks cfg.BrokerURL and turns tcp:// or mqtt:// into mqtts://
// when TLS files are set.
func brokerURL(cfg Config) (string, error) {
	u, err := url.Parse(cfg.BrokerURL)
	if err != nil {
		return "", fmt.Errorf("uplink: broker url: %w", err)
	}
	if u.Host == "" {
		return "", fmt.Errorf("uplink: broker url %q has no host", cfg.BrokerURL)
	}
	tlsFiles := cfg.CAFile != "" || cfg.CertFile != "" || cfg.KeyFile != ""
	switch u.Scheme {
	case "tcp", "mqtt":
		if tlsFiles {
			u.Scheme = "mqtts"
		}
	case "mqtts", "ssl", "tls", "tcps":
	default:
		return "", fmt.Errorf("uplink: broker url scheme %q (want tcp or mqtts)", u.Scheme)
	}
	return u.String(), nil
}

// Run connects to the broker and drains the outbox until ctx is done. While
// the broker is away it retries with exponential backoff: broker errors never
// make it return. On the way out it leaves an offline status and disconnects.
func (u *Uplink) Run(ctx context.Context) error {
	if !u.running.CompareAndSwap(false, true) {
		return errors.New("uplink: already running")
	}
	defer u.running.Store(false)

	var wg sync.WaitGroup
	for _, loop := range []func(context.Context){u.sendLoop, u.statusLoop, u.callbackLoop} {
		wg.Add(1)
		go func() {
			defer wg.Done()
			loop(ctx)
		}()
	}
	u.connectLoop(ctx)
	wg.Wait()
	return nil
}

// Notify tells the sender that an operation was appended. It never blocks.
func (u *Uplink) Notify() { signal(u.wake) }

// PublishStatus asks for a fresh status message now. It never blocks.
func (u *Uplink) PublishStatus() { signal(u.statusWake) }

// Connected reports whether a session with the broker is up and subscribed.
func (u *Uplink) Connected() bool { return u.connected.Load() }

// SetStatusFunc sets what builds the status message. The uplink sets V and
// Online, and fills At (now) and Version when the func leaves them empty;
// without a status func it sends the outbox's figures only.
func (u *Uplink) SetStatusFunc(f func() wire.Status) {
	u.mu.Lock()
	defer u.mu.Unlock()
	u.statusFunc = f
}

// OnTrust sets the callback given the payload of the retained trust topic.
// It is called again on every (re)connect, from a worker goroutine; a trust
// list that came before f was set is given to f.
func (u *Uplink) OnTrust(f func(payload []byte)) {
	u.mu.Lock()
	defer u.mu.Unlock()
	u.onTrust = f
	signal(u.cbWake)
}

// OnCommand sets the callback given each decoded command, from a worker
// goroutine; commands wait in order while it runs, so it should not block
// long. Commands that come before f is set wait for it (up to 1,024).
// Malformed commands are logged and dropped, and so are repeats of a
// recent command id; QoS 1 may still deliver a command twice across a
// restart, so f must apply commands idempotently (by ID).
func (u *Uplink) OnCommand(f func(wire.Command)) {
	u.mu.Lock()
	defer u.mu.Unlock()
	u.onCommand = f
	signal(u.cbWake)
}

// signal wakes the reader of c without blocking; c has a buffer of one, so
// wakes coalesce.
func signal(c chan struct{}) {
	select {
	case c <- struct{}{}:
	default:
	}
}

// current returns the ready session and its generation, or nil.
func (u *Uplink) current() (*session, uint64) {
	u.mu.Lock()
	defer u.mu.Unlock()
	return u.sess, u.gen
}

// client returns the paho client of the ready session, or nil.
func (u *Uplink) client() mqtt.Client {
	s, _ := u.current()
	if s == nil {
		return nil
	}
	return s.client
}
