package scanner_test

import (
	"context"
	"image"
	"slices"
	"testing"
	"time"

	"github.com/makiuchi-d/gozxing"
	"github.com/makiuchi-d/gozxing/oned"
	"github.com/makiuchi-d/gozxing/qrcode"

	"github.com/comptoir/comptoir/edge"
	"github.com/comptoir/comptoir/scanner"
)

// stockDecode is gozxing's default use, the reference of the corpus README.
func stockDecode(img image.Image) []string {
	var out []string
	src := gozxing.NewLuminanceSourceFromImage(img)
	for _, r := range []gozxing.Reader{qrcode.NewQRCodeReader(), oned.NewCode128Reader()} {
		bmp, err := gozxing.NewBinaryBitmap(gozxing.NewHybridBinarizer(src))
		if err != nil {
			continue
		}
		if res, err := r.Decode(bmp, nil); err == nil {
			out = append(out, res.GetText())
		}
	}
	return out
}

// corpusFloor is what the decoder reads of each set today; reading less is
// a regression. (qrcode-2/13 is still unread, by zbar and zxing-cpp too.)
var corpusFloor = map[string]int{"qrcode-1": 20, "qrcode-2": 34, "qrcode-3": 42, "code128-1": 7}

// TestCorpus checks how much of the real-world corpus the decoder reads,
// beside stock gozxing, whose figures go in the log
// (go test -run TestCorpus -v ./scanner/).
func TestCorpus(t *testing.T) {
	cases := scanner.LoadCorpus(t)
	type tally struct {
		n, ours, stock    int
		times, stockTimes []time.Duration
	}
	sets := map[string]*tally{}
	var order []string
	for _, c := range cases {
		s := sets[c.Set]
		if s == nil {
			s = &tally{}
			sets[c.Set] = s
			order = append(order, c.Set)
		}
		s.n++
		start := time.Now()
		syms, _ := scanner.DecodeImage(context.Background(), c.Img)
		s.times = append(s.times, time.Since(start))
		if slices.ContainsFunc(syms, func(sym edge.Symbol) bool { return sym.Text == c.Want }) {
			s.ours++
		} else {
			t.Logf("%s/%s: not read (got %d symbols)", c.Set, c.Name, len(syms))
		}
		start = time.Now()
		stock := stockDecode(c.Img)
		s.stockTimes = append(s.stockTimes, time.Since(start))
		if slices.Contains(stock, c.Want) {
			s.stock++
		}
	}
	for _, set := range order {
		s := sets[set]
		t.Logf("%-10s scanner %2d/%2d (median %v)   stock gozxing %2d/%2d (median %v)",
			set, s.ours, s.n, median(s.times), s.stock, s.n, median(s.stockTimes))
		if s.ours < corpusFloor[set] {
			t.Errorf("%s: read %d/%d, fewer than the %d read before", set, s.ours, s.n, corpusFloor[set])
		}
	}
}

func median(d []time.Duration) time.Duration {
	slices.Sort(d)
	return d[len(d)/2].Round(10 * time.Microsecond)
}
