// Package scanner turns what the counter's camera and handheld scanner see
// into codes: images into barcode symbols (with gozxing), and the text of a
// symbol into an edge.Code: a verified return authorisation, a carrier
// tracking number, or a refusal.
package scanner

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/comptoir/comptoir/edge"
	"github.com/comptoir/comptoir/scanner/token"
)

// MaxTextSize is the longest text Read accepts. An RA token is well under
// 1 KiB; a longer text is noise from a scanner or an attack.
const MaxTextSize = 4096

// Reader reads the text of scanned symbols: what a HID scanner types, what
// the decoder finds in a camera frame, or what a clerk keys in.
type Reader struct {
	// Trust holds the issuer keys and revocations that RAs are checked
	// against; with a nil Trust every RA is from an unknown issuer.
	Trust *token.TrustList
	// Now is the clock; time.Now when nil.
	Now func() time.Time
}

var _ edge.CodeReader = (*Reader)(nil)

// Read returns the Code that text holds. A compact JWT of an RA is verified
// against r.Trust; a UPU S10 number has its check digit checked; another
// plausible carrier tracking number is taken as is, unverified. It returns an
// *edge.Error with a refusal code: UNREADABLE for empty, oversized or
// control-character text, UNKNOWN_FORMAT for text that is none of these,
// BAD_CHECK_DIGIT, and VerifyRA's refusals for RAs. When the text could be
// parsed the partial Code (kind and digest; for an RA whose signature is good
// but which is expired, premature or revoked, also its claims, unverified) is
// returned with the error.
func (r *Reader) Read(ctx context.Context, text string) (edge.Code, error) {
	if len(text) > MaxTextSize {
		return edge.Code{Digest: edge.Digest(text)}, edge.Refuse(edge.Unreadable, "The code is too long (%d bytes).", len(text))
	}
	// HID scanners end with Enter (CR, LF or both); people add spaces.
	text = strings.TrimSpace(text)
	if text == "" {
		return edge.Code{Digest: edge.Digest(text)}, edge.Refuse(edge.Unreadable, "The code is empty.")
	}
	if !printable(text) {
		return edge.Code{Digest: edge.Digest(text)}, edge.Refuse(edge.Unreadable, "The code holds unreadable characters.")
	}

	switch typ, ok := jwtType(text); {
	case ok && typ == token.TypReceipt:
		return edge.Code{Digest: edge.Digest(text)}, edge.Refuse(edge.UnknownFormat, "This is a deposit receipt, not a return code.")
	case ok:
		return r.readRA(text)
	}

	if edge.IsS10Shape(text) {
		code := edge.Code{Kind: edge.KindTracking, Tracking: text, Mode: edge.ModePrelabelled, Digest: edge.Digest(text)}
		if err := edge.CheckS10(text); err != nil {
			return code, err
		}
		return code, nil
	}
	if trackingShape(text) {
		return edge.Code{Kind: edge.KindTracking, Tracking: text, Mode: edge.ModePrelabelled, Digest: edge.Digest(text)}, nil
	}
	return edge.Code{Digest: edge.Digest(text)}, edge.Refuse(edge.UnknownFormat, "This code is neither a return code nor a parcel tracking number.")
}

// readRA verifies the RA token text.
func (r *Reader) readRA(text string) (edge.Code, error) {
	now := time.Now
	if r.Now != nil {
		now = r.Now
	}
	trust := r.Trust
	if trust == nil {
		trust = token.NewTrustList()
	}
	code := edge.Code{Kind: edge.KindReturn, Digest: edge.Digest(text)}
	ra, err := token.VerifyRA(trust, text, now())
	if ra.ID != "" {
		// VerifyRA returns claims only once their signature is good.
		code.Tracking, code.Carrier, code.Mode, code.RA = ra.Tracking, ra.Carrier, ra.Mode, &ra
	}
	if err != nil {
		return code, err
	}
	code.Verified = true
	if code.Mode == "" {
		code.Mode = edge.ModeLabelAtCounter
	}
	return code, nil
}

// jwtType reports whether text looks like a compact JWT (three base64url
// parts, the first a JSON object with an "alg") and returns its "typ".
func jwtType(text string) (string, bool) {
	if strings.Count(text, ".") != 2 {
		return "", false
	}
	for _, c := range text {
		if !(c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-' || c == '_' || c == '.') {
			return "", false
		}
	}
	b, err := base64.RawURLEncoding.DecodeString(text[:strings.IndexByte(text, '.')])
	if err != nil {
		return "", false
	}
	var h struct {
		Alg *string `json:"alg"`
		Typ string  `json:"typ"`
	}
	if err := json.Unmarshal(b, &h); err != nil || h.Alg == nil {
		return "", false
	}
	return h.Typ, true
}

// printable reports whether s is valid UTF-8 without control characters.
func printable(s string) bool {
	if !utf8.ValidString(s) {
		return false
	}
	for _, c := range s {
		if unicode.IsControl(c) {
			return false
		}
	}
	return true
}

// trackingShape reports whether s may be a carrier's tracking number: 8 to
// 40 capital letters and digits, at least one a digit. The carrier's own
// systems check it further; the counter takes it unverified.
func trackingShape(s string) bool {
	if len(s) < 8 || len(s) > 40 {
		return false
	}
	digits := 0
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case c >= '0' && c <= '9':
			digits++
		case c >= 'A' && c <= 'Z':
		default:
			return false
		}
	}
	return digits > 0
}
