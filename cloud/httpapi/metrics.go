package httpapi

import (
	"context"
	"log/slog"
	"runtime"
	"time"

	"github.com/gofiber/fiber/v2"
	"github.com/gofiber/fiber/v2/middleware/adaptor"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/comptoir/comptoir/cloud"
)

func (s *Server) metrics() fiber.Handler {
	return func(c *fiber.Ctx) error {
		h := promhttp.HandlerFor(s.Gatherer, promhttp.HandlerOpts{ErrorLog: nil})
		return adaptor.HTTPHandler(h)(c)
	}
}

// FleetCollector exports the fleet registry at scrape time: one scrape of
// the cloud shows every terminal in service, which a shop's router would
// hide. Decommissioned terminals are left out.
type FleetCollector struct {
	store  TerminalLister
	log    *slog.Logger
	up     *prometheus.Desc
	outbox *prometheus.Desc
	seen   *prometheus.Desc
	acked  *prometheus.Desc
	// From the terminal's last status, so that printer, disk, shelf and
	// backlog alerts fire for terminals Prometheus cannot scrape.
	printer  *prometheus.Desc
	diskFree *prometheus.Desc
	diskWarn *prometheus.Desc
	shelf    *prometheus.Desc
	oldest   *prometheus.Desc
}

// TerminalLister is what FleetCollector reads: the registry.
type TerminalLister interface {
	Terminals(ctx context.Context) ([]cloud.Terminal, error)
}

// NewFleetCollector returns a collector of the terminals of store.
func NewFleetCollector(store TerminalLister, log *slog.Logger) *FleetCollector {
	l := []string{"terminal"}
	return &FleetCollector{
		store:  store,
		log:    log,
		up:     prometheus.NewDesc("comptoir_fleet_terminal_up", "1 when the terminal is connected (its last status was online), else 0.", l, nil),
		outbox: prometheus.NewDesc("comptoir_fleet_outbox_pending", "Operations waiting in the terminal's outbox, as of its last status.", l, nil),
		seen:   prometheus.NewDesc("comptoir_fleet_last_seen_timestamp_seconds", "When the terminal was last heard from (Unix time).", l, nil),
		acked:  prometheus.NewDesc("comptoir_fleet_acked_seq", "Highest seq up to which every event of the terminal is stored.", l, nil),

		printer:  prometheus.NewDesc("comptoir_fleet_printer_up", "1 when the printer of the terminal was ready, as of its last status, else 0.", []string{"terminal", "printer"}, nil),
		diskFree: prometheus.NewDesc("comptoir_fleet_disk_free_bytes", "Free bytes on the terminal's data disk, as of its last status.", l, nil),
		diskWarn: prometheus.NewDesc("comptoir_fleet_disk_warning", "1 when the terminal's journal used 80 % of its disk budget, as of its last status, else 0.", l, nil),
		shelf:    prometheus.NewDesc("comptoir_fleet_shelf_parcels", "Parcels on the terminal's shelf, as of its last status.", l, nil),
		oldest:   prometheus.NewDesc("comptoir_fleet_outbox_oldest_age_seconds", "Age of the oldest operation in the terminal's outbox, as of its last status.", l, nil),
	}
}

// Describe implements prometheus.Collector.
func (f *FleetCollector) Describe(ch chan<- *prometheus.Desc) {
	ch <- f.up
	ch <- f.outbox
	ch <- f.seen
	ch <- f.acked
	ch <- f.printer
	ch <- f.diskFree
	ch <- f.diskWarn
	ch <- f.shelf
	ch <- f.oldest
}

// Collect implements prometheus.Collector.
func (f *FleetCollector) Collect(ch chan<- prometheus.Metric) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	ts, err := f.store.Terminals(ctx)
	if err != nil {
		f.log.Error("fleet metrics", "err", err)
		return
	}
	for _, t := range ts {
		if t.Decommissioned() {
			continue // out of the fleet: no "terminal down" alert for ever
		}
		up := 0.0
		if t.Online {
			up = 1
		}
		ch <- prometheus.MustNewConstMetric(f.up, prometheus.GaugeValue, up, t.ID)
		st := t.WireStatus()
		ch <- prometheus.MustNewConstMetric(f.outbox, prometheus.GaugeValue, float64(st.OutboxPending), t.ID)
		ch <- prometheus.MustNewConstMetric(f.acked, prometheus.GaugeValue, float64(t.AckedSeq), t.ID)
		if !t.LastSeen.IsZero() {
			ch <- prometheus.MustNewConstMetric(f.seen, prometheus.GaugeValue, float64(t.LastSeen.UnixNano())/1e9, t.ID)
		}
		if len(t.Status) == 0 {
			continue // no status yet: nothing known of its devices
		}
		for name, p := range st.Printers {
			ch <- prometheus.MustNewConstMetric(f.printer, prometheus.GaugeValue, b2f(p.Up), t.ID, name)
		}
		ch <- prometheus.MustNewConstMetric(f.diskFree, prometheus.GaugeValue, float64(st.DiskFreeBytes), t.ID)
		ch <- prometheus.MustNewConstMetric(f.diskWarn, prometheus.GaugeValue, b2f(st.DiskWarning), t.ID)
		ch <- prometheus.MustNewConstMetric(f.shelf, prometheus.GaugeValue, float64(st.Shelf), t.ID)
		ch <- prometheus.MustNewConstMetric(f.oldest, prometheus.GaugeValue, st.OutboxOldestAgeS, t.ID)
	}
}

func b2f(b bool) float64 {
	if b {
		return 1
	}
	return 0
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
