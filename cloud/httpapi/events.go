package httpapi

import (
	"strconv"

	"github.com/gofiber/fiber/v2"

	"github.com/comptoir/comptoir/cloud"
	"github.com/comptoir/comptoir/edge"
)

// listEvents answers the feed of published events (GET
// /v1/events?after=CURSOR&limit=N) in the key's scope: an issuer key's
// merchant's, all of them for an operator key.
func (s *Server) listEvents(c *fiber.Ctx) error {
	limit := 0
	if v := c.Query("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > cloud.MaxFeedLimit {
			return edge.Errorf(edge.EINVALID, "limit must be a number from 1 to %d.", cloud.MaxFeedLimit)
		}
		limit = n
	}
	feed := cloud.Feed{Store: s.Store}
	evs, next, err := feed.Page(c.UserContext(), scope(c), c.Query("after"), limit)
	if err != nil {
		return err
	}
	return c.JSON(fiber.Map{"events": evs, "next": next})
}
