package token_test

import (
	"encoding/json"
	"os"
	"path/filepath"
	"sync"
	"testing"

	"github.com/comptoir/comptoir/edge"
	"github.com/comptoir/comptoir/scanner/token"
)

func TestTrustList_JWKSRoundTrip(t *testing.T) {
	a, b := MustKey(t, "iss-a"), MustKey(t, "iss-b")
	src := token.NewTrustList()
	src.AddKey(b.ID, b.Public())
	src.AddKey(a.ID, a.Public())
	src.Revoke("ra-2", "ra-1")

	data := src.MarshalJWKS()
	want := `{"keys":[` +
		`{"kty":"OKP","crv":"Ed25519","kid":"iss-a","x":"` + token.EncodePublicKey(a.Public()) + `","use":"sig","alg":"EdDSA"},` +
		`{"kty":"OKP","crv":"Ed25519","kid":"iss-b","x":"` + token.EncodePublicKey(b.Public()) + `","use":"sig","alg":"EdDSA"}` +
		`],"revoked":["ra-1","ra-2"]}`
	if string(data) != want {
		t.Errorf("MarshalJWKS:\n got %s\nwant %s", data, want)
	}

	dst := token.NewTrustList()
	dst.AddKey("stale", MustKey(t, "stale").Public())
	dst.Revoke("stale-ra")
	if err := dst.LoadJWKS(data); err != nil {
		t.Fatal(err)
	}
	if got := string(dst.MarshalJWKS()); got != want {
		t.Errorf("after LoadJWKS:\n got %s\nwant %s", got, want)
	}
	if _, ok := dst.Key("stale"); ok {
		t.Error("LoadJWKS kept a key the new list does not name")
	}
	if dst.Revoked("stale-ra") || !dst.Revoked("ra-1") {
		t.Error("LoadJWKS did not replace the revocations")
	}
	if _, err := token.VerifyRA(dst, MustSignRA(t, a, TypicalRA()), now); err != nil {
		t.Errorf("token of a loaded key: %v", err)
	}

	empty := token.NewTrustList().MarshalJWKS()
	if string(empty) != `{"keys":[],"revoked":[]}` {
		t.Errorf("empty list: %s", empty)
	}
}

func TestTrustList_LoadJWKS(t *testing.T) {
	good := token.EncodePublicKey(MustKey(t, "k").Public())
	tests := []struct {
		name     string
		data     string
		wantErr  bool
		wantKids []string
	}{
		{"not json", `{"keys":`, true, nil},
		{"no keys member", `{"revoked":[]}`, true, nil},
		{"keys not an array", `{"keys":{}}`, true, nil},
		{"bad x", `{"keys":[{"kty":"OKP","crv":"Ed25519","kid":"k","x":"AAAA"}]}`, true, nil},
		{"x not base64url", `{"keys":[{"kty":"OKP","crv":"Ed25519","kid":"k","x":"*"}]}`, true, nil},
		{"no kid", `{"keys":[{"kty":"OKP","crv":"Ed25519","x":"` + good + `"}]}`, true, nil},
		{"duplicate kid", `{"keys":[{"kty":"OKP","crv":"Ed25519","kid":"k","x":"` + good + `"},{"kty":"OKP","crv":"Ed25519","kid":"k","x":"` + good + `"}]}`, true, nil},
		{"skips other key types", `{"keys":[{"kty":"RSA","kid":"r","n":"x","e":"AQAB"},{"kty":"OKP","crv":"X25519","kid":"x","x":"` + good + `"},{"kty":"EC","crv":"P-256","kid":"e"},{"kty":"OKP","crv":"Ed25519","kid":"k","x":"` + good + `"}]}`, false, []string{"k"}},
		{"skips encryption keys", `{"keys":[{"kty":"OKP","crv":"Ed25519","kid":"enc","use":"enc","x":"` + good + `"},{"kty":"OKP","crv":"Ed25519","kid":"k","x":"` + good + `"}]}`, false, []string{"k"}},
		{"plain JWKS without revoked", `{"keys":[{"kty":"OKP","crv":"Ed25519","kid":"k","x":"` + good + `"}]}`, false, []string{"k"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tl := token.NewTrustList()
			tl.AddKey("before", MustKey(t, "before").Public())
			err := tl.LoadJWKS([]byte(tt.data))
			if tt.wantErr {
				if edge.ErrorCode(err) != edge.EINVALID {
					t.Fatalf("got %v, want code %s", err, edge.EINVALID)
				}
				if _, ok := tl.Key("before"); !ok {
					t.Error("a refused JWKS changed the list")
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			var set struct{ Keys []struct{ Kid string } }
			if err := json.Unmarshal(tl.MarshalJWKS(), &set); err != nil {
				t.Fatal(err)
			}
			var kids []string
			for _, k := range set.Keys {
				kids = append(kids, k.Kid)
			}
			if len(kids) != len(tt.wantKids) || (len(kids) > 0 && kids[0] != tt.wantKids[0]) {
				t.Errorf("kids: got %v, want %v", kids, tt.wantKids)
			}
		})
	}
}

func TestLoadTrustFile(t *testing.T) {
	k := MustKey(t, "iss")
	src := token.NewTrustList()
	src.AddKey(k.ID, k.Public())
	path := filepath.Join(t.TempDir(), "trust.json")
	if err := os.WriteFile(path, src.MarshalJWKS(), 0o644); err != nil {
		t.Fatal(err)
	}
	tl, err := token.LoadTrustFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := token.VerifyRA(tl, MustSignRA(t, k, TypicalRA()), now); err != nil {
		t.Errorf("VerifyRA with loaded file: %v", err)
	}
	if _, err := token.LoadTrustFile(filepath.Join(t.TempDir(), "missing.json")); err == nil {
		t.Error("missing file: no error")
	}
}

// TestTrustList_Concurrent verifies while the list is replaced, added to and
// revoked from; run with -race to check the locking.
func TestTrustList_Concurrent(t *testing.T) {
	k := MustKey(t, "iss")
	tl := token.NewTrustList()
	tl.AddKey(k.ID, k.Public())
	jwks := tl.MarshalJWKS()
	tok := MustSignRA(t, k, TypicalRA())

	var wg sync.WaitGroup
	for w := 0; w < 4; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < 200; i++ {
				switch w {
				case 0:
					if err := tl.LoadJWKS(jwks); err != nil {
						t.Error(err)
						return
					}
				case 1:
					tl.Revoke("other")
					tl.AddKey("x", k.Public())
					tl.RemoveKey("x")
				default:
					if _, err := token.VerifyRA(tl, tok, now); err != nil {
						t.Error(err)
						return
					}
				}
			}
		}()
	}
	wg.Wait()
}
