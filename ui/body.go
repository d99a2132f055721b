package ui

import (
	"io"
	"mime"

	"github.com/comptoir/comptoir/edge"
	"github.com/gofiber/fiber/v2"
)

// Request bodies are streamed (fiber's StreamRequestBody): the server reads
// the headers and at most 8 KiB of the body before a handler runs, and the
// rest only when asked. Every route gets a small limit (maxJSONBytes), read
// by limitBody before the handlers; POST /api/scan/image gets its larger one
// (Config.MaxImageBytes) in its handler, after the session check, so that an
// unauthenticated upload is refused before it is read.

// bodyReadKey marks in a request's locals that its body was read whole.
const bodyReadKey = "comptoir.body-read"

// readBody reads the body of the request, at most limit bytes, and keeps it
// as the request's body (c.Body). A body over limit is TOO_LARGE, and is not
// read further than limit.
func readBody(c *fiber.Ctx, limit int) error {
	req := c.Request()
	if cl := req.Header.ContentLength(); cl > limit {
		return tooLarge(limit)
	}
	if req.IsBodyStream() {
		body, err := io.ReadAll(io.LimitReader(req.BodyStream(), int64(limit)+1))
		if err != nil {
			return edge.Errorf(edge.EINVALID, "The request body could not be read: %v", err)
		}
		if len(body) > limit {
			return tooLarge(limit)
		}
		req.SetBody(body)
	}
	c.Locals(bodyReadKey, true)
	return nil
}

func tooLarge(limit int) error {
	return edge.Errorf(edge.ETOOLARGE, "Request body over %d bytes.", limit)
}

// limitBody reads the body of every request but an image upload, within
// maxJSONBytes.
func (s *Server) limitBody(c *fiber.Ctx) error {
	if c.Method() == fiber.MethodPost && c.Path() == "/api/scan/image" {
		return c.Next()
	}
	if err := readBody(c, maxJSONBytes); err != nil {
		return err
	}
	return c.Next()
}

// closeUnread closes the connection after a request whose body was left
// unread (refused before it was read): the rest of it is still on the
// wire, where the next request would be read from.
func (s *Server) closeUnread(c *fiber.Ctx) error {
	err := c.Next()
	if cl := c.Request().Header.ContentLength(); (cl > 0 || cl == -1) && c.Locals(bodyReadKey) == nil {
		c.Context().SetConnectionClose()
	}
	return err
}

// requireJSON refuses a body that is not declared application/json: a
// form or text/plain body is what a cross-site form can send without a
// preflight.
func requireJSON(c *fiber.Ctx) error {
	mt, _, err := mime.ParseMediaType(string(c.Request().Header.ContentType()))
	if err != nil || mt != fiber.MIMEApplicationJSON {
		return edge.Errorf(edge.EMEDIATYPE, "Send JSON with Content-Type: application/json.")
	}
	return nil
}
