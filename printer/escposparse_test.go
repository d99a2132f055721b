package printer

import (
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
	qr    []string // data stored for QR codes
	bars  []string // text of Code 128 barcodes (GS k 73)
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
