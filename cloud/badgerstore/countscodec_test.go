package badgerstore

import (
	"encoding/hex"
	"testing"

	"github.com/comptoir/comptoir/cloud"
)

// TestCountsCodec: a counter, negative changes included, reads back as it
// was written and adds to what it is read into; its form is the one stored
// before counters were encoded from arrays (countsGolden, written by the
// encoder of maps); a truncated or padded value, or a bucket past the
// last, is an error.
func TestCountsCodec(t *testing.T) {
	const countsGolden = "0604020001808080808040000e02000418020001050500"
	var c cloud.ReportSum
	c.N = [8]int64{3, 2, 1, 0, -1, 1 << 40, 0, 7}
	c.H[0][0], c.H[0][24], c.H[2][5] = 2, 1, -3
	b := encodeCounts(&c)
	if got := hex.EncodeToString(b); got != countsGolden {
		t.Errorf("encoded %s; want %s", got, countsGolden)
	}
	var got cloud.ReportSum
	if err := addEncoded(&got, b); err != nil || got != c {
		t.Fatalf("read back %+v, %v; want %+v", got, err, c)
	}
	if err := addEncoded(&got, b); err != nil || got.N[0] != 6 || got.H[0][0] != 4 || got.H[2][5] != -6 {
		t.Errorf("added twice: %+v, %v", got, err)
	}
	addSum(&got, &c)
	if got.N[5] != 3<<40 || got.H[0][24] != 3 || got.H[2][5] != -9 {
		t.Errorf("addSum: %+v", got)
	}
	// bucket returns a counter of one bucket k (of the first stage), 1.
	bucket := func(k byte) []byte {
		b := append(make([]byte, len(c.N)), 1, k, 2)
		return append(b, make([]byte, cloud.NumStages-1)...)
	}
	past := bucket(cloud.NumBuckets)
	for _, bad := range [][]byte{b[:len(b)-1], append(b, 0), nil, past} {
		if err := addEncoded(&cloud.ReportSum{}, bad); err == nil {
			t.Errorf("%x read with no error", bad)
		}
	}
	var last cloud.ReportSum
	if err := addEncoded(&last, bucket(cloud.NumBuckets-1)); err != nil || last.H[0][cloud.NumBuckets-1] != 1 {
		t.Errorf("the last bucket: %+v, %v", last.H[0], err)
	}
}
