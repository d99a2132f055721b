package faulttest

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	paho "github.com/eclipse/paho.mqtt.golang"

	"github.com/comptoir/comptoir/edge"
	"github.com/comptoir/comptoir/sync/wire"
)

// TestPoisonBatches sends, with a terminal's own credentials, a malformed
// batch and one of an unknown protocol version, then a good one: the bad
// ones go to the dead letters with their reason, and the good one is
// stored and acked after them: they never block the terminal's stream.
func TestPoisonBatches(t *testing.T) {
	brokers(t, func(r *rig) {
		var e struct {
			MQTT struct{ URL, Username, Password string } `json:"mqtt"`
		}
		b, err := os.ReadFile(filepath.Join(r.termDir, "enrollment.json"))
		if err != nil {
			t.Fatal(err)
		}
		if err := json.Unmarshal(b, &e); err != nil {
			t.Fatal(err)
		}
		acks := make(chan string, 4)
		c := paho.NewClient(paho.NewClientOptions().AddBroker(e.MQTT.URL).SetClientID(r.tid).
			SetUsername(e.MQTT.Username).SetPassword(e.MQTT.Password).SetAutoReconnect(false))
		if tok := c.Connect(); !tok.WaitTimeout(10*time.Second) || tok.Error() != nil {
			t.Fatalf("connect as %s: %v", r.tid, tok.Error())
		}
		defer c.Disconnect(0)
		tok := c.Subscribe(wire.TerminalTopic(r.tid, wire.KindAcks), 1, func(_ paho.Client, m paho.Message) { acks <- string(m.Payload()) })
		if !tok.WaitTimeout(10*time.Second) || tok.Error() != nil {
			t.Fatalf("subscribe: %v", tok.Error())
		}
		tracking := s10(4242)
		op := edge.NewOperation(edge.OpReturnDeposited, time.Now(), "", tracking, edge.DepositData{Mode: "prelabelled", WeightG: 900, ReceiptID: edge.NewID(), ShelfSlot: "A1"})
		op.ID, op.Terminal, op.Seq = edge.NewID(), r.tid, 1
		r.want[tracking] = op.ID
		events := wire.TerminalTopic(r.tid, wire.KindEvents)
		for _, payload := range [][]byte{
			[]byte(`{"v":1,"terminal":"` + r.tid + `","events":[`),
			wire.Marshal(wire.Batch{V: 2, Terminal: r.tid, Events: []edge.Operation{op}}),
			wire.Marshal(wire.Batch{V: 1, Terminal: r.tid, Events: []edge.Operation{op}}),
		} {
			if tok := c.Publish(events, 1, false, payload); !tok.WaitTimeout(10*time.Second) || tok.Error() != nil {
				t.Fatalf("publish: %v", tok.Error())
			}
		}
		select {
		case got := <-acks:
			if !strings.Contains(got, "[[1,1]]") {
				t.Fatalf("ack %s, want ranges [[1,1]]", got)
			}
		case <-time.After(30 * time.Second):
			t.Fatal("the good batch was never acked")
		}
		var dl struct {
			DeadLetters []cloudDeadLetter `json:"dead_letters"`
		}
		if code := r.op.do("GET", "/v1/dead-letters?limit=10", nil, &dl); code != 200 {
			t.Fatalf("GET /v1/dead-letters: %d", code)
		}
		reasons := map[string]int{}
		for _, d := range dl.DeadLetters {
			if d.Terminal == r.tid {
				reasons[d.Reason]++
			}
		}
		if reasons[wire.ErrMalformed] != 1 || reasons[wire.ErrVersion] != 1 {
			t.Errorf("dead letters of %s by reason: %v, want one %s and one %s", r.tid, reasons, wire.ErrMalformed, wire.ErrVersion)
		}
		if got := r.ackedSeq(); got != 1 {
			t.Errorf("acked_seq %d, want 1", got)
		}
	})
}

type cloudDeadLetter struct {
	Terminal string `json:"terminal"`
	Reason   string `json:"reason"`
}
