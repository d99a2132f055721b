package scanner

import (
	"bytes"
	"context"
	"fmt"
	"image"
	_ "image/jpeg" // camera frames
	_ "image/png"  // screenshots, test images
	"runtime"
	"time"
	"unicode/utf8"

	"github.com/makiuchi-d/gozxing"

	"github.com/comptoir/comptoir/edge"
)

// Default limits of a Decoder. Counter cameras and phones send frames of
// 0.3 to 12 megapixels (a 4000x3000 photo); a 12 MP frame decodes to 12 MB
// of grey (JPEG, grey PNG) and 48 MB of RGBA (colour PNG), which a 1 GB
// terminal affords a few of at once, not the 160 MB of a 40 MP one.
const (
	DefaultMaxPixels = 12_000_000
	DefaultMaxBytes  = 16 << 20
)

// Decoder finds QR codes and Code 128 barcodes in JPEG and PNG images. The
// zero value is ready to use with the default limits; a Decoder is safe for
// concurrent use.
type Decoder struct {
	// MaxPixels refuses images of more pixels before they are decoded;
	// DefaultMaxPixels when 0.
	MaxPixels int
	// MaxBytes refuses larger inputs; DefaultMaxBytes when 0.
	MaxBytes int
	// Timeout bounds the search for symbols; DefaultTimeout when 0.
	Timeout time.Duration
}

// DefaultTimeout bounds one image's decode. A clean camera frame takes a few
// milliseconds; gozxing's finder-pattern search is cubic in its candidates,
// so a hostile or pathological image could otherwise keep a core busy for
// minutes.
const DefaultTimeout = 3 * time.Second

// decodeSlots bounds the decodes running at once, image decoding included
// (what takes the memory: at most slots x MaxPixels pixels are decoded at a
// time), counting those whose caller has stopped waiting: a timed-out decode
// cannot be killed, it only stops at the end of the image decode or at the
// next step of the cascade, and until then it keeps its slot.
var decodeSlots = make(chan struct{}, max(1, runtime.NumCPU()))

// Decode returns the symbols found in the JPEG or PNG image data. It returns
// an *edge.Error with code TOO_LARGE when data or the image's dimensions are
// above the limits (checked from the header, before decoding), and with code
// UNREADABLE when data is not a valid image or holds no symbol it can read;
// the symbols are then an empty slice.
func (d *Decoder) Decode(ctx context.Context, data []byte) ([]edge.Symbol, error) {
	maxBytes, maxPixels := d.MaxBytes, d.MaxPixels
	if maxBytes <= 0 {
		maxBytes = DefaultMaxBytes
	}
	if maxPixels <= 0 {
		maxPixels = DefaultMaxPixels
	}
	if len(data) > maxBytes {
		return []edge.Symbol{}, edge.Errorf(edge.ETOOLARGE, "The image is %d bytes; at most %d are accepted.", len(data), maxBytes)
	}

	cfg, format, err := image.DecodeConfig(bytes.NewReader(data))
	if err != nil {
		return []edge.Symbol{}, edge.Refuse(edge.Unreadable, "The image is not a readable JPEG or PNG file.")
	} else if format != "jpeg" && format != "png" {
		return []edge.Symbol{}, edge.Refuse(edge.Unreadable, "Only JPEG and PNG images are read, not %s.", format)
	} else if cfg.Width <= 0 || cfg.Height <= 0 {
		return []edge.Symbol{}, edge.Refuse(edge.Unreadable, "The image is empty.")
	} else if int64(cfg.Width)*int64(cfg.Height) > int64(maxPixels) {
		return []edge.Symbol{}, edge.Errorf(edge.ETOOLARGE, "The image is %dx%d pixels; at most %d pixels are accepted.", cfg.Width, cfg.Height, maxPixels)
	}

	if err := ctx.Err(); err != nil {
		return []edge.Symbol{}, fmt.Errorf("decode: %w", err)
	}
	return d.bounded(ctx, func(ctx context.Context) ([]edge.Symbol, error) {
		img, err := decodeFrame(data, format)
		if err != nil {
			return []edge.Symbol{}, edge.Refuse(edge.Unreadable, "The image is corrupt or truncated.")
		}
		if err := ctx.Err(); err != nil {
			return []edge.Symbol{}, fmt.Errorf("decode: %w", err)
		}
		return DecodeImage(ctx, img)
	})
}

// decodeFrame decodes a JPEG or PNG image: a PNG straight to grey when
// decodePNGGrey takes it, anything else with the standard library (a
// JPEG's luma plane is used as it is, see newGrey).
func decodeFrame(data []byte, format string) (image.Image, error) {
	if format == "png" {
		if g, ok, err := decodePNGGrey(data); ok {
			if err != nil {
				return nil, err
			}
			return g, nil
		}
	}
	img, _, err := image.Decode(bytes.NewReader(data))
	return img, err
}

// bounded runs find (the image decode and the search for symbols) in a slot
// of decodeSlots and gives up after the timeout, answering UNREADABLE so
// that the clerk tries again.
func (d *Decoder) bounded(ctx context.Context, find func(context.Context) ([]edge.Symbol, error)) ([]edge.Symbol, error) {
	timeout := d.Timeout
	if timeout <= 0 {
		timeout = DefaultTimeout
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	tooLong := edge.Refuse(edge.Unreadable, "The image took too long to read; hold the code closer and try again.")
	select {
	case decodeSlots <- struct{}{}:
	case <-ctx.Done():
		return []edge.Symbol{}, tooLong
	}
	type result struct {
		syms []edge.Symbol
		err  error
	}
	done := make(chan result, 1)
	go func() {
		defer func() { <-decodeSlots }()
		syms, err := find(ctx)
		done <- result{syms, err}
	}()
	select {
	case r := <-done:
		return r.syms, r.err
	case <-ctx.Done():
		return []edge.Symbol{}, tooLong
	}
}

// text returns the text of res as valid UTF-8. gozxing's Code 128 reader
// gives FNC4 extended characters as raw ISO-8859-1 bytes; those are mapped
// to their runes.
func text(res *gozxing.Result) string {
	s := res.GetText()
	if utf8.ValidString(s) {
		return s
	}
	r := make([]rune, 0, len(s))
	for i := 0; i < len(s); i++ {
		r = append(r, rune(s[i]))
	}
	return string(r)
}
