package httpapi

import (
	"runtime"

	"github.com/gofiber/fiber/v2"
	"github.com/gofiber/fiber/v2/middleware/adaptor"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

func (s *Server) metrics() fiber.Handler {
	return func(c *fiber.Ctx) error {
		h := promhttp.HandlerFor(s.Gatherer, promhttp.HandlerOpts{ErrorLog: nil})
		return adaptor.HTTPHandler(h)(c)
	}
}

// BuildInfo returns the comptoir_build_info gauge, 1 with the version and
// architecture as labels.
func BuildInfo(version string) prometheus.Collector {
	g := prometheus.NewGaugeVec(prometheus.GaugeOpts{
		Name: "comptoir_build_info",
		Help: "Build of this process: always 1, labelled by version and architecture.",
	}, []string{"version", "goarch"})
	g.WithLabelValues(version, runtime.GOARCH).Set(1)
	return g
}
