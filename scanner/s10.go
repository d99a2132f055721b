package scanner

import "github.com/comptoir/comptoir/edge"

// s10Weights are the weights of UPU standard S10 for the eight serial digits.
var s10Weights = [8]int{8, 6, 4, 2, 3, 5, 9, 7}

// s10Shape reports whether s is laid out as a UPU S10 number: two letters
// (service indicator), nine digits (serial and check digit), two letters
// (ISO 3166 country of the issuing postal operator), as in "RR123456785FR".
func s10Shape(s string) bool {
	if len(s) != 13 {
		return false
	}
	for i := 0; i < 13; i++ {
		c := s[i]
		if i < 2 || i >= 11 {
			if c < 'A' || c > 'Z' {
				return false
			}
		} else if c < '0' || c > '9' {
			return false
		}
	}
	return true
}

// S10CheckDigit returns the check digit of the eight serial digits of a UPU
// S10 number: 11 minus the weighted sum modulo 11, with 10 read as 0 and 11
// as 5. It returns -1 when serial is not eight digits.
func S10CheckDigit(serial string) int {
	if len(serial) != 8 {
		return -1
	}
	sum := 0
	for i := 0; i < 8; i++ {
		c := serial[i]
		if c < '0' || c > '9' {
			return -1
		}
		sum += int(c-'0') * s10Weights[i]
	}
	switch d := 11 - sum%11; d {
	case 10:
		return 0
	case 11:
		return 5
	default:
		return d
	}
}

// CheckS10 checks that s is a UPU S10 number with a correct check digit. It
// returns an *edge.Error with code UNKNOWN_FORMAT when s is not laid out as
// one and BAD_CHECK_DIGIT when its check digit is wrong.
func CheckS10(s string) error {
	if !s10Shape(s) {
		return edge.Refuse(edge.UnknownFormat, "Not a UPU S10 number (two letters, nine digits, two letters).")
	}
	if S10CheckDigit(s[2:10]) != int(s[10]-'0') {
		return edge.Refuse(edge.BadCheckDigit, "The tracking number %s has a wrong check digit: it was misread or mistyped.", s)
	}
	return nil
}
