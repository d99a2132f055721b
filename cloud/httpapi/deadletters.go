package httpapi

import (
	"strconv"

	"github.com/gofiber/fiber/v2"

	"github.com/comptoir/comptoir/edge"
)

// Page sizes of GET /v1/dead-letters.
const (
	defaultDeadLetters = 100
	maxDeadLetters     = 1000
)

// deadLetters lists the messages the ingest refused, oldest first, a page
// at a time: ?limit=N (default 100, at most 1000) and ?after=CURSOR, the
// "next" of the page before ("" after the last page). Each dead letter
// keeps at most 4 KiB of its payload, so a page is bounded too.
func (s *Server) deadLetters(c *fiber.Ctx) error {
	limit := defaultDeadLetters
	if v := c.Query("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > maxDeadLetters {
			return edge.Errorf(edge.EINVALID, "limit must be a number from 1 to %d.", maxDeadLetters)
		}
		limit = n
	}
	after := c.Query("after")
	if len(after) > 64 {
		return edge.Errorf(edge.EINVALID, "The cursor is not one this listing gave.")
	}
	page, next, err := s.Store.DeadLetters(c.UserContext(), after, limit)
	if err != nil {
		return err
	}
	return c.JSON(fiber.Map{"dead_letters": page, "next": next})
}
