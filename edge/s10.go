package edge

import "fmt"

// UPU standard S10 numbers ("RR123456785FR") identify postal items: two
// letters (service indicator), eight serial digits, a check digit, two
// letters (ISO 3166 country of the issuing operator). This file is the one
// place that knows how: the scanner checks them, the cloud makes them.

// s10Weights are the weights of the check digit over the eight serial
// digits.
var s10Weights = [8]int{8, 6, 4, 2, 3, 5, 9, 7}

// IsS10Shape reports whether s is laid out as a UPU S10 number, whatever
// its check digit.
func IsS10Shape(s string) bool {
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
// as 5. It returns an EINVALID error when serial is not eight digits.
func S10CheckDigit(serial string) (int, error) {
	if len(serial) != 8 {
		return 0, Errorf(EINVALID, "An S10 serial is 8 digits, not %q.", serial)
	}
	sum := 0
	for i := 0; i < 8; i++ {
		c := serial[i]
		if c < '0' || c > '9' {
			return 0, Errorf(EINVALID, "An S10 serial is 8 digits, not %q.", serial)
		}
		sum += int(c-'0') * s10Weights[i]
	}
	switch d := 11 - sum%11; d {
	case 10:
		return 0, nil
	case 11:
		return 5, nil
	default:
		return d, nil
	}
}

// S10 returns the UPU S10 number of a two-letter service indicator, an
// eight-digit serial and a two-letter country: "CB" "12345678" "FR" gives
// "CB12345678" + its check digit + "FR". Errors are EINVALID.
func S10(service, serial, country string) (string, error) {
	d, err := S10CheckDigit(serial)
	if err != nil {
		return "", err
	}
	s := fmt.Sprintf("%s%s%d%s", service, serial, d, country)
	if !IsS10Shape(s) {
		return "", Errorf(EINVALID, "The S10 service %q and country %q must be 2 capital letters each.", service, country)
	}
	return s, nil
}

// CheckS10 checks that s is a UPU S10 number with a correct check digit. It
// returns a refusal: UNKNOWN_FORMAT when s is not laid out as one,
// BAD_CHECK_DIGIT when its check digit is wrong.
func CheckS10(s string) error {
	if !IsS10Shape(s) {
		return Refuse(UnknownFormat, "Not a UPU S10 number (two letters, nine digits, two letters).")
	}
	if d, _ := S10CheckDigit(s[2:10]); d != int(s[10]-'0') {
		return Refuse(BadCheckDigit, "The tracking number %s has a wrong check digit: it was misread or mistyped.", s)
	}
	return nil
}

// ValidS10 reports whether s is a UPU S10 number with a correct check digit.
func ValidS10(s string) bool { return CheckS10(s) == nil }
