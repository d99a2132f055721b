// Package ingest is the cloud's MQTT consumer: it takes the terminals'
// event batches from a shared subscription, stores them idempotently and
// durably, then acks them to their terminal; it records the terminals'
// status messages in the fleet registry, and publishes the retained trust
// list. Messages it cannot take go to the dead letters, and never stop the
// stream.
package ingest

import (
	"context"
	"errors"
	"fmt"
	"hash/fnv"
	"log/slog"
	"sync"
	"time"

	paho "github.com/eclipse/paho.mqtt.golang"

	"github.com/comptoir/comptoir/cloud"
	"github.com/comptoir/comptoir/sync/wire"
)

// Config configures an Ingest.
type Config struct {
	// BrokerURL, Username and Password reach the broker as the cloud's
	// internal user.
	BrokerURL, Username, Password string
	// ClientID is unique per cloud instance; a random one by default.
	ClientID string
	// Shared subscribes with the shared events filter, so that several
	// cloud instances split the load (default true through New).
	Shared bool
	// Workers is the number of batches handled at once (default 64).
	// Batches of one terminal always go to the same worker, in the order
	// they came. The store commits the batches of waiting workers together
	// (one sync for all), so more workers make larger groups.
	Workers int
	// ConnectTimeout bounds Open's wait for the broker.
	ConnectTimeout time.Duration
	// DeadLetters bounds the dead letters kept (zero fields: defaults).
	DeadLetters cloud.DeadLetterLimits
	Logger      *slog.Logger
}

// Ingest consumes the terminals' messages.
type Ingest struct {
	Config
	store   cloud.EventStore
	metrics *Metrics
	now     func() time.Time

	client   paho.Client
	jobs     []chan message
	statuses []*statusShard // Workers/4 of them, at least one
	wg       sync.WaitGroup
	log      *slog.Logger

	mu    sync.Mutex
	trust []byte

	ctx    context.Context
	cancel context.CancelFunc
}

type message struct {
	topic    string
	payload  []byte
	retained bool
	at       time.Time
}

// New returns an Ingest into store, counting in m.
func New(store cloud.EventStore, m *Metrics, cfg Config) *Ingest {
	if cfg.ClientID == "" {
		cfg.ClientID = "_comptoir-cloud-" + cloud.RandomSecret(6)
	}
	if cfg.Workers <= 0 {
		cfg.Workers = 64
	}
	if cfg.ConnectTimeout <= 0 {
		cfg.ConnectTimeout = 10 * time.Second
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	if m == nil {
		m = NewMetrics(nil)
	}
	return &Ingest{Config: cfg, store: store, metrics: m, now: time.Now}
}

// Open connects to the broker, subscribes, and starts the workers. It
// returns once the subscriptions are in place, or an error naming the
// broker when it cannot be reached within ConnectTimeout.
func (i *Ingest) Open(ctx context.Context) error {
	i.log = i.Logger.With("component", "ingest")
	i.ctx, i.cancel = context.WithCancel(context.Background())
	i.jobs = make([]chan message, i.Workers)
	for n := range i.jobs {
		i.jobs[n] = make(chan message, queuePerWorker)
		i.wg.Add(1)
		go i.work(i.jobs[n])
	}
	i.statuses = make([]*statusShard, max(1, i.Workers/4))
	for n := range i.statuses {
		i.statuses[n] = newStatusShard()
		i.wg.Add(1)
		go i.writeStatuses(i.statuses[n])
	}

	subscribed := make(chan error, 1)
	opts := paho.NewClientOptions().
		AddBroker(i.BrokerURL).
		SetClientID(i.ClientID).
		SetUsername(i.Username).
		SetPassword(i.Password).
		SetCleanSession(true).
		// Messages come to receive in order, and receive only queues them
		// to the worker of their terminal: paho's goroutine never waits
		// on storage, and a terminal's batches are handled in the order
		// it sent them.
		SetOrderMatters(true).
		SetKeepAlive(30 * time.Second).
		SetAutoReconnect(true).
		SetMaxReconnectInterval(10 * time.Second).
		SetConnectTimeout(i.ConnectTimeout).
		SetConnectionLostHandler(func(_ paho.Client, err error) {
			i.log.Warn("mqtt connection lost", "broker", i.BrokerURL, "err", err)
		}).
		SetOnConnectHandler(func(c paho.Client) {
			err := i.subscribe(c)
			if err != nil {
				i.log.Error("mqtt subscribe", "err", err)
			}
			select {
			case subscribed <- err:
			default:
			}
		})
	i.client = paho.NewClient(opts)
	tok := i.client.Connect()
	if !tok.WaitTimeout(i.ConnectTimeout) {
		i.Close()
		return fmt.Errorf("ingest: connect to MQTT broker %s: timed out", i.BrokerURL)
	} else if err := tok.Error(); err != nil {
		i.Close()
		return fmt.Errorf("ingest: connect to MQTT broker %s: %w", i.BrokerURL, err)
	}
	select {
	case err := <-subscribed:
		if err != nil {
			i.Close()
			return err
		}
	case <-time.After(i.ConnectTimeout):
		i.Close()
		return fmt.Errorf("ingest: subscribe on MQTT broker %s: timed out", i.BrokerURL)
	case <-ctx.Done():
		i.Close()
		return ctx.Err()
	}
	return nil
}

// subscribe (re)makes the subscriptions of a clean session and republishes
// the trust list.
func (i *Ingest) subscribe(c paho.Client) error {
	events := wire.EventsFilter
	if i.Shared {
		events = wire.SharedEventsFilter
	}
	tok := c.SubscribeMultiple(map[string]byte{events: 1, wire.StatusFilter: 1}, i.receive)
	if !tok.WaitTimeout(i.ConnectTimeout) {
		return errors.New("ingest: subscribe: timed out")
	} else if err := tok.Error(); err != nil {
		return fmt.Errorf("ingest: subscribe: %w", err)
	}
	for f, code := range tok.(*paho.SubscribeToken).Result() {
		if code >= 0x80 {
			return fmt.Errorf("ingest: subscribe to %s refused by the broker (code %#x)", f, code)
		}
	}
	i.mu.Lock()
	trust := i.trust
	i.mu.Unlock()
	if trust != nil {
		return i.publishTrust(c, trust)
	}
	return nil
}

// queuePerWorker is how many messages wait for each worker. It bounds the
// memory of an instance that falls behind: 64 workers x 64 messages of at
// most 128 KiB is 512 MiB at worst (90 KB a full batch of deposits), and
// past it the broker keeps the rest.
const queuePerWorker = 64

// receive runs on paho's goroutine: it only hands the message to the worker
// of its terminal, and waits only when that worker's queue is full, the
// store having fallen behind; paho then stops reading, and the broker
// holds the messages, as it should. A status goes to its terminal's
// status shard instead, where it replaces the terminal's previous one not
// yet stored, and never waits.
func (i *Ingest) receive(_ paho.Client, m paho.Message) {
	msg := message{topic: m.Topic(), payload: m.Payload(), retained: m.Retained(), at: i.now()}
	tid, kind, ok := wire.ParseTerminalTopic(msg.topic)
	h := fnv.New32a()
	h.Write([]byte(tid))
	if ok && kind == wire.KindStatus {
		i.queueStatus(i.statuses[int(h.Sum32()%uint32(len(i.statuses)))], msg, tid)
		return
	}
	select {
	case i.jobs[int(h.Sum32()%uint32(len(i.jobs)))] <- msg:
	case <-i.ctx.Done():
	}
}

// SetTrust sets the JWK set published, retained, on the trust topic, and
// publishes it now when connected.
func (i *Ingest) SetTrust(jwks []byte) error {
	i.mu.Lock()
	i.trust = jwks
	i.mu.Unlock()
	if i.client == nil || !i.client.IsConnectionOpen() {
		return nil
	}
	return i.publishTrust(i.client, jwks)
}

func (i *Ingest) publishTrust(c paho.Client, jwks []byte) error {
	tok := c.Publish(wire.TrustTopic, 1, true, jwks)
	if !tok.WaitTimeout(i.ConnectTimeout) {
		return errors.New("ingest: publish trust: timed out")
	} else if err := tok.Error(); err != nil {
		return fmt.Errorf("ingest: publish trust: %w", err)
	}
	return nil
}

// PublishCommand sends cmd to terminal tid (QoS 1).
func (i *Ingest) PublishCommand(ctx context.Context, tid string, cmd wire.Command) error {
	tok := i.client.Publish(wire.TerminalTopic(tid, wire.KindCommands), 1, false, wire.Marshal(cmd))
	select {
	case <-tok.Done():
	case <-ctx.Done():
		return ctx.Err()
	}
	if err := tok.Error(); err != nil {
		return fmt.Errorf("ingest: publish command: %w", err)
	}
	return nil
}

// Connected reports whether the ingest is connected to the broker.
func (i *Ingest) Connected() bool { return i.client != nil && i.client.IsConnectionOpen() }

// Close disconnects and stops the workers once they finish the batch at
// hand.
func (i *Ingest) Close() error {
	if i.client != nil {
		i.client.Disconnect(250)
	}
	if i.cancel != nil {
		i.cancel()
	}
	i.wg.Wait()
	return nil
}
