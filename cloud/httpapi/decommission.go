package httpapi

import (
	"bytes"
	"encoding/json"
	"io"

	"github.com/gofiber/fiber/v2"

	"github.com/comptoir/comptoir/cloud"
	"github.com/comptoir/comptoir/edge"
	"github.com/comptoir/comptoir/sync/strictjson"
)

// fleet returns the enrolment and decommissioning use cases on the
// server's store and broker.
func (s *Server) fleet() *cloud.Fleet {
	return &cloud.Fleet{Store: s.Store, Accounts: s.BrokerAccounts, Now: s.Now, Logger: s.Logger}
}

// decommissionRequest is the body of POST /v1/terminals/{tid}/decommission.
type decommissionRequest struct {
	Reason string `json:"reason"`
}

// decodeDecommission parses the body of a decommissioning: one JSON object
// with a reason and nothing else. It returns the reason trimmed, or an
// EINVALID error.
func decodeDecommission(body []byte) (string, error) {
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	var req decommissionRequest
	if err := dec.Decode(&req); err != nil {
		return "", edge.Errorf(edge.EINVALID, "The request body must be {\"reason\":\"...\"}: %v.", err)
	}
	if _, err := dec.Token(); err != io.EOF { // More() is false before a stray "}" or "]"
		return "", edge.Errorf(edge.EINVALID, "The request body has data after its JSON value.")
	}
	if err := strictjson.Check(body, &req, "the body"); err != nil { // DisallowUnknownFields takes "Reason" too
		return "", edge.Errorf(edge.EINVALID, "The request body must be {\"reason\":\"...\"}: %v.", err)
	}
	return cloud.CheckReason(req.Reason)
}

// decommissionTerminal takes a terminal out of service (cloud.Fleet): its
// MQTT account is closed at once, and receipts it signs afterwards do not
// verify. It answers the terminal's view.
func (s *Server) decommissionTerminal(c *fiber.Ctx) error {
	reason, err := decodeDecommission(c.Body())
	if err != nil {
		return err
	}
	t, err := s.fleet().Decommission(c.UserContext(), c.Params("tid"), reason)
	if err != nil {
		return err
	}
	return c.JSON(viewOf(t))
}
