package token_test

import (
	"crypto/ed25519"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/makiuchi-d/gozxing/qrcode/decoder"
	"github.com/makiuchi-d/gozxing/qrcode/encoder"

	"github.com/comptoir/comptoir/edge"
	"github.com/comptoir/comptoir/scanner/token"
)

var now = time.Date(2026, 11, 22, 10, 15, 3, 0, time.UTC)

// MustKey returns a new key with id kid.
func MustKey(tb testing.TB, kid string) token.Key {
	tb.Helper()
	k, err := token.GenerateKey(kid)
	if err != nil {
		tb.Fatal(err)
	}
	return k
}

// TypicalRA is a return of two items to a full warehouse address, with a
// customer name: what a merchant's returns platform issues most days.
func TypicalRA() edge.ReturnAuthorisation {
	return edge.ReturnAuthorisation{
		Issuer:    "shop-42",
		ID:        "019ab3c4-5d6e-7f80-9a1b-2c3d4e5f6a7b",
		IssuedAt:  now.Add(-time.Hour),
		ExpiresAt: now.Add(30 * 24 * time.Hour),
		Tracking:  "XY123456785FR",
		Carrier:   "relais",
		Dest: edge.Address{
			Name: "Retours Mode SAS", Street: "12 rue des Docks", Postcode: "69007", City: "Lyon", Country: "FR",
		},
		Items: []edge.Item{
			{SKU: "TSH-BL-M", Qty: 1, Reason: edge.ReasonWrongSize},
			{SKU: "JNS-32", Qty: 1, Reason: edge.ReasonChangedMind},
		},
		MaxG:     2000,
		Mode:     edge.ModeLabelAtCounter,
		Customer: &edge.Customer{Name: "J. Dupont"},
	}
}

// MustSignRA signs ra with k.
func MustSignRA(tb testing.TB, k token.Key, ra edge.ReturnAuthorisation) string {
	tb.Helper()
	tok, err := token.SignRA(k, ra)
	if err != nil {
		tb.Fatal(err)
	}
	return tok
}

// forge assembles a token from a raw header and claims, signed by k (or
// with sig when k is nil).
func forge(header, claims string, k *token.Key, sig []byte) string {
	s := b64(header) + "." + b64(claims)
	if k != nil {
		sig = ed25519.Sign(k.Private, []byte(s))
	}
	return s + "." + base64.RawURLEncoding.EncodeToString(sig)
}

func b64(s string) string { return base64.RawURLEncoding.EncodeToString([]byte(s)) }

func TestSignRA_RoundTrip(t *testing.T) {
	k := MustKey(t, "iss-1")
	trust := token.NewTrustList()
	trust.AddKey(k.ID, k.Public())

	want := TypicalRA()
	want.NotBefore = now.Add(-time.Minute)
	want.DimsMM = []int{400, 300, 200}
	want.Networks = []string{"net-a", "net-b"}
	want.Hazardous = true
	tok := MustSignRA(t, k, want)

	got, err := token.VerifyRA(trust, tok, now)
	if err != nil {
		t.Fatalf("VerifyRA: %v", err)
	}
	gb, _ := json.Marshal(got)
	wb, _ := json.Marshal(want)
	if string(gb) != string(wb) {
		t.Errorf("claims:\n got %s\nwant %s", gb, wb)
	}
	for _, tm := range []struct{ got, want time.Time }{{got.IssuedAt, want.IssuedAt}, {got.ExpiresAt, want.ExpiresAt}, {got.NotBefore, want.NotBefore}} {
		if !tm.got.Equal(tm.want) {
			t.Errorf("time: got %v, want %v", tm.got, tm.want)
		}
	}

	// The header is exactly DESIGN.md's.
	h, _ := base64.RawURLEncoding.DecodeString(strings.Split(tok, ".")[0])
	if want := `{"alg":"EdDSA","kid":"iss-1","typ":"comptoir-ra+jwt"}`; string(h) != want {
		t.Errorf("header: got %s, want %s", h, want)
	}
}

func TestSignRA_OmitsEmptyClaims(t *testing.T) {
	k := MustKey(t, "k")
	tok := MustSignRA(t, k, edge.ReturnAuthorisation{Issuer: "i", ID: "j", ExpiresAt: now, Tracking: "T"})
	c, _ := base64.RawURLEncoding.DecodeString(strings.Split(tok, ".")[1])
	if want := `{"iss":"i","jti":"j","exp":` + itoa(now.Unix()) + `,"trk":"T"}`; string(c) != want {
		t.Errorf("claims: got %s, want %s", c, want)
	}
}

func itoa(n int64) string { b, _ := json.Marshal(n); return string(b) }

func TestSignRA_RequiresClaims(t *testing.T) {
	k := MustKey(t, "k")
	for _, ra := range []edge.ReturnAuthorisation{
		{ID: "j", ExpiresAt: now, Tracking: "T"},
		{Issuer: "i", ExpiresAt: now, Tracking: "T"},
		{Issuer: "i", ID: "j", Tracking: "T"},
		{Issuer: "i", ID: "j", ExpiresAt: now},
	} {
		if _, err := token.SignRA(k, ra); edge.ErrorCode(err) != edge.EINVALID {
			t.Errorf("SignRA(%+v): got %v, want code %s", ra, err, edge.EINVALID)
		}
	}
	if _, err := token.SignRA(token.Key{ID: "x"}, TypicalRA()); edge.ErrorCode(err) != edge.EINVALID {
		t.Errorf("SignRA without private key: got %v", err)
	}
}

func TestVerifyRA_Refusals(t *testing.T) {
	k := MustKey(t, "iss-1")
	other := MustKey(t, "iss-1") // same kid, another key: a forger's
	trust := token.NewTrustList()
	trust.AddKey(k.ID, k.Public())
	trust.Revoke("revoked-ra")

	good := MustSignRA(t, k, TypicalRA())
	parts := strings.Split(good, ".")
	claims := func(mod func(*edge.ReturnAuthorisation)) string {
		ra := TypicalRA()
		mod(&ra)
		tok := MustSignRA(t, k, ra)
		c, _ := base64.RawURLEncoding.DecodeString(strings.Split(tok, ".")[1])
		return string(c)
	}
	okClaims, _ := base64.RawURLEncoding.DecodeString(parts[1])
	raHeader := `{"alg":"EdDSA","kid":"iss-1","typ":"comptoir-ra+jwt"}`

	// The algorithm-confusion attack: HMAC keyed with the issuer's public
	// key, which anyone has.
	hsSigning := b64(`{"alg":"HS256","typ":"JWT"}`) + "." + b64(fmt.Sprintf(`{"iss":"shop-42","jti":"x","exp":%d,"trk":"T"}`, now.Add(time.Hour).Unix()))
	mac := hmac.New(sha256.New, k.Public())
	mac.Write([]byte(hsSigning))
	hs256 := hsSigning + "." + base64.RawURLEncoding.EncodeToString(mac.Sum(nil))

	tests := []struct {
		name  string
		token string
		now   time.Time
		want  edge.RefusalCode
	}{
		{"tampered payload", parts[0] + "." + b64(strings.Replace(string(okClaims), "XY123456785FR", "XY999999995FR", 1)) + "." + parts[2], now, edge.BadSignature},
		{"signature of another key", MustSignRA(t, other, TypicalRA()), now, edge.BadSignature},
		{"truncated signature", good[:len(good)-10], now, edge.BadSignature},
		{"no signature", parts[0] + "." + parts[1] + ".", now, edge.BadSignature},
		{"two parts", parts[0] + "." + parts[1], now, edge.BadSignature},
		{"header not json", b64("{alg") + "." + parts[1] + "." + parts[2], now, edge.BadSignature},
		{"header not base64", "!!!." + parts[1] + "." + parts[2], now, edge.BadSignature},
		{"alg none", forge(`{"alg":"none","kid":"iss-1","typ":"comptoir-ra+jwt"}`, string(okClaims), nil, nil), now, edge.BadSignature},
		{"alg none signed anyway", forge(`{"alg":"none","kid":"iss-1","typ":"comptoir-ra+jwt"}`, string(okClaims), &k, nil), now, edge.BadSignature},
		{"alg HS256 with public key as secret", hs256, now, edge.BadSignature},
		{"wrong typ", forge(`{"alg":"EdDSA","kid":"iss-1","typ":"JWT"}`, string(okClaims), &k, nil), now, edge.BadSignature},
		{"crit header", forge(`{"alg":"EdDSA","kid":"iss-1","typ":"comptoir-ra+jwt","crit":["b64"],"b64":false}`, string(okClaims), &k, nil), now, edge.BadSignature},
		{"receipt typ", forge(`{"alg":"EdDSA","kid":"iss-1","typ":"comptoir-receipt+jwt"}`, string(okClaims), &k, nil), now, edge.BadSignature},
		{"claims not json", forge(raHeader, `{"iss":`, &k, nil), now, edge.BadSignature},
		{"missing trk", forge(raHeader, `{"iss":"i","jti":"j","exp":9999999999}`, &k, nil), now, edge.BadSignature},
		{"missing exp", forge(raHeader, `{"iss":"i","jti":"j","trk":"T"}`, &k, nil), now, edge.BadSignature},
		{"exp a string", forge(raHeader, `{"iss":"i","jti":"j","trk":"T","exp":"soon"}`, &k, nil), now, edge.BadSignature},
		{"unknown kid", MustSignRA(t, MustKey(t, "stranger"), TypicalRA()), now, edge.UnknownIssuer},
		{"no kid", forge(`{"alg":"EdDSA","typ":"comptoir-ra+jwt"}`, string(okClaims), &k, nil), now, edge.UnknownIssuer},
		{"expired", good, now.Add(30*24*time.Hour + ClockSkewPlus), edge.Expired},
		{"not yet valid", forge(raHeader, claims(func(ra *edge.ReturnAuthorisation) { ra.NotBefore = now.Add(time.Hour) }), &k, nil), now, edge.NotYetValid},
		{"revoked", forge(raHeader, claims(func(ra *edge.ReturnAuthorisation) { ra.ID = "revoked-ra" }), &k, nil), now, edge.Revoked},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := token.VerifyRA(trust, tt.token, tt.now)
			var e *edge.Error
			if !errors.As(err, &e) {
				t.Fatalf("got %v, want *edge.Error %s", err, tt.want)
			}
			if e.Code != string(tt.want) || len(e.Refusals) != 1 || e.Refusals[0] != tt.want {
				t.Errorf("got code %s refusals %v, want %s", e.Code, e.Refusals, tt.want)
			}
		})
	}
}

const ClockSkewPlus = token.ClockSkew + time.Second

func TestVerifyRA_ClockSkew(t *testing.T) {
	k := MustKey(t, "k")
	trust := token.NewTrustList()
	trust.AddKey(k.ID, k.Public())
	ra := TypicalRA()
	ra.NotBefore = now.Add(time.Hour)
	tok := MustSignRA(t, k, ra)

	for _, tt := range []struct {
		name string
		at   time.Time
		want string
	}{
		{"nbf within skew", ra.NotBefore.Add(-token.ClockSkew), ""},
		{"nbf beyond skew", ra.NotBefore.Add(-ClockSkewPlus), string(edge.NotYetValid)},
		{"exp within skew", ra.ExpiresAt.Add(token.ClockSkew), ""},
		{"exp beyond skew", ra.ExpiresAt.Add(ClockSkewPlus), string(edge.Expired)},
	} {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := token.VerifyRA(trust, tok, tt.at); edge.ErrorCode(err) != tt.want {
				t.Errorf("got %v, want code %q", err, tt.want)
			}
		})
	}
}

func TestVerifyRA_KeyRotation(t *testing.T) {
	old, next := MustKey(t, "iss-2026a"), MustKey(t, "iss-2026b")
	trust := token.NewTrustList()
	trust.AddKey(old.ID, old.Public())
	trust.AddKey(next.ID, next.Public())

	oldTok, nextTok := MustSignRA(t, old, TypicalRA()), MustSignRA(t, next, TypicalRA())
	for _, tok := range []string{oldTok, nextTok} {
		if _, err := token.VerifyRA(trust, tok, now); err != nil {
			t.Errorf("both keys trusted: %v", err)
		}
	}
	trust.RemoveKey(old.ID)
	if _, err := token.VerifyRA(trust, oldTok, now); edge.ErrorCode(err) != string(edge.UnknownIssuer) {
		t.Errorf("retired key: got %v, want UNKNOWN_ISSUER", err)
	}
	if _, err := token.VerifyRA(trust, nextTok, now); err != nil {
		t.Errorf("new key after retirement: %v", err)
	}
}

// TestRA_TokenSize measures RA tokens against the QR code a phone shows
// reliably: version 15 at error correction M, 412 bytes. A compact JWT spends
// 155 bytes on its header and Ed25519 signature, and base64url adds a third
// to the claims, so only a lean RA fits. The figures are logged; the lean RA
// must fit v15-M, and the richer ones must not need a denser QR code than
// they need today.
func TestRA_TokenSize(t *testing.T) {
	k := MustKey(t, "s42")
	typical := TypicalRA()
	warehouse := TypicalRA()
	warehouse.Dest = edge.Address{Name: "WH-LYS7"} // a warehouse id of the network's directory
	lean := edge.ReturnAuthorisation{
		Issuer: "shop-42", ID: typical.ID, ExpiresAt: typical.ExpiresAt, Tracking: typical.Tracking,
		Dest:  edge.Address{Name: "WH-LYS7"},
		Items: typical.Items[:1],
	}
	tests := []struct {
		name       string
		ra         edge.ReturnAuthorisation
		maxVersion int
	}{
		{"typical: 2 items, full address, cust", typical, 21},
		{"typical with a warehouse id", warehouse, 19},
		{"lean: warehouse id, 1 item, only required claims", lean, 15},
	}
	for _, tt := range tests {
		tok := MustSignRA(t, k, tt.ra)
		qr, err := encoder.Encoder_encodeWithoutHint(tok, decoder.ErrorCorrectionLevel_M)
		if err != nil {
			t.Fatal(err)
		}
		v := qr.GetVersion().GetVersionNumber()
		t.Logf("%-50s %4d bytes, QR version %d-M", tt.name, len(tok), v)
		if v > tt.maxVersion {
			t.Errorf("%s: %d bytes need QR version %d-M, above %d", tt.name, len(tok), v, tt.maxVersion)
		}
	}
}

// TestVerifyRA_IssuerBinding: a key bound to one merchant verifies that
// merchant's codes only, also after the trust list went through its JWK
// set (as it reaches terminals); an unbound key (lists from before
// merchants) still verifies any issuer's.
func TestVerifyRA_IssuerBinding(t *testing.T) {
	a, b := MustKey(t, "k-a"), MustKey(t, "k-b")
	sent := token.NewTrustList()
	sent.AddIssuerKey("acme", a.ID, a.Public())
	sent.AddIssuerKey("bolt", b.ID, b.Public())
	trust := token.NewTrustList()
	if err := trust.LoadJWKS(sent.MarshalJWKS()); err != nil {
		t.Fatal(err)
	}
	if iss, bound := trust.Issuer(a.ID); !bound || iss != "acme" {
		t.Fatalf("Issuer(k-a) = %q, %v after the JWK set; want acme", iss, bound)
	}
	claim := func(iss string) edge.ReturnAuthorisation { ra := TypicalRA(); ra.Issuer = iss; return ra }
	if _, err := token.VerifyRA(trust, MustSignRA(t, a, claim("acme")), now); err != nil {
		t.Errorf("acme's code with acme's key: %v", err)
	}
	if _, err := token.VerifyRA(trust, MustSignRA(t, a, claim("bolt")), now); edge.ErrorCode(err) != string(edge.UnknownIssuer) {
		t.Errorf("code claiming bolt signed with acme's key: got %v, want UNKNOWN_ISSUER", err)
	}
	legacy := MustKey(t, "iss-old")
	trust.AddKey(legacy.ID, legacy.Public())
	if _, err := token.VerifyRA(trust, MustSignRA(t, legacy, claim("anyone")), now); err != nil {
		t.Errorf("unbound key: %v", err)
	}
}
