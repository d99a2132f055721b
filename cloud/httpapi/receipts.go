package httpapi

import (
	"time"

	"github.com/gofiber/fiber/v2"

	"github.com/comptoir/comptoir/cloud"
	"github.com/comptoir/comptoir/edge"
)

type verifyRequest struct {
	Token string `json:"token"`
}

// receiptView is a verified receipt's claims in the API's words.
type receiptView struct {
	ID         string    `json:"id"`
	Tracking   string    `json:"tracking"`
	RAID       string    `json:"ra_id,omitempty"`
	RelayPoint string    `json:"relay_point"`
	At         time.Time `json:"at"`
	WeightG    int       `json:"weight_g"`
	Parcels    int       `json:"parcels"`
	// TimeSynced says the terminal's clock agreed with the cloud's when it
	// dated the receipt (the claim "sync").
	TimeSynced bool `json:"time_synced"`
}

// verifyReceipt checks a proof-of-deposit token (cloud.Receipts). Every
// outcome answers 200: a receipt that is not valid is a normal answer,
// with its reason; the claims are shown once the signature is genuine.
func (s *Server) verifyReceipt(c *fiber.Ctx) error {
	var req verifyRequest
	if err := decode(c, &req); err != nil {
		return err
	}
	if req.Token == "" {
		return edge.Errorf(edge.EINVALID, "A token is required.")
	}
	res, err := cloud.Receipts{Store: s.Store}.Verify(c.UserContext(), req.Token)
	if err != nil {
		return err
	}
	out := fiber.Map{"valid": res.Valid, "status": res.Status}
	if res.Reason != "" {
		out["reason"] = res.Reason
	}
	if r := res.Receipt; r != nil {
		out["terminal"] = res.Terminal
		out["receipt"] = receiptView{
			ID: r.ID, Tracking: r.Tracking, RAID: r.RAID, RelayPoint: r.RelayPoint,
			At: r.At, WeightG: r.WeightG, Parcels: r.Parcels, TimeSynced: r.TimeSynced,
		}
	}
	return c.JSON(out)
}
