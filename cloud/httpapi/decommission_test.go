package httpapi

import (
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/comptoir/comptoir/edge"
)

// FuzzDecodeDecommission: whatever the body, the decoder answers a reason
// that is trimmed, non-empty, bounded UTF-8 text, or an INVALID error.
func FuzzDecodeDecommission(f *testing.F) {
	for _, s := range []string{
		`{"reason":"stolen"}`, `{"reason":""}`, `{"reason":" \t "}`, `{}`, `null`, `"stolen"`,
		`{"reason":"a"} {}`, `{"reason":"a","x":1}`, `{"reason":"\u0000"}`, `{"reason":"` + strings.Repeat("é", 300) + `"}`,
		`{"reason":"\ud800"}`, `{"reason":1}`, `[`, ``,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		reason, err := decodeDecommission(body)
		if err != nil {
			if edge.ErrorCode(err) != edge.EINVALID || reason != "" {
				t.Fatalf("decode(%q) = %q, %v; want INVALID and no reason", body, reason, err)
			}
			return
		}
		if reason == "" || reason != strings.TrimSpace(reason) || len(reason) > 500 || !utf8.ValidString(reason) {
			t.Fatalf("decode(%q) = %q: not a valid reason", body, reason)
		}
		for _, r := range reason {
			if r < 0x20 || r == 0x7f {
				t.Fatalf("decode(%q) = %q: a control character", body, reason)
			}
		}
	})
}
