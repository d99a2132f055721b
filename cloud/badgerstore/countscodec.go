package badgerstore

import (
	"encoding/binary"
	"errors"
	"slices"

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
// A counter stored as JSON, by a layout before 2, is rebuilt at Open
// (migrate.go).

var errCounts = errors.New("report counter: malformed")

// encodeCounts returns the binary form of c.
func encodeCounts(c *cloud.ReportCounts) []byte {
	b := make([]byte, 0, 2*len(c.N)+len(c.H)*8)
	for _, n := range c.N {
		b = binary.AppendVarint(b, n)
	}
	for _, h := range c.H {
		b = binary.AppendUvarint(b, uint64(len(h)))
		buckets := make([]int, 0, len(h))
		for k := range h {
			buckets = append(buckets, k)
		}
		slices.Sort(buckets)
		for _, k := range buckets {
			b = binary.AppendUvarint(b, uint64(k))
			b = binary.AppendVarint(b, h[k])
		}
	}
	return b
}

// addEncoded adds the counter whose binary form is b to c.
func addEncoded(c *cloud.ReportCounts, b []byte) error {
	d := decoder{b: b, bad: errCounts}
	for i := range c.N {
		v := d.varint()
		if d.err != nil {
			return d.err
		}
		c.N[i] += v
	}
	for st := range c.H {
		buckets := d.uvarint()
		if d.err != nil || buckets > uint64(len(cloud.HistBounds))+1 {
			return errCounts
		}
		for range buckets {
			k, v := d.uvarint(), d.varint()
			if d.err != nil || k > uint64(len(cloud.HistBounds)) {
				return errCounts
			}
			if c.H[st] == nil {
				c.H[st] = map[int]int64{}
			}
			if c.H[st][int(k)] += v; c.H[st][int(k)] == 0 {
				delete(c.H[st], int(k))
			}
		}
	}
	if len(d.b) != 0 {
		return errCounts
	}
	return nil
}
