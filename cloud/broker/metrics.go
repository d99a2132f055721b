package broker

import (
	"sync/atomic"

	mqtt "github.com/mochi-mqtt/server/v2"
	"github.com/prometheus/client_golang/prometheus"
)

// Metrics counts what the broker refuses and drops. A nil *Metrics counts
// nothing.
type Metrics struct {
	// IdentityConflicts counts connections refused because another
	// connection with the same terminal identity holds its session.
	IdentityConflicts prometheus.Counter

	// server is the broker whose drops are read at scrape time.
	server atomic.Pointer[mqtt.Server]
}

// NewMetrics registers the broker's metrics on reg.
func NewMetrics(reg prometheus.Registerer) *Metrics {
	m := &Metrics{
		IdentityConflicts: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "comptoir_cloud_mqtt_identity_conflicts_total",
			Help: "MQTT connections refused because another connection with the same terminal identity holds its session (two machines with one terminal's credentials).",
		}),
	}
	dropped := prometheus.NewCounterFunc(prometheus.CounterOpts{
		Name: "comptoir_cloud_mqtt_messages_dropped_total",
		Help: "Messages the embedded broker dropped for a client whose queue or in-flight window was full (a terminal resends a batch whose ack it missed; a status dropped for the cloud is lost until the next).",
	}, m.dropped)
	reg.MustRegister(m.IdentityConflicts, dropped)
	return m
}

// dropped reads mochi's counts of messages dropped for a full queue and
// for a full in-flight window.
func (m *Metrics) dropped() float64 {
	s := m.server.Load()
	if s == nil {
		return 0
	}
	return float64(atomic.LoadInt64(&s.Info.MessagesDropped) + atomic.LoadInt64(&s.Info.InflightDropped))
}
