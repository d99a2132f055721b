package printer

import (
	"image"
	"image/draw"
	"strings"

	"github.com/makiuchi-d/gozxing/qrcode/decoder"

	"github.com/comptoir/comptoir/edge"
)

// Receipt preview geometry, in dots at 203 dpi: font A is 12x24 dots, font
// B 9x17, a line 30 dots; the paper has a white margin around the 576 (80
// mm) or 384 (58 mm) printable dots.
const (
	escposMargin = 16
	lineGap      = 6
)

// previewESCPOS draws ESC/POS bytes as printed on paper of cols columns:
// the commands Receipt and Manifest write; any other command is EINVALID,
// since its length is unknown.
func previewESCPOS(data []byte, cols int) (image.Image, error) {
	loadFonts()
	dots := 576
	if cols < 48 {
		dots = 384
	}
	p := escposPainter{dots: dots, faces: faceCache{}}
	// The first pass measures the height, the second draws.
	if err := p.run(data); err != nil {
		return nil, err
	}
	img := newPaper(dots+2*escposMargin, p.y+2*escposMargin)
	p = escposPainter{dots: dots, faces: p.faces, dst: img}
	if err := p.run(data); err != nil {
		return nil, err
	}
	return img, nil
}

type escposSegment struct {
	text        string
	bold, fontB bool
	wide        bool
}

type escposPainter struct {
	dst   draw.Image // nil while measuring
	faces faceCache
	dots  int
	y     int

	align             byte
	bold, fontB, wide bool
	line              []escposSegment
	text              []byte

	qrSize     int
	qrEC       decoder.ErrorCorrectionLevel
	qrData     string
	barH, barW int
	hri        bool
}

func (p *escposPainter) run(b []byte) error {
	p.qrSize, p.qrEC, p.barH, p.barW = 3, decoder.ErrorCorrectionLevel_M, 162, 3
	bad := func(what string) error {
		return edge.Errorf(edge.EINVALID, "preview: ESC/POS %s", what)
	}
	for i := 0; i < len(b); {
		c := b[i]
		switch {
		case c == lf:
			p.flush()
			p.newline()
			i++
		case c == esc || c == gs:
			if i+2 >= len(b) && !(c == esc && i+1 < len(b) && b[i+1] == '@') {
				return bad("command cut short")
			}
			p.flush()
			cmd, arg := b[i+1], byte(0)
			if i+2 < len(b) {
				arg = b[i+2]
			}
			switch {
			case c == esc && cmd == '@':
				i += 2
				continue
			case c == esc && cmd == 't':
			case c == esc && cmd == 'a':
				p.align = arg
			case c == esc && cmd == 'E':
				p.bold = arg&1 == 1
			case c == esc && cmd == 'M':
				p.fontB = arg&1 == 1
			case c == esc && cmd == 'd':
				for range int(arg) {
					p.newline()
				}
			case c == gs && cmd == '!':
				p.wide = arg&0x70 != 0
			case c == gs && cmd == 'h':
				p.barH = int(arg)
			case c == gs && cmd == 'w':
				p.barW = int(arg)
			case c == gs && cmd == 'H':
				p.hri = arg == 2 || arg == 3
			case c == gs && cmd == 'f':
			case c == gs && cmd == 'V':
				p.cut()
				return nil
			case c == gs && cmd == 'k':
				if arg != 73 || i+3 >= len(b) || i+4+int(b[i+3]) > len(b) {
					return bad("barcode")
				}
				n := int(b[i+3])
				if err := p.barcode(code128Text(b[i+4 : i+4+n])); err != nil {
					return err
				}
				i += 4 + n
				continue
			case c == gs && cmd == 'v' && arg == '0':
				if i+8 > len(b) {
					return bad("GS v 0 cut short")
				}
				bpr, rows := int(b[i+4])|int(b[i+5])<<8, int(b[i+6])|int(b[i+7])<<8
				if bpr == 0 || bpr*8 > p.dots || rows == 0 || rows > 4095 || i+8+bpr*rows > len(b) {
					return bad("raster image of a size the paper cannot take, or cut short")
				}
				p.raster(b[i+8:i+8+bpr*rows], bpr, rows)
				i += 8 + bpr*rows
				continue
			case c == gs && cmd == '(' && arg == 'k':
				if i+5 > len(b) {
					return bad("GS ( k cut short")
				}
				n := int(b[i+3]) | int(b[i+4])<<8
				if i+5+n > len(b) || n < 2 {
					return bad("GS ( k cut short")
				}
				if err := p.qrFunction(b[i+5 : i+5+n]); err != nil {
					return err
				}
				i += 5 + n
				continue
			default:
				return bad("command not understood")
			}
			i += 3
		case c < 0x20 || c == 0x7f:
			return bad("control byte in text")
		default:
			p.text = append(p.text, c)
			i++
		}
	}
	p.flush()
	if len(p.line) > 0 {
		p.newline()
	}
	return nil
}

// flush ends the text written with the current style.
func (p *escposPainter) flush() {
	if len(p.text) == 0 {
		return
	}
	var s strings.Builder
	for _, c := range p.text {
		if c < 0x80 {
			s.WriteByte(c)
		} else {
			s.WriteRune(cp858Rune(c))
		}
	}
	p.line = append(p.line, escposSegment{text: s.String(), bold: p.bold, fontB: p.fontB, wide: p.wide})
	p.text = p.text[:0]
}

// cell returns the size of a character cell of seg's style.
func cell(seg escposSegment) (w, h int) {
	w, h = 12, 24
	if seg.fontB {
		w, h = 9, 17
	}
	if seg.wide {
		w, h = w*2, h*2
	}
	return w, h
}

// newline prints the line so far and moves down.
func (p *escposPainter) newline() {
	width, height := 0, 24
	for _, seg := range p.line {
		w, h := cell(seg)
		width += w * len([]rune(seg.text))
		height = max(height, h)
	}
	x := p.alignX(width)
	for _, seg := range p.line {
		w, h := cell(seg)
		f := fontMono
		if seg.bold {
			f = fontMonoB
		}
		// Go Mono advances 0.6 em: a face of 5/3 the cell width fills it.
		face := p.faces.face(f, w*5/3)
		for _, r := range seg.text {
			drawText(p.dst, face, escposMargin+x, escposMargin+p.y+height-h, string(r))
			x += w
		}
	}
	p.line = p.line[:0]
	p.y += height + lineGap
}

func (p *escposPainter) alignX(width int) int {
	switch p.align {
	case 1, '1':
		return max((p.dots-width)/2, 0)
	case 2, '2':
		return max(p.dots-width, 0)
	}
	return 0
}

// qrFunction carries out one GS ( k function of the QR code symbol.
func (p *escposPainter) qrFunction(params []byte) error {
	if params[0] != 49 {
		return edge.Errorf(edge.EINVALID, "preview: GS ( k for a symbol other than QR")
	}
	switch params[1] {
	case 65: // model
	case 67:
		p.qrSize = int(params[2])
	case 69:
		p.qrEC = map[byte]decoder.ErrorCorrectionLevel{
			48: decoder.ErrorCorrectionLevel_L, 49: decoder.ErrorCorrectionLevel_M,
			50: decoder.ErrorCorrectionLevel_Q, 51: decoder.ErrorCorrectionLevel_H,
		}[params[2]]
	case 80:
		p.qrData = string(params[3:])
	case 81:
		m, err := qrMatrix(p.qrData, p.qrEC)
		if err != nil {
			return err
		}
		w := m.GetWidth() * p.qrSize
		drawMatrix(p.dst, m, escposMargin+p.alignX(w), escposMargin+p.y, p.qrSize, p.qrSize)
		p.y += w
	}
	return nil
}

// raster draws a GS v 0 image of rows rows of bpr bytes, one bit a dot,
// the most significant bit leftmost.
func (p *escposPainter) raster(bits []byte, bpr, rows int) {
	x0, y0 := escposMargin+p.alignX(bpr*8), escposMargin+p.y
	p.y += rows
	if p.dst == nil {
		return
	}
	for y := range rows {
		for x := range bpr * 8 {
			if bits[y*bpr+x/8]&(0x80>>(x%8)) != 0 {
				fillRect(p.dst, image.Rect(x0+x, y0+y, x0+x+1, y0+y+1))
			}
		}
	}
}

// barcode prints a Code 128 barcode of text with its text under it.
func (p *escposPainter) barcode(text string) error {
	m, err := code128Matrix(text)
	if err != nil {
		return err
	}
	w := m.GetWidth() * p.barW
	drawMatrix(p.dst, m, escposMargin+p.alignX(w), escposMargin+p.y, p.barW, p.barH)
	p.y += p.barH + 4
	if p.hri {
		p.line = append(p.line, escposSegment{text: text})
		p.newline()
	}
	return nil
}

// cut draws the cut as a dashed line across the paper.
func (p *escposPainter) cut() {
	p.y += 12
	for x := 0; x < p.dots+2*escposMargin; x += 16 {
		fillRect(p.dst, image.Rect(x, escposMargin+p.y, x+8, escposMargin+p.y+2))
	}
	p.y += 2
}
