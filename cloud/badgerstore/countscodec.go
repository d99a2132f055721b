package badgerstore

import (
	"encoding/binary"
	"errors"

	"github.com/comptoir/comptoir/cloud"
)

// The reports' counters (a/ keys) are kept in a binary form of their own
// rather than JSON: a report over the network sums every counter of its
// days, and decoding JSON (with a map per histogram) took most of its time;
// the commit loop also reads and writes them for every group. The form,
// in varints (signed: a change may be negative):
//
//	the counts, in the order of cloud.ReportCounts.N
//	for each stage: its buckets' number, then (bucket, count) pairs by bucket
//
// It is written from and read into a cloud.ReportSum, whose histograms
// are arrays: the insight's records and folds made and added maps for
// each counter before (the maps' allocations were a tenth of the
// insight's cost at ingest). A counter stored as JSON, by a layout before
// 2, is rebuilt at Open (migrate.go).

var errCounts = errors.New("report counter: malformed")

// encodeCounts returns the binary form of s.
func encodeCounts(s *cloud.ReportSum) []byte {
	return appendCounts(make([]byte, 0, 2*len(s.N)+len(s.H)*8), s)
}

// appendCounts appends the binary form of s to b.
func appendCounts(b []byte, s *cloud.ReportSum) []byte {
	for _, n := range s.N {
		b = binary.AppendVarint(b, n)
	}
	for st := range s.H {
		buckets := 0
		for _, n := range s.H[st] {
			if n != 0 {
				buckets++
			}
		}
		b = binary.AppendUvarint(b, uint64(buckets))
		for k, n := range s.H[st] {
			if n != 0 {
				b = binary.AppendUvarint(b, uint64(k))
				b = binary.AppendVarint(b, n)
			}
		}
	}
	return b
}

// addEncoded adds the counter whose binary form is b to s.
func addEncoded(s *cloud.ReportSum, b []byte) error {
	d := decoder{b: b, bad: errCounts}
	for i := range s.N {
		v := d.varint()
		if d.err != nil {
			return d.err
		}
		s.N[i] += v
	}
	for st := range s.H {
		buckets := d.uvarint()
		if d.err != nil || buckets > cloud.NumBuckets {
			return errCounts
		}
		for range buckets {
			k, v := d.uvarint(), d.varint()
			if d.err != nil || k >= cloud.NumBuckets {
				return errCounts
			}
			s.H[st][k] += v
		}
	}
	if len(d.b) != 0 {
		return errCounts
	}
	return nil
}

// addSum adds d to s.
func addSum(s, d *cloud.ReportSum) {
	for i, n := range d.N {
		s.N[i] += n
	}
	for st := range d.H {
		for k, n := range d.H[st] {
			s.H[st][k] += n
		}
	}
}
