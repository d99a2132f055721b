package scanner_test

import (
	"fmt"
	"testing"

	"github.com/comptoir/comptoir/edge"
	"github.com/comptoir/comptoir/scanner"
)

func TestCheckS10(t *testing.T) {
	tests := []struct {
		s    string
		want string
	}{
		// Published examples: UPU S10 standard, and Wikipedia's S10 article.
		{"AA473124829GB", ""},
		{"RR123456785FR", ""},
		// Check digits worked by hand: 87654321 weighs 192, 11-192%11 = 6;
		// 00000000 gives 11, read as 5; 70000000 weighs 56, 11-1 = 10, read as 0.
		{"EE876543216US", ""},
		{"RR000000005FR", ""},
		{"RR700000000FR", ""},
		{"EE876543210US", string(edge.BadCheckDigit)},
		{"RR123456789FR", string(edge.BadCheckDigit)},
		{"AA473124828GB", string(edge.BadCheckDigit)},
		{"RR12345678FR", string(edge.UnknownFormat)},
		{"RR1234567855FR", string(edge.UnknownFormat)},
		{"R1123456785FR", string(edge.UnknownFormat)},
		{"RR123456785F1", string(edge.UnknownFormat)},
		{"rr123456785fr", string(edge.UnknownFormat)},
		{"RR12345678XFR", string(edge.UnknownFormat)},
		{"", string(edge.UnknownFormat)},
	}
	for _, tt := range tests {
		t.Run(tt.s, func(t *testing.T) {
			if got := edge.ErrorCode(scanner.CheckS10(tt.s)); got != tt.want {
				t.Errorf("CheckS10(%q) = %q, want %q", tt.s, got, tt.want)
			}
		})
	}
}

// TestCheckS10_AllCheckDigits builds numbers from the algorithm's definition
// and checks that exactly one check digit is accepted for each serial.
func TestCheckS10_AllCheckDigits(t *testing.T) {
	weights := []int{8, 6, 4, 2, 3, 5, 9, 7}
	for _, serial := range []int{0, 1, 12345678, 47312482, 70000000, 99999999, 31415926, 27182818, 11111111, 50505050} {
		s := fmt.Sprintf("%08d", serial)
		sum := 0
		for i, w := range weights {
			sum += int(s[i]-'0') * w
		}
		want := 11 - sum%11
		if want == 10 {
			want = 0
		} else if want == 11 {
			want = 5
		}
		for d := 0; d <= 9; d++ {
			n := fmt.Sprintf("LA%s%dCH", s, d)
			err := scanner.CheckS10(n)
			if (d == want) != (err == nil) {
				t.Errorf("CheckS10(%q) = %v; check digit should be %d", n, err, want)
			}
		}
	}
}
