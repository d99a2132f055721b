package printer

import (
	"image"
	"image/color"
	"slices"
	"strings"
	"testing"
)

// This file holds a small ESC/POS reader for the tests: it knows the commands
// the renderer may send, fails on any other control byte, and decodes the
// text between commands from CP858.

type escposDoc struct {
	cmds  []string // command names, such as "ESC @" or "GS ( k"
	lines []string // printed lines, decoded
	wide  []bool   // whether each line was printed double width
	fontB []bool   // whether each line was printed in font B
	qr    []string // data stored for QR codes (GS ( k); see qrTexts for images
	// rasters are the GS v 0 images, one image pixel a dot.
	rasters []*image.Gray
	bars    []string // text of Code 128 barcodes (GS k 73)
}

// escposArgs is the number of argument bytes of each known command.
var escposArgs = map[string]int{
	"ESC @": 0, "ESC t": 1, "ESC M": 1, "ESC a": 1, "ESC E": 1, "ESC d": 1, "GS !": 1,
	"GS h": 1, "GS w": 1, "GS H": 1, "GS f": 1,
}

func parseESCPOS(t testing.TB, b []byte) escposDoc {
	t.Helper()
	var doc escposDoc
	var line strings.Builder
	wide, fontB := false, false
	for i := 0; i < len(b); {
		c := b[i]
		switch {
		case c == lf:
			doc.lines = append(doc.lines, line.String())
			doc.wide = append(doc.wide, wide)
			doc.fontB = append(doc.fontB, fontB)
			line.Reset()
			i++
		case c == esc || c == gs:
			if i+1 >= len(b) {
				t.Fatalf("truncated command at %d", i)
			}
			name := map[byte]string{esc: "ESC ", gs: "GS "}[c] + string(b[i+1])
			i += 2
			switch name {
			case "GS V":
				if b[i] == 65 || b[i] == 66 {
					i += 2
				} else {
					i++
				}
			case "GS k":
				if b[i] != 73 {
					t.Fatalf("unexpected GS k %d", b[i])
				}
				n := int(b[i+1])
				doc.bars = append(doc.bars, code128Text(b[i+2:i+2+n]))
				i += 2 + n
			case "GS v":
				if b[i] != '0' || b[i+1] != 0 {
					t.Fatalf("unexpected GS v %c %d", b[i], b[i+1])
				}
				name = "GS v 0"
				bpr, rows := int(b[i+2])|int(b[i+3])<<8, int(b[i+4])|int(b[i+5])<<8
				img := rasterImage(b[i+6:i+6+bpr*rows], bpr, rows)
				doc.rasters = append(doc.rasters, img)
				i += 6 + bpr*rows
			case "GS (":
				if b[i] != 'k' {
					t.Fatalf("unexpected GS ( %c", b[i])
				}
				name = "GS ( k"
				n := int(b[i+1]) | int(b[i+2])<<8
				params := b[i+3 : i+3+n]
				if params[0] == 49 && params[1] == 80 {
					doc.qr = append(doc.qr, string(params[3:]))
				}
				i += 3 + n
			default:
				args, ok := escposArgs[name]
				if !ok {
					t.Fatalf("unexpected command %s at %d", name, i-2)
				}
				switch name {
				case "GS !":
					wide = b[i]&0x70 != 0
				case "ESC M":
					fontB = b[i] == 1
				}
				i += args
			}
			doc.cmds = append(doc.cmds, name)
		case c < 0x20 || c == 0x7f:
			t.Fatalf("control byte %#x in text at %d", c, i)
			doc.cmds = append(doc.cmds, "DLE")
		default:
			if c < 0x80 {
				line.WriteByte(c)
			} else {
				line.WriteRune(cp858Rune(c))
			}
			i++
		}
	}
	if line.Len() > 0 {
		t.Fatalf("text %q not ended by LF", line.String())
	}
	return doc
}

// qrTexts returns the data of the document's QR codes: stored with GS ( k,
// or read by gozxing from its raster images (read only when asked: under
// -race each read takes seconds).
func (d escposDoc) qrTexts(t testing.TB) []string {
	t.Helper()
	out := slices.Clone(d.qr)
	for _, img := range d.rasters {
		if _, qr := readCodes(t, img); qr != "" {
			out = append(out, qr)
		}
	}
	return out
}

func (d escposDoc) count(name string) int {
	n := 0
	for _, c := range d.cmds {
		if c == name {
			n++
		}
	}
	return n
}

// checkWidth fails t when a line does not fit cols characters.
func (d escposDoc) checkWidth(t testing.TB, cols int) {
	t.Helper()
	for i, s := range d.lines {
		w, max := len([]rune(s)), cols
		if d.wide[i] {
			w *= 2
		}
		if d.fontB[i] {
			max = fontBColumns(cols)
		}
		if w > max {
			t.Errorf("line %q is %d columns wide, more than %d", s, w, cols)
		}
	}
}

// rasterImage returns the GS v 0 bits (rows of bpr bytes, the most
// significant bit leftmost, 1 black) as a grey image with a white border
// of 16 dots, the paper around it.
func rasterImage(bits []byte, bpr, rows int) *image.Gray {
	const border = 16
	img := image.NewGray(image.Rect(0, 0, bpr*8+2*border, rows+2*border))
	for i := range img.Pix {
		img.Pix[i] = 0xFF
	}
	for y := range rows {
		for x := range bpr * 8 {
			if bits[y*bpr+x/8]&(0x80>>(x%8)) != 0 {
				img.SetGray(border+x, border+y, color.Gray{})
			}
		}
	}
	return img
}
