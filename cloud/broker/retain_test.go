package broker_test

import (
	"context"
	"testing"
	"time"

	paho "github.com/eclipse/paho.mqtt.golang"

	"github.com/comptoir/comptoir/sync/wire"
)

// TestStatusNotRetained: a terminal's retained status and will reach the
// cloud's consumer as they happen, but the embedded broker keeps neither
// (a consumer subscribing afterwards gets nothing retained), while the
// cloud's own retained trust list is kept.
func TestStatusNotRetained(t *testing.T) {
	b := MustOpen(t)
	live := make(chan paho.Message, 4)
	consumer := internal(t, b, "_cloud-live")
	wait(t, consumer.Subscribe(wire.StatusFilter, 1, func(_ paho.Client, m paho.Message) { live <- m }))
	wait(t, consumer.Publish(wire.TrustTopic, 1, true, []byte(`{"keys":[]}`)))

	status := wire.TerminalTopic("t-1", wire.KindStatus)
	o := options(b, "t-1", "t-1", "pw-t-1").SetWill(status, `{"v":1,"online":false}`, 1, true)
	t1 := mustConnect(t, o)
	wait(t, t1.Publish(status, 1, true, []byte(`{"v":1,"online":true}`)))
	if m := recv(t, live); string(m.Payload()) != `{"v":1,"online":true}` {
		t.Fatalf("live status %q", m.Payload())
	}
	// The broker drops t-1 (not a clean disconnect): its will is sent.
	if err := b.CloseTerminal(context.Background(), "t-1"); err != nil {
		t.Fatal(err)
	}
	if m := recv(t, live); string(m.Payload()) != `{"v":1,"online":false}` {
		t.Fatalf("will %q", m.Payload())
	}

	late := make(chan paho.Message, 4)
	c2 := internal(t, b, "_cloud-late")
	wait(t, c2.Subscribe(wire.StatusFilter, 1, func(_ paho.Client, m paho.Message) { late <- m }))
	wait(t, c2.Subscribe(wire.TrustTopic, 1, func(_ paho.Client, m paho.Message) { late <- m }))
	if m := recv(t, late); m.Topic() != wire.TrustTopic {
		t.Fatalf("retained %s %q, want only the trust list", m.Topic(), m.Payload())
	}
	select {
	case m := <-late:
		t.Fatalf("retained %s %q, want only the trust list", m.Topic(), m.Payload())
	case <-time.After(300 * time.Millisecond):
	}
}
