package badgerstore

import (
	"bytes"
	"encoding/json"
	"reflect"
	"testing"
	"time"

	"github.com/comptoir/comptoir/cloud/storetest"
	"github.com/comptoir/comptoir/edge"
)

// sameStored reports whether a and b hold the same event: equal fields,
// the same instants and zone offsets.
func sameStored(a, b storedEvent) bool {
	_, oa := a.Op.OccurredAt.Zone()
	_, ob := b.Op.OccurredAt.Zone()
	ta, tb := a, b
	ta.Op.OccurredAt, tb.Op.OccurredAt, ta.ReceivedAt, tb.ReceivedAt = time.Time{}, time.Time{}, time.Time{}, time.Time{}
	return reflect.DeepEqual(ta, tb) && oa == ob && a.Op.OccurredAt.Equal(b.Op.OccurredAt) && a.ReceivedAt.Equal(b.ReceivedAt)
}

// TestEventCodec: an event decodes as it was encoded, and reads as the
// JSON record of the same event did (records stored before the codec).
func TestEventCodec(t *testing.T) {
	at := time.Date(2026, 11, 22, 10, 0, 0, 123456789, time.UTC)
	deposit := storetest.Deposit("t-0001", 7, at)
	paris := deposit
	paris.OccurredAt = at.In(time.FixedZone("", 3600))
	paris.Operator = "anne"
	old := deposit
	old.OccurredAt = time.Date(1, 1, 1, 0, 0, 0, 0, time.UTC)
	spaced := deposit
	spaced.Data = json.RawMessage(` { "a" : [1, 2] } `)
	noData := deposit
	noData.Data = nil
	odd := deposit
	odd.ID, odd.Tracking, odd.Seq = "id-\u00e9\x00", "", 1<<63
	tests := []struct {
		name string
		op   edge.Operation
	}{
		{"deposit", deposit},
		{"offset and operator", paris},
		{"year 1", old},
		{"data with spaces", spaced},
		{"no data", noData},
		{"odd strings, largest seq", odd},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b, err := encodeStored(tt.op, at)
			if err != nil {
				t.Fatal(err)
			}
			got, err := decodeStored(b)
			if err != nil {
				t.Fatal(err)
			}
			asJSON, err := json.Marshal(storedEvent{Op: tt.op, ReceivedAt: at})
			if err != nil {
				t.Fatal(err)
			}
			fromJSON, err := decodeStored(asJSON)
			if err != nil {
				t.Fatal(err)
			}
			// JSON keeps the data compacted, the codec as it came.
			got.Op.Data = compact(t, got.Op.Data)
			if !sameStored(got, fromJSON) {
				t.Errorf("decoded:\n%+v\nfrom the JSON record:\n%+v", got, fromJSON)
			}
		})
	}
	for _, data := range []string{"{", `{"a":1}x`, "\xff"} {
		op := deposit
		op.Data = json.RawMessage(data)
		if _, err := encodeStored(op, at); edge.ErrorCode(err) != edge.EINVALID {
			t.Errorf("data %q: %v, want EINVALID", data, err)
		}
	}
}

func compact(t *testing.T, b []byte) json.RawMessage {
	t.Helper()
	var buf bytes.Buffer
	if err := json.Compact(&buf, b); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// FuzzEventCodec: any value decodes without panicking, and one that
// decodes encodes again to what decodes the same.
func FuzzEventCodec(f *testing.F) {
	at := time.Date(2026, 11, 22, 10, 0, 0, 0, time.UTC)
	seed, _ := encodeStored(storetest.Deposit("t-0001", 7, at), at)
	f.Add(seed)
	paris := storetest.Deposit("t-0001", 8, at.In(time.FixedZone("", -9000)))
	seed, _ = encodeStored(paris, at)
	f.Add(seed)
	f.Add([]byte(`{"op":{"id":"a","seq":1,"data":{}},"received_at":"2026-11-22T10:00:00Z"}`))
	f.Add([]byte{eventCodecV1})
	f.Fuzz(func(t *testing.T, b []byte) {
		se, err := decodeStored(b)
		if err != nil || b[0] == '{' || !json.Valid(se.Op.Data) {
			return // the data is not checked when read: it was when written
		}
		again, err := encodeStored(se.Op, se.ReceivedAt)
		if err != nil {
			t.Fatalf("%+v decoded from %x does not encode: %v", se, b, err)
		}
		se2, err := decodeStored(again)
		if err != nil || !sameStored(se, se2) {
			t.Fatalf("%x decoded to %+v, encoded again to %x, decoded to %+v, %v", b, se, again, se2, err)
		}
	})
}
