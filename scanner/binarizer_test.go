package scanner

import (
	"image"
	"math/rand/v2"
	"os"
	"path/filepath"
	"testing"

	"github.com/makiuchi-d/gozxing"

	"github.com/comptoir/comptoir/build/testenv"
)

// TestHybrid_SameAsGozxing checks that hybrid's matrix is gozxing's
// HybridBinarizer's, bit for bit, on images of every size class (below the
// minimum, multiples of 8 and not, cropped views) and every kind of
// content (noise, flat areas, gradients).
func TestHybrid_SameAsGozxing(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for _, size := range [][2]int{{30, 30}, {40, 40}, {41, 47}, {64, 64}, {100, 37}, {257, 199}, {640, 480}} {
		w, h := size[0], size[1]
		g := image.NewGray(image.Rect(0, 0, w, h))
		for y := 0; y < h; y++ {
			for x := 0; x < w; x++ {
				var v int
				switch {
				case (x/20+y/20)%3 == 0: // flat with a little noise
					v = 200 + rng.IntN(10)
				case (x/20+y/20)%3 == 1: // gradient
					v = (x*3 + y) % 256
				default: // noise
					v = rng.IntN(256)
				}
				g.Pix[y*g.Stride+x] = uint8(v)
			}
		}
		srcs := []gozxing.LuminanceSource{newGrey(g, lumaEven)}
		if w > 45 && h > 45 {
			c, err := newGrey(g, lumaEven).Crop(3, 5, w-4, h-6)
			if err != nil {
				t.Fatal(err)
			}
			srcs = append(srcs, c)
		}
		for i, src := range srcs {
			want, err := gozxing.NewHybridBinarizer(src).GetBlackMatrix()
			if err != nil {
				t.Fatal(err)
			}
			got, err := newHybrid(src).GetBlackMatrix()
			if err != nil {
				t.Fatal(err)
			}
			if !sameMatrix(got, want) {
				t.Errorf("%dx%d (source %d): matrix differs from gozxing's", w, h, i)
			}
		}
	}
}

// TestHybrid_SameAsGozxingOnCorpus compares the matrices on the real-world
// photos (skips when ../shared/corpus is absent).
func TestHybrid_SameAsGozxingOnCorpus(t *testing.T) {
	dir := testenv.Corpus(t)
	pngs, _ := filepath.Glob(filepath.Join(dir, "*", "*.png"))
	if len(pngs) == 0 {
		testenv.Skip(t, "no images in "+dir)
	}
	for _, p := range pngs {
		f, err := os.Open(p)
		if err != nil {
			t.Fatal(err)
		}
		m, _, err := image.Decode(f)
		f.Close()
		if err != nil {
			t.Fatal(err)
		}
		src := newGrey(m, lumaEven)
		want, err := gozxing.NewHybridBinarizer(src).GetBlackMatrix()
		if err != nil {
			t.Fatal(err)
		}
		got, err := newHybrid(src).GetBlackMatrix()
		if err != nil {
			t.Fatal(err)
		}
		if !sameMatrix(got, want) {
			t.Errorf("%s: matrix differs from gozxing's", p)
		}
	}
}

func sameMatrix(a, b *gozxing.BitMatrix) bool {
	if a.GetWidth() != b.GetWidth() || a.GetHeight() != b.GetHeight() {
		return false
	}
	for y := 0; y < a.GetHeight(); y++ {
		ra, rb := a.GetRow(y, nil).GetBitArray(), b.GetRow(y, nil).GetBitArray()
		for i := range ra {
			if ra[i] != rb[i] {
				return false
			}
		}
	}
	return true
}
