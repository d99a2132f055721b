package server_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"testing"
	"time"

	paho "github.com/eclipse/paho.mqtt.golang"

	"github.com/comptoir/comptoir/cloud/httpapi/openapitest"
	"github.com/comptoir/comptoir/cloud/server"
	"github.com/comptoir/comptoir/edge"
	"github.com/comptoir/comptoir/scanner/token"
	"github.com/comptoir/comptoir/sync/wire"
)

// MustRun starts a demo cloud on free ports in dir, with the extra flags
// given.
func MustRun(tb testing.TB, dir string, extra ...string) *server.Main {
	tb.Helper()
	return mustRun(tb, server.NewMain(), dir, extra...)
}

// mustRun is MustRun of a Main the caller has set up.
func mustRun(tb testing.TB, m *server.Main, dir string, extra ...string) *server.Main {
	tb.Helper()
	m.Logger = slog.New(slog.DiscardHandler)
	if err := m.ParseFlags(serveFlags(dir, extra...)); err != nil {
		tb.Fatal(err)
	}
	if err := m.Run(context.Background()); err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { m.Close() })
	return m
}

// serveFlags are the flags of a demo cloud in dir on free loopback ports,
// then extra.
func serveFlags(dir string, extra ...string) []string {
	return append([]string{"serve", "--data", dir, "--http", "127.0.0.1:0", "--mqtt-listen", "127.0.0.1:0", "--demo"}, extra...)
}

// call makes an HTTP request with a JSON body, checks the exchange against
// the OpenAPI description (openapitest) and decodes a JSON answer
// into out (when not nil); it returns the status.
func call(tb testing.TB, method, url, key string, body any, out any) int {
	tb.Helper()
	var r io.Reader
	var sent []byte
	if body != nil {
		sent, _ = json.Marshal(body)
		r = bytes.NewReader(sent)
	}
	req, err := http.NewRequest(method, url, r)
	if err != nil {
		tb.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	if key != "" {
		req.Header.Set("Authorization", "Bearer "+key)
	}
	check := req.Clone(req.Context())
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		tb.Fatal(err)
	}
	defer resp.Body.Close()
	data, _ := io.ReadAll(resp.Body)
	openapitest.Check(tb, check, sent, resp.StatusCode, resp.Header, data)
	if out != nil {
		if err := json.Unmarshal(data, out); err != nil {
			tb.Fatalf("%s %s: %d %s: %v", method, url, resp.StatusCode, data, err)
		}
	}
	return resp.StatusCode
}

type enrolment struct {
	Terminal string `json:"terminal"`
	MQTT     struct {
		URL, Username, Password string
	} `json:"mqtt"`
	Trust json.RawMessage `json:"trust"`
}

// terminal is a paho client acting as an enrolled terminal; acks arrive on
// its channel.
type terminal struct {
	c    paho.Client
	acks chan wire.Acks
}

func connectTerminal(tb testing.TB, e enrolment) *terminal {
	tb.Helper()
	return connectTerminalWith(tb, e, nil)
}

// connectTerminalWith connects as connectTerminal does, and calls lost (if
// not nil) when the broker drops the connection.
func connectTerminalWith(tb testing.TB, e enrolment, lost func()) *terminal {
	tb.Helper()
	t := &terminal{acks: make(chan wire.Acks, 16)}
	o := paho.NewClientOptions().AddBroker(e.MQTT.URL).SetClientID(e.MQTT.Username).
		SetUsername(e.MQTT.Username).SetPassword(e.MQTT.Password).SetCleanSession(false).
		SetAutoReconnect(false)
	if lost != nil {
		o.SetConnectionLostHandler(func(paho.Client, error) { lost() })
	}
	t.c = paho.NewClient(o)
	wait(tb, t.c.Connect())
	tb.Cleanup(func() { t.c.Disconnect(0) })
	wait(tb, t.c.Subscribe(wire.TerminalTopic(e.Terminal, wire.KindAcks), 1, func(_ paho.Client, m paho.Message) {
		a, err := wire.DecodeAcks(m.Payload())
		if err != nil {
			tb.Errorf("ack %s: %v", m.Payload(), err)
			return
		}
		t.acks <- a
	}))
	return t
}

func wait(tb testing.TB, tok paho.Token) {
	tb.Helper()
	if !tok.WaitTimeout(10 * time.Second) {
		tb.Fatal("mqtt token timed out")
	}
	if err := tok.Error(); err != nil {
		tb.Fatal(err)
	}
}

func (t *terminal) publish(tb testing.TB, tid string, payload []byte) {
	tb.Helper()
	wait(tb, t.c.Publish(wire.TerminalTopic(tid, wire.KindEvents), 1, false, payload))
}

func (t *terminal) ack(tb testing.TB) string {
	tb.Helper()
	select {
	case a := <-t.acks:
		return fmt.Sprint(a.Ranges)
	case <-time.After(15 * time.Second):
		tb.Fatal("no ack")
		return ""
	}
}

func batch(tid string, evs ...edge.Operation) []byte {
	return wire.Marshal(wire.Batch{V: wire.Version, Terminal: tid, Events: evs})
}

func op(tid string, seq uint64, typ edge.OpType, tracking string) edge.Operation {
	o := edge.NewOperation(typ, time.Now().Add(time.Duration(seq)*time.Second), "clerk-1", tracking, map[string]any{"seq": seq})
	o.ID = fmt.Sprintf("%s-ev-%d", tid, seq)
	o.Terminal, o.Seq = tid, seq
	return o
}

// metric returns the value of one sample line of /metrics.
func metric(tb testing.TB, m *server.Main, sample string) string {
	tb.Helper()
	resp, err := http.Get(m.HTTPURL() + "/metrics")
	if err != nil {
		tb.Fatal(err)
	}
	defer resp.Body.Close()
	data, _ := io.ReadAll(resp.Body)
	for _, line := range strings.Split(string(data), "\n") {
		if v, ok := strings.CutPrefix(line, sample+" "); ok {
			return v
		}
	}
	return "absent"
}

func enrol(tb testing.TB, m *server.Main, tid string) (enrolment, token.Key) {
	tb.Helper()
	k, err := token.GenerateKey(tid)
	if err != nil {
		tb.Fatal(err)
	}
	_, op, _ := m.Demo()
	var e enrolment
	if st := call(tb, "POST", m.HTTPURL()+"/v1/terminals", op, map[string]string{"id": tid, "name": "Shop " + tid, "receipt_public_key": token.EncodePublicKey(k.Public())}, &e); st != http.StatusCreated {
		tb.Fatalf("enrol %s: status %d", tid, st)
	}
	return e, k
}

func statuses(tb testing.TB, m *server.Main, tracking string) string {
	tb.Helper()
	_, operator, _ := m.Demo() // the network's: carriers' parcels have no merchant
	var tl struct {
		Timeline []struct {
			Status string `json:"status"`
		} `json:"timeline"`
	}
	if st := call(tb, "GET", m.HTTPURL()+"/v1/parcels/"+tracking+"/timeline", operator, nil, &tl); st != 200 {
		tb.Fatalf("timeline: status %d", st)
	}
	var s []string
	for _, e := range tl.Timeline {
		s = append(s, e.Status)
	}
	return strings.Join(s, ",")
}

// eventually polls cond until it holds, for asynchronous effects that have
// no ack to wait for; it fails after 15 s.
func eventually(tb testing.TB, cond func() bool) {
	tb.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			tb.Fatal("condition not met")
		}
		time.Sleep(20 * time.Millisecond)
	}
}
