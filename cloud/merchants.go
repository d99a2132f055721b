package cloud

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/comptoir/comptoir/edge"
	"github.com/comptoir/comptoir/scanner/token"
)

// Merchants onboards merchants and keeps their keys: API keys, and the
// signing keys of their return authorisations, rotated by the cloud or
// registered by a merchant that signs its codes itself.
type Merchants struct {
	Store interface {
		MerchantStore
		PutAPIKey(ctx context.Context, k APIKey) error
	}
	Trust *Trust
	// Sealer seals the private halves of the keys the cloud makes or
	// imports; nil stores them as they are.
	Sealer *Sealer
	Now    func() time.Time
}

func (ms *Merchants) now() time.Time {
	if ms.Now != nil {
		return ms.Now().UTC()
	}
	return time.Now().UTC()
}

// Create creates merchant id with its first signing key and an issuer API
// key, returned once (only its hash is kept).
func (ms *Merchants) Create(ctx context.Context, id, name string) (Merchant, string, error) {
	if !ValidMerchantID(id) {
		return Merchant{}, "", edge.Errorf(edge.EINVALID, "A merchant id is 2 to 64 lower-case letters, digits and dashes.")
	}
	if err := checkName(name); err != nil {
		return Merchant{}, "", err
	}
	if name == "" {
		name = id
	}
	m := Merchant{ID: id, Name: name, CreatedAt: ms.now()}
	if err := ms.Store.CreateMerchant(ctx, m); err != nil {
		return Merchant{}, "", err
	}
	if _, err := ms.NewSigningKey(ctx, id, id); err != nil {
		return Merchant{}, "", err
	}
	key, err := ms.AddAPIKey(ctx, id, RoleIssuer, "issuer of "+id)
	if err != nil {
		return Merchant{}, "", err
	}
	return m, key, nil
}

// checkName refuses a display name that is too long or holds control
// characters.
func checkName(name string) error {
	if len(name) > 200 || strings.ContainsFunc(name, func(r rune) bool { return r < 0x20 || (r >= 0x7f && r < 0xa0) }) {
		return edge.Errorf(edge.EINVALID, "A name is at most 200 bytes of printable text.")
	}
	return nil
}

// AddAPIKey makes a new API key of role for merchant (operator keys
// belong to no merchant) and returns it, once.
func (ms *Merchants) AddAPIKey(ctx context.Context, merchant string, role Role, name string) (string, error) {
	prefix := map[Role]string{RoleIssuer: "iss_", RolePartner: "pt_", RoleOperator: "op_"}[role]
	key := prefix + RandomSecret(32)
	if err := ms.Store.PutAPIKey(ctx, APIKey{Hash: HashSecret(key), Role: role, Name: name, Merchant: merchant}); err != nil {
		return "", err
	}
	return key, nil
}

// NewSigningKey makes a new key that the cloud holds for merchant, signing
// codes of issuer iss (the merchant's id, but for a legacy key), and
// publishes the trust list.
func (ms *Merchants) NewSigningKey(ctx context.Context, merchant, iss string) (SigningKey, error) {
	// Short: the kid is in every code's QR.
	tk, err := token.GenerateKey("k-" + RandomSecret(6))
	if err != nil {
		return SigningKey{}, err
	}
	return ms.addKey(ctx, SigningKey{
		ID: tk.ID, Merchant: merchant, Issuer: iss, Public: token.EncodePublicKey(tk.Public()),
		Private: token.EncodeSeed(tk), CreatedAt: ms.now(),
	})
}

// ImportSigningKey stores a key the cloud held before merchants existed
// (issuer.key) as merchant's, for codes of issuer iss; a key already
// stored is left as it is.
func (ms *Merchants) ImportSigningKey(ctx context.Context, merchant, iss string, k token.Key) error {
	_, err := ms.addKey(ctx, SigningKey{
		ID: k.ID, Merchant: merchant, Issuer: iss, Public: token.EncodePublicKey(k.Public()),
		Private: token.EncodeSeed(k), CreatedAt: ms.now(),
	})
	if edge.ErrorCode(err) == edge.ECONFLICT {
		return nil
	}
	return err
}

func (ms *Merchants) addKey(ctx context.Context, k SigningKey) (SigningKey, error) {
	if ms.Sealer != nil && k.Private != "" {
		k.Private = ms.Sealer.Seal(k.ID, k.Private)
	}
	if err := ms.Store.CreateSigningKey(ctx, k); err != nil {
		return SigningKey{}, err
	}
	return k, ms.refresh(ctx)
}

func (ms *Merchants) refresh(ctx context.Context) error {
	if ms.Trust == nil {
		return nil
	}
	return ms.Trust.Refresh(ctx)
}

// Rotate gives merchant (in scope) a new signing key and retires the keys
// the cloud held for it: they stop signing now and stay trusted for
// MaxValidity, the longest a code they signed can be valid.
func (ms *Merchants) Rotate(ctx context.Context, scope Scope, merchant string) (SigningKey, error) {
	if _, err := ms.Store.FindMerchant(ctx, scope, merchant); err != nil {
		return SigningKey{}, err
	}
	old, err := ms.Store.SigningKeys(ctx, MerchantScope(merchant))
	if err != nil {
		return SigningKey{}, err
	}
	k, err := ms.NewSigningKey(ctx, merchant, merchant)
	if err != nil {
		return SigningKey{}, err
	}
	for _, o := range old {
		if o.Held() && o.RetiredAt.IsZero() {
			if err := ms.Store.RetireSigningKey(ctx, merchant, o.ID, k.CreatedAt); err != nil {
				return SigningKey{}, err
			}
		}
	}
	return k, ms.refresh(ctx)
}

// Register adds a public key that merchant (in scope) keeps the private
// half of, to sign its codes itself; it goes to every terminal on the
// trust list, bound to the merchant.
func (ms *Merchants) Register(ctx context.Context, scope Scope, merchant, kid, public string) (SigningKey, error) {
	if _, err := ms.Store.FindMerchant(ctx, scope, merchant); err != nil {
		return SigningKey{}, err
	}
	if kid == "" || len(kid) > 64 || strings.ContainsFunc(kid, func(r rune) bool { return r <= ' ' || r > '~' }) {
		return SigningKey{}, edge.Errorf(edge.EINVALID, "A key id (kid) is 1 to 64 printable ASCII characters.")
	}
	if _, err := token.DecodePublicKey(public); err != nil {
		return SigningKey{}, edge.Errorf(edge.EINVALID, "public_key must be an Ed25519 public key, base64url.")
	}
	return ms.addKey(ctx, SigningKey{ID: kid, Merchant: merchant, Issuer: merchant, Public: public, CreatedAt: ms.now()})
}

// Keys returns merchant's signing keys (in scope), without their private
// halves.
func (ms *Merchants) Keys(ctx context.Context, scope Scope, merchant string) ([]SigningKey, error) {
	if _, err := ms.Store.FindMerchant(ctx, scope, merchant); err != nil {
		return nil, err
	}
	keys, err := ms.Store.SigningKeys(ctx, MerchantScope(merchant))
	if err != nil {
		return nil, err
	}
	for i := range keys {
		keys[i].Private = ""
	}
	return keys, nil
}

// SigningKeyOf returns, of a merchant's keys (oldest first), the newest that
// the cloud holds and that is not retired: the one that signs its codes.
// ECONFLICT when there is none (a merchant that signs its codes itself).
func SigningKeyOf(keys []SigningKey) (SigningKey, error) {
	for i := len(keys) - 1; i >= 0; i-- {
		if k := keys[i]; k.Held() && k.RetiredAt.IsZero() {
			return k, nil
		}
	}
	return SigningKey{}, edge.Errorf(edge.ECONFLICT, "The cloud holds no signing key of this merchant: it signs its codes itself (send the signed token).")
}

// EnsureMerchant creates merchant id, with a signing key, unless it
// exists.
func (ms *Merchants) EnsureMerchant(ctx context.Context, id, name string) error {
	if _, err := ms.Store.FindMerchant(ctx, Network, id); err == nil {
		return nil
	} else if edge.ErrorCode(err) != edge.ENOTFOUND {
		return err
	}
	err := ms.Store.CreateMerchant(ctx, Merchant{ID: id, Name: name, CreatedAt: ms.now()})
	if err != nil && edge.ErrorCode(err) != edge.ECONFLICT {
		return fmt.Errorf("merchant %s: %w", id, err)
	}
	keys, err := ms.Store.SigningKeys(ctx, MerchantScope(id))
	if err != nil {
		return err
	}
	if len(keys) == 0 {
		_, err = ms.NewSigningKey(ctx, id, id)
	}
	return err
}

// SealKeys readies the signing keys for ms.Sealer at start: the private
// halves stored before the cloud had a key-encryption key are sealed, and
// every sealed half must open (a wrong --kek-file is found at start, not
// at the first return). With no Sealer, a sealed key is ErrNoKEK. It
// returns how many halves it sealed.
func (ms *Merchants) SealKeys(ctx context.Context) (int, error) {
	keys, err := ms.Store.SigningKeys(ctx, Network)
	if err != nil {
		return 0, err
	}
	n := 0
	for _, k := range keys {
		if !k.Held() {
			continue
		}
		if Sealed(k.Private) {
			if _, err := ms.Sealer.Open(k.ID, k.Private); err != nil {
				return n, err
			}
			continue
		}
		if ms.Sealer == nil {
			continue
		}
		if err := ms.Store.ResealSigningKey(ctx, k.ID, k.Private, ms.Sealer.Seal(k.ID, k.Private)); err != nil {
			return n, err
		}
		n++
	}
	return n, nil
}
