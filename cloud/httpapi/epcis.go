package httpapi

import (
	"encoding/json"
	"net/url"
	"strconv"
	"time"

	"github.com/gofiber/fiber/v2"

	"github.com/comptoir/comptoir/cloud"
	"github.com/comptoir/comptoir/edge"
)

// epcisEvents answers GET /v1/epcis/events?tracking=T, or
// ?since=TIME[&after=CURSOR][&limit=N], with an EPCIS 2.0 document in the
// key's scope (cloud.EPCIS). Its identifiers are under the address the
// request reached. With since, a Link header (rel="next") carries the
// feed's cursor after the events read, to go on from there.
func (s *Server) epcisEvents(c *fiber.Ctx) error {
	q := cloud.EPCISQuery{Tracking: c.Query("tracking"), After: c.Query("after")}
	if v := c.Query("since"); v != "" {
		t, err := cloud.ParseEPCISSince(v)
		if err != nil {
			return err
		}
		q.Since = t
	}
	if v := c.Query("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > cloud.MaxFeedLimit {
			return edge.Errorf(edge.EINVALID, "limit must be a number from 1 to %d.", cloud.MaxFeedLimit)
		}
		q.Limit = n
	}
	x := cloud.EPCIS{Store: s.Store, Now: s.Now}
	doc, next, err := x.Document(c.UserContext(), scope(c), c.BaseURL(), q)
	if err != nil {
		return err
	}
	if next != "" {
		v := url.Values{"since": {q.Since.UTC().Format(time.RFC3339Nano)}, "after": {next}}
		if q.Limit != 0 {
			v.Set("limit", strconv.Itoa(q.Limit))
		}
		c.Set(fiber.HeaderLink, `<`+c.BaseURL()+`/v1/epcis/events?`+v.Encode()+`>; rel="next"`)
	}
	b, err := json.Marshal(doc)
	if err != nil {
		return err
	}
	c.Set(fiber.HeaderContentType, "application/ld+json")
	return c.Send(b)
}
