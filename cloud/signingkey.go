package cloud

import (
	"time"

	"github.com/comptoir/comptoir/scanner/token"
)

// SigningKey is a key that signs a merchant's return authorisations. The
// cloud keeps the private half of the keys it generates (and signs with the
// newest); a merchant that signs its codes itself registers public keys
// only. Every key not yet dropped is on the trust list, bound to its
// issuer, so that a terminal never verifies one merchant's code with
// another's key.
type SigningKey struct {
	ID       string `json:"kid"`
	Merchant string `json:"merchant"`
	// Issuer is the "iss" of the codes the key signs: the merchant's id,
	// or, for the key of a cloud from before merchants, the issuer id its
	// codes already carry.
	Issuer string `json:"iss"`
	// Public is the Ed25519 public key, base64url (token.EncodePublicKey).
	Public string `json:"public_key"`
	// Private is the Ed25519 seed, base64url, sealed by the cloud's Sealer
	// when it has a key-encryption key; empty for a key the merchant keeps.
	Private   string    `json:"private,omitempty"`
	CreatedAt time.Time `json:"created_at"`
	// RetiredAt is when the key stopped signing (a rotation), zero while
	// it signs. A retired key stays trusted for MaxValidity more, the
	// longest a code it signed can be valid.
	RetiredAt time.Time `json:"retired_at,omitzero"`
}

// MaxValidity is the longest validity of a return authorisation: a key
// retired that long ago verifies no valid code any more and is dropped from
// the trust list.
const MaxValidity = 365 * 24 * time.Hour

// Held reports whether the cloud holds the private half of k.
func (k SigningKey) Held() bool { return k.Private != "" }

// Trusted reports whether k is on the trust list at now.
func (k SigningKey) Trusted(now time.Time) bool {
	return k.RetiredAt.IsZero() || now.Before(k.RetiredAt.Add(MaxValidity))
}

// TokenKey returns the token.Key of a key the cloud holds, its private
// half opened by s if sealed (s may be nil when no key is sealed).
func (k SigningKey) TokenKey(s *Sealer) (token.Key, error) {
	seed, err := s.Open(k.ID, k.Private)
	if err != nil {
		return token.Key{}, err
	}
	return token.DecodeSeed(k.ID, seed)
}

// TrustList returns the trust list of keys at now, with the revoked RA ids.
func TrustList(keys []SigningKey, revoked []string, now time.Time) (*token.TrustList, error) {
	t := token.NewTrustList()
	for _, k := range keys {
		if !k.Trusted(now) {
			continue
		}
		pub, err := token.DecodePublicKey(k.Public)
		if err != nil {
			return nil, err
		}
		t.AddIssuerKey(k.Issuer, k.ID, pub)
	}
	t.Revoke(revoked...)
	return t, nil
}
