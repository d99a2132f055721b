package scanner

import (
	"image"
	"slices"
	"testing"
	"time"

	"github.com/makiuchi-d/gozxing"

	"github.com/comptoir/comptoir/edge"
)

// TestCascadeSteps measures, on the real-world corpus, what each step of the
// cascade costs when run alone on every image, and which images it is the
// first step to read: the figures behind the choice of steps. It asserts
// only that every step's reads are counted; the figures go in the log
// (go test -run TestCascadeSteps -v ./scanner/).
func TestCascadeSteps(t *testing.T) {
	type img struct {
		name, want string
		src, alt   *grey
	}
	var imgs []img
	for _, c := range LoadCorpus(t) {
		var alt *grey
		if _, ok := c.Img.(*image.YCbCr); !ok {
			alt = newGrey(c.Img, lumaWeights{306, 601, 117, 0x200})
		}
		imgs = append(imgs, img{c.Set + "/" + c.Name, c.Want, newGrey(c.Img, lumaEven), alt})
	}
	has := func(syms []edge.Symbol, want string) bool {
		return slices.ContainsFunc(syms, func(s edge.Symbol) bool { return s.Text == want })
	}
	read := make([]bool, len(imgs))
	for _, s := range steps {
		var cost time.Duration
		var reads, first []string
		for i, im := range imgs {
			start := time.Now()
			syms := s.run(im.src)
			cost += time.Since(start)
			if has(syms, im.want) {
				reads = append(reads, im.name)
				if !read[i] {
					read[i] = true
					first = append(first, im.name)
				}
			}
		}
		t.Logf("step %-9s %6.2f ms/image alone, reads %3d, first to read %v", s.name, float64(cost.Microseconds())/1000/float64(len(imgs)), len(reads), first)
	}
	var first []string
	for i, im := range imgs {
		if !read[i] && im.alt != nil {
			if syms, _ := decodeGrey(t.Context(), im.alt, steps[:2]); has(syms, im.want) {
				read[i] = true
				first = append(first, im.name)
			}
		}
	}
	t.Logf("colour weighed as Java ZXing (BT.601), first two steps again: first to read %v (not kept)", first)
	// Readers of the first step alone.
	for _, r := range []struct {
		name string
		r    symbolReader
	}{{"QR", readQR}, {"QR single", readQRSingle}, {"DataMatrix", readDataMatrix}, {"Code 128", readCode128}} {
		var cost time.Duration
		n := 0
		for _, im := range imgs {
			start := time.Now()
			bmp, _ := gozxing.NewBinaryBitmap(gozxing.NewHybridBinarizer(im.src))
			bmp.GetBlackMatrix()
			bin := time.Since(start)
			start = time.Now()
			res := safely(r.r, bmp, nil)
			cost += time.Since(start)
			_ = bin
			for _, x := range res {
				if text(x) == im.want {
					n++
				}
			}
		}
		t.Logf("reader %-10s %6.2f ms/image (matrix made beforehand), reads %d", r.name, float64(cost.Microseconds())/1000/float64(len(imgs)), n)
	}
	var bin time.Duration
	for _, im := range imgs {
		start := time.Now()
		bmp, _ := gozxing.NewBinaryBitmap(gozxing.NewHybridBinarizer(im.src))
		bmp.GetBlackMatrix()
		bin += time.Since(start)
	}
	t.Logf("hybrid binarizer %6.2f ms/image", float64(bin.Microseconds())/1000/float64(len(imgs)))
	n := 0
	for _, r := range read {
		if r {
			n++
		}
	}
	if n == 0 {
		t.Fatal("no step read anything")
	}
	t.Logf("read %d/%d", n, len(imgs))
}
