// Package token signs and verifies the compact JWTs of Comptoir: return
// authorisations (RA), signed by an issuer in the cloud and verified offline
// by a terminal against its trust list, and proof-of-deposit receipts, signed
// by a terminal and verified by the cloud. Both are EdDSA (Ed25519) tokens,
// RFC 7519 and RFC 8037, kept small enough for a phone screen's QR code.
//
// The cloud that signs and the terminal that verifies share this package, so
// that both read the same claims the same way.
package token

import (
	"crypto/ed25519"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/comptoir/comptoir/edge"
)

// Token types, carried in the "typ" header so that a token of one kind is
// never accepted as the other.
const (
	TypRA      = "comptoir-ra+jwt"
	TypReceipt = "comptoir-receipt+jwt"
)

// Key is an Ed25519 signing key and the key id ("kid") its tokens name: an
// issuer key id for RAs, the terminal id for receipts.
type Key struct {
	ID      string
	Private ed25519.PrivateKey
}

// GenerateKey returns a new random key with id kid.
func GenerateKey(kid string) (Key, error) {
	if kid == "" {
		return Key{}, edge.Errorf(edge.EINVALID, "A key needs an id.")
	}
	_, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		return Key{}, fmt.Errorf("generate key: %w", err)
	}
	return Key{ID: kid, Private: priv}, nil
}

// Public returns the public half of k.
func (k Key) Public() ed25519.PublicKey {
	if len(k.Private) != ed25519.PrivateKeySize {
		return nil
	}
	return k.Private.Public().(ed25519.PublicKey)
}

// keyFile is the JSON form of a key on disk: the 32-byte seed, base64url.
type keyFile struct {
	KID  string `json:"kid"`
	Seed string `json:"seed"`
}

// LoadOrCreateKey reads the key stored at path, or generates one with id kid
// and stores it there (created reports which). The file is readable by its
// owner only (0600) and its directory is created 0700. A stored file that
// others may read is refused, as ssh refuses such private keys. When kid is
// not empty it must match the stored key's id.
func LoadOrCreateKey(path, kid string) (Key, bool, error) {
	data, err := os.ReadFile(path)
	if err == nil {
		k, err := loadKey(path, data)
		if err != nil {
			return Key{}, false, err
		}
		if kid != "" && k.ID != kid {
			return Key{}, false, edge.Errorf(edge.ECONFLICT, "The key at %s belongs to %q, not %q.", path, k.ID, kid)
		}
		return k, false, nil
	} else if !errors.Is(err, fs.ErrNotExist) {
		return Key{}, false, fmt.Errorf("load key: %w", err)
	}

	k, err := GenerateKey(kid)
	if err != nil {
		return Key{}, false, err
	}
	if err := writeKey(path, k); err != nil {
		return Key{}, false, err
	}
	return k, true, nil
}

func loadKey(path string, data []byte) (Key, error) {
	st, err := os.Stat(path)
	if err != nil {
		return Key{}, fmt.Errorf("load key: %w", err)
	}
	if st.Mode().Perm()&0o077 != 0 {
		return Key{}, edge.Errorf(edge.EFORBIDDEN, "The key file %s may be read by others (mode %v); make it 0600.", path, st.Mode().Perm())
	}
	var f keyFile
	if err := json.Unmarshal(data, &f); err != nil {
		return Key{}, edge.Errorf(edge.EINVALID, "The key file %s is not valid JSON.", path)
	}
	seed, err := base64.RawURLEncoding.DecodeString(f.Seed)
	if err != nil || len(seed) != ed25519.SeedSize || f.KID == "" {
		return Key{}, edge.Errorf(edge.EINVALID, "The key file %s holds no valid Ed25519 seed and id.", path)
	}
	return Key{ID: f.KID, Private: ed25519.NewKeyFromSeed(seed)}, nil
}

// writeKey stores k at path through a temporary file and a rename, so that a
// crash never leaves a half-written key behind.
func writeKey(path string, k Key) error {
	dir := filepath.Dir(path)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return fmt.Errorf("store key: %w", err)
	}
	data, err := json.Marshal(keyFile{KID: k.ID, Seed: base64.RawURLEncoding.EncodeToString(k.Private.Seed())})
	if err != nil {
		return fmt.Errorf("store key: %w", err)
	}
	f, err := os.CreateTemp(dir, ".key-*")
	if err != nil {
		return fmt.Errorf("store key: %w", err)
	}
	defer os.Remove(f.Name())
	if err := f.Chmod(0o600); err != nil {
		f.Close()
		return fmt.Errorf("store key: %w", err)
	}
	if _, err := f.Write(append(data, '\n')); err != nil {
		f.Close()
		return fmt.Errorf("store key: %w", err)
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return fmt.Errorf("store key: %w", err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("store key: %w", err)
	}
	if err := os.Rename(f.Name(), path); err != nil {
		return fmt.Errorf("store key: %w", err)
	}
	return nil
}

// EncodePublicKey returns pub in base64url without padding, as the "x" member
// of a JWK (RFC 8037).
func EncodePublicKey(pub ed25519.PublicKey) string {
	return base64.RawURLEncoding.EncodeToString(pub)
}

// DecodePublicKey parses the base64url form of an Ed25519 public key (padding
// tolerated). It returns an *edge.Error with code EINVALID on bad input.
func DecodePublicKey(s string) (ed25519.PublicKey, error) {
	b, err := base64.RawURLEncoding.DecodeString(trimPadding(s))
	if err != nil || len(b) != ed25519.PublicKeySize {
		return nil, edge.Errorf(edge.EINVALID, "Not an Ed25519 public key (32 bytes, base64url).")
	}
	return ed25519.PublicKey(b), nil
}

func trimPadding(s string) string {
	for len(s) > 0 && s[len(s)-1] == '=' {
		s = s[:len(s)-1]
	}
	return s
}

// EncodeSeed returns the 32-byte seed of k, base64url: how the cloud keeps
// the merchant keys it holds.
func EncodeSeed(k Key) string { return base64.RawURLEncoding.EncodeToString(k.Private.Seed()) }

// DecodeSeed returns the key of id kid whose seed is s (EncodeSeed). It
// returns an *edge.Error with code EINVALID on bad input.
func DecodeSeed(kid, s string) (Key, error) {
	seed, err := base64.RawURLEncoding.DecodeString(s)
	if err != nil || len(seed) != ed25519.SeedSize || kid == "" {
		return Key{}, edge.Errorf(edge.EINVALID, "Not an Ed25519 seed (32 bytes, base64url) with a key id.")
	}
	return Key{ID: kid, Private: ed25519.NewKeyFromSeed(seed)}, nil
}
