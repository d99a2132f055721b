package httpapi

import (
	"encoding/json"
	"strconv"
	"time"

	"github.com/gofiber/fiber/v2"
	"github.com/google/uuid"

	"github.com/comptoir/comptoir/cloud"
	"github.com/comptoir/comptoir/edge"
	"github.com/comptoir/comptoir/sync/wire"
)

type enrolRequest struct {
	ID               string `json:"id"`
	Name             string `json:"name"`
	ReceiptPublicKey string `json:"receipt_public_key"`
}

type mqttCredentials struct {
	URL      string `json:"url"`
	Username string `json:"username"`
	Password string `json:"password"`
}

type enrolResponse struct {
	Terminal string          `json:"terminal"`
	MQTT     mqttCredentials `json:"mqtt"`
	// Trust is the current trust list, so that a terminal verifies return
	// codes offline from its first start, before it reaches the broker.
	Trust json.RawMessage `json:"trust"`
	// SeqFloor: the terminal numbers its operations above it (a device
	// enrolled in a decommissioned one's place; 0 for a new terminal).
	SeqFloor uint64 `json:"seq_floor"`
}

// terminalView is a terminal as the fleet API shows it; its secrets stay
// out.
type terminalView struct {
	ID       string          `json:"id"`
	Name     string          `json:"name"`
	Online   bool            `json:"online"`
	LastSeen *time.Time      `json:"last_seen"`
	AckedSeq uint64          `json:"acked_seq"`
	Status   json.RawMessage `json:"status"`
	// DecommissionedAt is null while the terminal is in service.
	DecommissionedAt   *time.Time `json:"decommissioned_at"`
	DecommissionReason string     `json:"decommission_reason,omitempty"`
	// ReceiptKeys are every receipt key the terminal had, the current
	// first, with the period each was valid.
	ReceiptKeys []cloud.ReceiptKey `json:"receipt_keys"`
}

func viewOf(t cloud.Terminal) terminalView {
	v := terminalView{
		ID: t.ID, Name: t.Name, Online: t.Online, AckedSeq: t.AckedSeq, Status: t.Status,
		DecommissionReason: t.DecommissionReason, ReceiptKeys: t.ReceiptKeys(),
	}
	if !t.LastSeen.IsZero() {
		ls := t.LastSeen
		v.LastSeen = &ls
	}
	if t.Decommissioned() {
		d := t.DecommissionedAt
		v.DecommissionedAt = &d
	}
	if len(v.Status) == 0 {
		v.Status = json.RawMessage(`{}`)
	}
	return v
}

// enrolTerminal registers a terminal and its receipt key (cloud.Fleet),
// and answers its MQTT credentials: shown once, only their hash is kept.
func (s *Server) enrolTerminal(c *fiber.Ctx) error {
	var req enrolRequest
	if err := decode(c, &req); err != nil {
		return err
	}
	e, err := s.fleet().Enrol(c.UserContext(), cloud.Enrolment{ID: req.ID, Name: req.Name, ReceiptPublicKey: req.ReceiptPublicKey})
	if err != nil {
		return err
	}
	return c.Status(fiber.StatusCreated).JSON(enrolResponse{
		Terminal: e.Terminal.ID,
		MQTT:     mqttCredentials{URL: s.MQTTURL, Username: e.Terminal.ID, Password: e.Password},
		Trust:    json.RawMessage(s.Trust.List().MarshalJWKS()),
		SeqFloor: e.SeqFloor,
	})
}

// fleetFilter is the query of GET /v1/terminals: online=true|false,
// backlog_over=N (outbox_pending above N), printer=down|up|STATE (a printer
// of the terminal is so, as of its last status).
type fleetFilter struct {
	online      *bool
	backlogOver int
	printer     string
}

func parseFleetFilter(c *fiber.Ctx) (fleetFilter, error) {
	var f fleetFilter
	switch v := c.Query("online"); v {
	case "":
	case "true", "false":
		b := v == "true"
		f.online = &b
	default:
		return f, edge.Errorf(edge.EINVALID, "online must be true or false.")
	}
	f.backlogOver = -1
	if v := c.Query("backlog_over"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 0 {
			return f, edge.Errorf(edge.EINVALID, "backlog_over must be a number of operations, 0 or more.")
		}
		f.backlogOver = n
	}
	f.printer = c.Query("printer")
	if len(f.printer) > 64 {
		return f, edge.Errorf(edge.EINVALID, "printer must be down, up or a printer state.")
	}
	return f, nil
}

func (f fleetFilter) match(t cloud.Terminal) bool {
	if f.online != nil && t.Online != *f.online {
		return false
	}
	st := t.WireStatus()
	if f.backlogOver >= 0 && st.OutboxPending <= f.backlogOver {
		return false
	}
	if f.printer == "" {
		return true
	}
	for _, p := range st.Printers {
		switch {
		case f.printer == "down" && !p.Up, f.printer == "up" && p.Up, p.State == f.printer:
			return true
		}
	}
	return false
}

func (s *Server) listTerminals(c *fiber.Ctx) error {
	f, err := parseFleetFilter(c)
	if err != nil {
		return err
	}
	ts, err := s.Store.Terminals(c.UserContext())
	if err != nil {
		return err
	}
	out := make([]terminalView, 0, len(ts))
	for _, t := range ts {
		if f.match(t) {
			out = append(out, viewOf(t))
		}
	}
	return c.JSON(fiber.Map{"terminals": out})
}

func (s *Server) getTerminal(c *fiber.Ctx) error {
	t, err := s.Store.FindTerminal(c.UserContext(), c.Params("tid"))
	if err != nil {
		return err
	}
	return c.JSON(viewOf(t))
}

type commandRequest struct {
	Type        string          `json:"type"`
	Config      json.RawMessage `json:"config"`
	Revocations []string        `json:"revocations"`
}

// postCommand sends a command to a terminal over MQTT (QoS 1). The terminal
// applies it when it is online, and journals command.applied.
func (s *Server) postCommand(c *fiber.Ctx) error {
	var req commandRequest
	if err := decode(c, &req); err != nil {
		return err
	}
	switch req.Type {
	case wire.CmdConfigSet, wire.CmdRevocationsAdd, wire.CmdPing:
	default:
		return edge.Errorf(edge.EINVALID, "Unknown command type %q.", req.Type)
	}
	tid := c.Params("tid")
	if _, err := s.Store.FindTerminal(c.UserContext(), tid); err != nil {
		return err
	}
	if s.Commands == nil {
		return edge.Errorf(edge.EUNAVAILABLE, "Commands cannot be sent: no MQTT connection.")
	}
	id, err := uuid.NewV7()
	if err != nil {
		return err
	}
	cmd := wire.Command{V: wire.Version, ID: id.String(), Type: req.Type, Config: req.Config, Revocations: req.Revocations}
	if err := s.Commands.PublishCommand(c.UserContext(), tid, cmd); err != nil {
		s.log().Error("publish command", "terminal", tid, "err", err)
		return edge.Errorf(edge.EUNAVAILABLE, "The command could not be sent; try again.")
	}
	return c.Status(fiber.StatusAccepted).JSON(fiber.Map{"id": cmd.ID, "terminal": tid, "type": cmd.Type})
}
