package token_test

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"

	"github.com/comptoir/comptoir/edge"
	"github.com/comptoir/comptoir/scanner/token"
)

func TestLoadOrCreateKey(t *testing.T) {
	path := filepath.Join(t.TempDir(), "keys", "receipt.json")
	k, created, err := token.LoadOrCreateKey(path, "term-001")
	if err != nil || !created {
		t.Fatalf("first call: created=%v err=%v", created, err)
	}
	if k.ID != "term-001" || len(k.Public()) != 32 {
		t.Errorf("key: id %q, public %d bytes", k.ID, len(k.Public()))
	}
	st, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if st.Mode().Perm() != 0o600 {
		t.Errorf("file mode %v, want 0600", st.Mode().Perm())
	}
	if st, _ := os.Stat(filepath.Dir(path)); st.Mode().Perm() != 0o700 {
		t.Errorf("dir mode %v, want 0700", st.Mode().Perm())
	}

	again, created, err := token.LoadOrCreateKey(path, "term-001")
	if err != nil || created {
		t.Fatalf("second call: created=%v err=%v", created, err)
	}
	if !bytes.Equal(again.Private, k.Private) {
		t.Error("second call returned another key")
	}
	if any, _, err := token.LoadOrCreateKey(path, ""); err != nil || any.ID != "term-001" {
		t.Errorf("load with empty kid: id %q err %v", any.ID, err)
	}
	if _, _, err := token.LoadOrCreateKey(path, "term-002"); edge.ErrorCode(err) != edge.ECONFLICT {
		t.Errorf("other kid: got %v, want CONFLICT", err)
	}

	if err := os.Chmod(path, 0o644); err != nil {
		t.Fatal(err)
	}
	if _, _, err := token.LoadOrCreateKey(path, "term-001"); edge.ErrorCode(err) != edge.EFORBIDDEN {
		t.Errorf("world-readable key: got %v, want FORBIDDEN", err)
	}

	bad := filepath.Join(t.TempDir(), "bad.json")
	os.WriteFile(bad, []byte(`{"kid":"x","seed":"short"}`), 0o600)
	if _, _, err := token.LoadOrCreateKey(bad, "x"); edge.ErrorCode(err) != edge.EINVALID {
		t.Errorf("bad seed: got %v, want INVALID", err)
	}
	if _, _, err := token.LoadOrCreateKey(filepath.Join(t.TempDir(), "new.json"), ""); edge.ErrorCode(err) != edge.EINVALID {
		t.Errorf("create without kid: got %v, want INVALID", err)
	}
}

func TestPublicKeyEncoding(t *testing.T) {
	pub := MustKey(t, "k").Public()
	s := token.EncodePublicKey(pub)
	if len(s) != 43 {
		t.Errorf("encoded length %d, want 43", len(s))
	}
	for _, in := range []string{s, s + "="} {
		got, err := token.DecodePublicKey(in)
		if err != nil || !bytes.Equal(got, pub) {
			t.Errorf("DecodePublicKey(%q): %v", in, err)
		}
	}
	for _, in := range []string{"", "AAAA", s[:42], s + "AA", "+/" + s[2:]} {
		if _, err := token.DecodePublicKey(in); edge.ErrorCode(err) != edge.EINVALID {
			t.Errorf("DecodePublicKey(%q): got %v, want INVALID", in, err)
		}
	}
}
