package scanner

import (
	"math/rand/v2"
	"testing"

	"github.com/makiuchi-d/gozxing"
)

// TestHybrid checks that the fast binarizer gives gozxing's matrix, on
// sizes that are and are not multiples of the block size.
func TestHybrid(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for _, sz := range [][2]int{{40, 40}, {41, 57}, {97, 203}, {320, 240}, {33, 100}} {
		w, h := sz[0], sz[1]
		pix := make([]byte, w*h)
		for i := range pix {
			// Patches of texture and flat areas, so that both kinds of
			// black point are taken.
			if (i/w/16+i%w/16)%3 == 0 {
				pix[i] = byte(100 + rng.IntN(10))
			} else {
				pix[i] = byte(rng.IntN(256))
			}
		}
		src := &grey{LuminanceSourceBase: gozxing.LuminanceSourceBase{Width: w, Height: h}, pix: pix, stride: w}
		want, err1 := gozxing.NewHybridBinarizer(src).GetBlackMatrix()
		got, err2 := newHybrid(src).GetBlackMatrix()
		if (err1 == nil) != (err2 == nil) {
			t.Fatalf("%dx%d: errors %v, %v", w, h, err1, err2)
		}
		if err1 != nil {
			continue
		}
		for y := 0; y < h; y++ {
			for x := 0; x < w; x++ {
				if got.Get(x, y) != want.Get(x, y) {
					t.Fatalf("%dx%d: pixel (%d, %d) differs", w, h, x, y)
				}
			}
		}
	}
}

func benchSource() *grey {
	w, h := 640, 480
	pix := make([]byte, w*h)
	for i := range pix {
		pix[i] = byte(i*7 + i/w*13)
	}
	return &grey{LuminanceSourceBase: gozxing.LuminanceSourceBase{Width: w, Height: h}, pix: pix, stride: w}
}

func BenchmarkBinarizerGozxing(b *testing.B) {
	src := benchSource()
	for b.Loop() {
		gozxing.NewHybridBinarizer(src).GetBlackMatrix()
	}
}

func BenchmarkBinarizerHybrid(b *testing.B) {
	src := benchSource()
	for b.Loop() {
		newHybrid(src).GetBlackMatrix()
	}
}
