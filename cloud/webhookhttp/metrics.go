package webhookhttp

import (
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// Metrics counts webhook deliveries; its Observe is the Dispatcher's.
type Metrics struct {
	deliveries *prometheus.CounterVec
	latency    prometheus.Histogram
}

// NewMetrics registers the delivery metrics on reg.
func NewMetrics(reg prometheus.Registerer) *Metrics {
	m := &Metrics{
		deliveries: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "comptoir_cloud_webhook_deliveries_total",
			Help: "Webhook delivery attempts by result: ok (2xx), failed (another answer), refused (no answer: timeout, private target, connection refused).",
		}, []string{"result"}),
		latency: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name:    "comptoir_cloud_webhook_delivery_latency_seconds",
			Help:    "Time from an event to its delivery's 2xx answer.",
			Buckets: []float64{0.1, 0.5, 1, 5, 15, 60, 300, 3600, 6 * 3600, 86400},
		}),
	}
	for _, r := range []string{"ok", "failed", "refused"} {
		m.deliveries.WithLabelValues(r)
	}
	reg.MustRegister(m.deliveries, m.latency)
	return m
}

// Observe counts an attempt of result; sinceEvent is the latency of an
// "ok".
func (m *Metrics) Observe(result string, sinceEvent time.Duration) {
	m.deliveries.WithLabelValues(result).Inc()
	if result == "ok" {
		m.latency.Observe(sinceEvent.Seconds())
	}
}
