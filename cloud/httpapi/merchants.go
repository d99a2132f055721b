package httpapi

import (
	"github.com/gofiber/fiber/v2"

	"github.com/comptoir/comptoir/cloud"
	"github.com/comptoir/comptoir/edge"
)

type createMerchantRequest struct {
	ID   string `json:"id"`
	Name string `json:"name"`
}

// createMerchant onboards a merchant: its first signing key and an issuer
// key, shown once.
func (s *Server) createMerchant(c *fiber.Ctx) error {
	var req createMerchantRequest
	if err := decode(c, &req); err != nil {
		return err
	}
	m, key, err := s.Merchants.Create(c.UserContext(), req.ID, req.Name)
	if err != nil {
		return err
	}
	s.log().Info("merchant created", "merchant", m.ID)
	return c.Status(fiber.StatusCreated).JSON(fiber.Map{"merchant": m.ID, "name": m.Name, "issuer_key": key})
}

func (s *Server) listMerchants(c *fiber.Ctx) error {
	ms, err := s.Store.Merchants(c.UserContext(), scope(c))
	if err != nil {
		return err
	}
	return c.JSON(fiber.Map{"merchants": ms})
}

// keyView is a signing key as the API shows it: never its private half.
type keyView struct {
	KID       string `json:"kid"`
	Issuer    string `json:"iss"`
	PublicKey string `json:"public_key"`
	HeldBy    string `json:"held_by"` // "cloud" or "merchant"
	CreatedAt string `json:"created_at"`
	RetiredAt string `json:"retired_at,omitempty"`
}

func viewKey(k cloud.SigningKey) keyView {
	v := keyView{KID: k.ID, Issuer: k.Issuer, PublicKey: k.Public, HeldBy: "merchant", CreatedAt: k.CreatedAt.Format(timeFormat)}
	if k.Held() {
		v.HeldBy = "cloud"
	}
	if !k.RetiredAt.IsZero() {
		v.RetiredAt = k.RetiredAt.Format(timeFormat)
	}
	return v
}

const timeFormat = "2006-01-02T15:04:05Z07:00"

func (s *Server) merchantKeys(c *fiber.Ctx) error {
	id := c.Params("id")
	keys, err := s.Merchants.Keys(c.UserContext(), scope(c), id)
	if err != nil {
		return err
	}
	out := make([]keyView, len(keys))
	for i, k := range keys {
		out[i] = viewKey(k)
	}
	return c.JSON(fiber.Map{"merchant": id, "keys": out})
}

type registerKeyRequest struct {
	KID       string `json:"kid"`
	PublicKey string `json:"public_key"`
}

// registerKey adds a public key of a merchant that signs its codes itself.
func (s *Server) registerKey(c *fiber.Ctx) error {
	var req registerKeyRequest
	if err := decode(c, &req); err != nil {
		return err
	}
	k, err := s.Merchants.Register(c.UserContext(), scope(c), c.Params("id"), req.KID, req.PublicKey)
	if err != nil && edge.ErrorCode(err) == edge.EINTERNAL && k.ID != "" {
		s.log().Error("publish trust list", "err", err) // stored: goes out with the next publication
	} else if err != nil {
		return err
	}
	return c.Status(fiber.StatusCreated).JSON(viewKey(k))
}

// rotateKey gives a merchant a new signing key held by the cloud; the old
// ones stop signing and stay trusted as long as their codes may be valid.
func (s *Server) rotateKey(c *fiber.Ctx) error {
	k, err := s.Merchants.Rotate(c.UserContext(), scope(c), c.Params("id"))
	if err != nil && edge.ErrorCode(err) == edge.EINTERNAL && k.ID != "" {
		s.log().Error("publish trust list", "err", err)
	} else if err != nil {
		return err
	}
	return c.Status(fiber.StatusCreated).JSON(viewKey(k))
}

// conflicts lists the terminals' events kept off timelines (?after=CURSOR
// &limit=N, at most 1000).
func (s *Server) conflicts(c *fiber.Ctx) error {
	limit := c.QueryInt("limit", 100)
	if limit <= 0 || limit > 1000 {
		limit = 1000
	}
	cs, next, err := s.Store.Conflicts(c.UserContext(), c.Query("after"), limit)
	if err != nil {
		return err
	}
	return c.JSON(fiber.Map{"conflicts": cs, "next": next})
}
