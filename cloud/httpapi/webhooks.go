package httpapi

import (
	"github.com/gofiber/fiber/v2"

	"github.com/comptoir/comptoir/cloud"
)

// webhookWithSecret is a subscription as created or rotated: the only
// answers that show a secret.
type webhookWithSecret struct {
	cloud.Webhook
	Secret string `json:"secret"`
}

// view is w as the API shows it: its log a list, empty before the first
// attempt (openapi.json), never null.
func view(w cloud.Webhook) cloud.Webhook {
	if w.Log == nil {
		w.Log = []cloud.DeliveryAttempt{}
	}
	return w
}

// createWebhook subscribes the issuer key's merchant: {"url","events"}
// answers 201 with the subscription and its secret.
func (s *Server) createWebhook(c *fiber.Ctx) error {
	var req cloud.WebhookRequest
	if err := decode(c, &req); err != nil {
		return err
	}
	w, secret, err := s.Webhooks.Create(c.UserContext(), scope(c).Merchant, req)
	if err != nil {
		return err
	}
	return c.Status(fiber.StatusCreated).JSON(webhookWithSecret{Webhook: view(w), Secret: secret})
}

// listWebhooks answers the subscriptions in the key's scope, without
// their secrets.
func (s *Server) listWebhooks(c *fiber.Ctx) error {
	ws, err := s.Webhooks.List(c.UserContext(), scope(c))
	if err != nil {
		return err
	}
	for i := range ws {
		ws[i] = view(ws[i])
	}
	return c.JSON(fiber.Map{"webhooks": ws})
}

// deleteWebhook removes a subscription in the key's scope (204).
func (s *Server) deleteWebhook(c *fiber.Ctx) error {
	if err := s.Webhooks.Delete(c.UserContext(), scope(c), c.Params("id")); err != nil {
		return err
	}
	return c.SendStatus(fiber.StatusNoContent)
}

// rotateWebhookSecret gives a subscription a new secret, answered once;
// the old one signs beside it for a day.
func (s *Server) rotateWebhookSecret(c *fiber.Ctx) error {
	w, secret, err := s.Webhooks.RotateSecret(c.UserContext(), scope(c), c.Params("id"))
	if err != nil {
		return err
	}
	return c.JSON(webhookWithSecret{Webhook: view(w), Secret: secret})
}

// replayWebhook delivers again the events after a feed cursor,
// {"after":"CURSOR"} ("" or absent: from the first), or those recorded in
// a time range, {"from":"TIME","to":"TIME"} (to optional).
func (s *Server) replayWebhook(c *fiber.Ctx) error {
	var req cloud.ReplayRequest
	if len(c.Body()) > 0 {
		if err := decode(c, &req); err != nil {
			return err
		}
	}
	w, err := s.Webhooks.Replay(c.UserContext(), scope(c), c.Params("id"), req)
	if err != nil {
		return err
	}
	return c.JSON(view(w))
}

// enableWebhook starts again the deliveries of a disabled subscription.
func (s *Server) enableWebhook(c *fiber.Ctx) error {
	w, err := s.Webhooks.Enable(c.UserContext(), scope(c), c.Params("id"))
	if err != nil {
		return err
	}
	return c.JSON(view(w))
}
