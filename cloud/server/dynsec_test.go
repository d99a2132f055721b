package server_test

import (
	"context"
	"log/slog"
	"testing"
	"time"

	paho "github.com/eclipse/paho.mqtt.golang"

	"github.com/comptoir/comptoir/build/testenv"
	"github.com/comptoir/comptoir/cloud/server"
	"github.com/comptoir/comptoir/edge"
	"github.com/comptoir/comptoir/sync/wire"
)

// dynsecMosquitto runs a Mosquitto of the test's own with the dynamic
// security plugin, whose admin is user "cloud" (also allowed to publish
// under comptoir/, as the cloud does), and returns its address.
func dynsecMosquitto(t *testing.T) string {
	t.Helper()
	return testenv.StartDynsecMosquitto(t, testenv.DynsecOptions{Admin: "cloud", Password: "cloud-pass"}).Addr
}

// runDynsecCloud starts a demo cloud on the Mosquitto of addr with
// --broker-dynsec.
func runDynsecCloud(t *testing.T, addr string) *server.Main {
	t.Helper()
	m := server.NewMain()
	m.Logger = slog.New(slog.DiscardHandler)
	if err := m.ParseFlags([]string{"--data", t.TempDir(), "--http", "127.0.0.1:0", "--demo",
		"--broker", "tcp://" + addr, "--broker-user", "cloud", "--broker-pass", "cloud-pass", "--broker-dynsec"}); err != nil {
		t.Fatal(err)
	}
	if err := m.Run(context.Background()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { m.Close() })
	return m
}

// TestBrokerDynsec: with --broker-dynsec, enrolment creates the terminal's
// account on Mosquitto; the terminal connects with it, its batch is acked;
// a wrong password is refused, and so is a subscription to another
// terminal's acks.
func TestBrokerDynsec(t *testing.T) {
	m := runDynsecCloud(t, dynsecMosquitto(t))

	e, _ := enrol(t, m, "shop-dyn")
	term := connectTerminal(t, e)
	term.publish(t, "shop-dyn", batch("shop-dyn", op("shop-dyn", 1, edge.OpReturnDeposited, "XY1")))
	if got := term.ack(t); got != "[[1 1]]" {
		t.Fatalf("ack = %s, want [[1 1]]", got)
	}
	tok := term.c.Subscribe(wire.TerminalTopic("shop-other", wire.KindAcks), 1, func(paho.Client, paho.Message) {})
	wait(t, tok)
	if code := tok.(*paho.SubscribeToken).Result()[wire.TerminalTopic("shop-other", wire.KindAcks)]; code < 0x80 {
		t.Fatalf("subscription to another terminal's acks granted (code %#x)", code)
	}

	bad := paho.NewClient(paho.NewClientOptions().AddBroker(e.MQTT.URL).SetClientID("shop-dyn-x").
		SetUsername("shop-dyn").SetPassword("wrong").SetAutoReconnect(false).SetConnectTimeout(5 * time.Second))
	if tok := bad.Connect(); tok.WaitTimeout(10*time.Second) && tok.Error() == nil {
		bad.Disconnect(0)
		t.Fatal("a wrong password was accepted")
	}
	// Enrolling the same id again is refused and keeps the account.
	_, operator, _ := m.Demo()
	if st := call(t, "POST", m.HTTPURL()+"/v1/terminals", operator, map[string]string{"id": "shop-dyn", "receipt_public_key": "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"}, nil); st != 409 {
		t.Fatalf("re-enrol: %d, want 409", st)
	}
	term.publish(t, "shop-dyn", batch("shop-dyn", op("shop-dyn", 2, edge.OpReturnRefused, "")))
	if got := term.ack(t); got != "[[2 2]]" {
		t.Fatalf("ack after re-enrol attempt = %s, want [[2 2]]", got)
	}
}
