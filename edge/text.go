package edge

import "unicode/utf8"

// CheckText returns INVALID_TEXT when the free text s of field (a cancel
// reason, a staff name, a driver reference) holds what no clerk types and
// what would travel to the cloud, the receipts and the logs as it is: bytes
// that are not UTF-8, C0 and C1 control characters (NUL, ANSI escapes, line
// breaks: each field is one line), DEL, and the Unicode direction marks and
// overrides that make text read other than it is stored (Trojan Source,
// CVE-2021-42574). It checks only; the text is never changed, so that what
// is journalled is what was typed.
func CheckText(field, s string) error {
	if !utf8.ValidString(s) {
		return Errorf(EBADTEXT, "The %s is not valid UTF-8 text.", field)
	}
	for i, r := range s {
		if bad := badRune(r); bad != "" {
			return Errorf(EBADTEXT, "The %s holds %s (%U at byte %d): type it again.", field, bad, r, i)
		}
	}
	return nil
}

// badRune names the kind of r when free text may not hold it.
func badRune(r rune) string {
	switch {
	case r < 0x20 || r == 0x7f:
		return "a control character"
	case r >= 0x80 && r <= 0x9f:
		return "a C1 control character"
	case r == 0x061c, r == 0x200e, r == 0x200f, // ALM, LRM, RLM
		r >= 0x202a && r <= 0x202e, // LRE, RLE, PDF, LRO, RLO
		r >= 0x2066 && r <= 0x2069: // LRI, RLI, FSI, PDI
		return "a text direction mark"
	}
	return ""
}
