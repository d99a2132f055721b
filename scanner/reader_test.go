package scanner_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/comptoir/comptoir/edge"
	"github.com/comptoir/comptoir/scanner"
	"github.com/comptoir/comptoir/scanner/token"
)

var now = time.Date(2026, 11, 22, 10, 15, 3, 0, time.UTC)

// MustIssuer returns an issuer key and a reader that trusts it.
func MustIssuer(tb testing.TB) (token.Key, *scanner.Reader) {
	tb.Helper()
	k, err := token.GenerateKey("iss-1")
	if err != nil {
		tb.Fatal(err)
	}
	trust := token.NewTrustList()
	trust.AddKey(k.ID, k.Public())
	trust.Revoke("ra-revoked")
	return k, &scanner.Reader{Trust: trust, Now: func() time.Time { return now }}
}

// MustRA signs an RA of id id that expires at exp.
func MustRA(tb testing.TB, k token.Key, id string, exp time.Time, mode string) string {
	tb.Helper()
	tok, err := token.SignRA(k, edge.ReturnAuthorisation{
		Issuer: "shop-42", ID: id, ExpiresAt: exp, Tracking: "XY123456785FR", Carrier: "relais", Mode: mode,
		Items: []edge.Item{{SKU: "A", Qty: 1, Reason: edge.ReasonDamaged}},
	})
	if err != nil {
		tb.Fatal(err)
	}
	return tok
}

func TestReader_Read(t *testing.T) {
	k, r := MustIssuer(t)
	good := MustRA(t, k, "ra-1", now.Add(time.Hour), "")
	prelabelled := MustRA(t, k, "ra-2", now.Add(time.Hour), edge.ModePrelabelled)
	expired := MustRA(t, k, "ra-3", now.Add(-time.Hour), "")
	revoked := MustRA(t, k, "ra-revoked", now.Add(time.Hour), "")
	stranger, _ := token.GenerateKey("stranger")
	unknown := MustRA(t, stranger, "ra-4", now.Add(time.Hour), "")
	receipt, err := token.SignReceipt(k, edge.Receipt{ID: "r", Tracking: "T", At: now})
	if err != nil {
		t.Fatal(err)
	}

	tests := []struct {
		name     string
		text     string
		wantErr  edge.RefusalCode
		kind     edge.CodeKind
		tracking string
		mode     string
		verified bool
	}{
		{"RA", good, "", edge.KindReturn, "XY123456785FR", edge.ModeLabelAtCounter, true},
		{"RA with Enter from a HID scanner", " " + good + "\r\n", "", edge.KindReturn, "XY123456785FR", edge.ModeLabelAtCounter, true},
		{"prelabelled RA", prelabelled, "", edge.KindReturn, "XY123456785FR", edge.ModePrelabelled, true},
		{"expired RA", expired, edge.Expired, edge.KindReturn, "XY123456785FR", edge.ModeLabelAtCounter, false},
		{"revoked RA", revoked, edge.Revoked, edge.KindReturn, "XY123456785FR", edge.ModeLabelAtCounter, false},
		{"RA of an unknown issuer", unknown, edge.UnknownIssuer, edge.KindReturn, "", "", false},
		{"tampered RA", good[:len(good)-4] + "AAAA", edge.BadSignature, edge.KindReturn, "", "", false},
		{"receipt is not a return code", receipt, edge.UnknownFormat, "", "", "", false},
		{"S10", "RR123456785FR", "", edge.KindTracking, "RR123456785FR", edge.ModePrelabelled, false},
		{"S10 with LF", "AA473124829GB\n", "", edge.KindTracking, "AA473124829GB", edge.ModePrelabelled, false},
		{"S10 bad check digit", "RR123456789FR", edge.BadCheckDigit, edge.KindTracking, "RR123456789FR", edge.ModePrelabelled, false},
		{"other carrier number", "1Z999AA10123456784", "", edge.KindTracking, "1Z999AA10123456784", edge.ModePrelabelled, false},
		{"long numeric", "00340434161094042557", "", edge.KindTracking, "00340434161094042557", edge.ModePrelabelled, false},
		{"too short", "AB12345", edge.UnknownFormat, "", "", "", false},
		{"letters only", "ABCDEFGHIJ", edge.UnknownFormat, "", "", "", false},
		{"lower case", "rr123456785fr", edge.UnknownFormat, "", "", "", false},
		{"URL", "https://example.com/r/123", edge.UnknownFormat, "", "", "", false},
		{"three dots but not a JWT", "a.b.c", edge.UnknownFormat, "", "", "", false},
		{"empty", "", edge.Unreadable, "", "", "", false},
		{"whitespace", " \t\r\n", edge.Unreadable, "", "", "", false},
		{"control characters", "RR1234\x00\x1b56785FR", edge.Unreadable, "", "", "", false},
		{"invalid UTF-8", "RR\xff\xfe56785FR", edge.Unreadable, "", "", "", false},
		{"too long", strings.Repeat("A1", 2049), edge.Unreadable, "", "", "", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, err := r.Read(context.Background(), tt.text)
			if tt.wantErr == "" && err != nil {
				t.Fatalf("unexpected error %v", err)
			}
			if tt.wantErr != "" {
				var e *edge.Error
				if !errors.As(err, &e) || e.Code != string(tt.wantErr) || len(e.Refusals) != 1 {
					t.Fatalf("got error %v, want refusal %s", err, tt.wantErr)
				}
			}
			if code.Kind != tt.kind || code.Tracking != tt.tracking || code.Mode != tt.mode || code.Verified != tt.verified {
				t.Errorf("got %+v; want kind %q tracking %q mode %q verified %v", code, tt.kind, tt.tracking, tt.mode, tt.verified)
			}
			if code.Digest == "" {
				t.Error("no digest")
			}
			if code.Verified && (code.RA == nil || code.RA.Issuer != "shop-42" || code.Carrier != "relais") {
				t.Errorf("verified code without its RA: %+v", code)
			}
		})
	}
}

func TestReader_Digest(t *testing.T) {
	k, r := MustIssuer(t)
	tok := MustRA(t, k, "ra-1", now.Add(time.Hour), "")
	code, err := r.Read(context.Background(), tok+"\r\n")
	if err != nil {
		t.Fatal(err)
	}
	if code.Digest != edge.Digest(tok) {
		t.Errorf("digest %s, want the digest of the trimmed token %s", code.Digest, edge.Digest(tok))
	}
}

func TestReader_NilTrust(t *testing.T) {
	k, _ := MustIssuer(t)
	r := &scanner.Reader{}
	if _, err := r.Read(context.Background(), MustRA(t, k, "ra-1", time.Now().Add(time.Hour), "")); edge.ErrorCode(err) != string(edge.UnknownIssuer) {
		t.Errorf("got %v, want UNKNOWN_ISSUER", err)
	}
}
