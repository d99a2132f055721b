package broker_test

import (
	"log/slog"
	"strings"
	"testing"

	paho "github.com/eclipse/paho.mqtt.golang"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/comptoir/comptoir/build/testenv"
	"github.com/comptoir/comptoir/cloud/broker"
	"github.com/comptoir/comptoir/sync/wire"
)

// TestSameIdentityFlapping connects two clients with terminal t-1's
// credentials, one after the other, as two machines with one terminal's
// data directory do: the first two takeovers are a terminal reconnecting
// and are admitted; the third within a minute makes it a conflict: the
// connection that holds the session keeps it and can publish, the
// newcomers are refused, counted, and logged once; when the holder
// leaves, the other gets in.
func TestSameIdentityFlapping(t *testing.T) {
	var log testenv.Buffer
	reg := prometheus.NewRegistry()
	left := make(chan string, 16)
	b := mustOpenWith(t, func(b *broker.Broker) {
		b.Logger = slog.New(slog.NewTextHandler(&log, nil))
		b.Metrics = broker.NewMetrics(reg)
		b.OnTerminalDisconnect = func(tid string) { left <- tid }
	})
	// MQTT 3.1.1 only: paho would try 3.1 after a refusal, a second
	// connection each time.
	t1 := func() *paho.ClientOptions { return options(b, "t-1", "t-1", "pw-t-1").SetProtocolVersion(4) }
	mustConnect(t, t1())
	mustConnect(t, t1())       // takeover 1
	a2 := mustConnect(t, t1()) // takeover 2
	if _, err := connect(t, t1()); err == nil {
		t.Fatal("third takeover within a minute admitted, want refused")
	}
	if _, err := connect(t, t1()); err == nil {
		t.Fatal("takeover of an identity in conflict admitted, want refused")
	}
	if !a2.IsConnectionOpen() {
		t.Fatal("the connection holding the session lost it")
	}
	wait(t, a2.Publish(wire.TerminalTopic("t-1", wire.KindStatus), 1, false, `{"v":1,"online":true}`))
	if got := testutil.ToFloat64(b.Metrics.IdentityConflicts); got != 2 {
		t.Errorf("comptoir_cloud_mqtt_identity_conflicts_total = %v, want 2", got)
	}
	if n := strings.Count(log.String(), "take its session from each other"); n != 1 {
		t.Errorf("conflict logged %d times, want once:\n%s", n, log.String())
	}
	// Another terminal is not concerned.
	mustConnect(t, options(b, "t-2", "t-2", "pw-t-2"))

	// The holder leaves: the session is free, the other connection gets in.
	a2.Disconnect(0)
	if tid := recv(t, left); tid != "t-1" {
		t.Fatalf("disconnected %q, want t-1", tid)
	}
	mustConnect(t, t1())
}
