package printer

// cp858High maps the bytes 0x80 to 0xFF of code page 858 to Unicode. CP858 is
// CP850 (multilingual Latin I) with the euro sign at 0xD5; ESC/POS printers
// select it with ESC t 19.
var cp858High = [128]rune{
	0x00C7, 0x00FC, 0x00E9, 0x00E2, 0x00E4, 0x00E0, 0x00E5, 0x00E7,
	0x00EA, 0x00EB, 0x00E8, 0x00EF, 0x00EE, 0x00EC, 0x00C4, 0x00C5,
	0x00C9, 0x00E6, 0x00C6, 0x00F4, 0x00F6, 0x00F2, 0x00FB, 0x00F9,
	0x00FF, 0x00D6, 0x00DC, 0x00F8, 0x00A3, 0x00D8, 0x00D7, 0x0192,
	0x00E1, 0x00ED, 0x00F3, 0x00FA, 0x00F1, 0x00D1, 0x00AA, 0x00BA,
	0x00BF, 0x00AE, 0x00AC, 0x00BD, 0x00BC, 0x00A1, 0x00AB, 0x00BB,
	0x2591, 0x2592, 0x2593, 0x2502, 0x2524, 0x00C1, 0x00C2, 0x00C0,
	0x00A9, 0x2563, 0x2551, 0x2557, 0x255D, 0x00A2, 0x00A5, 0x2510,
	0x2514, 0x2534, 0x252C, 0x251C, 0x2500, 0x253C, 0x00E3, 0x00C3,
	0x255A, 0x2554, 0x2569, 0x2566, 0x2560, 0x2550, 0x256C, 0x00A4,
	0x00F0, 0x00D0, 0x00CA, 0x00CB, 0x00C8, 0x20AC, 0x00CD, 0x00CE,
	0x00CF, 0x2518, 0x250C, 0x2588, 0x2584, 0x00A6, 0x00CC, 0x2580,
	0x00D3, 0x00DF, 0x00D4, 0x00D2, 0x00F5, 0x00D5, 0x00B5, 0x00FE,
	0x00DE, 0x00DA, 0x00DB, 0x00D9, 0x00FD, 0x00DD, 0x00AF, 0x00B4,
	0x00AD, 0x00B1, 0x2017, 0x00BE, 0x00B6, 0x00A7, 0x00F7, 0x00B8,
	0x00B0, 0x00A8, 0x00B7, 0x00B9, 0x00B3, 0x00B2, 0x25A0, 0x00A0,
}

// cp858Latin1 maps U+00A0 to U+00FF to CP858 bytes, and cp858Other holds the
// few other runes CP858 has (the euro sign, box drawing).
var (
	cp858Latin1 [0x60]byte
	cp858Other  = map[rune]byte{}
)

func init() {
	for i, r := range cp858High {
		if r >= 0xA0 && r <= 0xFF {
			cp858Latin1[r-0xA0] = byte(0x80 + i)
		} else {
			cp858Other[r] = byte(0x80 + i)
		}
	}
}

// appendCP858 appends s encoded in CP858. Control characters are dropped
// (tabs and line breaks become spaces) so that text can never carry an
// ESC/POS command; typographic quotes, dashes, the ellipsis and the
// ligatures oe and OE are spelled with what CP858 has; combining accents are
// dropped; any other rune the code page lacks becomes '?'.
func appendCP858(b []byte, s string) []byte {
	for _, r := range s {
		switch {
		case r >= 0x20 && r < 0x7f:
			b = append(b, byte(r))
		case r == '\t' || r == '\n' || r == '\r' || r == '\v' || r == '\f':
			b = append(b, ' ')
		case r < 0x20 || (r >= 0x7f && r < 0xA0):
			// C0 and C1 controls: dropped.
		case r <= 0xFF:
			if c := cp858Latin1[r-0xA0]; c != 0 {
				b = append(b, c)
			} else {
				b = append(b, '?')
			}
		case r >= 0x0300 && r <= 0x036F:
			// Combining diacritical marks: keep the base letter.
		default:
			if c, ok := cp858Other[r]; ok {
				b = append(b, c)
			} else if t := transliterate(r); t != "" {
				b = append(b, t...)
			} else {
				b = append(b, '?')
			}
		}
	}
	return b
}

// transliterate spells common runes that CP858 lacks, or returns "".
func transliterate(r rune) string {
	switch r {
	case 'œ':
		return "oe"
	case 'Œ':
		return "OE"
	case '‘', '’', '‚', '′':
		return "'"
	case '“', '”', '„', '″':
		return `"`
	case '‐', '‑', '‒', '–', '—', '−':
		return "-"
	case '…':
		return "..."
	case '\u2007', '\u2009', '\u202F':
		// Figure, thin and narrow no-break spaces, as French typography
		// puts before ':'.
		return " "
	}
	return ""
}
