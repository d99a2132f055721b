package main

import (
	"context"
	"net/http"
	"runtime"
	"time"

	"github.com/comptoir/comptoir/edge"
	"github.com/comptoir/comptoir/ui"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// metrics holds the terminal's Prometheus registry. Queue depths, counts and
// disk space are read from the journal at scrape time (a collector), so they
// cannot drift from the truth; only events with no state behind them (print
// attempts, decode times) are counted as they happen.
type metrics struct {
	m        *Main
	reg      *prometheus.Registry
	prints   *prometheus.CounterVec
	decode   prometheus.Histogram
	scanRef  *prometheus.CounterVec
	signFail prometheus.Counter
	signLock prometheus.Counter
	opsDesc  *prometheus.Desc
	refDesc  *prometheus.Desc
	pendDesc *prometheus.Desc
	ageDesc  *prometheus.Desc
	mqttDesc *prometheus.Desc
	upDesc   *prometheus.Desc
	shelf    *prometheus.Desc
	shelfCap *prometheus.Desc
	disk     *prometheus.Desc
	budget   *prometheus.Desc
	warning  *prometheus.Desc
	behind   *prometheus.Desc
	// synced and skew say whether the time agrees with the cloud's and
	// how far the system clock is from it (edge.ClockState).
	synced, skew *prometheus.Desc
}

func newMetrics(m *Main) *metrics {
	x := &metrics{
		m:   m,
		reg: prometheus.NewRegistry(),
		prints: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "comptoir_edge_print_jobs_total", Help: "Print attempts by printer and result (ok, error).",
		}, []string{"printer", "result"}),
		decode: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name: "comptoir_edge_scan_decode_seconds", Help: "Time to find barcodes in one camera frame.",
			Buckets: []float64{.002, .005, .01, .02, .05, .1, .2, .5, 1, 2},
		}),
		scanRef: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "comptoir_edge_scan_refusals_total", Help: "Camera frames refused by the decoder, by error code (TOO_LARGE, UNREADABLE).",
		}, []string{"reason"}),
		signFail: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "comptoir_edge_signin_failures_total", Help: "Wrong PINs at sign-in (and PINs in use offered at staff add).",
		}),
		signLock: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "comptoir_edge_signin_locks_total", Help: "Times wrong PINs locked the sign-in.",
		}),
		opsDesc:  prometheus.NewDesc("comptoir_edge_operations_total", "Operations journalled, by type.", []string{"type"}, nil),
		refDesc:  prometheus.NewDesc("comptoir_edge_refusals_total", "Refused codes journalled (scans, deposits and in-store returns), by reason.", []string{"reason"}, nil),
		pendDesc: prometheus.NewDesc("comptoir_edge_outbox_pending", "Operations not yet acknowledged by the cloud.", nil, nil),
		ageDesc:  prometheus.NewDesc("comptoir_edge_outbox_oldest_age_seconds", "Age of the oldest unacknowledged operation.", nil, nil),
		mqttDesc: prometheus.NewDesc("comptoir_edge_mqtt_connected", "1 when connected to the broker.", nil, nil),
		upDesc:   prometheus.NewDesc("comptoir_edge_printer_up", "1 when the printer's last job went through.", []string{"printer"}, nil),
		shelf:    prometheus.NewDesc("comptoir_edge_shelf_parcels", "Parcels on the shelf waiting for the carrier.", nil, nil),
		shelfCap: prometheus.NewDesc("comptoir_edge_shelf_capacity", "Parcels the shelf holds (rules.shelf_capacity).", nil, nil),
		disk:     prometheus.NewDesc("comptoir_edge_disk_free_bytes", "Free bytes on the data directory's file system.", nil, nil),
		budget:   prometheus.NewDesc("comptoir_edge_journal_bytes", "Bytes used by the journal on disk.", nil, nil),
		behind:   prometheus.NewDesc("comptoir_edge_clock_behind_seconds", "How far the system clock is behind the last journalled operation (0 when it is not); the counter then runs from that time.", nil, nil),
		synced:   prometheus.NewDesc("comptoir_edge_clock_synced", "1 when the counter's time agrees with the cloud's, read less than a day ago; receipts then say their time was synced.", nil, nil),
		skew:     prometheus.NewDesc("comptoir_edge_clock_skew_seconds", "The system clock's offset from the cloud's time (positive: ahead), once the cloud's time was read.", nil, nil),
		warning:  prometheus.NewDesc("comptoir_edge_disk_budget_warning", "1 when the journal uses 80 % or more of its disk budget (deposits are refused at 100 %).", nil, nil),
	}
	build := prometheus.NewGauge(prometheus.GaugeOpts{
		Name: "comptoir_build_info", Help: "Build of the running binary.",
		ConstLabels: prometheus.Labels{"version": Version, "goarch": runtime.GOARCH},
	})
	build.Set(1)
	// Whether the journal is encrypted is known at start and does not
	// change while the agent runs.
	encrypted := prometheus.NewGauge(prometheus.GaugeOpts{
		Name: "comptoir_edge_journal_encrypted", Help: "1 when the journal is encrypted at rest, 0 when it is in clear (no key was found).",
	})
	if m != nil && m.journalEncrypted { // nil: a test of the collectors alone
		encrypted.Set(1)
	}
	damaged := prometheus.NewGauge(prometheus.GaugeOpts{
		Name: "comptoir_edge_journal_damaged", Help: "1 when the journal did not open at start: it was kept aside for recovery and a new one started.",
	})
	if m != nil && m.journalDamaged != "" {
		damaged.Set(1)
	}
	x.reg.MustRegister(x.prints, x.decode, x.scanRef, x.signFail, x.signLock, build, encrypted, damaged, x,
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return x
}

func (x *metrics) handler() http.Handler {
	return promhttp.HandlerFor(x.reg, promhttp.HandlerOpts{})
}

func (x *metrics) observePrint(printer, result string) {
	x.prints.WithLabelValues(printer, result).Inc()
}

// observeSignIn counts the failures and locks of edge.SignIn.
func (x *metrics) observeSignIn(e edge.SignInEvent) {
	switch e {
	case edge.SignInFailed:
		x.signFail.Inc()
	case edge.SignInLocked:
		x.signLock.Inc()
	}
}

// Describe implements prometheus.Collector.
func (x *metrics) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{x.opsDesc, x.refDesc, x.pendDesc, x.ageDesc, x.mqttDesc, x.upDesc, x.shelf, x.shelfCap, x.disk, x.budget, x.warning, x.behind, x.synced, x.skew} {
		ch <- d
	}
}

// Collect implements prometheus.Collector, reading the journal's projections.
func (x *metrics) Collect(ch chan<- prometheus.Metric) {
	m, ctx := x.m, context.Background()
	byType, byReason := m.journal.Counts()
	for t, n := range byType {
		ch <- prometheus.MustNewConstMetric(x.opsDesc, prometheus.CounterValue, float64(n), string(t))
	}
	for r, n := range byReason {
		ch <- prometheus.MustNewConstMetric(x.refDesc, prometheus.CounterValue, float64(n), string(r))
	}
	if pending, oldest, err := m.journal.OutboxStats(ctx); err == nil {
		age := 0.0
		if pending > 0 && !oldest.IsZero() {
			age = time.Since(oldest).Seconds()
		}
		ch <- prometheus.MustNewConstMetric(x.pendDesc, prometheus.GaugeValue, float64(pending))
		ch <- prometheus.MustNewConstMetric(x.ageDesc, prometheus.GaugeValue, age)
	}
	connected := 0.0
	if m.uplink != nil && m.uplink.Connected() {
		connected = 1
	}
	ch <- prometheus.MustNewConstMetric(x.mqttDesc, prometheus.GaugeValue, connected)
	for _, p := range []string{edge.PrinterLabel, edge.PrinterReceipt} {
		up := 0.0
		if m.runner != nil && m.runner.Up(p) {
			up = 1
		}
		ch <- prometheus.MustNewConstMetric(x.upDesc, prometheus.GaugeValue, up, p)
	}
	if shelf, err := m.journal.ShelfCount(ctx); err == nil {
		ch <- prometheus.MustNewConstMetric(x.shelf, prometheus.GaugeValue, float64(shelf))
	}
	ch <- prometheus.MustNewConstMetric(x.shelfCap, prometheus.GaugeValue, float64(m.Config.Rules.ShelfCapacity))
	ch <- prometheus.MustNewConstMetric(x.disk, prometheus.GaugeValue, float64(diskFree(m.Config.DataDir)))
	ch <- prometheus.MustNewConstMetric(x.budget, prometheus.GaugeValue, float64(m.journal.DiskUsage()))
	warning := 0.0
	if m.journal.DiskWarning() {
		warning = 1
	}
	ch <- prometheus.MustNewConstMetric(x.warning, prometheus.GaugeValue, warning)
	if m.clock != nil {
		st := m.clock.State()
		ch <- prometheus.MustNewConstMetric(x.behind, prometheus.GaugeValue, st.Behind.Seconds())
		synced := 0.0
		if st.Synced {
			synced = 1
		}
		ch <- prometheus.MustNewConstMetric(x.synced, prometheus.GaugeValue, synced)
		if st.SkewKnown {
			ch <- prometheus.MustNewConstMetric(x.skew, prometheus.GaugeValue, st.Skew.Seconds())
		}
	}
}

// timeDecode wraps an image decoder to observe its duration.
func (x *metrics) timeDecode(d ui.ImageDecoder) ui.ImageDecoder {
	return timedDecoder{d, x.decode, x.scanRef}
}

type timedDecoder struct {
	ui.ImageDecoder
	h       prometheus.Histogram
	refused *prometheus.CounterVec
}

func (t timedDecoder) Decode(ctx context.Context, data []byte) ([]edge.Symbol, error) {
	start := time.Now()
	syms, err := t.ImageDecoder.Decode(ctx, data)
	t.h.Observe(time.Since(start).Seconds())
	if err != nil {
		t.refused.WithLabelValues(edge.ErrorCode(err)).Inc()
	}
	return syms, err
}
