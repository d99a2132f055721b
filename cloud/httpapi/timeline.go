package httpapi

import (
	"github.com/gofiber/fiber/v2"

	"github.com/comptoir/comptoir/cloud"
)

// timeline answers a parcel's timeline in the key's scope: an issuer or
// partner key sees its merchant's parcels (another's is 404); an operator
// key sees any, and an unknown tracking number has an empty timeline, so
// that it may poll for the first entry.
func (s *Server) timeline(c *fiber.Ctx) error {
	tracking := c.Params("tracking")
	tl, err := s.Store.Timeline(c.UserContext(), scope(c), tracking)
	if err != nil {
		return err
	}
	return c.JSON(fiber.Map{"tracking": tracking, "timeline": tl})
}

// postEvents adds partners' events to the timelines of their merchant's
// parcels, each checked against its parcel, idempotently by event id. The
// body is {"events":[...]}; the answer counts what was added and lists
// what was refused, with a code each.
func (s *Server) postEvents(c *fiber.Ctx) error {
	var req struct {
		Events []cloud.PartnerEvent `json:"events"`
	}
	if err := decode(c, &req); err != nil {
		return err
	}
	res, err := s.Partners.Post(c.UserContext(), scope(c), req.Events)
	if err != nil {
		return err
	}
	return c.JSON(res)
}
