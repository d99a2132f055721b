package httpapi

import (
	"crypto/subtle"
	"slices"
	"strings"

	"github.com/gofiber/fiber/v2"

	"github.com/comptoir/comptoir/cloud"
	"github.com/comptoir/comptoir/edge"
)

// auth admits requests whose Bearer key has one of roles (any role when
// none is given), and keeps the key for the handlers (key, scope).
func (s *Server) auth(roles ...cloud.Role) fiber.Handler {
	return func(c *fiber.Ctx) error {
		if _, err := s.authenticate(c, roles...); err != nil {
			return err
		}
		return c.Next()
	}
}

// authenticate checks the request's Bearer key against roles. Keys are
// looked up by their SHA-256, so neither the lookup nor the comparison
// leaks the key through timing; the key itself is never logged.
func (s *Server) authenticate(c *fiber.Ctx, roles ...cloud.Role) (cloud.APIKey, error) {
	secret, ok := strings.CutPrefix(c.Get(fiber.HeaderAuthorization), "Bearer ")
	secret = strings.TrimSpace(secret)
	if !ok || secret == "" {
		return cloud.APIKey{}, edge.Errorf(edge.EUNAUTHORIZED, "An API key is required (Authorization: Bearer KEY).")
	}
	hash := cloud.HashSecret(secret)
	k, err := s.Store.FindAPIKey(c.UserContext(), hash)
	if edge.ErrorCode(err) == edge.ENOTFOUND {
		return cloud.APIKey{}, edge.Errorf(edge.EUNAUTHORIZED, "The API key is not valid.")
	} else if err != nil {
		return cloud.APIKey{}, err
	}
	// An issuer or partner key of no merchant would see the network: it
	// is refused, whatever the store holds.
	if subtle.ConstantTimeCompare(k.Hash, hash) != 1 || k.Check() != nil {
		return cloud.APIKey{}, edge.Errorf(edge.EUNAUTHORIZED, "The API key is not valid.")
	}
	if len(roles) > 0 && !slices.Contains(roles, k.Role) {
		return cloud.APIKey{}, edge.Errorf(edge.EFORBIDDEN, "An API key of role %s cannot do this.", k.Role)
	}
	c.Locals(keyLocal, k)
	return k, nil
}

const keyLocal = "apikey"

// key returns the API key auth admitted; ok is false on a route without
// auth.
func key(c *fiber.Ctx) (k cloud.APIKey, ok bool) {
	k, ok = c.Locals(keyLocal).(cloud.APIKey)
	return k, ok
}

// scope returns what the request's key may see. A request without a key
// gets the scope of no merchant: it sees nothing.
func scope(c *fiber.Ctx) cloud.Scope {
	k, ok := key(c)
	if !ok {
		return cloud.MerchantScope("\x00none")
	}
	return k.Scope()
}
