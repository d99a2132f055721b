package ui

import (
	"strconv"

	"github.com/gofiber/fiber/v2"

	"github.com/comptoir/comptoir/edge"
)

// getScale answers the scale's weighing for the deposit screen, which asks
// several times a second while it waits for a weight:
// {"state","grams","ready","refusal"}. max_g, when given, is the limit of
// the parcel at hand (a return's max_g), checked with the rules' own;
// NOT_FOUND when the terminal has no scale.
func (s *Server) getScale(c *fiber.Ctx) error {
	if s.deps.Scale == nil {
		return edge.Errorf(edge.ENOTFOUND, "No scale is configured: type the weight.")
	}
	maxG := s.deps.Desk.Rules().MaxWeightG
	if q := c.Query("max_g"); q != "" {
		n, err := strconv.Atoi(q)
		if err != nil || n < 0 {
			return edge.Errorf(edge.EINVALID, "max_g is a whole number of grams.")
		}
		if n > 0 && (maxG == 0 || n < maxG) {
			maxG = n
		}
	}
	w, err := s.deps.Scale.Weigh(maxG)
	if err != nil {
		return err
	}
	return c.JSON(w)
}
