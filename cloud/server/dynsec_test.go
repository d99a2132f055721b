package server_test

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net"
	"os"
	"os/exec"
	"path/filepath"
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
	bin := testenv.Command(t, "mosquitto", "mosquitto")
	ctrl := testenv.Command(t, "mosquitto_ctrl", "mosquitto")
	plugin := "/usr/lib/x86_64-linux-gnu/mosquitto_dynamic_security.so"
	if p := os.Getenv("COMPTOIR_MOSQUITTO_DYNSEC"); p != "" {
		plugin = p
	}
	if _, err := os.Stat(plugin); err != nil {
		testenv.Skip(t, "no Mosquitto dynamic security plugin at "+plugin+" (set COMPTOIR_MOSQUITTO_DYNSEC)")
	}
	dir := t.TempDir()
	js := filepath.Join(dir, "dynsec.json")
	if out, err := exec.Command(ctrl, "dynsec", "init", js, "cloud", "cloud-pass").CombinedOutput(); err != nil {
		t.Fatalf("mosquitto_ctrl dynsec init: %v: %s", err, out)
	}
	var d map[string]any
	b, _ := os.ReadFile(js)
	if err := json.Unmarshal(b, &d); err != nil {
		t.Fatal(err)
	}
	for _, r := range d["roles"].([]any) {
		role := r.(map[string]any)
		if role["rolename"] == "admin" {
			role["acls"] = append(role["acls"].([]any), map[string]any{"acltype": "publishClientSend", "topic": "comptoir/#", "allow": true})
		}
	}
	b, _ = json.Marshal(d)
	if err := os.WriteFile(js, b, 0o600); err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	_, port, _ := net.SplitHostPort(addr)
	conf := filepath.Join(dir, "mosquitto.conf")
	// user root: started as root (CI), Mosquitto would become user mosquitto
	// and could not read the test's private temporary directory.
	text := fmt.Sprintf("user root\nlistener %s 127.0.0.1\nplugin %s\nplugin_opt_config_file %s\n", port, plugin, js)
	if err := os.WriteFile(conf, []byte(text), 0o600); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(bin, "-c", conf)
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	eventually(t, func() bool { return testenv.Reachable(addr) })
	return addr
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
