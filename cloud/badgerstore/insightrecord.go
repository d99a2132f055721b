package badgerstore

import (
	"bytes"
	"encoding/binary"
	"errors"
	"time"

	"github.com/comptoir/comptoir/cloud"
)

// A record of the returns insight (i/, insightlog.go), version 3:
//
//	the version, 3
//	new returns: a uvarint count, then for each its tracking (a uvarint
//	length and the bytes) and its facts (factscodec.go, length-prefixed)
//	steps, in their order: a uvarint count, then for each the tracking,
//	the status, the time (Unix seconds as a varint, nanoseconds as a
//	uvarint), the terminal ("" for a partner's) and an in-store
//	receipt's data (its JSON, empty for none), each length-prefixed
//	statements' changes: a uvarint count, then for each its b/ key and
//	its five counts (varints)
//	refusals' changes: a uvarint count, then for each its R/ key and the
//	count (uvarint)
//
// Versions 1 and 2, which older binaries wrote, hold the facts each
// return was left with and the change of each counter instead of the
// new returns and the steps (1 without the statements and refusals);
// Open still folds them.
const (
	insightRecordVersion   = 3
	insightRecordVersionV2 = 2
	insightRecordVersionV1 = 1
)

var errInsightRecord = errors.New("insight record: malformed")

// record returns the record of in's changes, nil for none.
func (in *insight) record() []byte {
	if len(in.created) == 0 && len(in.steps) == 0 && len(in.statements) == 0 && len(in.refusals) == 0 {
		return nil
	}
	// One buffer for the record, sized for what it holds, and one for a
	// new return's facts, whose length goes first: two allocations a
	// record, not one an item.
	size := 1 + 3*binary.MaxVarintLen64 + 160*len(in.created) + 32*(len(in.statements)+len(in.refusals))
	for i := range in.steps {
		st := &in.steps[i]
		size += 4*2 + 2*binary.MaxVarintLen64 + len(st.Tracking) + len(st.Status) + len(st.Terminal) + len(st.Instore)
	}
	b := make([]byte, 0, size)
	b = append(b, insightRecordVersion)
	b = binary.AppendUvarint(b, uint64(len(in.created)))
	var v []byte
	for tracking, f := range in.created {
		if v == nil {
			v = make([]byte, 0, 256)
		}
		b = appendField(b, tracking)
		v = appendFacts(v[:0], &f)
		b = appendRef(b, v)
	}
	b = binary.AppendUvarint(b, uint64(len(in.steps)))
	for i := range in.steps {
		st := &in.steps[i]
		b = appendField(appendField(b, st.Tracking), string(st.Status))
		b = binary.AppendVarint(b, st.At.Unix())
		b = binary.AppendUvarint(b, uint64(st.At.Nanosecond()))
		b = appendRef(appendField(b, st.Terminal), st.Instore)
	}
	return appendStatements(b, in.statements, in.refusals)
}

// appendStatements appends the statements' and refusals' changes, the
// end of a record of versions 2 and 3.
func appendStatements(b []byte, statements map[string]*cloud.StatementCounts, refusals map[string]uint64) []byte {
	b = binary.AppendUvarint(b, uint64(len(statements)))
	for key, c := range statements {
		b = appendField(b, key)
		for _, v := range [...]int64{c.Deposits, c.Cancelled, c.Handovers, c.Instore, c.Refusals} {
			b = binary.AppendVarint(b, v)
		}
	}
	b = binary.AppendUvarint(b, uint64(len(refusals)))
	for key, n := range refusals {
		b = binary.AppendUvarint(appendField(b, key), n)
	}
	return b
}

func appendField(b []byte, s string) []byte {
	return append(binary.AppendUvarint(b, uint64(len(s))), s...)
}

// decodeRecord decodes the record b (of any version) into an insight;
// nothing it returns refers to b.
func decodeRecord(b []byte) (*insight, error) {
	if len(b) == 0 || b[0] < insightRecordVersionV1 || b[0] > insightRecordVersion {
		return nil, errInsightRecord
	}
	in := &insight{}
	d := decoder{b: b[1:], bad: errInsightRecord}
	if b[0] == insightRecordVersion {
		decodeSteps(&d, in)
	} else if err := decodeFactsCounts(&d, in); err != nil {
		return nil, err
	}
	if b[0] >= insightRecordVersionV2 {
		n := d.uvarint()
		for i := uint64(0); i < n && d.err == nil; i++ {
			key := string(d.bytes())
			c := cloud.StatementCounts{Deposits: d.varint(), Cancelled: d.varint(), Handovers: d.varint(), Instore: d.varint(), Refusals: d.varint()}
			if d.err == nil {
				in.addStatement(key, c)
			}
		}
		n = d.uvarint()
		for i := uint64(0); i < n && d.err == nil; i++ {
			key, r := string(d.bytes()), d.uvarint()
			if d.err == nil {
				if in.refusals == nil {
					in.refusals = map[string]uint64{}
				}
				in.refusals[key] += r
			}
		}
	}
	if d.err != nil || len(d.b) != 0 {
		return nil, errInsightRecord
	}
	return in, nil
}

// decodeSteps reads the new returns and the steps of a record of
// version 3.
func decodeSteps(d *decoder, in *insight) {
	n := d.uvarint()
	for i := uint64(0); i < n && d.err == nil; i++ {
		tracking, fb := string(d.bytes()), d.bytes()
		var f cloud.ReturnFacts
		if d.err != nil {
			return
		}
		if decodeFacts(fb, &f) != nil {
			d.fail()
			return
		}
		if in.created == nil {
			in.created = map[string]cloud.ReturnFacts{}
		}
		in.created[tracking] = f
	}
	n = d.uvarint()
	if n > uint64(len(d.b)) { // a step takes 5 bytes at least
		d.fail()
		return
	}
	for i := uint64(0); i < n && d.err == nil; i++ {
		st := cloud.PendingStep{Tracking: string(d.bytes()), Status: cloud.Status(d.bytes())}
		secs, nanos := d.varint(), d.uvarint()
		if nanos >= 1e9 {
			d.fail()
		}
		st.At = time.Unix(secs, int64(nanos)).UTC()
		st.Terminal = string(d.bytes())
		if data := d.bytes(); len(data) > 0 {
			st.Instore = bytes.Clone(data)
		}
		in.steps = append(in.steps, st)
	}
}

// decodeFactsCounts reads the facts and counters' changes of a record of
// version 1 or 2.
func decodeFactsCounts(d *decoder, in *insight) error {
	n := d.uvarint()
	for i := uint64(0); i < n && d.err == nil; i++ {
		tracking, fb := string(d.bytes()), d.bytes()
		var f cloud.ReturnFacts
		if d.err == nil {
			if err := decodeFacts(fb, &f); err != nil {
				return err
			}
			if in.facts == nil {
				in.facts = map[string]cloud.ReturnFacts{}
			}
			in.facts[tracking] = f
		}
	}
	n = d.uvarint()
	for i := uint64(0); i < n && d.err == nil; i++ {
		id := countsID{by: cloud.ReportBy(d.bytes()), merchant: string(d.bytes()), day: d.uvarint(), key: string(d.bytes())}
		cb := d.bytes()
		var c cloud.ReportSum
		if d.err == nil {
			if err := addEncoded(&c, cb); err != nil {
				return err
			}
			in.counts.addSum(id, &c)
		}
	}
	return nil
}
