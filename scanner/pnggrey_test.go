package scanner

import (
	"bytes"
	"image"
	"image/color"
	"image/png"
	"os"
	"path/filepath"
	"testing"

	"github.com/comptoir/comptoir/build/testenv"
)

// pattern fills img with values that make the PNG encoder pick every
// filter: gradients, noise and flat runs.
func pattern(x, y int) (r, g, b, a uint8) {
	n := uint32(x*7919+y*104729) * 2654435761
	switch (y / 7) % 3 {
	case 0:
		return uint8(x), uint8(y), uint8(x + y), 255
	case 1:
		return uint8(n >> 24), uint8(n >> 16), uint8(n >> 8), uint8(n)
	}
	return 200, 30, 90, uint8(x)
}

func testImages() map[string]image.Image {
	const w, h = 67, 45 // odd sizes: rows that do not end on a word
	r := image.Rect(0, 0, w, h)
	grey, rgb, rgba := image.NewGray(r), image.NewRGBA(r), image.NewNRGBA(r)
	// More than 16 colours make an 8-bit palette; the encoder writes 4
	// bits a pixel for fewer, which image/png decodes.
	colours := color.Palette{}
	for i := range 20 {
		colours = append(colours, color.NRGBA{uint8(i * 13), uint8(255 - i*11), uint8(i * i), uint8(255 - i*i%200)})
	}
	pal := image.NewPaletted(r, colours)
	pal4 := image.NewPaletted(r, colours[:5])
	g16 := image.NewGray16(r)
	for y := range h {
		for x := range w {
			cr, cg, cb, ca := pattern(x, y)
			grey.SetGray(x, y, color.Gray{cr})
			rgb.SetRGBA(x, y, color.RGBA{cr, cg, cb, 255})
			rgba.SetNRGBA(x, y, color.NRGBA{cr, cg, cb, ca})
			pal.SetColorIndex(x, y, cr%20)
			pal4.SetColorIndex(x, y, cr%5)
			g16.SetGray16(x, y, color.Gray16{uint16(cr) << 8})
		}
	}
	return map[string]image.Image{"grey": grey, "rgb": rgb, "rgba": rgba, "paletted": pal, "paletted4": pal4, "grey16": g16}
}

// checkPNGGrey decodes data both ways and compares the luminances.
func checkPNGGrey(t *testing.T, name string, data []byte, wantOK bool) {
	t.Helper()
	got, ok, err := decodePNGGrey(data)
	if ok != wantOK || err != nil {
		t.Fatalf("%s: ok %v err %v, want ok %v", name, ok, err, wantOK)
	}
	if !ok {
		return
	}
	std, err := png.Decode(bytes.NewReader(data))
	if err != nil {
		t.Fatal(err)
	}
	want := newGrey(std, lumaEven)
	defer want.release()
	if got.Rect != std.Bounds() || !bytes.Equal(got.Pix, want.pix) {
		for i := range got.Pix {
			if got.Pix[i] != want.pix[i] {
				t.Fatalf("%s: luminance of pixel %d is %d, image/png's %d", name, i, got.Pix[i], want.pix[i])
			}
		}
		t.Fatalf("%s: %v, want %v", name, got.Rect, std.Bounds())
	}
}

// TestDecodePNGGrey checks that the grey PNG decoder gives the luminances
// newGrey computes from image/png's image, byte for byte, and leaves the
// PNGs it does not take to image/png.
func TestDecodePNGGrey(t *testing.T) {
	wantOK := map[string]bool{"grey": true, "rgb": true, "rgba": true, "paletted": true, "paletted4": false, "grey16": false}
	for name, img := range testImages() {
		for _, level := range []png.CompressionLevel{png.DefaultCompression, png.NoCompression, png.BestSpeed} {
			var buf bytes.Buffer
			if err := (&png.Encoder{CompressionLevel: level}).Encode(&buf, img); err != nil {
				t.Fatal(err)
			}
			checkPNGGrey(t, name, buf.Bytes(), wantOK[name])
		}
	}
	// A flipped byte fails a chunk's CRC: image/png says it is corrupt.
	var buf bytes.Buffer
	png.Encode(&buf, testImages()["rgb"])
	bad := buf.Bytes()
	bad[len(bad)/2] ^= 0x55
	if _, ok, _ := decodePNGGrey(bad); ok {
		t.Error("a PNG with a bad CRC was taken")
	}
}

// TestDecodePNGGreyCorpus compares both decoders on the PNGs of the
// real-world corpus.
func TestDecodePNGGreyCorpus(t *testing.T) {
	dir := testenv.Corpus(t)
	pngs, _ := filepath.Glob(filepath.Join(dir, "*", "*.png"))
	taken := 0
	for _, p := range pngs {
		data, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		if _, ok, _ := decodePNGGrey(data); ok {
			taken++
			checkPNGGrey(t, p, data, true)
		}
	}
	t.Logf("%d of %d corpus PNGs decoded straight to grey", taken, len(pngs))
}

// BenchmarkDecodePNG12MP decodes a 4000x3000 RGB PNG (a phone photo of a
// screen) to the luminances the cascade reads, with image/png and newGrey
// as before, and straight to grey; B/op is the memory each frame takes.
func BenchmarkDecodePNG12MP(b *testing.B) {
	img := image.NewRGBA(image.Rect(0, 0, 4000, 3000))
	for y := range 3000 {
		for x := range 4000 {
			r, g, bl, _ := pattern(x, y)
			img.SetRGBA(x, y, color.RGBA{r, g, bl, 255})
		}
	}
	var buf bytes.Buffer
	if err := (&png.Encoder{CompressionLevel: png.BestSpeed}).Encode(&buf, img); err != nil {
		b.Fatal(err)
	}
	data := buf.Bytes()
	b.Run("image-png", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			std, err := png.Decode(bytes.NewReader(data))
			if err != nil {
				b.Fatal(err)
			}
			newGrey(std, lumaEven).release()
		}
	})
	b.Run("grey", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, ok, err := decodePNGGrey(data); !ok || err != nil {
				b.Fatal(ok, err)
			}
		}
	})
}
