package printer

import (
	"image"
	"strconv"
	"strings"

	"github.com/makiuchi-d/gozxing/qrcode/decoder"

	"github.com/comptoir/comptoir/edge"
)

// previewZPL draws one ZPL label: the commands Label writes (^PW ^LL ^FO
// ^A0 ^FH ^FD ^GB ^BY ^BC ^BQ); others are skipped.
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
