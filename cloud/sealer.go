package cloud

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"strings"

	"github.com/comptoir/comptoir/edge"
)

// KEKSize is the size of a key-encryption key: AES-256.
const KEKSize = 32

// sealedPrefix starts the private half of a signing key sealed by a
// Sealer; a private half without it was stored before sealing existed.
const sealedPrefix = "sealed:v1:"

// A Sealer encrypts the private halves of merchants' signing keys before
// they reach the store, with a key-encryption key (KEK) that the store
// never holds: a copy of the database (a backup, a replica, a dump) signs
// no code. AES-256-GCM; the key's id is the additional data, so a sealed
// half pasted under another key's id does not open.
type Sealer struct{ aead cipher.AEAD }

// NewSealer returns the sealer of kek, KEKSize bytes.
func NewSealer(kek []byte) (*Sealer, error) {
	if len(kek) != KEKSize {
		return nil, edge.Errorf(edge.EINVALID, "A key-encryption key is %d bytes, not %d.", KEKSize, len(kek))
	}
	block, err := aes.NewCipher(kek)
	if err != nil {
		return nil, err
	}
	aead, err := cipher.NewGCM(block)
	if err != nil {
		return nil, err
	}
	return &Sealer{aead: aead}, nil
}

func sealAD(kid string) []byte { return []byte("comptoir signing key " + kid) }

// Seal returns the private half private of key kid, sealed.
func (s *Sealer) Seal(kid, private string) string {
	nonce := make([]byte, s.aead.NonceSize())
	_, _ = rand.Read(nonce) // crypto/rand.Read does not fail
	ct := s.aead.Seal(nonce, nonce, []byte(private), sealAD(kid))
	return sealedPrefix + base64.RawURLEncoding.EncodeToString(ct)
}

// Sealed reports whether a stored private half is sealed.
func Sealed(private string) bool { return strings.HasPrefix(private, sealedPrefix) }

// ErrNoKEK is the error of opening a sealed key with no key-encryption key.
var ErrNoKEK = errors.New("the signing key is sealed and this cloud has no key-encryption key (--kek-file)")

// Open returns the private half of key kid as stored: sealed ones are
// opened, others (stored before sealing) returned as they are. A nil
// Sealer opens nothing sealed.
func (s *Sealer) Open(kid, stored string) (string, error) {
	if !Sealed(stored) {
		return stored, nil
	}
	if s == nil {
		return "", fmt.Errorf("key %s: %w", kid, ErrNoKEK)
	}
	ct, err := base64.RawURLEncoding.DecodeString(strings.TrimPrefix(stored, sealedPrefix))
	if err != nil || len(ct) < s.aead.NonceSize() {
		return "", fmt.Errorf("key %s: the sealed private half is damaged", kid)
	}
	pt, err := s.aead.Open(nil, ct[:s.aead.NonceSize()], ct[s.aead.NonceSize():], sealAD(kid))
	if err != nil {
		return "", fmt.Errorf("key %s: the sealed private half does not open with this key-encryption key", kid)
	}
	return string(pt), nil
}
