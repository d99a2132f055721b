package httpapi

import (
	"bytes"
	"html/template"
	"time"

	"github.com/gofiber/fiber/v2"

	"github.com/comptoir/comptoir/cloud"
)

// timeline answers a parcel's timeline in the key's scope: an issuer or
// partner key sees its merchant's parcels (another's is 404); an operator
// key sees any, and an unknown tracking number has an empty timeline, so
// that it may poll for the first entry.
func (s *Server) timeline(c *fiber.Ctx) error {
	tracking := c.Params("tracking")
	tl, err := s.Store.Timeline(c.UserContext(), scope(c), tracking)
	if err != nil {
		return err
	}
	return c.JSON(fiber.Map{"tracking": tracking, "timeline": tl})
}

// postEvents adds partners' events to the timelines of their merchant's
// parcels, each checked against its parcel, idempotently by event id. The
// body is {"events":[...]}; the answer counts what was added and lists
// what was refused, with a code each.
func (s *Server) postEvents(c *fiber.Ctx) error {
	var req struct {
		Events []cloud.PartnerEvent `json:"events"`
	}
	if err := decode(c, &req); err != nil {
		return err
	}
	res, err := s.Partners.Post(c.UserContext(), scope(c), req.Events)
	if err != nil {
		return err
	}
	return c.JSON(res)
}

// statusText is how the tracking page names each status.
var statusText = map[cloud.Status]string{
	cloud.StatusCreated:             "Return authorised",
	cloud.StatusDeposited:           "Dropped off at a relay point",
	cloud.StatusCancelled:           "Drop-off cancelled",
	cloud.StatusReceivedInStore:     "Returned in store",
	cloud.StatusHandedOver:          "Handed to the carrier",
	cloud.StatusInTransit:           "In transit",
	cloud.StatusReceivedAtWarehouse: "Received at the warehouse",
	cloud.StatusRefunded:            "Refunded",
	cloud.StatusExchanged:           "Exchanged",
}

var trackTmpl = template.Must(template.New("track").Funcs(template.FuncMap{
	"text": func(s cloud.Status) string {
		if t, ok := statusText[s]; ok {
			return t
		}
		return string(s)
	},
	"when": func(t time.Time) string { return t.UTC().Format("2006-01-02 15:04 UTC") },
}).Parse(`<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Parcel {{.Tracking}}</title>
<style>body{font-family:system-ui,sans-serif;max-width:40em;margin:2em auto;padding:0 1em}
li{margin:.5em 0}time{color:#555;display:block;font-size:.9em}</style>
</head><body>
<h1>Parcel {{.Tracking}}</h1>
{{if .Timeline}}<ol>
{{range .Timeline}}<li><strong>{{text .Status}}</strong><time datetime="{{.OccurredAt.Format "2006-01-02T15:04:05Z07:00"}}">{{when .OccurredAt}}</time></li>
{{end}}</ol>
{{else}}<p>No news of this parcel yet.</p>
{{end}}</body></html>
`))

// trackPage is a plain page of a parcel's timeline, for customers. It shows
// statuses and times only: no terminal, no names.
func (s *Server) trackPage(c *fiber.Ctx) error {
	tracking := c.Params("tracking")
	tl, err := s.Store.Timeline(c.UserContext(), cloud.Network, tracking)
	if err != nil {
		return err
	}
	var buf bytes.Buffer
	if err := trackTmpl.Execute(&buf, struct {
		Tracking string
		Timeline []cloud.TimelineEntry
	}{tracking, tl}); err != nil {
		return err
	}
	c.Set(fiber.HeaderContentType, fiber.MIMETextHTMLCharsetUTF8)
	c.Set("Content-Security-Policy", "default-src 'none'; style-src 'unsafe-inline'")
	return c.Send(buf.Bytes())
}
