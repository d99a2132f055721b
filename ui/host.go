package ui

import (
	"net"
	"strings"

	"github.com/comptoir/comptoir/edge"
	"github.com/gofiber/fiber/v2"
)

// hostNames is the set of Host names the kiosk answers: its listen
// address's, the loopback names and Config.AllowedHosts. A page of another
// site whose name an attacker rebinds to 127.0.0.1 (DNS rebinding) sends
// its own name as Host, and its own origin, which the same-origin check
// alone would take for the terminal's; the Host check refuses it first.
type hostNames map[string]bool

func newHostNames(addr string, allowed []string) hostNames {
	h := hostNames{"localhost": true, "127.0.0.1": true, "::1": true}
	if host, _, err := net.SplitHostPort(addr); err == nil && host != "" {
		if ip := net.ParseIP(host); ip == nil || !ip.IsUnspecified() {
			h[normalHost(host)] = true
		}
	}
	for _, a := range allowed {
		h[normalHost(a)] = true
	}
	return h
}

// normalHost returns the name of a Host header without its port, in lower
// case, without brackets or a final dot.
func normalHost(host string) string {
	if h, _, err := net.SplitHostPort(host); err == nil {
		host = h
	}
	host = strings.TrimSuffix(strings.Trim(host, "[]"), ".")
	return strings.ToLower(host)
}

// checkHost answers 421 MISDIRECTED to a request for a name the kiosk does
// not serve, before anything else reads it.
func (s *Server) checkHost(c *fiber.Ctx) error {
	host := string(c.Request().Host())
	if host != "" && s.hosts[normalHost(host)] {
		return c.Next()
	}
	s.log.Warn("request for another host refused", "host", host, "path", c.Path())
	return edge.Errorf(edge.EMISDIRECTED, "This terminal does not answer for the host %q: add it to http_allowed_hosts.", host)
}
