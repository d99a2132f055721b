package badgerstore

import (
	"encoding/binary"
	"encoding/json"
	"errors"
	"time"

	"github.com/comptoir/comptoir/edge"
)

// An event under s/ (storedEvent) is encoded by hand rather than as JSON:
// every event is encoded once at ingest and read back by the timelines,
// the feed and the webhooks, and encoding/json took about a tenth of the
// store's CPU at ingest, reflecting over the operation and compacting its
// data again.
//
//	version 1, received_at (seconds since 1970 as a varint, nanoseconds as
//	a uvarint), occurred_at (the same, then its zone's offset in seconds as
//	a varint), seq (uvarint), then id, terminal, type, operator, tracking
//	and data, each a uvarint length and its bytes.
//
// Events stored before are JSON, which starts with '{': decodeStored reads
// both, so nothing is migrated.
const eventCodecV1 = 1

var errEventValue = errors.New("badgerstore: malformed stored event")

// storedEvent is an event as kept under s/: the operation and when the cloud
// received it.
type storedEvent struct {
	Op         edge.Operation `json:"op"`
	ReceivedAt time.Time      `json:"received_at"`
}

// encodeStored encodes the event op received at receivedAt. The data must
// be JSON (it is kept as it is; null when empty), as the JSON encoding
// required.
func encodeStored(op edge.Operation, receivedAt time.Time) ([]byte, error) {
	data := []byte(op.Data)
	if len(data) == 0 {
		data = []byte("null")
	} else if !json.Valid(data) {
		return nil, edge.Errorf(edge.EINVALID, "The data of event %q is not JSON.", op.ID)
	}
	strs := [...]string{op.ID, op.Terminal, string(op.Type), op.Operator, op.Tracking}
	n := 1 + 2*(binary.MaxVarintLen64+5) + 5 + binary.MaxVarintLen64 + 6*binary.MaxVarintLen32 + len(data)
	for _, s := range strs {
		n += len(s)
	}
	b := make([]byte, 0, n)
	b = append(b, eventCodecV1)
	b = appendTime(b, receivedAt)
	b = appendTime(b, op.OccurredAt)
	_, offset := op.OccurredAt.Zone()
	b = binary.AppendVarint(b, int64(offset))
	b = binary.AppendUvarint(b, op.Seq)
	for _, s := range strs {
		b = binary.AppendUvarint(b, uint64(len(s)))
		b = append(b, s...)
	}
	b = binary.AppendUvarint(b, uint64(len(data)))
	return append(b, data...), nil
}

func appendTime(b []byte, t time.Time) []byte {
	return binary.AppendUvarint(binary.AppendVarint(b, t.Unix()), uint64(t.Nanosecond()))
}

// decodeStored decodes an s/ value of either encoding. Nothing of the
// result refers to b.
func decodeStored(b []byte) (storedEvent, error) {
	if len(b) > 0 && b[0] == '{' {
		var se storedEvent
		err := json.Unmarshal(b, &se)
		return se, err
	}
	if len(b) == 0 || b[0] != eventCodecV1 {
		return storedEvent{}, errEventValue
	}
	d := decoder{b: b[1:], bad: errEventValue}
	var se storedEvent
	se.ReceivedAt = d.eventTime().UTC()
	occurred := d.eventTime()
	offset := d.varint()
	se.Op.Seq = d.uvarint()
	var fields [6][]byte
	size := 0
	for i := range fields {
		fields[i] = d.bytes()
		size += len(fields[i])
	}
	if d.err != nil || len(d.b) != 0 || offset < -24*3600 || offset > 24*3600 {
		return storedEvent{}, errEventValue
	}
	switch offset {
	case 0:
		se.Op.OccurredAt = occurred.UTC()
	default:
		se.Op.OccurredAt = occurred.In(time.FixedZone("", int(offset)))
	}
	// The strings share one allocation.
	all := make([]byte, 0, size-len(fields[5]))
	for _, f := range fields[:5] {
		all = append(all, f...)
	}
	s := string(all)
	var strs [5]string
	for i, f := range fields[:5] {
		strs[i], s = s[:len(f)], s[len(f):]
	}
	se.Op.ID, se.Op.Terminal, se.Op.Type, se.Op.Operator, se.Op.Tracking = strs[0], strs[1], edge.OpType(strs[2]), strs[3], strs[4]
	se.Op.Data = json.RawMessage(append([]byte(nil), fields[5]...))
	return se, nil
}

// The seconds of the times JSON can hold: years 0 to 9999.
const (
	minSeconds = -62167219200
	maxSeconds = 253402300799
)

// eventTime reads a stored event's time, within the years JSON can hold.
func (d *decoder) eventTime() time.Time {
	sec, nsec := d.varint(), d.uvarint()
	if nsec >= 1e9 || sec < minSeconds || sec > maxSeconds {
		d.fail()
	}
	if d.err != nil {
		return time.Time{}
	}
	return time.Unix(sec, int64(nsec))
}
