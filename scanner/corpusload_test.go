package scanner

import (
	"image"
	_ "image/jpeg"
	_ "image/png"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/comptoir/comptoir/build/testenv"
)

// CorpusCase is one image of the real-world corpus and its expected text.
// It is exported from a test file so that the external tests
// (package scanner_test) and the internal ones share one loader.
type CorpusCase struct {
	Set, Name string
	Img       image.Image
	Want      string
}

// LoadCorpus reads every image of ../shared/corpus that has an expected
// text, or skips when the corpus is absent.
func LoadCorpus(tb testing.TB) []CorpusCase {
	tb.Helper()
	dir := testenv.Corpus(tb)
	var cases []CorpusCase
	for _, set := range []string{"qrcode-1", "qrcode-2", "qrcode-3", "code128-1"} {
		pngs, _ := filepath.Glob(filepath.Join(dir, set, "*.png"))
		for _, p := range pngs {
			want, err := os.ReadFile(strings.TrimSuffix(p, ".png") + ".txt")
			if err != nil {
				continue
			}
			f, err := os.Open(p)
			if err != nil {
				tb.Fatal(err)
			}
			img, _, err := image.Decode(f)
			f.Close()
			if err != nil {
				tb.Fatalf("%s: %v", p, err)
			}
			cases = append(cases, CorpusCase{Set: set, Name: filepath.Base(p), Img: img, Want: string(want)})
		}
	}
	if len(cases) == 0 {
		testenv.Skip(tb, "no images with expected texts in "+dir)
	}
	return cases
}
