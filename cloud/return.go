package cloud

import (
	"fmt"
	"strings"
	"time"
)

// Return is a return authorisation the cloud issued.
type Return struct {
	ID        string    `json:"ra_id"`
	Tracking  string    `json:"tracking"`
	Carrier   string    `json:"carrier"`
	Token     string    `json:"token"`
	CreatedAt time.Time `json:"created_at"`
	ExpiresAt time.Time `json:"expires_at"`
}

// s10Weights are the weights of the UPU S10 check digit, over the 8 serial
// digits.
var s10Weights = [8]int{8, 6, 4, 2, 3, 5, 9, 7}

// S10CheckDigit returns the check digit of the 8-digit serial of a UPU S10
// number: 11 minus the weighted sum modulo 11, with 10 giving 0 and 11
// giving 5.
func S10CheckDigit(serial string) (int, error) {
	if len(serial) != 8 {
		return 0, fmt.Errorf("s10: serial %q is not 8 digits", serial)
	}
	sum := 0
	for i, r := range serial {
		if r < '0' || r > '9' {
			return 0, fmt.Errorf("s10: serial %q is not 8 digits", serial)
		}
		sum += int(r-'0') * s10Weights[i]
	}
	switch c := 11 - sum%11; c {
	case 10:
		return 0, nil
	case 11:
		return 5, nil
	default:
		return c, nil
	}
}

// S10 returns the UPU S10 number of a 2-letter service indicator, an
// 8-digit serial and a 2-letter ISO country code: "CB12345678" + check +
// "FR".
func S10(service, serial, country string) (string, error) {
	c, err := S10CheckDigit(serial)
	if err != nil {
		return "", err
	}
	if !upper2(service) || !upper2(country) {
		return "", fmt.Errorf("s10: service %q and country %q must be 2 capital letters", service, country)
	}
	return fmt.Sprintf("%s%s%d%s", service, serial, c, country), nil
}

// ValidS10 reports whether s is a UPU S10 number with a correct check digit.
func ValidS10(s string) bool {
	if len(s) != 13 || !upper2(s[:2]) || !upper2(s[11:]) {
		return false
	}
	c, err := S10CheckDigit(s[2:10])
	return err == nil && s[10] == byte('0'+c)
}

func upper2(s string) bool {
	return len(s) == 2 && strings.Trim(s, "ABCDEFGHIJKLMNOPQRSTUVWXYZ") == ""
}
