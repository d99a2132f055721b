package token_test

import (
	"strings"
	"testing"

	"github.com/comptoir/comptoir/edge"
	"github.com/comptoir/comptoir/scanner/token"
)

func FuzzVerifyRA(f *testing.F) {
	k := MustKey(f, "iss-1")
	trust := token.NewTrustList()
	trust.AddKey(k.ID, k.Public())
	trust.Revoke("ra-revoked")
	good := MustSignRA(f, k, TypicalRA())
	parts := strings.Split(good, ".")
	for _, s := range []string{
		good, parts[0] + "." + parts[1] + ".", parts[0] + ".e30." + parts[2],
		forge(`{"alg":"none","kid":"iss-1","typ":"comptoir-ra+jwt"}`, `{"iss":"i","jti":"j","exp":9999999999,"trk":"T"}`, nil, nil),
		forge(`{"alg":"EdDSA","kid":"iss-1","typ":"comptoir-ra+jwt"}`, `{"iss":"i","jti":"ra-revoked","exp":9999999999,"trk":"T","exp":1.5e9}`, &k, nil),
		"", ".", "..", "a.b.c",
	} {
		f.Add(s)
	}
	refusals := map[string]bool{
		string(edge.BadSignature): true, string(edge.UnknownIssuer): true, string(edge.Expired): true,
		string(edge.NotYetValid): true, string(edge.Revoked): true,
	}
	f.Fuzz(func(t *testing.T, tok string) {
		ra, err := token.VerifyRA(trust, tok, now)
		if err != nil {
			if !refusals[edge.ErrorCode(err)] {
				t.Fatalf("error %v is not an RA refusal", err)
			}
			return
		}
		if ra.Issuer == "" || ra.ID == "" || ra.Tracking == "" || ra.ExpiresAt.Before(now.Add(-token.ClockSkew)) || ra.Mode == "" {
			t.Fatalf("accepted RA %+v", ra)
		}
		// Anything accepted was signed by k: re-signing its claims gives a
		// token that verifies the same.
		again, err := token.SignRA(k, ra)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := token.VerifyRA(trust, again, now); err != nil {
			t.Fatalf("re-signed: %v", err)
		}
	})
}
