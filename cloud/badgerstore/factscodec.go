package badgerstore

import (
	"encoding/binary"
	"errors"
	"time"

	"github.com/comptoir/comptoir/cloud"
)

// A return's facts (f/ keys) are kept in a binary form of their own rather
// than JSON: every step of a return at ingest reads and writes them, and
// JSON's reflection took half of the insight's time there
// (BenchmarkStoreReturnSteps' profile). The form:
//
//	the version, 1
//	merchant, carrier, relay point, resolution: a uvarint length and the bytes
//	reasons, SKUs, dispositions: a uvarint count, then each as a string
//	created, dropped off, in store, handed over, at the warehouse,
//	resolved: 0 for none, else 1, the Unix seconds (varint) and the
//	nanoseconds (uvarint)
//	the flags, one byte: deposited, in store, cancelled, refunded, exchanged
//
// Facts stored as JSON, by a layout before 3, are rebuilt at Open
// (migrate.go).

var errFacts = errors.New("return facts: malformed")

const factsVersion = 1

// encodeFacts returns the binary form of f.
func encodeFacts(f *cloud.ReturnFacts) []byte {
	b := make([]byte, 0, 128)
	b = append(b, factsVersion)
	str := func(s string) {
		b = binary.AppendUvarint(b, uint64(len(s)))
		b = append(b, s...)
	}
	for _, s := range []string{f.Merchant, f.Carrier, f.Relay, f.Resolution} {
		str(s)
	}
	for _, l := range [][]string{f.Reasons, f.SKUs, f.Dispositions} {
		b = binary.AppendUvarint(b, uint64(len(l)))
		for _, s := range l {
			str(s)
		}
	}
	for _, t := range []time.Time{f.Created, f.DroppedAt, f.InstoreAt, f.HandedAt, f.WarehouseAt, f.ResolvedAt} {
		if t.IsZero() {
			b = append(b, 0)
			continue
		}
		b = append(b, 1)
		b = binary.AppendVarint(b, t.Unix())
		b = binary.AppendUvarint(b, uint64(t.Nanosecond()))
	}
	var flags byte
	for i, ok := range []bool{f.Deposited, f.InStore, f.Cancelled, f.Refunded, f.Exchanged} {
		if ok {
			flags |= 1 << i
		}
	}
	return append(b, flags)
}

// decodeFacts reads the binary form b into f (times in UTC).
func decodeFacts(b []byte, f *cloud.ReturnFacts) error {
	if len(b) == 0 || b[0] != factsVersion {
		return errFacts
	}
	b = b[1:]
	uvarint := func() (uint64, error) {
		v, n := binary.Uvarint(b)
		if n <= 0 {
			return 0, errFacts
		}
		b = b[n:]
		return v, nil
	}
	str := func() (string, error) {
		n, err := uvarint()
		if err != nil || n > uint64(len(b)) {
			return "", errFacts
		}
		s := string(b[:n])
		b = b[n:]
		return s, nil
	}
	var err error
	for _, s := range []*string{&f.Merchant, &f.Carrier, &f.Relay, &f.Resolution} {
		if *s, err = str(); err != nil {
			return err
		}
	}
	for _, l := range []*[]string{&f.Reasons, &f.SKUs, &f.Dispositions} {
		n, err := uvarint()
		if err != nil || n > uint64(len(b)) {
			return errFacts
		}
		*l = nil
		for range n {
			s, err := str()
			if err != nil {
				return err
			}
			*l = append(*l, s)
		}
	}
	for _, t := range []*time.Time{&f.Created, &f.DroppedAt, &f.InstoreAt, &f.HandedAt, &f.WarehouseAt, &f.ResolvedAt} {
		if len(b) == 0 || b[0] > 1 {
			return errFacts
		}
		set := b[0] == 1
		b = b[1:]
		*t = time.Time{}
		if !set {
			continue
		}
		secs, n := binary.Varint(b)
		if n <= 0 {
			return errFacts
		}
		b = b[n:]
		nanos, err := uvarint()
		if err != nil || nanos >= 1e9 {
			return errFacts
		}
		*t = time.Unix(secs, int64(nanos)).UTC()
	}
	if len(b) != 1 || b[0] >= 1<<5 {
		return errFacts
	}
	for i, ok := range []*bool{&f.Deposited, &f.InStore, &f.Cancelled, &f.Refunded, &f.Exchanged} {
		*ok = b[0]&(1<<i) != 0
	}
	return nil
}
