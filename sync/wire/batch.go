package wire

import (
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"slices"
	"strconv"
	"time"

	"github.com/comptoir/comptoir/edge"
)

// BatchBuilder builds the payload of an events batch one operation at a
// time, within MaxBatchEvents and MaxBatchBytes, encoding each operation
// once: the payload is the bytes Marshal(Batch{...}) gives for the
// operations added.
type BatchBuilder struct {
	buf []byte // the payload so far, without its closing "]}"
	n   int    // operations added
}

// NewBatchBuilder starts the batch of terminal tid.
func NewBatchBuilder(tid string) *BatchBuilder {
	buf := append([]byte(`{"v":`+strconv.Itoa(Version)+`,"terminal":`), Marshal(tid)...)
	return &BatchBuilder{buf: append(buf, `,"events":[`...)}
}

// Add appends op when it fits and reports whether it did. The first
// operation always fits, even one larger than MaxBatchBytes (sent alone,
// it is seen rather than stuck; see Oversized). It returns an error when op
// cannot be encoded, and adds nothing then.
func (b *BatchBuilder) Add(op edge.Operation) (bool, error) {
	ev, err := json.Marshal(op)
	if err != nil {
		return false, fmt.Errorf("wire: encode operation %d: %w", op.Seq, err)
	}
	if b.n > 0 && (b.n >= MaxBatchEvents || len(b.buf)+len(",")+len(ev)+len("]}") > MaxBatchBytes) {
		return false, nil
	}
	if b.n > 0 {
		b.buf = append(b.buf, ',')
	}
	b.buf = append(b.buf, ev...)
	b.n++
	return true, nil
}

// Len returns the number of operations added.
func (b *BatchBuilder) Len() int { return b.n }

// Oversized reports whether the payload is larger than MaxBatchBytes,
// which only a single operation too large for any batch makes it.
func (b *BatchBuilder) Oversized() bool { return len(b.buf)+len("]}") > MaxBatchBytes }

// Payload returns the batch's payload.
func (b *BatchBuilder) Payload() []byte { return append(slices.Clip(b.buf), "]}"...) }

// ResendAfter returns how long a batch published for the attempt-th time
// (1 for the first) waits for its ack before it is published again: the
// ack timeout, doubled at each attempt up to eight times it, plus up to a
// fifth more at random, so that terminals that lost the cloud together do
// not resend together. The uplink and the load generator both follow it.
func ResendAfter(ackTimeout time.Duration, attempt int) time.Duration {
	timeout := ackTimeout << min(max(attempt, 1)-1, 3)
	return timeout + rand.N(timeout/5+1)
}

// Reconnection bounds: the first wait after a lost connection, and the
// most a terminal waits between two attempts.
const (
	ReconnectMin = 250 * time.Millisecond
	ReconnectMax = 30 * time.Second
)

// ReconnectAfter returns how long a terminal waits before its attempt-th
// connection attempt in a row (1 after a connection is lost or a first
// attempt fails): ReconnectMin doubled at each attempt up to ReconnectMax,
// spread at random over half to one and a half times that from the first
// attempt on. A fleet that a cloud restart drops at once thus comes back
// spread over a window that widens with every refusal instead of in
// synchronised waves. The uplink and the load generator both follow it.
func ReconnectAfter(attempt int) time.Duration {
	d := min(ReconnectMin<<min(max(attempt, 1)-1, 10), ReconnectMax)
	return d/2 + rand.N(d)
}
