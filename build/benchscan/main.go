// Command benchscan compares the scanner with stock gozxing, zbar and
// zxing-cpp on the real-world corpus (../shared/corpus): per set, the
// images read correctly (exact text) and the median and p95 time per image.
//
// What is timed:
//   - comptoir and gozxing: in this process, on an image already decoded
//     from its PNG (median of -reps runs per image). "gozxing" is stock
//     default use (NewBinaryBitmapFromImage, then the QR and, for barcode
//     sets, Code 128 readers); "gozxing grey" is its decode alone on a grey
//     buffer made beforehand (HybridBinarizer and the same readers), the
//     speed target of the scanner; "comptoir grey" is the scanner on an
//     *image.Gray made beforehand (read in place, as a JPEG's Y plane is).
//   - zbarimg and ZXingReader: their CLIs have no timing option, so the time
//     is the CPU time (user+system) of one process given the image -k times
//     less that of one given it once, divided by k-1: the marginal cost of
//     one image without process start-up, which includes reading and
//     decoding the PNG file. "comptoir file" is the same work for the
//     scanner (os.ReadFile, image.Decode, DecodeImage) in this process, as
//     wall time (median of -reps runs), which is no less than CPU time.
//     ZXingReader 1.4.0 aborts on an assertion on code128-1/4.png (and
//     after printing code128-1/7.png's text).
//
// Usage: go run ./build/benchscan [-corpus ../shared/corpus] [-reps 5] [-k 6]
package main

import (
	"bytes"
	"context"
	"flag"
	"fmt"
	"image"
	"image/draw"
	_ "image/png"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/makiuchi-d/gozxing"
	"github.com/makiuchi-d/gozxing/oned"
	"github.com/makiuchi-d/gozxing/qrcode"

	"github.com/comptoir/comptoir/scanner"
)

var sets = []string{"qrcode-1", "qrcode-2", "qrcode-3", "code128-1"}

type result struct {
	ok    bool
	times []time.Duration
}

type decoder struct {
	name string
	run  func(c *item) result
}

type item struct {
	set, path, want string
	data            []byte
	img             image.Image
}

func main() {
	corpus := flag.String("corpus", "../shared/corpus", "folder of the corpus")
	reps := flag.Int("reps", 5, "runs per image of the in-process decoders")
	k := flag.Int("k", 6, "copies of an image given to one CLI process")
	clis := flag.Bool("cli", true, "compare zbarimg and ZXingReader too")
	flag.Parse()
	if _, err := os.Stat(*corpus); err != nil {
		fmt.Printf("benchscan: skipped: no corpus at %s\n", *corpus)
		return
	}
	var items []*item
	for _, set := range sets {
		pngs, _ := filepath.Glob(filepath.Join(*corpus, set, "*.png"))
		for _, p := range pngs {
			want, err := os.ReadFile(strings.TrimSuffix(p, ".png") + ".txt")
			if err != nil {
				continue
			}
			data, err := os.ReadFile(p)
			check(err)
			img, _, err := image.Decode(bytes.NewReader(data))
			check(err)
			items = append(items, &item{set: set, path: p, want: string(want), data: data, img: img})
		}
	}
	ctx := context.Background()
	inProcess := func(f func(c *item) []string) func(c *item) result {
		return func(c *item) result {
			var r result
			for i := 0; i < *reps; i++ {
				start := time.Now()
				texts := f(c)
				r.times = append(r.times, time.Since(start))
				r.ok = slices.Contains(texts, c.want)
			}
			return result{r.ok, []time.Duration{median(r.times)}}
		}
	}
	decoders := []decoder{
		{"comptoir", inProcess(func(c *item) []string {
			syms, _ := scanner.DecodeImage(ctx, c.img)
			var out []string
			for _, s := range syms {
				out = append(out, s.Text)
			}
			return out
		})},
		{"gozxing", inProcess(func(c *item) []string {
			return stock(gozxing.NewLuminanceSourceFromImage(c.img), c.set)
		})},
		{"gozxing grey", func(c *item) result {
			src := gozxing.NewLuminanceSourceFromImage(c.img) // made beforehand
			return inProcess(func(c *item) []string { return stock(src, c.set) })(c)
		}},
		{"comptoir grey", func(c *item) result {
			g := image.NewGray(c.img.Bounds()) // made beforehand, as for gozxing grey
			draw.Draw(g, g.Rect, c.img, g.Rect.Min, draw.Src)
			return inProcess(func(c *item) []string {
				syms, _ := scanner.DecodeImage(ctx, g)
				var out []string
				for _, s := range syms {
					out = append(out, s.Text)
				}
				return out
			})(c)
		}},
		{"comptoir file", inProcess(func(c *item) []string {
			data, err := os.ReadFile(c.path)
			check(err)
			img, _, err := image.Decode(bytes.NewReader(data))
			check(err)
			syms, _ := scanner.DecodeImage(ctx, img)
			var out []string
			for _, s := range syms {
				out = append(out, s.Text)
			}
			return out
		})},
	}
	if !*clis {
		// in-process decoders only
	} else if p, err := exec.LookPath("zbarimg"); err == nil {
		decoders = append(decoders, decoder{"zbarimg", cli(p, []string{"-q", "--raw"}, zbarTexts, *k)})
	} else {
		fmt.Println("zbarimg not found (Debian zbar-tools): not compared")
	}
	if !*clis {
	} else if p, err := exec.LookPath("ZXingReader"); err == nil {
		decoders = append(decoders, decoder{"ZXingReader", cli(p, nil, zxingTexts, *k)})
	} else {
		fmt.Println("ZXingReader not found (Debian zxing-cpp-tools): not compared")
	}

	type tally struct {
		ok, n int
		times []time.Duration
	}
	tallies := map[string]map[string]*tally{}
	for _, d := range decoders {
		tallies[d.name] = map[string]*tally{}
		for _, set := range append(slices.Clone(sets), "total") {
			tallies[d.name][set] = &tally{}
		}
	}
	// Image by image, every decoder in turn: a change of the machine's
	// load hits them alike.
	perImage := map[string][]time.Duration{} // decoder: time of each image, in items' order
	for _, c := range items {
		for _, d := range decoders {
			r := d.run(c)
			perImage[d.name] = append(perImage[d.name], r.times[0])
			for _, set := range []string{c.set, "total"} {
				t := tallies[d.name][set]
				t.n++
				if r.ok {
					t.ok++
				}
				t.times = append(t.times, r.times...)
			}
		}
	}
	w := tabwriter.NewWriter(os.Stdout, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(w, "set\tdecoder\tcorrect\tmedian ms\tp95 ms\t")
	for _, set := range append(slices.Clone(sets), "total") {
		for _, d := range decoders {
			t := tallies[d.name][set]
			fmt.Fprintf(w, "%s\t%s\t%d/%d\t%.2f\t%.2f\t\n", set, d.name, t.ok, t.n, ms(median(t.times)), ms(pct(t.times, 0.95)))
		}
	}
	w.Flush()
	// Ratios image by image, each taken seconds apart at most: less moved
	// by the load of a shared machine than a ratio of medians.
	for _, name := range []string{"comptoir", "comptoir grey"} {
		var r []float64
		for i, t := range perImage[name] {
			if ref := perImage["gozxing grey"][i]; ref > 0 {
				r = append(r, float64(t)/float64(ref))
			}
		}
		slices.Sort(r)
		if len(r) > 0 {
			fmt.Printf("%s / gozxing grey: ratio of medians %.2f, median of per-image ratios %.2f\n", name,
				ms(median(tallies[name]["total"].times))/ms(median(tallies["gozxing grey"]["total"].times)), r[len(r)/2])
		}
	}
	fmt.Println("comptoir, gozxing: decode of a loaded image, in process; gozxing grey, comptoir grey: of a grey buffer made beforehand")
	fmt.Println("(comptoir grey: an *image.Gray, which the scanner reads in place; its grey is Go's BT.601, not gozxing's (R+2G+B)/4).")
	fmt.Println("comptoir file, zbarimg, ZXingReader: read + PNG decode + decode of one image; CLIs: marginal CPU time per image in one process.")
}

// stock is gozxing's default use over src.
func stock(src gozxing.LuminanceSource, set string) []string {
	readers := []gozxing.Reader{qrcode.NewQRCodeReader()}
	if strings.HasPrefix(set, "code128") {
		readers = append(readers, oned.NewCode128Reader())
	}
	var out []string
	for _, r := range readers {
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

// cli runs a command line decoder over an image once for its texts, and
// with the image k times for its time.
func cli(path string, args []string, texts func([]byte) []string, k int) func(c *item) result {
	cpu := func(files ...string) ([]byte, time.Duration) {
		cmd := exec.Command(path, append(slices.Clone(args), files...)...)
		out, _ := cmd.Output() // both exit non-zero when they find nothing
		return out, cmd.ProcessState.UserTime() + cmd.ProcessState.SystemTime()
	}
	return func(c *item) result {
		out, one := cpu(c.path)
		files := make([]string, k)
		for i := range files {
			files[i] = c.path
		}
		_, many := cpu(files...)
		return result{slices.Contains(texts(out), c.want), []time.Duration{max(0, (many-one)/time.Duration(k-1))}}
	}
}

// zbarTexts returns zbarimg --raw output as the texts it may hold: each
// symbol's text ends with a newline, and texts hold newlines too, so every
// run of whole lines is a candidate. (--xml would be exact but its parser
// turns CR LF into LF.)
func zbarTexts(out []byte) []string {
	lines := strings.SplitAfter(string(out), "\n")
	var texts []string
	for i := range lines {
		for j := i + 1; j <= len(lines); j++ {
			texts = append(texts, strings.TrimSuffix(strings.Join(lines[i:j], ""), "\n"))
		}
	}
	return texts
}

// zxingTexts returns the texts of ZXingReader's output: `Text:       "..."`
// up to the line `Bytes:` that follows.
func zxingTexts(out []byte) []string {
	var texts []string
	s := string(out)
	for {
		i := strings.Index(s, "Text:       \"")
		if i < 0 {
			return texts
		}
		s = s[i+len("Text:       \""):]
		j := strings.Index(s, "\"\nBytes:")
		if j < 0 {
			return texts
		}
		texts = append(texts, s[:j])
		s = s[j:]
	}
}

func median(d []time.Duration) time.Duration { return pct(d, 0.5) }

func pct(d []time.Duration, p float64) time.Duration {
	if len(d) == 0 {
		return 0
	}
	s := slices.Clone(d)
	slices.Sort(s)
	return s[min(len(s)-1, int(p*float64(len(s))))]
}

func ms(d time.Duration) float64 { return float64(d) / 1e6 }

func check(err error) {
	if err != nil {
		fmt.Fprintln(os.Stderr, "benchscan:", err)
		os.Exit(1)
	}
}
