package httpapi

import (
	"github.com/gofiber/fiber/v2"

	"github.com/comptoir/comptoir/cloud"
)

type createReturnResponse struct {
	RAID     string `json:"ra_id"`
	Tracking string `json:"tracking"`
	Token    string `json:"token"`
	QRPNGURL string `json:"qr_png_url"`
}

// createReturn issues a signed return authorisation of the key's merchant
// (or registers one it signed itself) and opens the parcel's timeline.
func (s *Server) createReturn(c *fiber.Ctx) error {
	var req cloud.ReturnRequest
	if err := decode(c, &req); err != nil {
		return err
	}
	k, _ := key(c)
	ctx := c.UserContext()
	r, err := s.Issuer.CreateReturn(ctx, k.Merchant, req)
	if err != nil {
		return err
	}
	link, err := s.Issuer.QRLink(ctx, r)
	if err != nil {
		return err
	}
	return c.Status(fiber.StatusCreated).JSON(createReturnResponse{
		RAID: r.ID, Tracking: r.Tracking, Token: r.Token, QRPNGURL: c.BaseURL() + link,
	})
}

// getReturn answers the stored return, in the key's scope.
func (s *Server) getReturn(c *fiber.Ctx) error {
	r, err := s.Issuer.FindReturn(c.UserContext(), scope(c), c.Params("id"))
	if err != nil {
		return err
	}
	return c.JSON(r)
}

// revokeReturn adds a return to the revocation list of the trust topic, so
// that terminals refuse its code (REVOKED).
func (s *Server) revokeReturn(c *fiber.Ctx) error {
	r, err := s.Issuer.Revoke(c.UserContext(), scope(c), c.Params("id"))
	if err != nil && r.ID != "" {
		// Stored: it goes out with the next publication of the trust list.
		s.log().Error("publish trust list", "err", err)
	} else if err != nil {
		return err
	}
	return c.JSON(fiber.Map{"ra_id": r.ID, "revoked": true})
}

// returnQR answers the QR code of a return's token as a PNG: with the
// signed link of the return (exp, sig), or with an issuer key of its
// merchant. Anything else is 404, as for a return that does not exist.
func (s *Server) returnQR(c *fiber.Ctx) error {
	ctx := c.UserContext()
	id := c.Params("id")
	var r cloud.Return
	var err error
	if c.Query("sig") != "" {
		r, err = s.Issuer.LinkedReturn(ctx, id, c.Query("exp"), c.Query("sig"))
	} else if c.Get(fiber.HeaderAuthorization) != "" {
		if _, err := s.authenticate(c, cloud.RoleIssuer); err != nil {
			return err
		}
		r, err = s.Issuer.FindReturn(ctx, scope(c), id)
	} else {
		err = cloud.ErrNotFound("return", id)
	}
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
