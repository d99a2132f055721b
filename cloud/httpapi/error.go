package httpapi

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"

	"github.com/gofiber/fiber/v2"

	"github.com/comptoir/comptoir/cloud"
	"github.com/comptoir/comptoir/edge"
	"github.com/comptoir/comptoir/sync/strictjson"
)

var errNotFound = edge.Errorf(edge.ENOTFOUND, "No such resource.")

// cloudStatus maps the cloud's own error codes to their HTTP status; the
// codes of edge get edge.HTTPStatus, the kiosk API's table.
var cloudStatus = map[string]int{
	cloud.ETrackingTaken: fiber.StatusConflict,
	cloud.EStatusOrder:   fiber.StatusConflict,
	cloud.EBadTime:       fiber.StatusUnprocessableEntity,
	cloud.EPrivateTarget: fiber.StatusUnprocessableEntity,
}

// fiberCodes maps Fiber's own errors (no route, body too large) to codes.
var fiberCodes = map[int]string{
	fiber.StatusBadRequest:            edge.EINVALID,
	fiber.StatusNotFound:              edge.ENOTFOUND,
	fiber.StatusMethodNotAllowed:      edge.ENOTFOUND,
	fiber.StatusRequestEntityTooLarge: edge.ETOOLARGE,
}

// handleError answers {"error":{"code","message"}} with the code's status.
// Internal errors are logged and answered with a generic message.
func (s *Server) handleError(c *fiber.Ctx, err error) error {
	var fe *fiber.Error
	if errors.As(err, &fe) {
		code, ok := fiberCodes[fe.Code]
		if !ok {
			code = edge.EINTERNAL
		}
		return c.Status(fe.Code).JSON(errorBody(code, fe.Message))
	}
	code := edge.ErrorCode(err)
	status, ok := cloudStatus[code]
	if !ok {
		status = edge.HTTPStatus(code) // the kiosk's API answers the same
	}
	if code == edge.EINTERNAL {
		s.log().Error("request failed", "method", c.Method(), "path", c.Path(), "err", err)
	}
	return c.Status(status).JSON(errorBody(code, edge.ErrorMessage(err)))
}

func errorBody(code, message string) fiber.Map {
	return fiber.Map{"error": fiber.Map{"code": code, "message": message}}
}

// decode parses the JSON body into v; an empty, malformed or trailing body
// is INVALID, and so is a key that names a field only without regard to
// case ({"Tracking": ...}): encoding/json would take it as that field,
// where openapi.json's keys are case-sensitive. Unknown keys are ignored.
func decode(c *fiber.Ctx, v any) error {
	dec := json.NewDecoder(bytes.NewReader(c.Body()))
	if err := dec.Decode(v); err != nil {
		return edge.Errorf(edge.EINVALID, "The request body is not valid JSON: %v.", err)
	}
	if _, err := dec.Token(); err != io.EOF { // More() is false before a stray "}" or "]"
		return edge.Errorf(edge.EINVALID, "The request body has data after its JSON value.")
	}
	if err := strictjson.CheckCase(c.Body(), v, "the body"); err != nil {
		return edge.Errorf(edge.EINVALID, "The request body is not valid: %v.", err)
	}
	return nil
}
