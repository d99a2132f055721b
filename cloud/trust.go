package cloud

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/comptoir/comptoir/scanner/token"
)

// Trust is the network's trust list: every merchant's signing keys that
// are still trusted, each bound to its issuer, and the revoked RA ids. It
// is built from the store, so that cloud instances sharing a store publish
// the same list, and published on the retained trust topic after every
// change.
type Trust struct {
	Store interface {
		SigningKeys(ctx context.Context, scope Scope) ([]SigningKey, error)
		Revocations(ctx context.Context) ([]string, error)
	}
	// Publish sends the JWK set to terminals; nil publishes nothing.
	Publish func(jwks []byte) error
	Now     func() time.Time

	mu   sync.Mutex
	list *token.TrustList
}

// List returns the trust list as last refreshed (empty before the first
// Refresh).
func (t *Trust) List() *token.TrustList {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.list == nil {
		t.list = token.NewTrustList()
	}
	return t.list
}

// Refresh rebuilds the trust list from the store and publishes it. A
// failed publication is returned after the list is replaced: the change is
// stored and goes out with the next publication.
func (t *Trust) Refresh(ctx context.Context) error {
	keys, err := t.Store.SigningKeys(ctx, Network)
	if err != nil {
		return fmt.Errorf("trust: %w", err)
	}
	revoked, err := t.Store.Revocations(ctx)
	if err != nil {
		return fmt.Errorf("trust: %w", err)
	}
	now := time.Now
	if t.Now != nil {
		now = t.Now
	}
	list, err := TrustList(keys, revoked, now())
	if err != nil {
		return fmt.Errorf("trust: %w", err)
	}
	t.mu.Lock()
	t.list = list
	t.mu.Unlock()
	if t.Publish != nil {
		if err := t.Publish(list.MarshalJWKS()); err != nil {
			return fmt.Errorf("trust: publish: %w", err)
		}
	}
	return nil
}
