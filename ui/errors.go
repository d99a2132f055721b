package ui

import (
	"errors"
	"log/slog"

	"github.com/comptoir/comptoir/edge"
	"github.com/gofiber/fiber/v2"
)

type errorBody struct {
	Code     string             `json:"code"`
	Message  string             `json:"message"`
	Refusals []edge.RefusalCode `json:"refusals,omitempty"`
}

// writeError answers err as {"error":{...}}; internal errors are logged with
// their detail and shown as a generic message.
func writeError(c *fiber.Ctx, log *slog.Logger, err error) error {
	code := edge.ErrorCode(err)
	var fe *fiber.Error
	if errors.As(err, &fe) {
		code = edge.EINVALID
		switch fe.Code {
		case fiber.StatusRequestEntityTooLarge:
			code = edge.ETOOLARGE
		case fiber.StatusNotFound:
			code = edge.ENOTFOUND
		case fiber.StatusMethodNotAllowed:
			code = edge.ENOTFOUND
		}
		err = edge.Errorf(code, "%s", fe.Message)
	}
	if code == edge.EINTERNAL {
		log.Error("request failed", "method", c.Method(), "path", c.Path(), "error", err)
	}
	return c.Status(edge.HTTPStatus(code)).JSON(fiber.Map{"error": errorBody{
		Code: code, Message: edge.ErrorMessage(err), Refusals: edge.Refusals(err),
	}})
}
