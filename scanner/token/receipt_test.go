package token_test

import (
	"crypto/ed25519"
	"encoding/base64"
	"strings"
	"testing"
	"time"

	"github.com/comptoir/comptoir/edge"
	"github.com/comptoir/comptoir/scanner/token"
)

func TestReceipt_RoundTrip(t *testing.T) {
	k := MustKey(t, "term-001")
	signer := token.ReceiptSigner{Key: k}
	want := edge.Receipt{ID: "019ab3c4-0000-7000-8000-000000000001", Tracking: "XY123456785FR", RAID: "ra-1", RelayPoint: "rp-lyon-3", At: now, WeightG: 1200, Parcels: 1}
	tok, err := signer.SignReceipt(want)
	if err != nil {
		t.Fatal(err)
	}
	h, _ := base64.RawURLEncoding.DecodeString(strings.Split(tok, ".")[0])
	if string(h) != `{"alg":"EdDSA","kid":"term-001","typ":"comptoir-receipt+jwt"}` {
		t.Errorf("header %s", h)
	}
	c, _ := base64.RawURLEncoding.DecodeString(strings.Split(tok, ".")[1])
	if wantC := `{"rid":"019ab3c4-0000-7000-8000-000000000001","trk":"XY123456785FR","ra":"ra-1","rp":"rp-lyon-3","at":` + itoa(now.Unix()) + `,"wt":1200,"n":1}`; string(c) != wantC {
		t.Errorf("claims:\n got %s\nwant %s", c, wantC)
	}

	lookup := func(kid string) (ed25519.PublicKey, bool) {
		if kid == "term-001" {
			return k.Public(), true
		}
		return nil, false
	}
	got, err := token.VerifyReceipt(lookup, tok)
	if err != nil {
		t.Fatal(err)
	}
	if !got.At.Equal(want.At) {
		t.Errorf("At: got %v, want %v", got.At, want.At)
	}
	got.At = want.At
	if got != want {
		t.Errorf("got %+v, want %+v", got, want)
	}

	// A receipt of a synced time says so in one more claim; the claims
	// above (of a time not synced) are those receipts had before.
	want.TimeSynced = true
	if tok, err = signer.SignReceipt(want); err != nil {
		t.Fatal(err)
	}
	if c, _ := base64.RawURLEncoding.DecodeString(strings.Split(tok, ".")[1]); !strings.HasSuffix(string(c), `,"n":1,"sync":true}`) {
		t.Errorf("claims of a synced receipt: %s, want sync:true", c)
	}
	if got, err = token.VerifyReceipt(lookup, tok); err != nil || !got.TimeSynced {
		t.Errorf("verified synced receipt: %+v, %v; want TimeSynced", got, err)
	}
}

func TestVerifyReceipt_Refusals(t *testing.T) {
	k := MustKey(t, "term-001")
	tl := token.NewTrustList()
	tl.AddKey(k.ID, k.Public())
	r := edge.Receipt{ID: "r1", Tracking: "T1", RelayPoint: "rp", At: now, WeightG: 10, Parcels: 1}
	good, err := token.SignReceipt(k, r)
	if err != nil {
		t.Fatal(err)
	}
	parts := strings.Split(good, ".")
	ra := MustSignRA(t, k, TypicalRA())
	impostor, _ := token.SignReceipt(MustKey(t, "term-001"), r)
	stranger, _ := token.SignReceipt(MustKey(t, "term-999"), r)

	tests := []struct {
		name, token string
		want        edge.RefusalCode
	}{
		{"tampered", parts[0] + "." + b64(`{"rid":"r1","trk":"T2","rp":"rp","at":1,"wt":10,"n":1}`) + "." + parts[2], edge.BadSignature},
		{"another terminal's key", impostor, edge.BadSignature},
		{"an RA is not a receipt", ra, edge.BadSignature},
		{"alg none", forge(`{"alg":"none","kid":"term-001","typ":"comptoir-receipt+jwt"}`, `{"rid":"r1","trk":"T1","at":1}`, nil, nil), edge.BadSignature},
		{"garbage", "not a token", edge.BadSignature},
		{"missing rid", forge(`{"alg":"EdDSA","kid":"term-001","typ":"comptoir-receipt+jwt"}`, `{"trk":"T1","at":1}`, &k, nil), edge.BadSignature},
		{"unknown terminal", stranger, edge.UnknownIssuer},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := token.VerifyReceipt(tl.Key, tt.token); edge.ErrorCode(err) != string(tt.want) {
				t.Errorf("got %v, want %s", err, tt.want)
			}
		})
	}

	if _, err := token.SignReceipt(k, edge.Receipt{Tracking: "T", At: time.Now()}); edge.ErrorCode(err) != edge.EINVALID {
		t.Errorf("receipt without id: got %v, want INVALID", err)
	}
}
