package token

import (
	"crypto/ed25519"
	"encoding/json"
	"fmt"
	"os"
	"sort"
	"sync"

	"github.com/comptoir/comptoir/edge"
)

// TrustList is the set of issuer keys a terminal trusts and the RA ids it
// refuses as revoked. The cloud publishes it as a JWK set (RFC 7517, OKP keys
// of RFC 8037) on the retained trust topic; the terminal keeps the last one
// it received. A TrustList is safe for concurrent use.
//
// Each key may be bound to an issuer (the JWK's "iss" member): a code
// signed with it is then accepted only when it claims that issuer, so that
// one merchant's key never verifies a code claiming another merchant. A
// key with no issuer (trust lists from before merchants) verifies codes of
// any issuer.
type TrustList struct {
	mu      sync.RWMutex
	keys    map[string]ed25519.PublicKey
	issuers map[string]string // kid -> iss, for bound keys
	revoked map[string]struct{}
}

// NewTrustList returns an empty trust list.
func NewTrustList() *TrustList {
	return &TrustList{keys: map[string]ed25519.PublicKey{}, issuers: map[string]string{}, revoked: map[string]struct{}{}}
}

// AddKey trusts pub under kid for any issuer, replacing any key of that id.
// Several keys may be trusted at once, so that an issuer rotates its key
// without a gap.
func (t *TrustList) AddKey(kid string, pub ed25519.PublicKey) { t.AddIssuerKey("", kid, pub) }

// AddIssuerKey trusts pub under kid for the codes of issuer iss only (any
// issuer when iss is empty), replacing any key of that id.
func (t *TrustList) AddIssuerKey(iss, kid string, pub ed25519.PublicKey) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.keys[kid] = append(ed25519.PublicKey(nil), pub...)
	if iss == "" {
		delete(t.issuers, kid)
	} else {
		t.issuers[kid] = iss
	}
}

// RemoveKey stops trusting kid.
func (t *TrustList) RemoveKey(kid string) {
	t.mu.Lock()
	defer t.mu.Unlock()
	delete(t.keys, kid)
	delete(t.issuers, kid)
}

// Issuer returns the issuer kid is bound to; bound is false for a key of
// any issuer (or an unknown kid).
func (t *TrustList) Issuer(kid string) (iss string, bound bool) {
	t.mu.RLock()
	defer t.mu.RUnlock()
	iss, bound = t.issuers[kid]
	return iss, bound
}

// KeyIDs returns the ids of the trusted keys, sorted.
func (t *TrustList) KeyIDs() []string {
	t.mu.RLock()
	ids := make([]string, 0, len(t.keys))
	for kid := range t.keys {
		ids = append(ids, kid)
	}
	t.mu.RUnlock()
	sort.Strings(ids)
	return ids
}

// Key returns the trusted key of kid. Its signature fits VerifyReceipt's
// lookup.
func (t *TrustList) Key(kid string) (ed25519.PublicKey, bool) {
	t.mu.RLock()
	defer t.mu.RUnlock()
	pub, ok := t.keys[kid]
	return pub, ok
}

// Revoke adds RA ids (jti) to the revocation list.
func (t *TrustList) Revoke(jtis ...string) {
	t.mu.Lock()
	defer t.mu.Unlock()
	for _, j := range jtis {
		if j != "" {
			t.revoked[j] = struct{}{}
		}
	}
}

// Revoked reports whether the RA id jti is revoked.
func (t *TrustList) Revoked(jti string) bool {
	t.mu.RLock()
	defer t.mu.RUnlock()
	_, ok := t.revoked[jti]
	return ok
}

// jwk is one JSON Web Key. Only OKP/Ed25519 keys are used; other members are
// kept out of the struct and ignored.
type jwk struct {
	Kty string `json:"kty"`
	Crv string `json:"crv,omitempty"`
	Kid string `json:"kid,omitempty"`
	X   string `json:"x,omitempty"`
	Use string `json:"use,omitempty"`
	Alg string `json:"alg,omitempty"`
	// Iss binds the key to the issuer whose codes it signs (Comptoir's
	// member; a JWK may carry members of its own, RFC 7517 section 4).
	Iss string `json:"iss,omitempty"`
}

// jwks is a JWK set with Comptoir's revocation list beside the keys.
type jwks struct {
	Keys    []jwk    `json:"keys"`
	Revoked []string `json:"revoked"`
}

// MarshalJWKS returns the trust list as a JWK set, keys sorted by kid and
// revocations sorted, so that equal lists give equal bytes.
func (t *TrustList) MarshalJWKS() []byte {
	t.mu.RLock()
	set := jwks{Keys: make([]jwk, 0, len(t.keys)), Revoked: make([]string, 0, len(t.revoked))}
	for kid, pub := range t.keys {
		set.Keys = append(set.Keys, jwk{Kty: "OKP", Crv: "Ed25519", Kid: kid, X: EncodePublicKey(pub), Use: "sig", Alg: "EdDSA", Iss: t.issuers[kid]})
	}
	for j := range t.revoked {
		set.Revoked = append(set.Revoked, j)
	}
	t.mu.RUnlock()
	sort.Slice(set.Keys, func(i, j int) bool { return set.Keys[i].Kid < set.Keys[j].Kid })
	sort.Strings(set.Revoked)
	b, err := json.Marshal(set)
	if err != nil {
		panic(fmt.Sprintf("marshal jwks: %v", err)) // strings and slices only: cannot fail
	}
	return b
}

// LoadJWKS replaces the keys and revocations of t with those of the JWK set
// data, all at once: a reader sees the old list or the new one, never a mix.
// Keys of another type or curve, or meant for encryption or another
// algorithm, are skipped. It returns an *edge.Error with code EINVALID, and
// leaves t unchanged, when data is not a JWK set or an Ed25519 key in it is
// malformed.
func (t *TrustList) LoadJWKS(data []byte) error {
	var set struct {
		Keys    *[]jwk   `json:"keys"`
		Revoked []string `json:"revoked"`
	}
	if err := json.Unmarshal(data, &set); err != nil {
		return edge.Errorf(edge.EINVALID, "The trust list is not a valid JWK set.")
	}
	if set.Keys == nil {
		return edge.Errorf(edge.EINVALID, "The trust list has no \"keys\" member.")
	}
	keys := make(map[string]ed25519.PublicKey, len(*set.Keys))
	issuers := map[string]string{}
	for i, k := range *set.Keys {
		if k.Kty != "OKP" || k.Crv != "Ed25519" || (k.Use != "" && k.Use != "sig") || (k.Alg != "" && k.Alg != "EdDSA") {
			continue
		}
		if k.Kid == "" {
			return edge.Errorf(edge.EINVALID, "Key %d of the trust list has no kid.", i)
		}
		pub, err := DecodePublicKey(k.X)
		if err != nil {
			return edge.Errorf(edge.EINVALID, "Key %q of the trust list is not a valid Ed25519 key.", k.Kid)
		}
		if _, dup := keys[k.Kid]; dup {
			return edge.Errorf(edge.EINVALID, "The trust list names key %q twice.", k.Kid)
		}
		keys[k.Kid] = pub
		if k.Iss != "" {
			issuers[k.Kid] = k.Iss
		}
	}
	revoked := make(map[string]struct{}, len(set.Revoked))
	for _, j := range set.Revoked {
		if j != "" {
			revoked[j] = struct{}{}
		}
	}

	t.mu.Lock()
	defer t.mu.Unlock()
	t.keys, t.issuers, t.revoked = keys, issuers, revoked
	return nil
}

// LoadTrustFile reads a trust list from a JWK set file.
func LoadTrustFile(path string) (*TrustList, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("load trust file: %w", err)
	}
	t := NewTrustList()
	if err := t.LoadJWKS(data); err != nil {
		return nil, err
	}
	return t, nil
}
