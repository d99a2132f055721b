package wire_test

import (
	"bytes"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/comptoir/comptoir/edge"
	"github.com/comptoir/comptoir/sync/wire"
)

func op(seq uint64, tracking string) edge.Operation {
	return edge.Operation{
		ID: fmt.Sprintf("0193b0c4-0000-7000-8000-%012d", seq), Terminal: "t-1", Seq: seq,
		Type: edge.OpReturnDeposited, OccurredAt: time.Date(2026, 11, 22, 10, 15, 3, 0, time.UTC),
		Tracking: tracking, Data: []byte(`{"weight_g":1200,"note":"<&>"}`),
	}
}

// The builder's payload is the one Marshal gives, and decodes.
func TestBatchBuilderMatchesMarshal(t *testing.T) {
	for _, n := range []int{1, 2, 7} {
		b := wire.NewBatchBuilder("t-1")
		var ops []edge.Operation
		for i := range n {
			o := op(uint64(i+1), fmt.Sprintf("XY%09dFR", i))
			if ok, err := b.Add(o); !ok || err != nil {
				t.Fatalf("Add(%d) = %v, %v", i, ok, err)
			}
			ops = append(ops, o)
		}
		want := wire.Marshal(wire.Batch{V: wire.Version, Terminal: "t-1", Events: ops})
		if got := b.Payload(); !bytes.Equal(got, want) {
			t.Fatalf("%d ops:\ngot  %s\nwant %s", n, got, want)
		}
		got, err := wire.DecodeBatch("t-1", b.Payload())
		if err != nil || len(got.Events) != n || b.Len() != n {
			t.Fatalf("%d ops: DecodeBatch = %d events, %v; Len %d", n, len(got.Events), err, b.Len())
		}
	}
}

func TestBatchBuilderLimits(t *testing.T) {
	b := wire.NewBatchBuilder("t-1")
	n := 0
	for {
		ok, err := b.Add(op(uint64(n+1), "XY000000000FR"))
		if err != nil {
			t.Fatal(err)
		}
		if !ok {
			break
		}
		n++
	}
	if n != wire.MaxBatchEvents || b.Oversized() {
		t.Fatalf("%d small events in a batch (oversized %v), want %d", n, b.Oversized(), wire.MaxBatchEvents)
	}

	big := op(1, strings.Repeat("X", wire.MaxBatchBytes/3))
	b = wire.NewBatchBuilder("t-1")
	for i := range 3 {
		ok, _ := b.Add(big)
		if ok != (i < 2) {
			t.Fatalf("event %d of a third of the limit: added %v", i, ok)
		}
	}
	if len(b.Payload()) > wire.MaxBatchBytes || b.Oversized() {
		t.Fatalf("payload of %d bytes, limit %d", len(b.Payload()), wire.MaxBatchBytes)
	}

	huge := op(1, strings.Repeat("X", wire.MaxBatchBytes))
	b = wire.NewBatchBuilder("t-1")
	if ok, _ := b.Add(huge); !ok || !b.Oversized() {
		t.Fatalf("an event larger than a batch: added %v, oversized %v; want it alone and flagged", ok, b.Oversized())
	}
	if ok, _ := b.Add(op(2, "XY000000000FR")); ok {
		t.Fatal("an event added after an oversized one")
	}
}

func TestResendAfter(t *testing.T) {
	const ack = time.Second
	for attempt, base := range map[int]time.Duration{0: ack, 1: ack, 2: 2 * ack, 3: 4 * ack, 4: 8 * ack, 9: 8 * ack} {
		for range 50 {
			if d := wire.ResendAfter(ack, attempt); d < base || d > base+base/5 {
				t.Fatalf("ResendAfter(1s, %d) = %v, want within [%v, %v]", attempt, d, base, base+base/5)
			}
		}
	}
}

// TestReconnectAfter: the wait doubles from ReconnectMin to ReconnectMax and
// is spread over half to one and a half times that from the first attempt,
// so that a fleet dropped at once does not come back at once.
func TestReconnectAfter(t *testing.T) {
	for attempt, base := range map[int]time.Duration{0: wire.ReconnectMin, 1: wire.ReconnectMin, 2: 2 * wire.ReconnectMin, 5: 16 * wire.ReconnectMin, 8: wire.ReconnectMax, 1000: wire.ReconnectMax} {
		lo, hi := base, time.Duration(0)
		for range 200 {
			d := wire.ReconnectAfter(attempt)
			if d < base/2 || d >= base/2+base {
				t.Fatalf("ReconnectAfter(%d) = %v, want within [%v, %v)", attempt, d, base/2, base/2+base)
			}
			lo, hi = min(lo, d), max(hi, d)
		}
		// 200 draws spread over the window: they are not one value.
		if hi-lo < base/2 {
			t.Errorf("ReconnectAfter(%d) spread over %v..%v only, want over half the window of %v", attempt, lo, hi, base)
		}
	}
}
