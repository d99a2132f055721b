package printer

import (
	"image"
	"strconv"
	"strings"

	"github.com/makiuchi-d/gozxing/qrcode/decoder"

	"github.com/comptoir/comptoir/edge"
)

// previewZPL draws one ZPL label: the commands Label writes (^PW ^LL ^FO
// ^A0 ^FH ^FD ^GB ^GF ^BY ^BC ^BQ); others are skipped.
func previewZPL(zpl []byte) (image.Image, error) {
	loadFonts()
	cmds := splitZPL(string(zpl))
	w, h := labelWidth, labelHeight
	for _, c := range cmds {
		switch c.name {
		case "PW":
			w = atoiOr(c.params, w)
		case "LL":
			h = atoiOr(c.params, h)
		}
	}
	if w <= 0 || h <= 0 || w > 4000 || h > 8000 {
		return nil, edge.Errorf(edge.EINVALID, "preview: label of %dx%d dots", w, h)
	}
	img := newPaper(w, h)
	faces := faceCache{}

	var (
		x, y       int
		fontH      = 30
		hexInd     byte
		data       string
		hasData    bool
		kind       string // "", "BC" or "BQ"
		bcH, qrMag = 0, 1
		byM, byH   = 2, 10
		bcHRI      = true
	)
	for _, c := range cmds {
		p := strings.Split(c.params, ",")
		switch c.name {
		case "FO":
			x, y = atoiOr(p[0], 0), atoiOr(at(p, 1), 0)
		case "A0":
			fontH = atoiOr(at(p, 1), fontH)
		case "FH":
			hexInd = '_'
			if c.params != "" {
				hexInd = c.params[0]
			}
		case "FD":
			data, hasData = c.params, true
		case "BY":
			byM, byH = atoiOr(p[0], byM), atoiOr(at(p, 2), byH)
		case "BC":
			kind, bcH = "BC", atoiOr(at(p, 1), byH)
			bcHRI = at(p, 2) != "N"
		case "BQ":
			kind, qrMag = "BQ", atoiOr(at(p, 2), 1)
		case "FS":
			if hasData {
				if hexInd != 0 {
					data = unhexField(data, hexInd)
				}
				var err error
				switch kind {
				case "BC":
					err = drawZPLCode128(img, faces, x, y, byM, bcH, bcHRI, data)
				case "BQ":
					err = drawZPLQR(img, x, y+byH, qrMag, data)
				default:
					drawFitted(img, faces, x, y, w-x, fontH, data)
				}
				if err != nil {
					return nil, err
				}
			}
			hexInd, data, hasData, kind = 0, "", false, ""
		case "GF":
			bits, bpr, err := unpackGF(c.params)
			if err != nil {
				return nil, err
			}
			for i, v := range bits {
				for k := range 8 {
					if v&(0x80>>k) != 0 {
						px, py := x+(i%bpr)*8+k, y+i/bpr
						fillRect(img, image.Rect(px, py, px+1, py+1))
					}
				}
			}
		case "GB":
			bw, bh, t := atoiOr(p[0], 1), atoiOr(at(p, 1), 1), atoiOr(at(p, 2), 1)
			if t >= bw || t >= bh {
				fillRect(img, image.Rect(x, y, x+bw, y+bh))
			} else {
				for _, r := range []image.Rectangle{
					image.Rect(x, y, x+bw, y+t), image.Rect(x, y+bh-t, x+bw, y+bh),
					image.Rect(x, y, x+t, y+bh), image.Rect(x+bw-t, y, x+bw, y+bh),
				} {
					fillRect(img, r)
				}
			}
		}
	}
	return img, nil
}

type zplCommand struct{ name, params string }

// splitZPL splits ZPL into commands the way a printer does: one starts at
// every ^ or ~; ^FD data runs to the next ^.
func splitZPL(s string) []zplCommand {
	var out []zplCommand
	for i := 0; i < len(s); {
		if s[i] != '^' && s[i] != '~' {
			i++
			continue
		}
		if i+3 > len(s) {
			break
		}
		name := strings.ToUpper(s[i+1 : i+3])
		j := i + 3
		for j < len(s) && s[j] != '^' && s[j] != '~' {
			j++
		}
		params := s[i+3 : j]
		if name != "FD" && name != "FH" {
			params = strings.TrimSpace(params)
		}
		out = append(out, zplCommand{name, params})
		i = j
	}
	return out
}

// unhex undoes ^FH escapes: ind followed by two hex digits is that byte.
func unhexField(s string, ind byte) string {
	if strings.IndexByte(s, ind) < 0 {
		return s
	}
	b := make([]byte, 0, len(s))
	for i := 0; i < len(s); i++ {
		if s[i] == ind && i+2 < len(s) {
			if v, err := strconv.ParseUint(s[i+1:i+3], 16, 8); err == nil {
				b = append(b, byte(v))
				i += 2
				continue
			}
		}
		b = append(b, s[i])
	}
	return string(b)
}

// drawFitted draws text h dots high in Go Bold, smaller when it would not
// fit width (Go Bold is wider than a Zebra's condensed font 0).
func drawFitted(img *image.Gray, faces faceCache, x, y, width, h int, text string) {
	size := h
	for size > 8 && drawText(nil, faces.face(fontBold, size), 0, 0, text) > width {
		size--
	}
	// Centre the smaller text in the line the label gave it.
	drawText(img, faces.face(fontBold, size), x, y+(h-size)/2, text)
}

// drawZPLCode128 draws a ^BC barcode h dots high with modules of m dots and,
// when hri, its text centred under it.
func drawZPLCode128(img *image.Gray, faces faceCache, x, y, m, h int, hri bool, text string) error {
	mx, err := code128Matrix(text)
	if err != nil {
		return err
	}
	drawMatrix(img, mx, x, y, m, h)
	if hri {
		face := faces.face(fontMono, max(20, 9*m))
		tw := drawText(nil, face, 0, 0, text)
		drawText(img, face, x+(mx.GetWidth()*m-tw)/2, y+h+4, text)
	}
	return nil
}

// drawZPLQR draws ^BQ field data ("QA,text": error correction, input mode,
// then the text) as a QR code with modules of mag dots.
func drawZPLQR(img *image.Gray, x, y, mag int, data string) error {
	if len(data) < 3 || data[2] != ',' {
		return edge.Errorf(edge.EINVALID, "preview: QR field data %q", data)
	}
	ec, ok := map[byte]decoder.ErrorCorrectionLevel{
		'H': decoder.ErrorCorrectionLevel_H, 'Q': decoder.ErrorCorrectionLevel_Q,
		'M': decoder.ErrorCorrectionLevel_M, 'L': decoder.ErrorCorrectionLevel_L,
	}[data[0]]
	if !ok {
		ec = decoder.ErrorCorrectionLevel_M
	}
	m, err := qrMatrix(data[3:], ec)
	if err != nil {
		return err
	}
	drawMatrix(img, m, x, y, mag, mag)
	return nil
}

// unpackGF decodes the parameters of ^GFA (format A, byte counts, bytes a
// row, then the data in hex with ZPL's ASCII compression: G to Y repeat
// the next digit 1 to 19 times, g to z 20 to 400 times, "," fills the row
// with zeros, "!" with ones, ":" repeats the previous row). It returns the
// bits, one a dot, rows of bpr bytes.
func unpackGF(params string) (bits []byte, bpr int, err error) {
	p := strings.SplitN(params, ",", 5)
	if len(p) != 5 || p[0] != "A" {
		return nil, 0, edge.Errorf(edge.EINVALID, "preview: ^GF other than ASCII hex")
	}
	total, bpr := atoiOr(p[1], -1), atoiOr(p[3], -1)
	if bpr <= 0 || bpr > 512 || total <= 0 || total > 1<<20 || total%bpr != 0 {
		return nil, 0, edge.Errorf(edge.EINVALID, "preview: ^GF of %s bytes, %s a row", p[1], p[3])
	}
	bits = make([]byte, 0, total)
	var row []byte // the current row, in hex digits
	var prev []byte
	endRow := func(fill byte) {
		for len(row) < 2*bpr {
			row = append(row, fill)
		}
		for i := 0; i+1 < len(row); i += 2 {
			bits = append(bits, hexVal(row[i])<<4|hexVal(row[i+1]))
		}
		prev, row = row, nil
	}
	repeat := 0
	for i := 0; i < len(p[4]) && len(bits) < total; i++ {
		c := p[4][i]
		switch {
		case c >= 'G' && c <= 'Y':
			repeat += int(c-'G') + 1
		case c >= 'g' && c <= 'z':
			repeat += (int(c-'g') + 1) * 20
		case c == ',':
			endRow('0')
		case c == '!':
			endRow('F')
		case c == ':':
			if prev == nil {
				return nil, 0, edge.Errorf(edge.EINVALID, "preview: ^GF repeats a row before the first")
			}
			row = append(row[:0], prev...)
			endRow('0')
		case hexVal(c) != 0xFF:
			for range max(repeat, 1) {
				row = append(row, c)
			}
			repeat = 0
			if len(row) >= 2*bpr {
				row = row[:2*bpr]
				endRow('0')
			}
		case c == ' ' || c == '\n' || c == '\r':
		default:
			return nil, 0, edge.Errorf(edge.EINVALID, "preview: ^GF data has %q", c)
		}
	}
	if len(row) > 0 {
		endRow('0')
	}
	if len(bits) != total {
		return nil, 0, edge.Errorf(edge.EINVALID, "preview: ^GF of %d bytes has %d", total, len(bits))
	}
	return bits, bpr, nil
}

// hexVal returns the value of a hex digit, 0xFF for another byte.
func hexVal(c byte) byte {
	switch {
	case c >= '0' && c <= '9':
		return c - '0'
	case c >= 'A' && c <= 'F':
		return c - 'A' + 10
	case c >= 'a' && c <= 'f':
		return c - 'a' + 10
	}
	return 0xFF
}

func at(p []string, i int) string {
	if i < len(p) {
		return p[i]
	}
	return ""
}

func atoiOr(s string, def int) int {
	if n, err := strconv.Atoi(strings.TrimSpace(s)); err == nil {
		return n
	}
	return def
}
