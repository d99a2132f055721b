package printer

import (
	"bytes"

	"github.com/makiuchi-d/gozxing"
	"github.com/makiuchi-d/gozxing/qrcode/decoder"

	"github.com/comptoir/comptoir/edge"
	"github.com/comptoir/comptoir/scanner/token"
)

// ESC/POS command bytes.
const (
	esc = 0x1B
	gs  = 0x1D
	lf  = 0x0A
)

// qrMaxBytes is the byte-mode capacity of the largest QR code (version 40)
// at error correction level M.
const qrMaxBytes = 2331

// Receipt returns the ESC/POS bytes of a proof-of-deposit receipt: the relay
// point, the date and time of the deposit, the tracking number, the RA id, the
// weight, a line when the time was not synced with the cloud's, the signed
// receipt token as a QR code and a line asking the
// customer to keep it, then a cut. Text is in French, encoded in CP858 and
// wrapped to the paper's width. It returns EINVALID for unsupported paper or
// a token too long for a QR code.
func (r Renderer) Receipt(d edge.ReceiptDoc) ([]byte, error) {
	cols, err := r.columns()
	if err != nil {
		return nil, err
	}
	if len(d.Token) > qrMaxBytes {
		return nil, edge.Errorf(edge.EINVALID, "receipt: token of %d bytes is too long for a QR code", len(d.Token))
	}
	p := escpos{cols: cols, b: make([]byte, 0, 1024+len(d.Token))}
	p.cmd(esc, '@')     // initialise
	p.cmd(esc, 't', 19) // code page 858

	p.cmd(esc, 'a', 1) // centre
	p.cmd(esc, 'E', 1)
	p.cmd(gs, '!', 0x11) // double width and height
	p.wrapped(d.RelayPoint.Name, cols/2)
	p.cmd(gs, '!', 0)
	p.cmd(esc, 'E', 0)
	for _, s := range addressLines(d.RelayPoint.Address, false) {
		p.wrapped(s, cols)
	}
	p.cmd(lf)
	p.cmd(esc, 'E', 1)
	p.wrapped("PREUVE DE DÉPÔT", cols)
	p.cmd(esc, 'E', 0)
	p.rule()

	p.cmd(esc, 'a', 0) // left
	p.wrapped("Date : "+d.At.In(r.location()).Format("02/01/2006 15:04"), cols)
	if !d.TimeSynced {
		// The time came from a clock the cloud did not vouch for lately
		// (offline since the terminal started, or a clock set wrong).
		p.wrapped(receiptUnsynced, cols)
	}
	p.fact("Suivi : ", d.Tracking)
	if d.RAID != "" {
		p.fact("Retour : ", d.RAID)
	}
	p.wrapped("Poids : "+formatKg(d.WeightG), cols)
	p.rule()

	p.cmd(esc, 'a', 1)
	if d.Token != "" {
		if err := p.qr(d.Token, receiptModule(cols)); err != nil {
			return nil, err
		}
		p.cmd(lf)
	}
	p.wrapped("Conservez ce reçu : il prouve votre dépôt.", cols)
	p.cmd(esc, 'a', 0)
	p.cmd(lf, lf)
	p.cmd(gs, 'V', 66, 0) // feed to the cutter and cut
	return p.b, nil
}

// receiptUnsynced is the line under the date of a receipt whose time was
// not synced with the cloud's (edge.ReceiptDoc.TimeSynced).
const receiptUnsynced = "Heure non vérifiée (horloge non synchronisée)"

// escpos accumulates ESC/POS bytes for paper of cols characters (font A).
type escpos struct {
	cols int
	b    []byte
}

func (p *escpos) cmd(c ...byte) { p.b = append(p.b, c...) }

// rule prints a line of dashes across the paper.
func (p *escpos) rule() {
	p.b = append(p.b, bytes.Repeat([]byte{'-'}, p.cols)...)
	p.b = append(p.b, lf)
}

// wrapped prints s in CP858, wrapped at spaces to width characters a line;
// a word longer than a line is cut.
func (p *escpos) wrapped(s string, width int) {
	if s == "" {
		return
	}
	var buf [256]byte
	p.b = appendWrapped(p.b, appendCP858(buf[:0], s), width)
}

// fact prints label and value on one line when they fit, else the label on a
// line of its own and the value under it, in the narrower font B when that
// keeps an identifier such as a UUID on 58 mm paper in one piece.
func (p *escpos) fact(label, value string) {
	var buf [256]byte
	line := appendCP858(appendCP858(buf[:0], label), value)
	v := line[len(line)-len(appendCP858(nil, value)):]
	if len(line) <= p.cols || bytes.IndexByte(v, ' ') >= 0 || len(v) > fontBColumns(p.cols) {
		p.b = appendWrapped(p.b, line, p.cols)
		return
	}
	p.wrapped(label, p.cols)
	p.cmd(esc, 'M', 1)
	p.b = append(append(p.b, v...), lf)
	p.cmd(esc, 'M', 0)
}

// fontBColumns returns the characters per line in font B (9 dots wide) on
// paper where font A (12 dots) has cols.
func fontBColumns(cols int) int { return cols * 4 / 3 }

// appendWrapped appends text (one byte per character) in lines of at most
// width characters, each ended by LF.
func appendWrapped(b, text []byte, width int) []byte {
	width = max(width, 1)
	for len(text) > 0 {
		text = bytes.TrimLeft(text, " ")
		if len(text) == 0 {
			break
		}
		n := len(text)
		if n > width {
			n = bytes.LastIndexByte(text[:width+1], ' ')
			if n <= 0 {
				n = width
			}
		}
		b = append(b, bytes.TrimRight(text[:n], " ")...)
		b = append(b, lf)
		text = text[n:]
	}
	return b
}

// qrQuietZone is the white margin of a QR code, in modules, that the
// standard asks for on each side.
const qrQuietZone = 4

// receiptModule returns the largest module size in dots of a receipt's QR
// code: 6 on 80 mm paper, 4 on 58 mm (smaller when a large code would not
// fit the paper).
func receiptModule(cols int) int {
	if cols < 48 {
		return 4
	}
	return 6
}

// paperDots returns the printable width in dots (203 dpi) of paper of
// cols columns of font A: 576 on 80 mm, 384 on 58 mm.
func paperDots(cols int) int {
	if cols < 48 {
		return 384
	}
	return 576
}

// qr prints text as a QR code, error correction M, with modules of at most
// maxSize dots, as a raster image (GS v 0) of our own encoder's code
// (token.QRMatrix): the printer's QR function (GS ( k) picks the mask
// pattern itself, and about one receipt token in 30 then made a code that
// zxing-family readers miss; ours is read back and drawn with a mask that
// reads. The image spans the paper, the code centred in it with its quiet
// zone, so it does not depend on the printer applying ESC a to images.
func (p *escpos) qr(text string, maxSize int) error {
	m, err := token.QRMatrix(text, decoder.ErrorCorrectionLevel_M)
	if err != nil {
		return edge.Errorf(edge.EINVALID, "QR code of %d bytes: %v", len(text), err)
	}
	dots := paperDots(p.cols)
	size := clamp(dots/(m.GetWidth()+2*qrQuietZone), 1, maxSize)
	p.raster(m, size, dots)
	return nil
}

// raster appends GS v 0 (normal density) of an image dots wide showing m
// with modules of size dots, centred, with its quiet zone above and below.
func (p *escpos) raster(m *gozxing.BitMatrix, size, dots int) {
	bpr := dots / 8
	rows := (m.GetHeight() + 2*qrQuietZone) * size
	left, top := (dots-m.GetWidth()*size)/2, qrQuietZone*size
	p.cmd(gs, 'v', '0', 0, byte(bpr), byte(bpr>>8), byte(rows), byte(rows>>8))
	start := len(p.b)
	p.b = append(p.b, make([]byte, bpr*rows)...)
	img := p.b[start:]
	for my := range m.GetHeight() {
		for mx := range m.GetWidth() {
			if !m.Get(mx, my) {
				continue
			}
			for y := top + my*size; y < top+(my+1)*size; y++ {
				row := img[y*bpr : (y+1)*bpr]
				for x := left + mx*size; x < left+(mx+1)*size; x++ {
					row[x/8] |= 0x80 >> (x % 8)
				}
			}
		}
	}
}
