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
// none is given). Keys are looked up by their SHA-256, so neither the
// lookup nor the comparison leaks the key through timing; the key itself is
// never logged.
func (s *Server) auth(roles ...cloud.Role) fiber.Handler {
	return func(c *fiber.Ctx) error {
		key, ok := strings.CutPrefix(c.Get(fiber.HeaderAuthorization), "Bearer ")
		key = strings.TrimSpace(key)
		if !ok || key == "" {
			return edge.Errorf(edge.EUNAUTHORIZED, "An API key is required (Authorization: Bearer KEY).")
		}
		hash := cloud.HashSecret(key)
		k, err := s.Store.FindAPIKey(c.UserContext(), hash)
		if edge.ErrorCode(err) == edge.ENOTFOUND {
			return edge.Errorf(edge.EUNAUTHORIZED, "The API key is not valid.")
		} else if err != nil {
			return err
		}
		if subtle.ConstantTimeCompare(k.Hash, hash) != 1 {
			return edge.Errorf(edge.EUNAUTHORIZED, "The API key is not valid.")
		}
		if len(roles) > 0 && !slices.Contains(roles, k.Role) {
			return edge.Errorf(edge.EFORBIDDEN, "An API key of role %s cannot do this.", k.Role)
		}
		c.Locals("role", k.Role)
		return c.Next()
	}
}
