package broker

import (
	"context"
	"crypto/tls"
	"log/slog"
	"testing"
	"time"

	paho "github.com/eclipse/paho.mqtt.golang"

	"github.com/comptoir/comptoir/build/testenv"
	"github.com/comptoir/comptoir/cloud"
	"github.com/comptoir/comptoir/sync/wire"
)

// TestRememberedSessionReleasesConnection: a terminal that leaves with a
// persistent session is remembered (its subscription still there), and
// the client the broker keeps for it holds no connection anymore (its
// TLS buffers and ciphers are free); the terminal comes back to its
// session.
func TestRememberedSessionReleasesConnection(t *testing.T) {
	pool, certFile, keyFile := testenv.SelfSignedTLS(t, t.TempDir())
	cert, err := tls.LoadX509KeyPair(certFile, keyFile)
	if err != nil {
		t.Fatal(err)
	}
	hash := cloud.HashSecret("pw-t-1")
	b := New(PasswordsFunc(func(_ context.Context, tid string) ([]byte, error) {
		if tid != "t-1" {
			return nil, cloud.ErrNotFound("terminal", tid)
		}
		return hash, nil
	}))
	b.Addr, b.Logger = "127.0.0.1:0", slog.New(slog.DiscardHandler)
	b.TLS = &tls.Config{Certificates: []tls.Certificate{cert}}
	b.TerminalQueue = DefaultTerminalQueue
	if err := b.Open(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { b.Close() })
	if err := b.AdmitTerminals(); err != nil {
		t.Fatal(err)
	}
	connect := func() paho.Client {
		o := paho.NewClientOptions().AddBroker(b.URL()).SetClientID("t-1").SetUsername("t-1").SetPassword("pw-t-1").
			SetCleanSession(false).SetAutoReconnect(false).SetTLSConfig(&tls.Config{RootCAs: pool})
		c := paho.NewClient(o)
		if tok := c.Connect(); !tok.WaitTimeout(10*time.Second) || tok.Error() != nil {
			t.Fatalf("connect: %v", tok.Error())
		}
		return c
	}
	c := connect()
	if tok := c.Subscribe(wire.TerminalTopic("t-1", wire.KindAcks), 1, nil); !tok.WaitTimeout(10*time.Second) || tok.Error() != nil {
		t.Fatalf("subscribe: %v", tok.Error())
	}
	cl, ok := b.server.Clients.Get("t-1")
	if !ok {
		t.Fatal("no client t-1 while connected")
	}
	rc, ok := cl.Net.Conn.(*releasingConn)
	if !ok {
		t.Fatalf("client's connection is a %T, want *releasingConn", cl.Net.Conn)
	}
	if rc.conn.Load() == nil {
		t.Fatal("connection released while connected")
	}
	c.Disconnect(100)
	deadline := time.Now().Add(10 * time.Second)
	for !cl.Closed() && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	if !cl.Closed() {
		t.Fatal("client t-1 not closed after it disconnected")
	}
	kept, ok := b.server.Clients.Get("t-1")
	if !ok || kept != cl {
		t.Fatal("t-1's persistent session was not remembered")
	}
	if rc.conn.Load() != nil {
		t.Fatal("remembered session still holds its connection")
	}
	if _, err := rc.Read(make([]byte, 1)); err == nil {
		t.Fatal("read on a released connection succeeded")
	}
	if got := len(kept.State.Subscriptions.GetAll()); got != 1 {
		t.Fatalf("remembered session has %d subscriptions, want 1", got)
	}
	c = connect()
	defer c.Disconnect(0)
	back, ok := b.server.Clients.Get("t-1")
	if !ok || back.Closed() || len(back.State.Subscriptions.GetAll()) != 1 {
		t.Fatal("t-1 back without its session's subscription")
	}
}
