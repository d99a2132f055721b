package ingest

import (
	"github.com/prometheus/client_golang/prometheus"

	"github.com/comptoir/comptoir/cloud"
	"github.com/comptoir/comptoir/sync/wire"
)

// Metrics counts what the ingest does.
type Metrics struct {
	Events      prometheus.Counter
	Duplicates  prometheus.Counter
	Batches     prometheus.Counter
	DeadLetters *prometheus.CounterVec
	// Conflicts counts events stored and acked but kept off the timeline
	// because they disagreed with their parcel, by reason.
	Conflicts *prometheus.CounterVec
	Seconds   prometheus.Histogram
	// StoreErrors counts batches that could not be stored (and so were
	// not acked: the terminals send them again).
	StoreErrors prometheus.Counter
	// StatusRefused counts status messages refused (and dead-lettered):
	// malformed, of another protocol version, or failing
	// cloud.CheckStatus.
	StatusRefused *prometheus.CounterVec
	// StatusReplaced counts status messages replaced, before they were
	// stored, by a later status of their terminal (the ingest stores
	// only a terminal's latest).
	StatusReplaced prometheus.Counter
}

// NewMetrics returns the ingest's metrics, registered with reg when it is
// not nil.
func NewMetrics(reg prometheus.Registerer) *Metrics {
	m := &Metrics{
		Events: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "comptoir_cloud_ingest_events_total",
			Help: "Events received from terminals and stored for the first time.",
		}),
		Duplicates: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "comptoir_cloud_ingest_duplicates_total",
			Help: "Events received again (resent by a terminal) and dropped as already stored.",
		}),
		Batches: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "comptoir_cloud_ingest_batches_total",
			Help: "Event batches stored and acked.",
		}),
		DeadLetters: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "comptoir_cloud_dead_letters_total",
			Help: "Messages refused by the ingest and kept as dead letters, by reason.",
		}, []string{"reason"}),
		Conflicts: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "comptoir_cloud_ingest_conflicts_total",
			Help: "Terminals' events stored and acked but kept off the timeline: they disagreed with their parcel's state, by reason.",
		}, []string{"reason"}),
		StoreErrors: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "comptoir_cloud_ingest_store_errors_total",
			Help: "Event batches the store failed to take; they are not acked, and terminals resend them.",
		}),
		StatusRefused: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "comptoir_cloud_status_refused_total",
			Help: "Terminal status messages refused (kept as dead letters, not recorded in the fleet registry), by reason.",
		}, []string{"reason"}),
		StatusReplaced: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "comptoir_cloud_status_replaced_total",
			Help: "Terminal status messages replaced by a later status of their terminal before they were stored (only the latest is stored).",
		}),
		Seconds: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name:    "comptoir_cloud_ingest_seconds",
			Help:    "Time from receiving an events batch to publishing its ack, storage included.",
			Buckets: prometheus.ExponentialBuckets(0.0005, 2, 14),
		}),
	}
	// Known reasons start at zero, so that rates and alerts see them.
	for _, r := range []string{wire.ErrMalformed, wire.ErrVersion, wire.ErrTooLarge, wire.ErrWrongSender, cloud.EInvalidStatus} {
		m.DeadLetters.WithLabelValues(r)
	}
	for _, r := range []string{wire.ErrMalformed, wire.ErrVersion, cloud.EInvalidStatus} {
		m.StatusRefused.WithLabelValues(r)
	}
	for _, r := range []string{cloud.ConflictUnknownType, cloud.ConflictNoTracking, cloud.ConflictUnknownRA, cloud.ConflictAlreadyDeposited, cloud.ConflictNotHolder} {
		m.Conflicts.WithLabelValues(r)
	}
	if reg != nil {
		reg.MustRegister(m.Events, m.Duplicates, m.Batches, m.DeadLetters, m.Conflicts, m.Seconds, m.StoreErrors, m.StatusRefused, m.StatusReplaced)
	}
	return m
}
