package httpapi

import (
	"crypto/ed25519"
	"time"

	"github.com/gofiber/fiber/v2"

	"github.com/comptoir/comptoir/edge"
	"github.com/comptoir/comptoir/scanner/token"
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
}

// verifyReceipt checks a proof-of-deposit token against the receipt key its
// terminal registered at enrolment. Both outcomes answer 200: a false
// receipt is a normal answer, with its refusal code as reason.
func (s *Server) verifyReceipt(c *fiber.Ctx) error {
	var req verifyRequest
	if err := decode(c, &req); err != nil {
		return err
	}
	if req.Token == "" {
		return edge.Errorf(edge.EINVALID, "A token is required.")
	}
	ctx := c.UserContext()
	var tid string // the kid of the token, the terminal it claims
	lookup := func(kid string) (ed25519.PublicKey, bool) {
		tid = kid
		t, err := s.Store.FindTerminal(ctx, kid)
		if err != nil {
			return nil, false
		}
		pub, err := token.DecodePublicKey(t.ReceiptPublicKey)
		return pub, err == nil
	}
	r, err := token.VerifyReceipt(lookup, req.Token)
	if err != nil {
		code := edge.ErrorCode(err)
		if code == edge.EINTERNAL {
			return err
		}
		return c.JSON(fiber.Map{"valid": false, "reason": code})
	}
	return c.JSON(fiber.Map{
		"valid":    true,
		"terminal": tid,
		"receipt": receiptView{
			ID: r.ID, Tracking: r.Tracking, RAID: r.RAID, RelayPoint: r.RelayPoint,
			At: r.At, WeightG: r.WeightG, Parcels: r.Parcels,
		},
	})
}
