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
	p.wrapped("Suivi : "+d.Tracking, cols)
	if d.RAID != "" {
		p.wrapped("Retour : "+d.RAID, cols)
	}
	p.wrapped("Poids : "+formatKg(d.WeightG, ','), cols)
	p.rule()

	p.cmd(esc, 'a', 1)
	if d.Token != "" {
		module := byte(6)
		if cols < 48 {
			module = 4
		}
		p.qr(d.Token, module)
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
