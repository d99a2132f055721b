package httpapi

import (
	_ "embed"

	"github.com/gofiber/fiber/v2"
)

// OpenAPI is the OpenAPI 3.1 description of this API (openapi.json), served
// at /v1/openapi.json for merchants to generate clients from. The tests
// validate every request and response of theirs against it, so it cannot
// drift from the handlers.
//
//go:embed openapi.json
var OpenAPI []byte

func (s *Server) openAPI(c *fiber.Ctx) error {
	c.Set(fiber.HeaderContentType, fiber.MIMEApplicationJSON)
	c.Set(fiber.HeaderCacheControl, "no-cache")
	return c.Send(OpenAPI)
}
