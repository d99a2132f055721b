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
func encodeFacts(f *cloud.ReturnFacts) []byte { return appendFacts(make([]byte, 0, 128), f) }

// appendFacts appends the binary form of f to b: a record (insightlog.go)
// encodes its facts in one buffer.
func appendFacts(b []byte, f *cloud.ReturnFacts) []byte {
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

// decodeFacts reads the binary form b into f (times in UTC). Its strings
// are cut from one copy of b, one allocation rather than one a string: a
// fold reads the facts of every return it does not hold in memory.
func decodeFacts(b []byte, f *cloud.ReturnFacts) error {
	if len(b) == 0 || b[0] != factsVersion {
		return errFacts
	}
	all := string(b)
	d := decoder{b: b[1:], bad: errFacts}
	str := func() string {
		v := d.bytes()
		at := len(b) - len(d.b) - len(v)
		return all[at : at+len(v)]
	}
	for _, s := range []*string{&f.Merchant, &f.Carrier, &f.Relay, &f.Resolution} {
		*s = str()
	}
	for _, l := range []*[]string{&f.Reasons, &f.SKUs, &f.Dispositions} {
		n := d.uvarint()
		if n > uint64(len(d.b)) {
			d.fail()
		}
		*l = nil
		if n > 0 && d.err == nil {
			*l = make([]string, 0, n)
		}
		for i := uint64(0); i < n && d.err == nil; i++ {
			*l = append(*l, str())
		}
	}
	for _, t := range []*time.Time{&f.Created, &f.DroppedAt, &f.InstoreAt, &f.HandedAt, &f.WarehouseAt, &f.ResolvedAt} {
		*t = time.Time{}
		switch d.byte() {
		case 0:
			continue
		case 1:
		default:
			d.fail()
		}
		secs, nanos := d.varint(), d.uvarint()
		if nanos >= 1e9 {
			d.fail()
		}
		if d.err == nil {
			*t = time.Unix(secs, int64(nanos)).UTC()
		}
	}
	flags := d.byte()
	if d.err != nil || len(d.b) != 0 || flags >= 1<<5 {
		return errFacts
	}
	for i, ok := range []*bool{&f.Deposited, &f.InStore, &f.Cancelled, &f.Refunded, &f.Exchanged} {
		*ok = flags&(1<<i) != 0
	}
	return nil
}
