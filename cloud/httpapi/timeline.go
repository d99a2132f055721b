package httpapi

import (
	"bytes"
	"html/template"
	"time"

	"github.com/gofiber/fiber/v2"

	"github.com/comptoir/comptoir/cloud"
	"github.com/comptoir/comptoir/edge"
)

// MaxPartnerEvents bounds one POST /v1/events.
const MaxPartnerEvents = 500

// timeline answers a parcel's timeline; an unknown tracking number has an
// empty one, so that a client may poll for the first entry.
func (s *Server) timeline(c *fiber.Ctx) error {
	tracking := c.Params("tracking")
	tl, err := s.Store.Timeline(c.UserContext(), tracking)
	if err != nil {
		return err
	}
	return c.JSON(fiber.Map{"tracking": tracking, "timeline": tl})
}

// partnerEvent is an event of a carrier or a warehouse.
type partnerEvent struct {
	ID         string       `json:"id"`
	Tracking   string       `json:"tracking"`
	Status     cloud.Status `json:"status"`
	OccurredAt time.Time    `json:"occurred_at"`
	Location   string       `json:"location"`
}

// postEvents adds partners' events to timelines, idempotently by event id.
// The body is {"events":[...]}.
func (s *Server) postEvents(c *fiber.Ctx) error {
	var req struct {
		Events []partnerEvent `json:"events"`
	}
	if err := decode(c, &req); err != nil {
		return err
	}
	if len(req.Events) == 0 || len(req.Events) > MaxPartnerEvents {
		return edge.Errorf(edge.EINVALID, "Send 1 to %d events.", MaxPartnerEvents)
	}
	for i, e := range req.Events {
		switch {
		case e.ID == "" || e.Tracking == "" || e.OccurredAt.IsZero():
			return edge.Errorf(edge.EINVALID, "Event %d needs an id, a tracking number and occurred_at.", i)
		case !e.Status.PartnerStatus():
			return edge.Errorf(edge.EINVALID, "Event %d: status %q is not one a partner reports.", i, e.Status)
		}
	}
	now := s.Now().UTC()
	added, dups := 0, 0
	for _, e := range req.Events {
		ok, err := s.Store.AddTimelineEntry(c.UserContext(), e.Tracking, cloud.TimelineEntry{
			Status: e.Status, OccurredAt: e.OccurredAt.UTC(), ReceivedAt: now,
			Location: e.Location, Source: cloud.SourcePartner, EventID: e.ID,
		})
		if err != nil {
			return err
		}
		if ok {
			added++
		} else {
			dups++
		}
	}
	return c.JSON(fiber.Map{"added": added, "duplicates": dups})
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
	tl, err := s.Store.Timeline(c.UserContext(), tracking)
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
