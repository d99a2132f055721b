package wire

import (
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/comptoir/comptoir/edge"
)

func TestParseTerminalTopic(t *testing.T) {
	tests := []struct {
		topic     string
		tid, kind string
		ok        bool
	}{
		{"comptoir/v1/terminals/relay-42/events", "relay-42", KindEvents, true},
		{"comptoir/v1/terminals/relay-42/acks", "relay-42", KindAcks, true},
		{"comptoir/v1/terminals/relay-42/status", "relay-42", KindStatus, true},
		{"comptoir/v1/terminals/relay-42/commands", "relay-42", KindCommands, true},
		{"comptoir/v1/terminals/relay-42/other", "", "", false},
		{"comptoir/v1/terminals/Relay-42/events", "", "", false},
		{"comptoir/v1/terminals/ab/events", "", "", false},
		{"comptoir/v1/terminals/relay-42/events/x", "", "", false},
		{"comptoir/v2/terminals/relay-42/events", "", "", false},
		{"comptoir/v1/trust", "", "", false},
	}
	for _, tt := range tests {
		tid, kind, ok := ParseTerminalTopic(tt.topic)
		if tid != tt.tid || kind != tt.kind || ok != tt.ok {
			t.Errorf("ParseTerminalTopic(%q) = %q, %q, %v; want %q, %q, %v", tt.topic, tid, kind, ok, tt.tid, tt.kind, tt.ok)
		}
	}
	if got := TerminalTopic("relay-42", KindAcks); got != "comptoir/v1/terminals/relay-42/acks" {
		t.Errorf("TerminalTopic = %q", got)
	}
}

func op(tid string, seq uint64) edge.Operation {
	return edge.Operation{ID: fmt.Sprintf("id-%d", seq), Terminal: tid, Seq: seq, Type: edge.OpReturnDeposited,
		OccurredAt: time.Date(2026, 11, 22, 10, 15, 3, 0, time.UTC), Data: json.RawMessage(`{}`)}
}

func TestDecodeBatch(t *testing.T) {
	good := Marshal(Batch{V: 1, Terminal: "relay-1", Events: []edge.Operation{op("relay-1", 1), op("relay-1", 2)}})
	tests := []struct {
		name    string
		tid     string
		payload []byte
		code    string
	}{
		{"good", "relay-1", good, ""},
		{"not json", "relay-1", []byte("{"), ErrMalformed},
		{"trailing data", "relay-1", append(append([]byte{}, good...), []byte(" {}")...), ErrMalformed},
		{"version 2", "relay-1", Marshal(Batch{V: 2, Terminal: "relay-1", Events: []edge.Operation{op("relay-1", 1)}}), ErrVersion},
		{"no events", "relay-1", Marshal(Batch{V: 1, Terminal: "relay-1"}), ErrMalformed},
		{"envelope of another terminal", "relay-2", good, ErrWrongSender},
		{"event of another terminal", "relay-1", Marshal(Batch{V: 1, Terminal: "relay-1", Events: []edge.Operation{op("relay-1", 1), op("relay-9", 2)}}), ErrWrongSender},
		{"event without seq", "relay-1", Marshal(Batch{V: 1, Terminal: "relay-1", Events: []edge.Operation{op("relay-1", 0)}}), ErrMalformed},
		{"too large", "relay-1", []byte(`{"v":1,"pad":"` + strings.Repeat("x", MaxBatchBytes) + `"}`), ErrTooLarge},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b, err := DecodeBatch(tt.tid, tt.payload)
			if got := edge.ErrorCode(err); got != tt.code {
				t.Fatalf("DecodeBatch: code %q (%v), want %q", got, err, tt.code)
			}
			if tt.code == "" && len(b.Events) != 2 {
				t.Errorf("decoded %d events, want 2", len(b.Events))
			}
		})
	}
	many := Batch{V: 1, Terminal: "relay-1"}
	for i := 1; i <= MaxBatchEvents+1; i++ {
		many.Events = append(many.Events, op("relay-1", uint64(i)))
	}
	if _, err := DecodeBatch("relay-1", Marshal(many)); edge.ErrorCode(err) == "" {
		t.Errorf("a batch of %d events was accepted", len(many.Events))
	}
}

func TestDecodeAcks(t *testing.T) {
	if a, err := DecodeAcks([]byte(`{"v":1,"ranges":[[1,5],[7,7]]}`)); err != nil || len(a.Ranges) != 2 || a.Ranges[0] != [2]uint64{1, 5} {
		t.Errorf("good acks: %+v, %v", a, err)
	}
	at := time.Date(2026, 12, 4, 23, 0, 0, 0, time.UTC)
	if a, err := DecodeAcks(Marshal(Acks{V: Version, Ranges: [][2]uint64{}, At: at})); err != nil || len(a.Ranges) != 0 || !a.At.Equal(at) {
		t.Errorf("an ack with only the cloud's time: %+v, %v; want no ranges, at %v", a, err, at)
	}
	for _, bad := range []string{`{"v":1,"ranges":[[5,1]]}`, `{"v":1,"ranges":[[0,3]]}`, `{"v":3,"ranges":[]}`, `[]`, `{"v":1,"ranges":[[1,2,3]]}`, `{"v":1,"ranges":[],"at":"yesterday"}`} {
		if _, err := DecodeAcks([]byte(bad)); err == nil {
			t.Errorf("DecodeAcks(%s) accepted", bad)
		}
	}
}

func TestDecodeCommand(t *testing.T) {
	c, err := DecodeCommand([]byte(`{"v":1,"id":"c1","type":"revocations.add","revocations":["ra-1"]}`))
	if err != nil || c.Type != CmdRevocationsAdd || !slices.Equal(c.Revocations, []string{"ra-1"}) {
		t.Errorf("good command: %+v, %v", c, err)
	}
	for _, bad := range []string{`{"v":1,"type":"ping"}`, `{"v":1,"id":"c"}`, `{"v":0,"id":"c","type":"ping"}`, `nope`} {
		if _, err := DecodeCommand([]byte(bad)); err == nil {
			t.Errorf("DecodeCommand(%s) accepted", bad)
		}
	}
}

func TestRanges(t *testing.T) {
	got := Ranges([]uint64{7, 3, 1, 2, 3, 9, 8, 12})
	want := [][2]uint64{{1, 3}, {7, 9}, {12, 12}}
	if !slices.Equal(got, want) {
		t.Errorf("Ranges = %v, want %v", got, want)
	}
	if Ranges(nil) != nil {
		t.Errorf("Ranges(nil) not nil")
	}
}

// FuzzDecodeBatch: no payload from the network may panic the cloud, and
// whatever is accepted names only the topic's terminal.
func FuzzDecodeBatch(f *testing.F) {
	f.Add([]byte(Marshal(Batch{V: 1, Terminal: "relay-1", Events: []edge.Operation{op("relay-1", 1)}})))
	f.Add([]byte(`{"v":1,"terminal":"relay-1","events":[{"id":"x","terminal":"relay-1","seq":1,"type":"t","data":null}]}`))
	f.Add([]byte(`{"v":1,"events":[null]}`))
	f.Fuzz(func(t *testing.T, payload []byte) {
		b, err := DecodeBatch("relay-1", payload)
		if err != nil {
			if edge.ErrorCode(err) == edge.EINTERNAL {
				t.Fatalf("uncoded error: %v", err)
			}
			return
		}
		for _, ev := range b.Events {
			if ev.Terminal != "relay-1" || ev.Seq == 0 {
				t.Fatalf("accepted event %+v", ev)
			}
		}
	})
}

// BenchmarkDecodeBatch decodes a batch of 50 deposits as the cloud's ingest
// does for every batch it receives.
func BenchmarkDecodeBatch(b *testing.B) {
	at := time.Date(2026, 11, 22, 10, 0, 0, 0, time.UTC)
	evs := make([]edge.Operation, 50)
	for i := range evs {
		o := edge.NewOperation(edge.OpReturnDeposited, at, "clerk", fmt.Sprintf("XY%09dFR", i),
			edge.DepositData{Verified: true, Mode: edge.ModeLabelAtCounter, WeightG: 1200, ReceiptID: fmt.Sprintf("r-%d", i), ShelfSlot: "A1"})
		o.ID, o.Terminal, o.Seq = fmt.Sprintf("t-1-%d", i+1), "t-1", uint64(i+1)
		evs[i] = o
	}
	payload := Marshal(Batch{V: Version, Terminal: "t-1", Events: evs})
	b.SetBytes(int64(len(payload)))
	for b.Loop() {
		if _, err := DecodeBatch("t-1", payload); err != nil {
			b.Fatal(err)
		}
	}
}
