package server_test

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"testing"
	"time"

	paho "github.com/eclipse/paho.mqtt.golang"

	"github.com/comptoir/comptoir/cloud"
	"github.com/comptoir/comptoir/cloud/server"
	"github.com/comptoir/comptoir/edge"
	"github.com/comptoir/comptoir/scanner/token"
	"github.com/comptoir/comptoir/sync/wire"
)

// TestIngest runs a terminal's events through the whole cloud: enrolment,
// MQTT, store, acks, timeline, dead letters and metrics.
func TestIngest(t *testing.T) {
	m := MustRun(t, t.TempDir())
	issuer, operator, _ := m.Demo()

	e, _ := enrol(t, m, "shop-1")
	if e.MQTT.URL != m.MQTTURL() || e.MQTT.Username != "shop-1" || e.MQTT.Password == "" {
		t.Fatalf("enrolment mqtt = %+v, want url %s", e.MQTT, m.MQTTURL())
	}
	tl := token.NewTrustList()
	if err := tl.LoadJWKS(e.Trust); err != nil {
		t.Fatalf("enrolment trust: %v", err)
	}

	var ret struct{ Tracking, Token string }
	if st := call(t, "POST", m.HTTPURL()+"/v1/returns", issuer, map[string]any{"items": []map[string]any{{"sku": "A1", "qty": 1}}}, &ret); st != 201 {
		t.Fatalf("create return: %d", st)
	}
	if _, err := token.VerifyRA(tl, ret.Token, time.Now()); err != nil {
		t.Fatalf("RA does not verify against the enrolment's trust list: %v", err)
	}

	term := connectTerminal(t, e)
	// The retained trust list reaches the terminal when it subscribes.
	trust := make(chan []byte, 1)
	wait(t, term.c.Subscribe(wire.TrustTopic, 1, func(_ paho.Client, m paho.Message) { trust <- m.Payload() }))
	select {
	case b := <-trust:
		if string(b) != string(e.Trust) {
			t.Fatalf("trust topic = %s, want the enrolment's %s", b, e.Trust)
		}
	case <-time.After(15 * time.Second):
		t.Fatal("no retained trust list")
	}
	good := batch("shop-1", op("shop-1", 1, edge.OpReturnDeposited, ret.Tracking), op("shop-1", 2, edge.OpReturnRefused, ""))
	term.publish(t, "shop-1", good)
	if got := term.ack(t); got != "[[1 2]]" {
		t.Fatalf("ack = %s, want [[1 2]]", got)
	}
	if got := statuses(t, m, ret.Tracking); got != "created,deposited" {
		t.Fatalf("timeline = %s, want created,deposited", got)
	}

	// A resend is acked again and stored once.
	term.publish(t, "shop-1", good)
	if got := term.ack(t); got != "[[1 2]]" {
		t.Fatalf("ack of resend = %s, want [[1 2]]", got)
	}
	if got := statuses(t, m, ret.Tracking); got != "created,deposited" {
		t.Fatalf("timeline after resend = %s", got)
	}
	if got := metric(t, m, "comptoir_cloud_ingest_events_total"); got != "2" {
		t.Fatalf("events_total = %s, want 2", got)
	}
	if got := metric(t, m, "comptoir_cloud_ingest_duplicates_total"); got != "2" {
		t.Fatalf("duplicates_total = %s, want 2", got)
	}

	// Malformed, and naming another terminal: dead letters; the stream goes
	// on.
	term.publish(t, "shop-1", []byte(`{"v":1,"terminal":"shop-1","events":[`))
	term.publish(t, "shop-1", batch("shop-2", op("shop-2", 3, edge.OpReturnDeposited, ret.Tracking)))
	term.publish(t, "shop-1", bytes.Repeat([]byte(" "), wire.MaxBatchBytes+1))
	term.publish(t, "shop-1", batch("shop-1", op("shop-1", 3, edge.OpParcelHandedOver, ret.Tracking)))
	if got := term.ack(t); got != "[[3 3]]" {
		t.Fatalf("ack after dead letters = %s, want [[3 3]]", got)
	}
	if got := metric(t, m, `comptoir_cloud_dead_letters_total{reason="MALFORMED"}`); got != "1" {
		t.Fatalf("MALFORMED dead letters = %s, want 1", got)
	}
	if got := metric(t, m, `comptoir_cloud_dead_letters_total{reason="WRONG_TERMINAL"}`); got != "1" {
		t.Fatalf("WRONG_TERMINAL dead letters = %s, want 1", got)
	}
	if got := metric(t, m, `comptoir_cloud_dead_letters_total{reason="TOO_LARGE"}`); got != "1" {
		t.Fatalf("TOO_LARGE dead letters = %s, want 1", got)
	}
	var listed struct {
		DeadLetters []struct{ Reason string } `json:"dead_letters"`
	}
	if st := call(t, "GET", m.HTTPURL()+"/v1/dead-letters?limit=2", operator, nil, &listed); st != 200 || len(listed.DeadLetters) != 2 || listed.DeadLetters[0].Reason != wire.ErrMalformed {
		t.Fatalf("GET /v1/dead-letters: %d %+v", st, listed)
	}
	dl, _, err := m.Store().DeadLetters(context.Background(), "", 10)
	if err != nil || len(dl) != 3 || dl[0].Terminal != "shop-1" || dl[0].Reason != wire.ErrMalformed || dl[1].Reason != wire.ErrWrongSender {
		t.Fatalf("dead letters = %+v, %v", dl, err)
	}
	if got := statuses(t, m, ret.Tracking); got != "created,deposited,handed_over" {
		t.Fatalf("timeline = %s", got)
	}

	// Status: the fleet API and metrics show it.
	st := wire.Status{V: 1, Online: true, Version: "test", OutboxPending: 7, At: time.Now().UTC()}
	wait(t, term.c.Publish(wire.TerminalTopic("shop-1", wire.KindStatus), 1, true, wire.Marshal(st)))
	var view struct {
		ID       string      `json:"id"`
		Online   bool        `json:"online"`
		AckedSeq uint64      `json:"acked_seq"`
		LastSeen *time.Time  `json:"last_seen"`
		Status   wire.Status `json:"status"`
	}
	eventually(t, func() bool {
		call(t, "GET", m.HTTPURL()+"/v1/terminals/shop-1", operator, nil, &view)
		return view.Online
	})
	if view.AckedSeq != 3 || view.Status.OutboxPending != 7 || view.LastSeen == nil {
		t.Fatalf("terminal view = %+v", view)
	}
	// An online terminal with a small backlog is counted, not named.
	if got := metric(t, m, `comptoir_fleet_terminals{state="online"}`); got != "1" {
		t.Fatalf("terminals online = %s", got)
	}
	if got := metric(t, m, `comptoir_fleet_outbox_pending_operations`); got != "7" {
		t.Fatalf("outbox_pending_operations = %s", got)
	}
	if got := metric(t, m, `comptoir_fleet_terminal_up{terminal="shop-1"}`); got != "absent" {
		t.Fatalf("terminal_up of an online terminal = %s, want absent", got)
	}

	// Commands reach the terminal.
	cmds := make(chan wire.Command, 1)
	wait(t, term.c.Subscribe(wire.TerminalTopic("shop-1", wire.KindCommands), 1, func(_ paho.Client, m paho.Message) {
		c, err := wire.DecodeCommand(m.Payload())
		if err != nil {
			t.Errorf("command: %v", err)
		}
		cmds <- c
	}))
	var sent struct{ ID string }
	if st := call(t, "POST", m.HTTPURL()+"/v1/terminals/shop-1/commands", operator, map[string]any{"type": "ping"}, &sent); st != 202 {
		t.Fatalf("post command: %d", st)
	}
	select {
	case c := <-cmds:
		if c.Type != wire.CmdPing || c.ID != sent.ID {
			t.Fatalf("command = %+v, want ping %s", c, sent.ID)
		}
	case <-time.After(15 * time.Second):
		t.Fatal("no command")
	}

	// The last will marks the terminal offline, keeping its last status.
	wait(t, term.c.Publish(wire.TerminalTopic("shop-1", wire.KindStatus), 1, true, []byte(`{"v":1,"online":false}`)))
	eventually(t, func() bool {
		call(t, "GET", m.HTTPURL()+"/v1/terminals/shop-1", operator, nil, &view)
		return !view.Online
	})
	if view.Status.OutboxPending != 7 {
		t.Fatalf("status after will = %+v", view.Status)
	}
}

// BenchmarkIngest measures events a second through the whole cloud: 20
// terminals over MQTT, batches of 256 events, each batch awaited until its
// ack (as a terminal's sender with one batch in flight would).
func BenchmarkIngest(b *testing.B) {
	m := MustRun(b, b.TempDir())
	const terminals, perBatch = 20, 256
	var terms []*terminal
	for i := range terminals {
		e, _ := enrol(b, m, fmt.Sprintf("bench-%02d", i))
		terms = append(terms, connectTerminal(b, e))
	}
	b.ResetTimer()
	var next [terminals]uint64
	done := make(chan struct{}, terminals)
	batches := b.N
	for i, term := range terms {
		tid := fmt.Sprintf("bench-%02d", i)
		n := batches / terminals
		if i < batches%terminals {
			n++
		}
		go func() {
			for range n {
				evs := make([]edge.Operation, perBatch)
				for j := range evs {
					next[i]++
					evs[j] = op(tid, next[i], edge.OpReturnDeposited, fmt.Sprintf("BN%09dFR", next[i]))
				}
				term.c.Publish(wire.TerminalTopic(tid, wire.KindEvents), 1, false, batch(tid, evs...))
				<-term.acks
			}
			done <- struct{}{}
		}()
	}
	for range terminals {
		<-done
	}
	b.ReportMetric(float64(b.N*perBatch)/b.Elapsed().Seconds(), "events/s")
}

// TestTerminalOffline checks that a terminal that disconnects cleanly (no
// will) is shown offline, and that a restarted cloud, whose embedded broker
// has no connection yet, shows every terminal offline.
func TestTerminalOffline(t *testing.T) {
	dir := t.TempDir()
	m := MustRun(t, dir)
	_, operator, _ := m.Demo()
	online := func(m *server.Main, tid string) bool {
		var v struct{ Online bool }
		if st := call(t, "GET", m.HTTPURL()+"/v1/terminals/"+tid, operator, nil, &v); st != 200 {
			t.Fatalf("get terminal: %d", st)
		}
		return v.Online
	}
	status := wire.Marshal(wire.Status{V: 1, Online: true})
	for _, tid := range []string{"shop-1", "shop-2"} {
		e, _ := enrol(t, m, tid)
		term := connectTerminal(t, e)
		wait(t, term.c.Publish(wire.TerminalTopic(tid, wire.KindStatus), 1, true, status))
		eventually(t, func() bool { return online(m, tid) })
		if tid == "shop-1" {
			term.c.Disconnect(100)
			eventually(t, func() bool { return !online(m, tid) })
		}
	}
	// More terminals marked online than the restart marks offline at once.
	ctx := context.Background()
	for i := range 150 {
		tid := fmt.Sprintf("shop-x%03d", i)
		enrol(t, m, tid)
		if err := m.Store().UpdateTerminalStatus(ctx, tid, cloud.StatusUpdate{Online: true}); err != nil {
			t.Fatal(err)
		}
	}
	if err := m.Close(); err != nil {
		t.Fatal(err)
	}
	m2 := MustRun(t, dir)
	if online(m2, "shop-2") {
		t.Fatal("after a restart, shop-2 is still shown online")
	}
	ts, err := m2.Store().Terminals(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for _, tr := range ts {
		if tr.Online {
			t.Errorf("after a restart, %s is still online", tr.ID)
		}
	}
	if len(ts) != 152 {
		t.Errorf("%d terminals, want 152", len(ts))
	}
}

// TestRevocation revokes a return: the retained trust list that terminals
// read names it, and a restarted cloud still does.
func TestRevocation(t *testing.T) {
	dir := t.TempDir()
	m := MustRun(t, dir)
	issuer, _, _ := m.Demo()
	var ret struct {
		RAID  string `json:"ra_id"`
		Token string `json:"token"`
	}
	if st := call(t, "POST", m.HTTPURL()+"/v1/returns", issuer, map[string]any{"items": []map[string]any{{"sku": "A1"}}}, &ret); st != 201 {
		t.Fatalf("create return: %d", st)
	}
	if st := call(t, "POST", m.HTTPURL()+"/v1/returns/"+ret.RAID+"/revoke", issuer, nil, nil); st != 200 {
		t.Fatalf("revoke: %d", st)
	}
	if st := call(t, "POST", m.HTTPURL()+"/v1/returns/nope/revoke", issuer, nil, nil); st != 404 {
		t.Fatalf("revoke unknown: %d", st)
	}

	e, _ := enrol(t, m, "shop-1")
	term := connectTerminal(t, e)
	trust := make(chan []byte, 4)
	wait(t, term.c.Subscribe(wire.TrustTopic, 1, func(_ paho.Client, msg paho.Message) { trust <- msg.Payload() }))
	tl := token.NewTrustList()
	select {
	case b := <-trust:
		if err := tl.LoadJWKS(b); err != nil {
			t.Fatal(err)
		}
	case <-time.After(15 * time.Second):
		t.Fatal("no trust list")
	}
	if _, err := token.VerifyRA(tl, ret.Token, time.Now()); edge.ErrorCode(err) != string(edge.Revoked) {
		t.Fatalf("verify revoked RA: %v, want REVOKED", err)
	}

	m.Close()
	m2 := MustRun(t, dir)
	resp, err := http.Get(m2.HTTPURL() + "/v1/trust")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if !bytes.Contains(b, []byte(ret.RAID)) {
		t.Fatalf("trust after restart = %s, want %s revoked", b, ret.RAID)
	}
}
