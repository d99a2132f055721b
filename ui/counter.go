package ui

import (
	"strconv"
	"time"

	"github.com/comptoir/comptoir/edge"
	"github.com/gofiber/fiber/v2"
)

// The counter's routes beyond deposits: in-store returns, cancellations,
// handovers, history, the day's summary and staff accounts.

// requireManager refuses clerks: cancellations after the grace window are
// checked by the Desk, the rest here.
func (s *Server) requireManager(c *fiber.Ctx) error {
	if session(c).Role != edge.RoleManager {
		return edge.Errorf(edge.EFORBIDDEN, "Only a manager may do this.")
	}
	return c.Next()
}

func (s *Server) postInstore(c *fiber.Ctx) error {
	var req struct {
		Code       string             `json:"code"`
		Items      []edge.InstoreItem `json:"items"`
		Resolution edge.Resolution    `json:"resolution"`
	}
	if err := decodeJSON(c, &req); err != nil {
		return err
	}
	ret, err := s.deps.Desk.ReceiveInstore(ctxOf(c), edge.InstoreRequest{
		Code: req.Code, Items: req.Items, Resolution: req.Resolution, Operator: session(c).StaffID,
	})
	if err != nil {
		return err
	}
	op := ret.Operation
	return c.Status(fiber.StatusCreated).JSON(fiber.Map{"instore_return": fiber.Map{
		"id": op.ID, "seq": op.Seq, "tracking": op.Tracking, "occurred_at": op.OccurredAt,
		"operator": op.Operator, "ra_id": ret.Data.RAID, "items": ret.Data.Items, "resolution": ret.Data.Resolution,
	}})
}

func (s *Server) postCancel(c *fiber.Ctx) error {
	var req struct {
		Reason string `json:"reason"`
	}
	if len(c.Body()) > 0 {
		if err := decodeJSON(c, &req); err != nil {
			return err
		}
	}
	sess := session(c)
	res, err := s.deps.Desk.Cancel(ctxOf(c), edge.CancelRequest{
		DepositID: c.Params("id"), Reason: req.Reason, Operator: sess.StaffID, Role: sess.Role,
	})
	if err != nil {
		return err
	}
	op := res.Operation
	return c.JSON(fiber.Map{"cancellation": fiber.Map{
		"id": op.ID, "seq": op.Seq, "deposit_id": res.Data.DepositID, "tracking": op.Tracking,
		"reason": res.Data.Reason, "operator": op.Operator, "occurred_at": op.OccurredAt,
		"shelf_slot": res.Parcel.Slot,
	}})
}

func (s *Server) postHandover(c *fiber.Ctx) error {
	var req struct {
		Carrier   string   `json:"carrier"`
		Trackings []string `json:"trackings"`
		All       bool     `json:"all"`
		DriverRef string   `json:"driver_ref"`
	}
	if err := decodeJSON(c, &req); err != nil {
		return err
	}
	h, err := s.deps.Desk.Handover(ctxOf(c), edge.HandoverRequest{
		Carrier: req.Carrier, Trackings: req.Trackings, All: req.All, DriverRef: req.DriverRef,
		Operator: session(c).StaffID,
	})
	manifests := []fiber.Map{}
	for _, m := range h.Manifests {
		mm := fiber.Map{
			"id": m.ID, "carrier": m.Carrier, "count": len(m.Trackings), "trackings": m.Trackings,
			"operation_id": m.Operation.ID, "seq": m.Operation.Seq,
		}
		if m.PrintJob != "" {
			mm["print_job"] = m.PrintJob
			mm["escpos_url"] = "/api/print-jobs/" + m.PrintJob + "/data"
		}
		if m.PrintError != "" {
			mm["print_error"] = m.PrintError
		}
		manifests = append(manifests, mm)
	}
	if err != nil {
		if len(manifests) > 0 {
			// Part of the handover is journalled: say which, with the error.
			s.log.Error("handover partly journalled", "manifests", len(manifests), "error", err)
		}
		return err
	}
	return c.Status(fiber.StatusCreated).JSON(fiber.Map{"manifests": manifests})
}

func (s *Server) getShelf(c *fiber.Ctx) error {
	v, err := s.deps.Desk.Shelf(ctxOf(c), c.Query("carrier"))
	if err != nil {
		return err
	}
	return c.JSON(v)
}

// getOperations answers the history: ?after=SEQ&limit=N&type=T&tracking=X&day=YYYY-MM-DD.
func (s *Server) getOperations(c *fiber.Ctx) error {
	after, err := strconv.ParseUint(c.Query("after", "0"), 10, 64)
	if err != nil {
		return edge.Errorf(edge.EINVALID, "after must be a sequence number.")
	}
	limit, err := strconv.Atoi(c.Query("limit", "100"))
	if err != nil || limit < 1 || limit > edge.MaxHistoryPage {
		return edge.Errorf(edge.EINVALID, "limit must be between 1 and %d.", edge.MaxHistoryPage)
	}
	q := edge.HistoryQuery{After: after, Limit: limit, Type: edge.OpType(c.Query("type")), Tracking: c.Query("tracking")}
	if day := c.Query("day"); day != "" {
		if q.From, q.To, err = edge.Day(day, s.location()); err != nil {
			return err
		}
	}
	page, err := s.deps.Desk.History(ctxOf(c), q)
	if err != nil {
		return err
	}
	return c.JSON(page)
}

// getSummary answers the summary of ?day=YYYY-MM-DD, today by default.
func (s *Server) getSummary(c *fiber.Ctx) error {
	day := c.Query("day", time.Now().In(s.location()).Format(time.DateOnly))
	sum, err := s.deps.Desk.DaySummary(ctxOf(c), day, s.location())
	if err != nil {
		return err
	}
	return c.JSON(sum)
}

// getStatement answers the relay point's statement of ?month=YYYY-MM,
// this month by default.
func (s *Server) getStatement(c *fiber.Ctx) error {
	month := c.Query("month", time.Now().In(s.location()).Format("2006-01"))
	st, err := s.deps.Desk.MonthStatement(ctxOf(c), month, s.location())
	if err != nil {
		return err
	}
	return c.JSON(st)
}

func (s *Server) postCloseDay(c *fiber.Ctx) error {
	sum, op, err := s.deps.Desk.CloseDay(ctxOf(c), c.Params("day"), s.location(), session(c).StaffID)
	if err != nil {
		return err
	}
	return c.Status(fiber.StatusCreated).JSON(fiber.Map{"summary": sum, "operation_id": op.ID, "seq": op.Seq})
}

func (s *Server) location() *time.Location {
	if s.cfg.Location != nil {
		return s.cfg.Location
	}
	return time.Local
}

// staffJSON is an account as the API shows it: never its PIN hash.
func staffJSON(st edge.Staff) fiber.Map {
	return fiber.Map{"id": st.ID, "name": st.Name, "role": st.Role, "disabled": st.Disabled}
}

func (s *Server) getStaff(c *fiber.Ctx) error {
	all, err := s.deps.Journal.ListStaff(ctxOf(c))
	if err != nil {
		return err
	}
	out := make([]fiber.Map, 0, len(all))
	for _, st := range all {
		out = append(out, staffJSON(st))
	}
	return c.JSON(fiber.Map{"staff": out})
}

func (s *Server) postStaff(c *fiber.Ctx) error {
	var req struct {
		Name string `json:"name"`
		Role string `json:"role"`
		PIN  string `json:"pin"`
	}
	if err := decodeJSON(c, &req); err != nil {
		return err
	}
	st, err := s.deps.SignIn.AddStaff(ctxOf(c), session(c).StaffID, req.Name, req.Role, req.PIN)
	if err != nil {
		return err
	}
	s.log.Info("staff added", "staff", st.ID, "role", st.Role, "by", session(c).StaffID)
	return c.Status(fiber.StatusCreated).JSON(fiber.Map{"staff": staffJSON(st)})
}

func (s *Server) postStaffDisable(c *fiber.Ctx) error {
	st, err := edge.DisableStaff(ctxOf(c), s.deps.Journal, c.Params("id"))
	if err != nil {
		return err
	}
	s.sessions.signOutStaff(st.ID)
	s.log.Info("staff disabled", "staff", st.ID, "by", session(c).StaffID)
	return c.JSON(fiber.Map{"staff": staffJSON(st)})
}
