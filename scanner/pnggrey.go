package scanner

import (
	"bytes"
	"compress/zlib"
	"encoding/binary"
	"errors"
	"hash/crc32"
	"image"
	"image/color"
	"io"
)

// decodePNGGrey decodes a PNG straight to the luminances the cascade reads
// (lumaEven, composed over white), one row at a time: a colour PNG of n
// pixels then costs n bytes instead of image/png's 4n of RGBA, plus the n of
// its luminance copy. It takes the PNGs of cameras, phones and screenshots:
// 8 bits a sample, not interlaced, grey, RGB, RGBA or paletted. It returns
// ok false for the others (16-bit, fewer than 8 bits, interlaced, grey with
// alpha, a transparent colour key), which image/png decodes, and an error
// for a PNG it takes but cannot read.
func decodePNGGrey(data []byte) (img *image.Gray, ok bool, err error) {
	hdr, idat, err := pngChunks(data)
	if err != nil || !hdr.supported() {
		return nil, false, nil // image/png decodes it, or says what is wrong
	}
	zr, err := zlib.NewReader(idat)
	if err != nil {
		return nil, true, err
	}
	defer zr.Close()
	bpp := hdr.bytesPerPixel()
	w, h := hdr.width, hdr.height
	img = image.NewGray(image.Rect(0, 0, w, h))
	// prev and cur have a leading zero pixel, so that Sub, Average and
	// Paeth read it for the pixel left of the first.
	prev := make([]byte, bpp+w*bpp)
	cur := make([]byte, bpp+w*bpp)
	filter := make([]byte, 1)
	for y := 0; y < h; y++ {
		if _, err := io.ReadFull(zr, filter); err != nil {
			return nil, true, err
		}
		if _, err := io.ReadFull(zr, cur[bpp:]); err != nil {
			return nil, true, err
		}
		if err := unfilter(filter[0], cur, prev, bpp); err != nil {
			return nil, true, err
		}
		hdr.greyRow(img.Pix[y*img.Stride:y*img.Stride+w], cur[bpp:])
		prev, cur = cur, prev
	}
	return img, true, nil
}

// PNG colour types.
const (
	pngGrey    = 0
	pngRGB     = 2
	pngPalette = 3
	pngRGBA    = 6
)

// pngHeader is what decodePNGGrey needs of a PNG's IHDR, PLTE and tRNS.
type pngHeader struct {
	width, height            int
	depth, colour, interlace byte
	// lut maps palette indexes to luminances.
	lut     [256]byte
	palette int  // entries in PLTE
	colKey  bool // a tRNS chunk of a grey or RGB image (a transparent colour)
}

func (h *pngHeader) supported() bool {
	if h.depth != 8 || h.interlace != 0 || h.colKey {
		return false
	}
	switch h.colour {
	case pngGrey, pngRGB, pngRGBA:
		return true
	case pngPalette:
		return h.palette > 0
	}
	return false
}

func (h *pngHeader) bytesPerPixel() int {
	switch h.colour {
	case pngRGB:
		return 3
	case pngRGBA:
		return 4
	}
	return 1
}

// greyRow writes the luminances of the unfiltered samples src into out,
// as newGrey computes them from image/png's image (lumaEven).
func (h *pngHeader) greyRow(out, src []byte) {
	switch h.colour {
	case pngGrey:
		copy(out, src)
	case pngPalette:
		for x, i := range src[:len(out)] {
			out[x] = h.lut[i]
		}
	case pngRGB:
		for x := range out {
			p := src[3*x : 3*x+3 : 3*x+3]
			out[x] = byte((int(p[0]) + 2*int(p[1]) + int(p[2])) >> 2)
		}
	case pngRGBA:
		lumaEven.rows(out, src, false)
	}
}

var (
	errPNGFormat = errors.New("png: malformed")
	pngSignature = []byte("\x89PNG\r\n\x1a\n")
)

// pngChunks reads the chunks of data, checking their CRCs, and returns the
// header and a reader over the IDAT chunks' data (not copied).
func pngChunks(data []byte) (*pngHeader, io.Reader, error) {
	if !bytes.HasPrefix(data, pngSignature) {
		return nil, nil, errPNGFormat
	}
	h := &pngHeader{}
	var idat []io.Reader
	var plte, trns []byte
	seenHeader := false
	for rest := data[len(pngSignature):]; ; {
		if len(rest) < 12 {
			return nil, nil, errPNGFormat
		}
		n := binary.BigEndian.Uint32(rest)
		if uint64(n) > uint64(len(rest)-12) {
			return nil, nil, errPNGFormat
		}
		typ, body := string(rest[4:8]), rest[8:8+n]
		if crc32.ChecksumIEEE(rest[4:8+n]) != binary.BigEndian.Uint32(rest[8+n:]) {
			return nil, nil, errPNGFormat
		}
		rest = rest[12+n:]
		switch {
		case !seenHeader && typ != "IHDR":
			return nil, nil, errPNGFormat
		case typ == "IHDR":
			if len(body) != 13 || body[10] != 0 || body[11] != 0 {
				return nil, nil, errPNGFormat
			}
			w, ht := binary.BigEndian.Uint32(body[0:4]), binary.BigEndian.Uint32(body[4:8])
			if w == 0 || ht == 0 || w > 1<<24 || ht > 1<<24 {
				return nil, nil, errPNGFormat
			}
			h.width, h.height = int(w), int(ht)
			h.depth, h.colour, h.interlace = body[8], body[9], body[12]
			seenHeader = true
		case typ == "PLTE":
			plte = body
		case typ == "tRNS":
			trns = body
		case typ == "IDAT":
			idat = append(idat, bytes.NewReader(body))
		case typ == "IEND":
			if len(idat) == 0 {
				return nil, nil, errPNGFormat
			}
			h.palettes(plte, trns)
			return h, io.MultiReader(idat...), nil
		}
	}
}

// palettes fills the luminance table of a paletted image (entries of PLTE,
// alphas of tRNS, composed over white), or notes a grey or RGB image's
// transparent colour.
func (h *pngHeader) palettes(plte, trns []byte) {
	if h.colour != pngPalette {
		h.colKey = trns != nil
		return
	}
	if len(plte)%3 != 0 || len(plte) > 3*256 {
		return // palette 0 entries: not supported, image/png says why
	}
	h.palette = len(plte) / 3
	for i := range h.palette {
		a := byte(0xff)
		if i < len(trns) {
			a = trns[i]
		}
		h.lut[i] = lumaEven.colorLuma(color.NRGBA{plte[3*i], plte[3*i+1], plte[3*i+2], a})
	}
}

// unfilter reverses the PNG filter ft of row cur (whose first bpp bytes
// are zero), prev being the row above, unfiltered.
func unfilter(ft byte, cur, prev []byte, bpp int) error {
	switch ft {
	case 0:
	case 1: // Sub
		for i := bpp; i < len(cur); i++ {
			cur[i] += cur[i-bpp]
		}
	case 2: // Up
		for i := bpp; i < len(cur); i++ {
			cur[i] += prev[i]
		}
	case 3: // Average
		for i := bpp; i < len(cur); i++ {
			cur[i] += byte((int(cur[i-bpp]) + int(prev[i])) / 2)
		}
	case 4: // Paeth
		for i := bpp; i < len(cur); i++ {
			cur[i] += paeth(cur[i-bpp], prev[i], prev[i-bpp])
		}
	default:
		return errPNGFormat
	}
	return nil
}

// paeth is the Paeth predictor of PNG.
func paeth(a, b, c byte) byte {
	p := int(a) + int(b) - int(c)
	pa, pb, pc := abs(p-int(a)), abs(p-int(b)), abs(p-int(c))
	switch {
	case pa <= pb && pa <= pc:
		return a
	case pb <= pc:
		return b
	}
	return c
}

func abs(x int) int {
	if x < 0 {
		return -x
	}
	return x
}
