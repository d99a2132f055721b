package printer

import (
	"strconv"
	"unicode"
	"unicode/utf8"

	"github.com/makiuchi-d/gozxing"
	"github.com/makiuchi-d/gozxing/qrcode/decoder"

	"github.com/comptoir/comptoir/edge"
	"github.com/comptoir/comptoir/scanner/token"
)

// Label geometry in dots at 203 dpi; zplLabel scales every coordinate to the
// printer's resolution, so the layout is written once.
const (
	labelWidth  = 812  // 4 in
	labelHeight = 1218 // 6 in
	margin      = 30
)

// hexIndicator is the ^FH escape character. Text never contains it raw: it
// is itself escaped, as are ^ and ~ and every control or non-printable byte.
const hexIndicator = '_'

// Label returns the ZPL II of l: one label of r.LabelSize between ^XA and ^XZ, with
// UTF-8 text (^CI28) and every field escaped with ^FH. It returns EINVALID for
// an unsupported resolution, a tracking number that Code 128 cannot carry or
// a QR text too long for a QR code.
func (r Renderer) Label(l edge.Label) ([]byte, error) {
	dpi, err := r.dpi()
	if err != nil {
		return nil, err
	}
	if err := checkTracking(l.Tracking); err != nil {
		return nil, err
	}
	if len(l.QR) > qrMaxBytesQ {
		return nil, edge.Errorf(edge.EINVALID, "label: QR text of %d bytes is too long", len(l.QR))
	}
	w, h, err := r.labelSize()
	if err != nil {
		return nil, err
	}
	z := zplLabel{dpi: dpi, b: make([]byte, 0, 2048)}
	z.raw("^XA\n^CI28\n")
	z.raw("^PW" + strconv.Itoa(z.s(w)) + "\n^LL" + strconv.Itoa(z.s(h)) + "\n^LH0,0\n")

	// Carrier and date: what the driver looks at first.
	z.text(margin, 30, 70, w-2*margin, l.Carrier)
	z.text(margin, 110, 28, w-2*margin, "Date : "+l.Date.UTC().Format("2006-01-02 15:04")+" UTC")
	z.line(w, 150)

	// Origin: the relay point where the parcel was dropped off.
	y := 165
	z.text(margin, y, 24, w-2*margin, "DE :")
	y += 30
	z.text(margin, y, 30, w-2*margin, l.Origin.Name)
	y += 36
	for _, s := range addressLines(l.Origin.Address, false) {
		z.text(margin, y, 24, w-2*margin, s)
		y += 28
	}
	z.line(w, 330)

	// Destination: the return warehouse, in the largest text.
	y = 345
	z.text(margin, y, 28, w-2*margin, "À :")
	y += 38
	for _, s := range addressLines(l.Dest, true) {
		z.text(margin, y, 48, w-2*margin, s)
		y += 54
	}
	z.line(w, 620)

	z.code128(w, 640, 160, l.Tracking)
	z.line(w, 880)

	// The RA id across the label, then the facts of the deposit on the
	// left and the QR on the right.
	ra := l.RAID
	if ra == "" {
		ra = "-"
	}
	z.text(margin, 895, 28, w-2*margin, "RA : "+ra)
	const colWidth = 500
	z.text(margin, 960, 34, colWidth, "Poids : "+formatKg(l.WeightG))
	z.text(margin, 1010, 34, colWidth, "Articles : "+strconv.Itoa(l.Items))
	if l.QR != "" {
		if err := z.qr(560, 940, w-560-margin, h-940-margin, l.QR); err != nil {
			return nil, err
		}
	}
	z.raw("^XZ\n")
	return z.b, nil
}

// zplLabel accumulates ZPL commands; coordinates are given at 203 dpi.
type zplLabel struct {
	dpi int
	b   []byte
}

// s scales a length in 203-dpi dots to the label's resolution.
func (z *zplLabel) s(n int) int { return (n*z.dpi + DPI203/2) / DPI203 }

func (z *zplLabel) raw(s string) { z.b = append(z.b, s...) }

func (z *zplLabel) fo(x, y int) {
	z.b = append(z.b, "^FO"...)
	z.b = strconv.AppendInt(z.b, int64(z.s(x)), 10)
	z.b = append(z.b, ',')
	z.b = strconv.AppendInt(z.b, int64(z.s(y)), 10)
}

// text writes s in the scalable font, h dots high, cut to fit width dots.
func (z *zplLabel) text(x, y, h, width int, s string) {
	if s == "" {
		return
	}
	z.fo(x, y)
	z.b = append(z.b, "^A0N,"...)
	z.b = strconv.AppendInt(z.b, int64(z.s(h)), 10)
	z.b = append(z.b, ',')
	z.b = strconv.AppendInt(z.b, int64(z.s(h)), 10)
	z.field(truncate(s, fitRunes(width, h)))
}

// field writes escaped field data, ^FH_^FD...^FS.
func (z *zplLabel) field(s string) {
	z.b = append(z.b, "^FH"...)
	z.b = append(z.b, hexIndicator)
	z.b = append(z.b, "^FD"...)
	z.b = appendEscaped(z.b, s)
	z.b = append(z.b, "^FS\n"...)
}

// line draws a rule at y across the label, w dots wide.
func (z *zplLabel) line(w, y int) {
	z.fo(0, y)
	z.b = append(z.b, "^GB"...)
	z.b = strconv.AppendInt(z.b, int64(z.s(w)), 10)
	z.b = append(z.b, ",3,3^FS\n"...)
}

// code128 draws tracking as a Code 128 barcode h dots high with its
// human-readable line, centred on a label w dots wide, with the widest
// module that fits.
func (z *zplLabel) code128(w, y, h int, tracking string) {
	// Start, check and stop symbols plus the data, 11 modules each, and
	// the 2-module termination bar.
	modules := 11*(len(tracking)+3) + 2
	m := clamp(z.s(w-2*margin)/modules, 1, z.s(3))
	x := max((z.s(w)-modules*m)/2, 0)
	z.b = append(z.b, "^FO"...)
	z.b = strconv.AppendInt(z.b, int64(x), 10)
	z.b = append(z.b, ',')
	z.b = strconv.AppendInt(z.b, int64(z.s(y)), 10)
	z.b = append(z.b, "^BY"...)
	z.b = strconv.AppendInt(z.b, int64(m), 10)
	z.b = append(z.b, ",3,"...)
	z.b = strconv.AppendInt(z.b, int64(z.s(h)), 10)
	z.b = append(z.b, "^BCN,"...)
	z.b = strconv.AppendInt(z.b, int64(z.s(h)), 10)
	z.b = append(z.b, ",Y,N,N"...)
	z.field(tracking)
}

// qr draws text as a QR code (error correction Q) at the largest
// magnification up to 6 (at 203 dpi) that fits w x h with its quiet zone,
// as a ^GF graphic of our own encoder's code (token.QRMatrix): with ^BQ the
// printer picks the mask pattern itself, and some masks make codes that
// zxing-family readers miss; ours is read back and drawn with a mask that
// reads. No text of the code reaches the printer, only the hex of its dots.
func (z *zplLabel) qr(x, y, w, h int, text string) error {
	m, err := token.QRMatrix(text, decoder.ErrorCorrectionLevel_Q)
	if err != nil {
		return edge.Errorf(edge.EINVALID, "label: QR code of %d bytes: %v", len(text), err)
	}
	mag := clamp(min(z.s(w), z.s(h))/(m.GetWidth()+2*qrQuietZone), 1, min(10, z.s(6)))
	z.b = append(z.b, "^FO"...)
	z.b = strconv.AppendInt(z.b, int64(z.s(x)+qrQuietZone*mag), 10)
	z.b = append(z.b, ',')
	z.b = strconv.AppendInt(z.b, int64(z.s(y)+qrQuietZone*mag), 10)
	z.b = appendGF(z.b, m, mag)
	z.b = append(z.b, "^FS\n"...)
	return nil
}

// appendGF appends m, with modules of mag dots, as ^GFA: rows of hex
// digits in ZPL's ASCII compression, where ":" repeats the previous row
// and "," ends a row with zeros (the mag rows of a module row are one row
// and mag-1 colons).
func appendGF(b []byte, m *gozxing.BitMatrix, mag int) []byte {
	const digits = "0123456789ABCDEF"
	bpr := (m.GetWidth()*mag + 7) / 8
	total := bpr * m.GetHeight() * mag
	b = append(b, "^GFA,"...)
	for _, n := range []int{total, total, bpr} {
		b = strconv.AppendInt(b, int64(n), 10)
		b = append(b, ',')
	}
	row := make([]byte, bpr)
	for my := range m.GetHeight() {
		clear(row)
		for x := range m.GetWidth() * mag {
			if m.Get(x/mag, my) {
				row[x/8] |= 0x80 >> (x % 8)
			}
		}
		end := len(row)
		for end > 0 && row[end-1] == 0 {
			end--
		}
		for _, c := range row[:end] {
			b = append(b, digits[c>>4], digits[c&0xf])
		}
		if end < len(row) {
			b = append(b, ',')
		}
		for range mag - 1 {
			b = append(b, ':')
		}
	}
	return b
}

// escapeField returns s as ^FH field data: the hex indicator, ^, ~, every
// control character, every byte of a non-printable rune and every byte that
// is not valid UTF-8 become _XX, so that no text can end the field or start
// a command. Everything else is left as UTF-8 for ^CI28.
func escapeField(s string) string {
	if !needsEscape(s) {
		return s
	}
	return string(appendEscaped(make([]byte, 0, len(s)+16), s))
}

func needsEscape(s string) bool {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 0x20 || c >= 0x7f || c == '^' || c == '~' || c == hexIndicator {
			return true
		}
	}
	return false
}

func appendEscaped(b []byte, s string) []byte {
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			if c < 0x20 || c == 0x7f || c == '^' || c == '~' || c == hexIndicator {
				b = appendHex(b, c)
			} else {
				b = append(b, c)
			}
			i++
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if (r == utf8.RuneError && size == 1) || !unicode.IsPrint(r) {
			for j := range size {
				b = appendHex(b, s[i+j])
			}
		} else {
			b = append(b, s[i:i+size]...)
		}
		i += size
	}
	return b
}

func appendHex(b []byte, c byte) []byte {
	const digits = "0123456789ABCDEF"
	return append(b, hexIndicator, digits[c>>4], digits[c&0xf])
}

// checkTracking returns EINVALID unless tracking is printable ASCII that
// Code 128 (subset B) can encode, without '>': ^BC reads > as the start of
// an invocation code, and renderers disagree on what the escape >< gives
// (zebrash, behind zpl-renderer-js, prints ^ for it), so a tracking number
// with > could scan as another parcel's.
func checkTracking(tracking string) error {
	if tracking == "" {
		return edge.Errorf(edge.EINVALID, "label: no tracking number")
	}
	if len(tracking) > 48 {
		return edge.Errorf(edge.EINVALID, "label: tracking number of %d characters is too long for a barcode", len(tracking))
	}
	for i := 0; i < len(tracking); i++ {
		if c := tracking[i]; c < 0x20 || c > 0x7e || c == '>' {
			return edge.Errorf(edge.EINVALID, "label: tracking number has a character a barcode cannot carry")
		}
	}
	return nil
}

// qrMaxBytesQ is the byte-mode capacity of the largest QR code (version
// 40) at error correction level Q.
const qrMaxBytesQ = 1663

// fitRunes estimates how many characters of the scalable font h dots high
// fit in width dots; the font is proportional, so it assumes a broad average.
func fitRunes(width, h int) int { return max(width*20/(h*11), 1) }

// truncate cuts s to at most n runes.
func truncate(s string, n int) string {
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	i := 0
	for range n {
		_, size := utf8.DecodeRuneInString(s[i:])
		i += size
	}
	return s[:i]
}

func clamp(v, lo, hi int) int { return max(lo, min(v, hi)) }
