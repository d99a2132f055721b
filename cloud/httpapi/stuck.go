package httpapi

import (
	"context"
	"log/slog"
	"time"

	"github.com/gofiber/fiber/v2"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/comptoir/comptoir/cloud"
)

// stuckParcels answers GET /v1/parcels/stuck?stage=STAGE&older_than=AGE
// in the key's scope: {"parcels":[{"tracking","stage","since","terminal"}]},
// the oldest first.
func (s *Server) stuckParcels(c *fiber.Ctx) error {
	ps, err := s.Stuck.List(c.UserContext(), scope(c), c.Query("stage"), c.Query("older_than"), c.Query("limit"))
	if err != nil {
		return err
	}
	return c.JSON(fiber.Map{"parcels": ps})
}

// StuckCollector exports comptoir_cloud_parcels_stuck{stage}: the parcels
// of the network waiting at each stage for longer than After, counted
// through the store's index at scrape time (no gauge to drift, no label
// per parcel).
type StuckCollector struct {
	store interface {
		CountStuck(ctx context.Context, stage cloud.Stage, before time.Time) (int, error)
	}
	after time.Duration
	now   func() time.Time
	log   *slog.Logger
	desc  *prometheus.Desc
}

// NewStuckCollector returns the collector of parcels of store waiting
// longer than after.
func NewStuckCollector(store cloud.StuckStore, after time.Duration, now func() time.Time, log *slog.Logger) *StuckCollector {
	return &StuckCollector{store: store, after: after, now: now, log: log,
		desc: prometheus.NewDesc("comptoir_cloud_parcels_stuck",
			"Parcels waiting at a stage (awaiting_handover: on a relay point's shelf; awaiting_carrier: handed over, not seen by the carrier) for longer than --stuck-after.",
			[]string{"stage"}, nil)}
}

// Describe implements prometheus.Collector.
func (sc *StuckCollector) Describe(ch chan<- *prometheus.Desc) { ch <- sc.desc }

// Collect implements prometheus.Collector.
func (sc *StuckCollector) Collect(ch chan<- prometheus.Metric) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	before := sc.now().Add(-sc.after)
	for _, st := range cloud.Stages {
		n, err := sc.store.CountStuck(ctx, st, before)
		if err != nil {
			sc.log.Error("stuck parcels metric", "stage", st, "err", err)
			continue
		}
		ch <- prometheus.MustNewConstMetric(sc.desc, prometheus.GaugeValue, float64(n), string(st))
	}
}
