package printer

import (
	"bytes"

	"github.com/comptoir/comptoir/edge"
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
// weight, the signed receipt token as a QR code and a line asking the
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
	p.fact("Suivi : ", d.Tracking)
	if d.RAID != "" {
		p.fact("Retour : ", d.RAID)
	}
	p.wrapped("Poids : "+formatKg(d.WeightG), cols)
	p.rule()

	p.cmd(esc, 'a', 1)
	if d.Token != "" {
		p.qr(d.Token, qrModuleSize(len(d.Token), cols))
		p.cmd(lf)
	}
	p.wrapped("Conservez ce reçu : il prouve votre dépôt.", cols)
	p.cmd(esc, 'a', 0)
	p.cmd(lf, lf)
	p.cmd(gs, 'V', 66, 0) // feed to the cutter and cut
	return p.b, nil
}

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

// qrCapacityM holds the byte-mode capacity of QR versions 1 to 40 at error
// correction level M.
var qrCapacityM = [...]int{
	14, 26, 42, 62, 84, 106, 122, 152, 180, 213, 251, 287, 331, 362, 412, 450, 504, 560, 624, 666,
	711, 779, 857, 911, 997, 1059, 1125, 1190, 1264, 1370, 1452, 1538, 1628, 1722, 1809, 1911, 1989, 2099, 2213, 2331,
}

// qrModuleSize returns the module size in dots for a QR code of n bytes:
// 6 on 80 mm paper and 4 on 58 mm for tokens of usual size (version 15 or
// less), smaller when a larger code would not fit the printable width (576
// or 384 dots at 203 dpi).
func qrModuleSize(n, cols int) byte {
	dots, size := 576, 6
	if cols < 48 {
		dots, size = 384, 4
	}
	return byte(clamp(dots/qrModules(n, qrCapacityM[:]), 1, size))
}

// qr prints data as a QR code, model 2, error correction M, with modules of
// size dots, using the GS ( k functions 165, 167, 169, 180 and 181.
func (p *escpos) qr(data string, size byte) {
	p.cmd(gs, '(', 'k', 4, 0, 49, 65, 50, 0) // fn 165: model 2
	p.cmd(gs, '(', 'k', 3, 0, 49, 67, size)  // fn 167: module size
	p.cmd(gs, '(', 'k', 3, 0, 49, 69, 49)    // fn 169: level M
	n := len(data) + 3
	p.cmd(gs, '(', 'k', byte(n), byte(n>>8), 49, 80, 48) // fn 180: store
	p.b = append(p.b, data...)
	p.cmd(gs, '(', 'k', 3, 0, 49, 81, 48) // fn 181: print
}
