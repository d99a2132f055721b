package ui

import (
	"errors"
	"log/slog"
	"net/http"

	"github.com/comptoir/comptoir/edge"
	"github.com/gofiber/fiber/v2"
)

// errorStatus maps an error code to its HTTP status. Refusal codes are
// answered 422: the request was understood and the counter says no.
func errorStatus(code string) int {
	switch code {
	case edge.EINVALID, edge.EBADTEXT:
		return http.StatusBadRequest
	case edge.EMISDIRECTED:
		return http.StatusMisdirectedRequest
	case edge.EMEDIATYPE:
		return http.StatusUnsupportedMediaType
	case edge.EUNAUTHORIZED:
		return http.StatusUnauthorized
	case edge.EFORBIDDEN:
		return http.StatusForbidden
	case edge.ENOTFOUND:
		return http.StatusNotFound
	case edge.ECONFLICT, edge.EHANDEDOVER, edge.ECANCELLED, edge.ENOTONSHELF:
		return http.StatusConflict
	case edge.ETOOLARGE:
		return http.StatusRequestEntityTooLarge
	case edge.ELOCKED, edge.ERATELIMITED:
		return http.StatusTooManyRequests
	case edge.EUNAVAILABLE:
		return http.StatusServiceUnavailable
	case edge.EUNSUPPORTED:
		return http.StatusNotImplemented
	case string(edge.StorageFull):
		return http.StatusInsufficientStorage
	case edge.EINTERNAL, edge.EPRINTER:
		return http.StatusInternalServerError
	}
	return http.StatusUnprocessableEntity
}

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
	return c.Status(errorStatus(code)).JSON(fiber.Map{"error": errorBody{
		Code: code, Message: edge.ErrorMessage(err), Refusals: edge.Refusals(err),
	}})
}
