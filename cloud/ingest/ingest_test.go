package ingest_test

import (
	"context"
	"log/slog"
	"sync/atomic"
	"testing"
	"time"

	paho "github.com/eclipse/paho.mqtt.golang"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/comptoir/comptoir/cloud"
	"github.com/google/uuid"

	"github.com/comptoir/comptoir/build/testenv"
	"github.com/comptoir/comptoir/cloud/badgerstore"
	"github.com/comptoir/comptoir/cloud/broker"
	"github.com/comptoir/comptoir/cloud/ingest"
	"github.com/comptoir/comptoir/sync/wire"
)

// fixture is an embedded broker, a Badger store with terminal t-1 enrolled
// (password "pw"), and an ingest between them.
type fixture struct {
	store   *badgerstore.Store
	broker  *broker.Broker
	ingest  *ingest.Ingest
	metrics *ingest.Metrics
}

func mustFixture(tb testing.TB) *fixture {
	tb.Helper()
	return mustFixtureOn(tb, func(s *badgerstore.Store) cloud.EventStore { return s })
}

// mustFixtureOn is mustFixture with the ingest on what wrap makes of the
// store.
func mustFixtureOn(tb testing.TB, wrap func(*badgerstore.Store) cloud.EventStore) *fixture {
	tb.Helper()
	f := &fixture{}
	var err error
	if f.store, err = badgerstore.Open(tb.TempDir()); err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { f.store.Close() })
	if err := f.store.CreateTerminal(context.Background(), cloud.Terminal{ID: "t-1", PasswordHash: cloud.HashSecret("pw")}); err != nil {
		tb.Fatal(err)
	}
	f.broker = broker.New(broker.StorePasswords(f.store))
	f.broker.Addr = "127.0.0.1:0"
	f.broker.Logger = slog.New(slog.DiscardHandler)
	if err := f.broker.Open(); err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { f.broker.Close() })
	user, pass := f.broker.InternalCredentials()
	f.metrics = ingest.NewMetrics(nil)
	f.ingest = ingest.New(wrap(f.store), f.metrics, ingest.Config{BrokerURL: f.broker.URL(), Username: user, Password: pass, Shared: true, Logger: slog.New(slog.DiscardHandler)})
	if err := f.ingest.Open(context.Background()); err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { f.ingest.Close() })
	return f
}

func (f *fixture) terminal(tb testing.TB) paho.Client {
	tb.Helper()
	c := paho.NewClient(paho.NewClientOptions().AddBroker(f.broker.URL()).SetClientID("t-1").SetUsername("t-1").SetPassword("pw"))
	wait(tb, c.Connect())
	tb.Cleanup(func() { c.Disconnect(0) })
	return c
}

func wait(tb testing.TB, tok paho.Token) {
	tb.Helper()
	if !tok.WaitTimeout(10*time.Second) || tok.Error() != nil {
		tb.Fatalf("mqtt: %v", tok.Error())
	}
}

func eventually(tb testing.TB, cond func() bool) {
	tb.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			tb.Fatal("condition not met")
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// TestStatus checks status messages: a bad version is a dead letter, an
// online status is recorded with last_seen, and a retained one replayed to a
// new ingest keeps the terminal's own time as last_seen.
func TestStatus(t *testing.T) {
	f := mustFixture(t)
	c := f.terminal(t)
	topic := wire.TerminalTopic("t-1", wire.KindStatus)
	wait(t, c.Publish(topic, 1, false, `{"v":2,"online":true}`))
	eventually(t, func() bool { return testutil.ToFloat64(f.metrics.DeadLetters.WithLabelValues(wire.ErrVersion)) == 1 })

	at := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	wait(t, c.Publish(topic, 1, true, wire.Marshal(wire.Status{V: 1, Online: true, OutboxPending: 3, At: at})))
	var term cloud.Terminal
	eventually(t, func() bool {
		term, _ = f.store.FindTerminal(context.Background(), "t-1")
		return term.Online
	})
	if term.WireStatus().OutboxPending != 3 || term.LastSeen.Before(time.Now().Add(-time.Minute)) {
		t.Fatalf("terminal = %+v, want outbox 3 and last_seen now", term)
	}

}

// TestStatusRetainedReplay: behind an external broker (Mosquitto), which
// keeps the terminals' statuses retained (the embedded broker keeps none),
// a second ingest is replayed the retained status: the terminal shows
// online again, but last_seen is not moved to now (the status's own time,
// older, loses to what is stored).
func TestStatusRetainedReplay(t *testing.T) {
	url := "tcp://" + testenv.Mosquitto(t)
	store, err := badgerstore.Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	tid := "t-replay-" + uuid.NewString()[:8] // Mosquitto's retained messages outlive the test
	if err := store.CreateTerminal(context.Background(), cloud.Terminal{ID: tid}); err != nil {
		t.Fatal(err)
	}
	open := func() *ingest.Ingest {
		i := ingest.New(store, ingest.NewMetrics(nil), ingest.Config{BrokerURL: url, Logger: slog.New(slog.DiscardHandler)})
		if err := i.Open(context.Background()); err != nil {
			t.Fatal(err)
		}
		return i
	}
	i1 := open()
	c := paho.NewClient(paho.NewClientOptions().AddBroker(url).SetClientID(tid))
	wait(t, c.Connect())
	topic := wire.TerminalTopic(tid, wire.KindStatus)
	defer func() { // the retained status cleared
		wait(t, c.Publish(topic, 1, true, []byte{}))
		c.Disconnect(0)
	}()
	at := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	wait(t, c.Publish(topic, 1, true, wire.Marshal(wire.Status{V: 1, Online: true, OutboxPending: 3, At: at})))
	var term cloud.Terminal
	eventually(t, func() bool {
		term, _ = store.FindTerminal(context.Background(), tid)
		return term.Online
	})
	i1.Close()
	if err := store.UpdateTerminalStatus(context.Background(), tid, cloud.StatusUpdate{Online: false}); err != nil {
		t.Fatal(err)
	}
	before := term.LastSeen
	i2 := open()
	defer i2.Close()
	eventually(t, func() bool {
		term, _ = store.FindTerminal(context.Background(), tid)
		return term.Online
	})
	if !term.LastSeen.Equal(before) {
		t.Fatalf("last_seen moved from %v to %v on a retained replay", before, term.LastSeen)
	}
}

// subscribeAcks subscribes c to t-1's acks and returns them decoded.
func subscribeAcks(tb testing.TB, c paho.Client) <-chan wire.Acks {
	tb.Helper()
	acks := make(chan wire.Acks, 4)
	wait(tb, c.Subscribe(wire.TerminalTopic("t-1", wire.KindAcks), 1, func(_ paho.Client, m paho.Message) {
		a, _ := wire.DecodeAcks(m.Payload())
		acks <- a
	}))
	return acks
}

// TestEventsAck checks that a batch is acked with the ranges of its seqs,
// out-of-order seqs included, and counted.
func TestEventsAck(t *testing.T) {
	f := mustFixture(t)
	c := f.terminal(t)
	acks := subscribeAcks(t, c)
	payload := []byte(`{"v":1,"terminal":"t-1","events":[
		{"id":"a","terminal":"t-1","seq":5,"type":"return.refused","occurred_at":"2026-11-22T10:00:00Z","data":{}},
		{"id":"b","terminal":"t-1","seq":2,"type":"return.refused","occurred_at":"2026-11-22T10:00:00Z","data":{}},
		{"id":"c","terminal":"t-1","seq":3,"type":"return.refused","occurred_at":"2026-11-22T10:00:00Z","data":{}}]}`)
	wait(t, c.Publish(wire.TerminalTopic("t-1", wire.KindEvents), 1, false, payload))
	select {
	case a := <-acks:
		if len(a.Ranges) != 2 || a.Ranges[0] != [2]uint64{2, 3} || a.Ranges[1] != [2]uint64{5, 5} {
			t.Fatalf("ack ranges = %v, want [[2 3] [5 5]]", a.Ranges)
		}
		if d := time.Since(a.At); d < 0 || d > time.Minute {
			t.Errorf("ack at %v, want the cloud's time", a.At)
		}
	case <-time.After(15 * time.Second):
		t.Fatal("no ack")
	}
	if got := testutil.ToFloat64(f.metrics.Events); got != 3 {
		t.Fatalf("events = %v, want 3", got)
	}
	term, err := f.store.FindTerminal(context.Background(), "t-1")
	if err != nil || term.AckedSeq != 0 {
		t.Fatalf("acked_seq = %d, %v; want 0 (seq 1 missing)", term.AckedSeq, err)
	}
}

// TestClockUnsyncedStatusGetsTheTime answers a status saying the terminal's
// clock is not synced with an ack of no ranges and the cloud's time (also
// when the status is refused for its date), and a synced one with nothing.
func TestClockUnsyncedStatusGetsTheTime(t *testing.T) {
	f := mustFixture(t)
	c := f.terminal(t)
	acks := subscribeAcks(t, c)
	topic := wire.TerminalTopic("t-1", wire.KindStatus)
	// Statuses of a terminal not yet stored are replaced by its next
	// one, so each unsynced status is sent once the previous is answered.
	wait(t, c.Publish(topic, 1, true, wire.Marshal(wire.Status{V: 1, Online: true, Shelf: 1})))
	wait(t, c.Publish(topic, 1, true, wire.Marshal(wire.Status{V: 1, Online: true, Shelf: 2, ClockUnsynced: true})))
	for n := range 2 {
		if n == 1 {
			// A clock restarted in 2001: the status is refused for its
			// date, and the terminal gets the time all the same.
			wait(t, c.Publish(topic, 1, false, wire.Marshal(wire.Status{V: 1, Online: true, ClockUnsynced: true, At: time.Date(2001, 1, 1, 0, 0, 0, 0, time.UTC)})))
		}
		select {
		case a := <-acks:
			if len(a.Ranges) != 0 || time.Since(a.At) > time.Minute || time.Since(a.At) < 0 {
				t.Fatalf("answer to an unsynced status: %+v, want no ranges and the cloud's time", a)
			}
		case <-time.After(15 * time.Second):
			t.Fatal("no time for a terminal whose clock is not synced")
		}
	}
	eventually(t, func() bool {
		return testutil.ToFloat64(f.metrics.DeadLetters.WithLabelValues(cloud.EInvalidStatus)) == 1
	})
	// A terminal's statuses are handled in order, so the synced one was
	// handled (or replaced) before the unsynced ones were answered: a
	// batch's ack is the next thing on the topic, so it got nothing.
	wait(t, c.Publish(wire.TerminalTopic("t-1", wire.KindEvents), 1, false, []byte(`{"v":1,"terminal":"t-1","events":[
		{"id":"a","terminal":"t-1","seq":1,"type":"return.refused","occurred_at":"2026-11-22T10:00:00Z","data":{}}]}`)))
	select {
	case a := <-acks:
		if len(a.Ranges) != 1 {
			t.Fatalf("after the answer: %+v, want the batch's ack (a synced status gets no time)", a)
		}
	case <-time.After(15 * time.Second):
		t.Fatal("no ack")
	}
}

// gatedStore is the fixture's Badger store whose status updates wait until
// the gate opens, as a store fallen behind does; it counts them.
type gatedStore struct {
	*badgerstore.Store
	gate    chan struct{}
	updates atomic.Int64
}

func (g *gatedStore) UpdateTerminalStatus(ctx context.Context, id string, u cloud.StatusUpdate) error {
	g.updates.Add(1)
	select {
	case <-g.gate:
	case <-ctx.Done():
		return ctx.Err()
	}
	return g.Store.UpdateTerminalStatus(ctx, id, u)
}

// TestStatusesCoalesced: while the store is slow to take statuses, a
// terminal's statuses not yet stored are replaced by its latest (50 sent:
// the first stored, the last stored, the 48 between never), and its event
// batches are stored and acked meanwhile, not queued behind its statuses.
func TestStatusesCoalesced(t *testing.T) {
	g := &gatedStore{gate: make(chan struct{})}
	f := mustFixtureOn(t, func(s *badgerstore.Store) cloud.EventStore { g.Store = s; return g })
	c := f.terminal(t)
	acks := subscribeAcks(t, c)
	topic := wire.TerminalTopic("t-1", wire.KindStatus)
	const sent = 50
	for n := 1; n <= sent; n++ {
		wait(t, c.Publish(topic, 1, false, wire.Marshal(wire.Status{V: 1, Online: true, OutboxPending: n})))
		if n == 1 {
			// The first is at the store when the others come.
			eventually(t, func() bool { return g.updates.Load() == 1 })
		}
	}
	wait(t, c.Publish(wire.TerminalTopic("t-1", wire.KindEvents), 1, false, []byte(`{"v":1,"terminal":"t-1","events":[
		{"id":"a","terminal":"t-1","seq":1,"type":"return.refused","occurred_at":"2026-11-22T10:00:00Z","data":{}}]}`)))
	select {
	case a := <-acks:
		if len(a.Ranges) != 1 || a.Ranges[0] != [2]uint64{1, 1} {
			t.Fatalf("ack = %+v, want [[1 1]]", a)
		}
	case <-time.After(15 * time.Second):
		t.Fatal("no ack for a batch while the terminal's statuses wait for the store")
	}
	eventually(t, func() bool { return testutil.ToFloat64(f.metrics.StatusReplaced) == sent-2 })
	// A refused status (a negative outbox) is counted where it enters and
	// takes the place of no waiting status.
	wait(t, c.Publish(topic, 1, false, wire.Marshal(wire.Status{V: 1, Online: true, OutboxPending: -1})))
	eventually(t, func() bool {
		return testutil.ToFloat64(f.metrics.StatusRefused.WithLabelValues(cloud.EInvalidStatus)) == 1
	})
	close(g.gate)
	eventually(t, func() bool {
		term, _ := f.store.FindTerminal(context.Background(), "t-1")
		return term.Online && term.WireStatus().OutboxPending == sent
	})
	if got := g.updates.Load(); got != 2 {
		t.Fatalf("%d status updates stored for %d statuses, want 2 (the first, then the latest)", got, sent)
	}
	if got := testutil.ToFloat64(f.metrics.StatusReplaced); got != sent-2 {
		t.Fatalf("status_replaced_total = %v after a refused status, want %d", got, sent-2)
	}
}
