package httpapi

import (
	"crypto/rand"
	"fmt"
	"math/big"
	"regexp"
	"time"

	"github.com/gofiber/fiber/v2"
	"github.com/google/uuid"

	"github.com/comptoir/comptoir/cloud"
	"github.com/comptoir/comptoir/edge"
	"github.com/comptoir/comptoir/scanner/token"
)

// Defaults of a return authorisation.
const (
	DefaultCarrier   = "DEMO"
	DefaultValidDays = 30
	MaxValidDays     = 365
	MaxItems         = 20
)

// DefaultDest is the demo return warehouse, named by its id in the
// network's directory rather than by its address: every byte of an RA is in
// its QR code (DESIGN.md, "Keep tokens small").
var DefaultDest = edge.Address{Name: "WH-DEMO"}

var trackingRe = regexp.MustCompile(`^[A-Z0-9]{8,34}$`)
var s10Re = regexp.MustCompile(`^[A-Z]{2}[0-9]{9}[A-Z]{2}$`)

type createReturnRequest struct {
	Carrier   string         `json:"carrier"`
	Dst       *edge.Address  `json:"dst"`
	Items     []edge.Item    `json:"items"`
	MaxG      int            `json:"max_g"`
	DimsMM    []int          `json:"dims_mm"`
	Hazardous bool           `json:"hz"`
	Networks  []string       `json:"net"`
	Mode      string         `json:"mode"`
	ValidDays int            `json:"valid_days"`
	Tracking  string         `json:"tracking"`
	Customer  *edge.Customer `json:"cust"`
}

type createReturnResponse struct {
	RAID     string `json:"ra_id"`
	Tracking string `json:"tracking"`
	Token    string `json:"token"`
	QRPNGURL string `json:"qr_png_url"`
}

// validate checks req and fills in its defaults.
func (req *createReturnRequest) validate() error {
	if len(req.Items) == 0 || len(req.Items) > MaxItems {
		return edge.Errorf(edge.EINVALID, "A return needs 1 to %d items.", MaxItems)
	}
	for i := range req.Items {
		it := &req.Items[i]
		if it.SKU == "" {
			return edge.Errorf(edge.EINVALID, "Item %d has no sku.", i)
		}
		if it.Qty == 0 {
			it.Qty = 1
		}
		if it.Qty < 0 || it.Qty > 999 {
			return edge.Errorf(edge.EINVALID, "Item %d has a quantity of %d.", i, it.Qty)
		}
		switch it.Reason {
		case "", edge.ReasonChangedMind, edge.ReasonNotAsDescribed, edge.ReasonDamaged,
			edge.ReasonWrongSize, edge.ReasonDefective, edge.ReasonOther:
		default:
			return edge.Errorf(edge.EINVALID, "Item %d has an unknown reason %q.", i, it.Reason)
		}
	}
	if req.Carrier == "" {
		req.Carrier = DefaultCarrier
	}
	if req.Dst == nil {
		d := DefaultDest
		req.Dst = &d
	}
	switch req.Mode {
	case "":
		req.Mode = edge.ModeLabelAtCounter
	case edge.ModeLabelAtCounter, edge.ModePrelabelled:
	default:
		return edge.Errorf(edge.EINVALID, "Unknown mode %q (label_at_counter or prelabelled).", req.Mode)
	}
	if req.ValidDays == 0 {
		req.ValidDays = DefaultValidDays
	}
	if req.ValidDays < 0 || req.ValidDays > MaxValidDays {
		return edge.Errorf(edge.EINVALID, "valid_days must be 1 to %d.", MaxValidDays)
	}
	if req.MaxG < 0 {
		return edge.Errorf(edge.EINVALID, "max_g must not be negative.")
	}
	if req.DimsMM != nil && (len(req.DimsMM) != 3 || req.DimsMM[0] <= 0 || req.DimsMM[1] <= 0 || req.DimsMM[2] <= 0) {
		return edge.Errorf(edge.EINVALID, "dims_mm must be three positive lengths.")
	}
	if req.Tracking != "" {
		if !trackingRe.MatchString(req.Tracking) {
			return edge.Errorf(edge.EINVALID, "A tracking number is 8 to 34 capital letters and digits.")
		}
		if s10Re.MatchString(req.Tracking) && !cloud.ValidS10(req.Tracking) {
			return edge.Errorf(edge.EINVALID, "The tracking number %s has a wrong check digit.", req.Tracking)
		}
	}
	return nil
}

// createReturn issues a signed return authorisation and opens the parcel's
// timeline with "created".
func (s *Server) createReturn(c *fiber.Ctx) error {
	var req createReturnRequest
	if err := decode(c, &req); err != nil {
		return err
	}
	if err := req.validate(); err != nil {
		return err
	}
	if req.Tracking == "" {
		t, err := NewTracking()
		if err != nil {
			return err
		}
		req.Tracking = t
	}
	id, err := uuid.NewV7()
	if err != nil {
		return fmt.Errorf("create return: %w", err)
	}
	now := s.Now().UTC().Truncate(time.Second)
	ra := edge.ReturnAuthorisation{
		Issuer: s.IssuerID, ID: id.String(),
		IssuedAt: now, ExpiresAt: now.AddDate(0, 0, req.ValidDays),
		Tracking: req.Tracking, Carrier: req.Carrier, Dest: *req.Dst, Items: req.Items,
		MaxG: req.MaxG, DimsMM: req.DimsMM, Hazardous: req.Hazardous, Networks: req.Networks,
		Mode: req.Mode, Customer: req.Customer,
	}
	tok, err := token.SignRA(s.IssuerKey, ra)
	if err != nil {
		return err
	}
	r := cloud.Return{ID: ra.ID, Tracking: ra.Tracking, Carrier: ra.Carrier, Token: tok, CreatedAt: now, ExpiresAt: ra.ExpiresAt}
	ctx := c.UserContext()
	if err := s.Store.CreateReturn(ctx, r); err != nil {
		return err
	}
	entry := cloud.TimelineEntry{Status: cloud.StatusCreated, OccurredAt: now, ReceivedAt: now, Source: cloud.SourceIssuer, EventID: ra.ID}
	if _, err := s.Store.AddTimelineEntry(ctx, ra.Tracking, entry); err != nil {
		return err
	}
	return c.Status(fiber.StatusCreated).JSON(createReturnResponse{
		RAID: ra.ID, Tracking: ra.Tracking, Token: tok,
		QRPNGURL: c.BaseURL() + "/v1/returns/" + ra.ID + "/qr.png",
	})
}

// getReturn answers the stored return.
func (s *Server) getReturn(c *fiber.Ctx) error {
	r, err := s.Store.FindReturn(c.UserContext(), c.Params("id"))
	if err != nil {
		return err
	}
	return c.JSON(r)
}

// revokeReturn adds a return to the revocation list of the trust topic, so
// that terminals refuse its code (REVOKED), online or, once they have heard
// of it, offline.
func (s *Server) revokeReturn(c *fiber.Ctx) error {
	ctx := c.UserContext()
	r, err := s.Store.FindReturn(ctx, c.Params("id"))
	if err != nil {
		return err
	}
	if err := s.Store.Revoke(ctx, r.ID); err != nil {
		return err
	}
	// Every revocation in the store, not only this one: with several
	// instances, others may have revoked since this one started, and the
	// retained trust list published here replaces theirs.
	all, err := s.Store.Revocations(ctx)
	if err != nil {
		return err
	}
	s.Trust.Revoke(all...)
	if s.TrustChanged != nil {
		if err := s.TrustChanged(); err != nil {
			// Stored: it goes out with the next publication of the trust list.
			s.log().Error("publish trust list", "err", err)
		}
	}
	return c.JSON(fiber.Map{"ra_id": r.ID, "revoked": true})
}

// returnQR answers the QR code of a return's token as a PNG.
func (s *Server) returnQR(c *fiber.Ctx) error {
	r, err := s.Store.FindReturn(c.UserContext(), c.Params("id"))
	if err != nil {
		return err
	}
	png, err := QRPNG(r.Token)
	if err != nil {
		return err
	}
	c.Set(fiber.HeaderContentType, "image/png")
	c.Set(fiber.HeaderCacheControl, "private, max-age=3600")
	return c.Send(png)
}

// NewTracking returns a random UPU S10 tracking number of service CP and
// country FR, with its check digit.
func NewTracking() (string, error) {
	n, err := rand.Int(rand.Reader, big.NewInt(100_000_000))
	if err != nil {
		return "", fmt.Errorf("new tracking: %w", err)
	}
	return cloud.S10("CP", fmt.Sprintf("%08d", n.Int64()), "FR")
}
