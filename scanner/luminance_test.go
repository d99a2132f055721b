package scanner

import (
	"bytes"
	"image"
	"image/color"
	"testing"

	"github.com/makiuchi-d/gozxing"
)

// TestNewGrey checks each fast path against the generic conversion through
// image.At, on an image whose bounds do not start at the origin.
func TestNewGrey(t *testing.T) {
	r := image.Rect(3, 5, 3+17, 5+11)
	at := func(x, y int) color.NRGBA {
		return color.NRGBA{R: uint8(x * 13), G: uint8(y * 29), B: uint8(x*y + 7), A: uint8(255 - (x+y)%3*100)}
	}
	nrgba := image.NewNRGBA(r)
	rgba := image.NewRGBA(r)
	gray := image.NewGray(r)
	pal := image.NewPaletted(r, color.Palette{color.Black, color.White, color.NRGBA{R: 200, G: 10, B: 30, A: 128}})
	ycc := image.NewYCbCr(r, image.YCbCrSubsampleRatio420)
	for y := r.Min.Y; y < r.Max.Y; y++ {
		for x := r.Min.X; x < r.Max.X; x++ {
			c := at(x, y)
			nrgba.SetNRGBA(x, y, c)
			rgba.Set(x, y, c)
			gray.SetGray(x, y, color.Gray{Y: uint8(x + y*7)})
			pal.SetColorIndex(x, y, uint8((x+y)%3))
			ycc.Y[ycc.YOffset(x, y)] = uint8(x * y)
		}
	}
	// Sub-images: rows that do not follow each other, copied.
	sub := r.Inset(2)
	graySub := gray.SubImage(sub).(*image.Gray)
	yccSub := ycc.SubImage(sub).(*image.YCbCr)
	for _, img := range []image.Image{nrgba, rgba, gray, pal, ycc, graySub, yccSub} {
		got := newGrey(img, lumaEven)
		r := img.Bounds()
		if got.Width != r.Dx() || got.Height != r.Dy() {
			t.Fatalf("%T: size %dx%d", img, got.Width, got.Height)
		}
		for y := 0; y < r.Dy(); y++ {
			for x := 0; x < r.Dx(); x++ {
				want := lumaEven.colorLuma(img.At(r.Min.X+x, r.Min.Y+y))
				if _, ok := img.(*image.YCbCr); ok {
					want = ycc.Y[ycc.YOffset(r.Min.X+x, r.Min.Y+y)]
				}
				if d := int(got.pix[y*got.Width+x]) - int(want); d < -1 || d > 1 {
					t.Fatalf("%T at (%d,%d): got %d, want %d", img, x, y, got.pix[y*got.Width+x], want)
				}
			}
		}
	}
}

func TestGrey_CropRotate(t *testing.T) {
	// 4x3:  0  1  2  3
	//       4  5  6  7
	//       8  9 10 11
	img := image.NewGray(image.Rect(0, 0, 4, 3))
	for i := range img.Pix {
		img.Pix[i] = uint8(i)
	}
	g := newGrey(img, lumaEven)
	if !bytes.Equal(g.GetMatrix(), img.Pix) {
		t.Errorf("matrix %v", g.GetMatrix())
	}

	c, err := g.Crop(1, 1, 2, 2)
	if err != nil {
		t.Fatal(err)
	}
	if got := c.GetMatrix(); !bytes.Equal(got, []byte{5, 6, 9, 10}) {
		t.Errorf("crop matrix %v", got)
	}
	if row, _ := c.GetRow(1, nil); !bytes.Equal(row[:2], []byte{9, 10}) {
		t.Errorf("crop row %v", row)
	}
	if _, err := g.Crop(3, 0, 2, 1); err == nil {
		t.Error("crop outside: no error")
	}
	if _, err := g.GetRow(3, nil); err == nil {
		t.Error("row outside: no error")
	}

	// Counter-clockwise: the right column becomes the top row.
	rot, _ := g.RotateCounterClockwise()
	if rot.GetWidth() != 3 || rot.GetHeight() != 4 {
		t.Fatalf("rotated size %dx%d", rot.GetWidth(), rot.GetHeight())
	}
	if got := rot.GetMatrix(); !bytes.Equal(got, []byte{3, 7, 11, 2, 6, 10, 1, 5, 9, 0, 4, 8}) {
		t.Errorf("rotated %v", got)
	}
	crot, _ := c.RotateCounterClockwise()
	if got := crot.GetMatrix(); !bytes.Equal(got, []byte{6, 10, 5, 9}) {
		t.Errorf("cropped and rotated %v", got)
	}
	if got := g.Invert().GetMatrix(); got[0] != 255 || got[11] != 244 {
		t.Errorf("inverted %v", got)
	}
}

func TestGrey_HalfUpscale(t *testing.T) {
	src := &grey{LuminanceSourceBase: gozxing.LuminanceSourceBase{Width: 5, Height: 3}, pix: []byte{
		0, 4, 8, 12, 99,
		2, 6, 10, 14, 99,
		99, 99, 99, 99, 99,
	}, stride: 5}
	h := src.half()
	if h.Width != 2 || h.Height != 1 || h.pix[0] != 3 || h.pix[1] != 11 {
		t.Errorf("half: %dx%d %v", h.Width, h.Height, h.pix)
	}
	flat := &grey{LuminanceSourceBase: gozxing.LuminanceSourceBase{Width: 3, Height: 2}, pix: []byte{50, 50, 50, 50, 50, 50}, stride: 3}
	up := flat.upscale2()
	if up.Width != 6 || up.Height != 4 {
		t.Fatalf("upscale2: %dx%d", up.Width, up.Height)
	}
	for i, p := range up.pix {
		if p != 50 {
			t.Fatalf("upscale2 of a flat image: pixel %d is %d", i, p)
		}
	}
	r := flat.rotate45()
	if r.Width != r.Height || r.Width < 3 {
		t.Errorf("rotate45: %dx%d", r.Width, r.Height)
	}
}

// TestNewGrey_Opaque checks the two-pixels-at-once path of opaque colour
// images exactly, odd widths included, and that a buffer given back to the
// pool comes out again with the new image's luminances.
func TestNewGrey_Opaque(t *testing.T) {
	for _, w := range []int{1, 2, 7, 64} {
		rgba := image.NewRGBA(image.Rect(0, 0, w, 9))
		for i := range rgba.Pix {
			rgba.Pix[i] = uint8(i*67 + i/4*13)
			if i%4 == 3 {
				rgba.Pix[i] = 0xff
			}
		}
		for round := 0; round < 2; round++ {
			g := newGrey(rgba, lumaEven)
			for i := 0; i < w*9; i++ {
				p := rgba.Pix[4*i:]
				if want := uint8((int(p[0]) + 2*int(p[1]) + int(p[2])) / 4); g.pix[i] != want {
					t.Fatalf("width %d, round %d, pixel %d: got %d, want %d", w, round, i, g.pix[i], want)
				}
			}
			g.release()
		}
	}
}
