package printer

import "golang.org/x/text/encoding/charmap"

// Receipt printers print text in a code page: CP858 (DOS Latin-1 with the
// euro sign) has € and the French accents. Its table is golang.org/x/text's.

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
		case r >= 0x0300 && r <= 0x036F:
			// Combining diacritical marks: keep the base letter.
		default:
			if c, ok := charmap.CodePage858.EncodeRune(r); ok && c >= 0x80 {
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

// cp858Rune returns the rune of byte c of CP858.
func cp858Rune(c byte) rune { return charmap.CodePage858.DecodeByte(c) }
