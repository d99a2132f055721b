package token_test

import (
	"strings"
	"testing"

	"github.com/comptoir/comptoir/scanner/token"
)

// BenchmarkQRPNG renders the QR code of a receipt-sized token, read-back
// included.
func BenchmarkQRPNG(b *testing.B) {
	text := strings.Repeat("eyJhbGciOiJFZERTQSJ9", 16)
	for b.Loop() {
		if _, err := token.QRPNG(text); err != nil {
			b.Fatal(err)
		}
	}
}
