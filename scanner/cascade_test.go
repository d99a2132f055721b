package scanner

import (
	"image"
	"slices"
	"testing"

	"github.com/makiuchi-d/gozxing"

	"github.com/comptoir/comptoir/edge"
)

// corpusReads is how many images of the real-world corpus the cascade
// reads (of 104 in December 2026). Raise it when the cascade improves; a
// change that lowers it is a regression.
const corpusReads = 103

// corpusImage is one image of the corpus as the cascade sees it.
type corpusImage struct {
	name, want string
	src        *grey
}

func corpusImages(tb testing.TB) []corpusImage {
	var imgs []corpusImage
	for _, c := range LoadCorpus(tb) {
		imgs = append(imgs, corpusImage{c.Set + "/" + c.Name, c.Want, newGrey(c.Img, lumaEven)})
	}
	return imgs
}

func hasText(syms []edge.Symbol, want string) bool {
	return slices.ContainsFunc(syms, func(s edge.Symbol) bool { return s.Text == want })
}

// TestCascadeSteps checks the cascade on the real-world corpus: it reads
// at least corpusReads images, and every image that one of its steps reads
// alone (the steps stop at the first that reads something, so an earlier
// step's misread could hide a later step's read). What each step costs and
// reads is BenchmarkCascadeSteps's.
func TestCascadeSteps(t *testing.T) {
	imgs := corpusImages(t)
	n := 0
	for _, im := range imgs {
		syms, _ := decodeGrey(t.Context(), im.src, steps)
		whole := hasText(syms, im.want)
		if whole {
			n++
		}
		for _, s := range steps {
			if !whole && hasText(s.run(im.src), im.want) {
				t.Errorf("%s: step %s alone reads it, the cascade does not", im.name, s.name)
			}
		}
	}
	if n < corpusReads {
		t.Errorf("the cascade reads %d of %d corpus images, want at least %d", n, len(imgs), corpusReads)
	}
}

// BenchmarkCascadeSteps measures, on the real-world corpus, what each step
// of the cascade costs when run alone on every image and how many it
// reads, then each reader of the first step on a binarized image, then the
// binarizer: the figures behind the choice of steps.
//
//	go test -run '^$' -bench CascadeSteps -benchtime 3x ./scanner/
func BenchmarkCascadeSteps(b *testing.B) {
	imgs := corpusImages(b)
	perImage := func(b *testing.B, reads int) {
		b.ReportMetric(float64(b.Elapsed().Microseconds())/1000/float64(b.N*len(imgs)), "ms/image")
		b.ReportMetric(float64(reads), "reads")
	}
	for _, s := range steps {
		b.Run("step="+s.name, func(b *testing.B) {
			reads := 0
			for b.Loop() {
				reads = 0
				for _, im := range imgs {
					if hasText(s.run(im.src), im.want) {
						reads++
					}
				}
			}
			perImage(b, reads)
		})
	}
	for _, r := range []struct {
		name string
		r    symbolReader
	}{{"QR", readQR}, {"QR-single", readQRSingle}, {"DataMatrix", readDataMatrix}, {"Code128", readCode128}} {
		b.Run("reader="+r.name, func(b *testing.B) {
			bmps := make([]*gozxing.BinaryBitmap, len(imgs))
			for i, im := range imgs {
				bmps[i], _ = gozxing.NewBinaryBitmap(gozxing.NewHybridBinarizer(im.src))
				bmps[i].GetBlackMatrix()
			}
			reads := 0
			for b.Loop() {
				reads = 0
				for i, im := range imgs {
					for _, x := range safely(r.r, bmps[i], nil) {
						if text(x) == im.want {
							reads++
						}
					}
				}
			}
			perImage(b, reads)
		})
	}
	b.Run("binarizer", func(b *testing.B) {
		for b.Loop() {
			for _, im := range imgs {
				bmp, _ := gozxing.NewBinaryBitmap(gozxing.NewHybridBinarizer(im.src))
				bmp.GetBlackMatrix()
			}
		}
		b.ReportMetric(float64(b.Elapsed().Microseconds())/1000/float64(b.N*len(imgs)), "ms/image")
	})
	// Colour weighed as Java ZXing does (BT.601) instead of evenly: how many
	// images the first two steps read then (not kept: it
	// reads no image that the cascade misses).
	b.Run("bt601-first-two-steps", func(b *testing.B) {
		var alts []corpusImage
		for _, c := range LoadCorpus(b) {
			if _, ok := c.Img.(*image.YCbCr); !ok {
				alts = append(alts, corpusImage{c.Set + "/" + c.Name, c.Want, newGrey(c.Img, lumaWeights{306, 601, 117, 0x200})})
			}
		}
		reads := 0
		for b.Loop() {
			reads = 0
			for _, im := range alts {
				if syms, _ := decodeGrey(b.Context(), im.src, steps[:2]); hasText(syms, im.want) {
					reads++
				}
			}
		}
		b.ReportMetric(float64(reads), "reads")
	})
}
