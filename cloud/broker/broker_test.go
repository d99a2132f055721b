package broker_test

import (
	"context"
	"log/slog"
	"testing"
	"time"

	paho "github.com/eclipse/paho.mqtt.golang"

	"github.com/comptoir/comptoir/cloud"
	"github.com/comptoir/comptoir/cloud/broker"
	"github.com/comptoir/comptoir/sync/wire"
)

// MustOpen starts a broker on a free port that knows terminals t-1 and t-2,
// whose passwords are "pw-t-1" and "pw-t-2".
func MustOpen(tb testing.TB) *broker.Broker {
	tb.Helper()
	return mustOpenLogged(tb, slog.New(slog.DiscardHandler))
}

// mustOpenLogged is MustOpen with the broker's log going to logger.
func mustOpenLogged(tb testing.TB, logger *slog.Logger) *broker.Broker {
	tb.Helper()
	return mustOpenWith(tb, func(b *broker.Broker) { b.Logger = logger })
}

// mustOpenWith is MustOpen with set called on the broker before Open.
func mustOpenWith(tb testing.TB, set func(*broker.Broker)) *broker.Broker {
	tb.Helper()
	hashes := map[string][]byte{"t-1": cloud.HashSecret("pw-t-1"), "t-2": cloud.HashSecret("pw-t-2")}
	b := broker.New(broker.PasswordsFunc(func(_ context.Context, tid string) ([]byte, error) {
		if h, ok := hashes[tid]; ok {
			return h, nil
		}
		return nil, cloud.ErrNotFound("terminal", tid)
	}))
	b.Addr = "127.0.0.1:0"
	b.Logger = slog.New(slog.DiscardHandler)
	set(b)
	if err := b.Open(); err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { b.Close() })
	return b
}

func options(b *broker.Broker, clientID, user, pass string) *paho.ClientOptions {
	return paho.NewClientOptions().AddBroker(b.URL()).SetClientID(clientID).
		SetUsername(user).SetPassword(pass).SetAutoReconnect(false).
		SetConnectRetry(false).SetConnectTimeout(5 * time.Second)
}

func connect(tb testing.TB, o *paho.ClientOptions) (paho.Client, error) {
	tb.Helper()
	c := paho.NewClient(o)
	tok := c.Connect()
	if !tok.WaitTimeout(10 * time.Second) {
		tb.Fatal("connect timed out")
	}
	if tok.Error() == nil {
		tb.Cleanup(func() { c.Disconnect(0) })
	}
	return c, tok.Error()
}

func mustConnect(tb testing.TB, o *paho.ClientOptions) paho.Client {
	tb.Helper()
	c, err := connect(tb, o)
	if err != nil {
		tb.Fatalf("connect %s: %v", o.ClientID, err)
	}
	return c
}

func internal(tb testing.TB, b *broker.Broker, id string) paho.Client {
	user, pass := b.InternalCredentials()
	return mustConnect(tb, options(b, id, user, pass))
}

func wait(tb testing.TB, tok paho.Token) {
	tb.Helper()
	if !tok.WaitTimeout(10 * time.Second) {
		tb.Fatal("token timed out")
	}
	if err := tok.Error(); err != nil {
		tb.Fatal(err)
	}
}

func TestConnectAuthentication(t *testing.T) {
	b := MustOpen(t)
	user, pass := b.InternalCredentials()
	tests := []struct {
		name               string
		client, user, pass string
		will               string
		ok                 bool
	}{
		{"terminal", "t-1", "t-1", "pw-t-1", "", true},
		{"terminal with its status as will", "t-1", "t-1", "pw-t-1", wire.TerminalTopic("t-1", wire.KindStatus), true},
		{"wrong password", "t-1", "t-1", "pw-t-2", "", false},
		{"other terminal's password", "t-1", "t-2", "pw-t-1", "", false},
		{"client id of another terminal", "t-2", "t-1", "pw-t-1", "", false},
		{"not enrolled", "t-3", "t-3", "pw-t-3", "", false},
		{"no credentials", "t-1", "", "", "", false},
		{"will on another terminal's status", "t-1", "t-1", "pw-t-1", wire.TerminalTopic("t-2", wire.KindStatus), false},
		{"internal user", "_cloud-1", user, pass, "", true},
		{"internal user, wrong password", "_cloud-1", user, "guess", "", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			o := options(b, tt.client, tt.user, tt.pass)
			if tt.will != "" {
				o.SetWill(tt.will, `{"v":1,"online":false}`, 1, true)
			}
			c, err := connect(t, o)
			if got := err == nil; got != tt.ok {
				t.Fatalf("connected = %v (err %v), want %v", got, err, tt.ok)
			}
			if err == nil {
				c.Disconnect(0)
			}
		})
	}
}

func TestTerminalCannotPublishForAnother(t *testing.T) {
	b := MustOpen(t)
	cloudC := internal(t, b, "_cloud-1")
	got := make(chan string, 10)
	wait(t, cloudC.Subscribe(wire.EventsFilter, 1, func(_ paho.Client, m paho.Message) { got <- m.Topic() }))

	lost := make(chan error, 1)
	o := options(b, "t-1", "t-1", "pw-t-1").SetConnectionLostHandler(func(_ paho.Client, err error) { lost <- err })
	t1 := mustConnect(t, o)
	t1.Publish(wire.TerminalTopic("t-2", wire.KindEvents), 1, false, `{"v":1}`)
	select {
	case <-lost: // an MQTT 3.1.1 client is disconnected for a refused publish
	case <-time.After(10 * time.Second):
		t.Fatal("terminal was not disconnected after publishing to another terminal's events")
	}

	t1 = mustConnect(t, options(b, "t-1", "t-1", "pw-t-1"))
	wait(t, t1.Publish(wire.TerminalTopic("t-1", wire.KindEvents), 1, false, `{"v":1}`))
	if topic := recv(t, got); topic != wire.TerminalTopic("t-1", wire.KindEvents) {
		t.Fatalf("cloud received a message on %s, want only t-1's own events", topic)
	}
}

func TestTerminalSubscriptions(t *testing.T) {
	b := MustOpen(t)
	t1 := mustConnect(t, options(b, "t-1", "t-1", "pw-t-1"))
	tests := []struct {
		filter string
		ok     bool
	}{
		{wire.TerminalTopic("t-1", wire.KindAcks), true},
		{wire.TerminalTopic("t-1", wire.KindCommands), true},
		{wire.TrustTopic, true},
		{wire.TerminalTopic("t-2", wire.KindAcks), false},
		{wire.TerminalTopic("t-2", wire.KindCommands), false},
		{wire.TerminalTopic("t-1", wire.KindEvents), false},
		{"comptoir/v1/terminals/+/acks", false},
		{"#", false},
		{wire.SharedEventsFilter, false},
	}
	for _, tt := range tests {
		t.Run(tt.filter, func(t *testing.T) {
			tok := t1.Subscribe(tt.filter, 1, func(paho.Client, paho.Message) {})
			wait(t, tok)
			res := tok.(*paho.SubscribeToken).Result()
			// paho keys the result of a shared subscription without its
			// $share/group/ prefix: the only entry is this filter's.
			var code byte
			found := len(res) == 1
			for _, c := range res {
				code = c
			}
			if !found {
				t.Fatalf("no result for %s in %v", tt.filter, res)
			}
			if got := code < 0x80; got != tt.ok {
				t.Fatalf("subscribe %s: code %#x, allowed %v, want %v", tt.filter, code, got, tt.ok)
			}
		})
	}
}

// TestAcksReachOnlyTheirTerminal publishes acks for t-2 and t-1: t-1
// receives only its own.
func TestAcksReachOnlyTheirTerminal(t *testing.T) {
	b := MustOpen(t)
	cloudC := internal(t, b, "_cloud-1")
	t1 := mustConnect(t, options(b, "t-1", "t-1", "pw-t-1"))
	got := make(chan string, 10)
	wait(t, t1.Subscribe(wire.TerminalTopic("t-1", wire.KindAcks), 1, func(_ paho.Client, m paho.Message) { got <- m.Topic() }))
	wait(t, cloudC.Publish(wire.TerminalTopic("t-2", wire.KindAcks), 1, false, "x"))
	wait(t, cloudC.Publish(wire.TerminalTopic("t-1", wire.KindAcks), 1, false, "x"))
	if topic := recv(t, got); topic != wire.TerminalTopic("t-1", wire.KindAcks) {
		t.Fatalf("t-1 received %s", topic)
	}
}

// TestSharedSubscription checks that two cloud consumers of the shared
// events filter split the messages: each message reaches exactly one.
func TestSharedSubscription(t *testing.T) {
	b := MustOpen(t)
	got := make(chan string, 100)
	for _, id := range []string{"_cloud-1", "_cloud-2"} {
		c := internal(t, b, id)
		wait(t, c.Subscribe(wire.SharedEventsFilter, 1, func(_ paho.Client, m paho.Message) { got <- id }))
	}
	t1 := mustConnect(t, options(b, "t-1", "t-1", "pw-t-1"))
	const n = 20
	for range n {
		wait(t, t1.Publish(wire.TerminalTopic("t-1", wire.KindEvents), 1, false, "x"))
	}
	for range n {
		recv(t, got)
	}
	// One more message after the n: if any message had been delivered twice,
	// an extra delivery would be queued before it.
	wait(t, t1.Publish(wire.TerminalTopic("t-1", wire.KindEvents), 1, false, "x"))
	recv(t, got)
	select {
	case id := <-got:
		t.Fatalf("a message was delivered twice (extra delivery to %s)", id)
	default:
	}
}

func TestAllowed(t *testing.T) {
	tests := []struct {
		user, topic string
		write, want bool
	}{
		{"t-1", wire.TerminalTopic("t-1", wire.KindEvents), true, true},
		{"t-1", wire.TerminalTopic("t-1", wire.KindStatus), true, true},
		{"t-1", wire.TerminalTopic("t-1", wire.KindAcks), true, false},
		{"t-1", wire.TrustTopic, true, false},
		{"t-1", wire.TerminalTopic("t-2", wire.KindEvents), true, false},
		{"t-1", wire.TerminalTopic("t-1", wire.KindAcks), false, true},
		{"t-1", wire.TerminalTopic("t-1", wire.KindStatus), false, false},
		{"bad user!", wire.TrustTopic, false, false},
		{broker.InternalUser, "#", false, true},
		{broker.InternalUser, wire.TrustTopic, true, true},
	}
	for _, tt := range tests {
		if got := broker.Allowed(tt.user, tt.topic, tt.write); got != tt.want {
			t.Errorf("Allowed(%q, %q, write=%v) = %v, want %v", tt.user, tt.topic, tt.write, got, tt.want)
		}
	}
}

// recv returns the next value of c, failing the test after 30 s (a guard
// against a hang, not a timing assertion).
func recv[T any](t *testing.T, c <-chan T) T {
	t.Helper()
	select {
	case v := <-c:
		return v
	case <-time.After(30 * time.Second):
		t.Fatal("nothing received within 30 s")
		panic("unreachable")
	}
}
