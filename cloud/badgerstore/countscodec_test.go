package badgerstore

import (
	"reflect"
	"testing"

	"github.com/comptoir/comptoir/cloud"
)

// TestCountsCodec: a counter, negative changes included, reads back as it
// was written and adds to what it is read into; a truncated or padded
// value is an error.
func TestCountsCodec(t *testing.T) {
	c := cloud.ReportCounts{N: [8]int64{3, 2, 1, 0, -1, 1 << 40, 0, 7}}
	c.H[0] = map[int]int64{0: 2, 24: 1}
	c.H[2] = map[int]int64{5: -3}
	b := encodeCounts(&c)
	var got cloud.ReportCounts
	if err := addEncoded(&got, b); err != nil || !reflect.DeepEqual(got, c) {
		t.Fatalf("read back %+v, %v; want %+v", got, err, c)
	}
	if err := addEncoded(&got, b); err != nil || got.N[0] != 6 || got.H[0][0] != 4 || got.H[2][5] != -6 {
		t.Errorf("added twice: %+v, %v", got, err)
	}
	for _, bad := range [][]byte{b[:len(b)-1], append(b, 0), nil} {
		if err := addEncoded(&cloud.ReportCounts{}, bad); err == nil {
			t.Errorf("%x read with no error", bad)
		}
	}
}
