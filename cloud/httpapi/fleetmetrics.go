package httpapi

import (
	"cmp"
	"context"
	"log/slog"
	"slices"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/comptoir/comptoir/cloud"
	"github.com/comptoir/comptoir/sync/wire"
)

// Thresholds of the terminals the fleet metrics name one by one.
const (
	// FleetOfflineAfter is how long a terminal is offline before it is
	// named: a cloud restart or a short outage does not name the whole
	// fleet.
	FleetOfflineAfter = 5 * time.Minute
	// FleetBacklogOps and FleetBacklogAge: a terminal has a backlog when
	// that many operations wait in its outbox, or the oldest has waited
	// that long.
	FleetBacklogOps = 100
	FleetBacklogAge = time.Hour
	// FleetLowDisk: a terminal is short of disk under that many free
	// bytes, or when its status says so.
	FleetLowDisk = 512 << 20
	// FleetNamedMax is the most terminals named for each reason in one
	// scrape, the worst first (longest offline, oldest backlog); the
	// count by reason is always whole, and the fleet API lists them all.
	FleetNamedMax = 500
)

// Reasons a terminal is named in the fleet metrics.
const (
	flagOffline     = "offline"
	flagBacklog     = "backlog"
	flagPrinterDown = "printer_down"
	flagDisk        = "disk"
	flagClock       = "clock"
)

// FleetCollector exports the fleet registry at scrape time, in series
// that stay few however large the fleet: counts for the whole fleet, and
// per-terminal series only for the terminals an operator has to act on
// (offline past FleetOfflineAfter, a backlog, a printer down, short of
// disk), at most FleetNamedMax of each. A 50,000-terminal fleet in good
// health is a dozen series; the fleet API (GET /v1/terminals, with its
// online, backlog_over and printer filters) keeps every terminal's detail.
// Decommissioned terminals are left out.
type FleetCollector struct {
	store TerminalLister
	log   *slog.Logger
	now   func() time.Time

	terminals *prometheus.Desc
	flagged   *prometheus.Desc
	pending   *prometheus.Desc
	shelves   *prometheus.Desc

	up       *prometheus.Desc
	seen     *prometheus.Desc
	outbox   *prometheus.Desc
	oldest   *prometheus.Desc
	printer  *prometheus.Desc
	diskFree *prometheus.Desc
	diskWarn *prometheus.Desc
	clock    *prometheus.Desc
}

// TerminalLister is what FleetCollector reads: the registry.
type TerminalLister interface {
	Terminals(ctx context.Context) ([]cloud.Terminal, error)
}

// NewFleetCollector returns a collector of the terminals of store.
func NewFleetCollector(store TerminalLister, log *slog.Logger) *FleetCollector {
	l := []string{"terminal"}
	return &FleetCollector{
		store: store,
		log:   log,
		now:   time.Now,

		terminals: prometheus.NewDesc("comptoir_fleet_terminals", "Terminals in service, by state: online (connected) or offline.", []string{"state"}, nil),
		flagged:   prometheus.NewDesc("comptoir_fleet_terminals_flagged", "Terminals an operator has to act on, by reason: offline (past 5 min), backlog, printer_down, disk, clock (its system clock wrong); each is named in the per-terminal series (at most 500 a reason).", []string{"reason"}, nil),
		pending:   prometheus.NewDesc("comptoir_fleet_outbox_pending_operations", "Operations waiting in the outboxes of all terminals, as of their last status.", nil, nil),
		shelves:   prometheus.NewDesc("comptoir_fleet_shelved_parcels", "Parcels on the shelves of all terminals, as of their last status.", nil, nil),

		up:       prometheus.NewDesc("comptoir_fleet_terminal_up", "0 for a terminal offline for more than 5 min; terminals online are counted in comptoir_fleet_terminals, not named.", l, nil),
		seen:     prometheus.NewDesc("comptoir_fleet_last_seen_timestamp_seconds", "When an offline terminal was last heard from (Unix time).", l, nil),
		outbox:   prometheus.NewDesc("comptoir_fleet_outbox_pending", "Operations waiting in the outbox of a terminal with a backlog, as of its last status.", l, nil),
		oldest:   prometheus.NewDesc("comptoir_fleet_outbox_oldest_age_seconds", "Age of the oldest operation in the outbox of a terminal with a backlog, as of its last status.", l, nil),
		printer:  prometheus.NewDesc("comptoir_fleet_printer_up", "1 when the printer was ready, else 0, for the printers of an online terminal with one down, as of its last status.", []string{"terminal", "printer"}, nil),
		diskFree: prometheus.NewDesc("comptoir_fleet_disk_free_bytes", "Free bytes on the data disk of a terminal short of disk, as of its last status.", l, nil),
		diskWarn: prometheus.NewDesc("comptoir_fleet_disk_warning", "1 when the journal of a terminal short of disk used 80 % of its budget, as of its last status, else 0.", l, nil),
		clock:    prometheus.NewDesc("comptoir_fleet_clock_wrong", "1 for an online terminal whose last status says its system clock is wrong (behind its last operation, or off the cloud's time).", l, nil),
	}
}

// Describe implements prometheus.Collector.
func (f *FleetCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{f.terminals, f.flagged, f.pending, f.shelves, f.up, f.seen, f.outbox, f.oldest, f.printer, f.diskFree, f.diskWarn, f.clock} {
		ch <- d
	}
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
	now := f.now()
	var online, offline, pending, shelved float64
	named := map[string][]termStatus{}
	for _, t := range ts {
		if t.Decommissioned() {
			continue // out of the fleet: no "terminal down" alert for ever
		}
		st := t.WireStatus()
		if t.Online {
			online++
		} else {
			offline++
		}
		pending += float64(st.OutboxPending)
		shelved += float64(st.Shelf)
		n := termStatus{t, st}
		if !t.Online && now.Sub(t.LastSeen) > FleetOfflineAfter {
			named[flagOffline] = append(named[flagOffline], n)
		}
		if len(t.Status) == 0 {
			continue // no status yet: nothing known of its devices
		}
		if st.OutboxPending >= FleetBacklogOps || st.OutboxOldestAgeS >= FleetBacklogAge.Seconds() {
			named[flagBacklog] = append(named[flagBacklog], n)
		}
		if t.Online && printerDown(st) {
			named[flagPrinterDown] = append(named[flagPrinterDown], n)
		}
		if st.DiskWarning || st.DiskFreeBytes < FleetLowDisk {
			named[flagDisk] = append(named[flagDisk], n)
		}
		if t.Online && st.ClockWrong {
			named[flagClock] = append(named[flagClock], n)
		}
	}
	gauge := func(d *prometheus.Desc, v float64, labels ...string) {
		ch <- prometheus.MustNewConstMetric(d, prometheus.GaugeValue, v, labels...)
	}
	gauge(f.terminals, online, "online")
	gauge(f.terminals, offline, "offline")
	gauge(f.pending, pending)
	gauge(f.shelves, shelved)
	for _, reason := range []string{flagOffline, flagBacklog, flagPrinterDown, flagDisk, flagClock} {
		gauge(f.flagged, float64(len(named[reason])), reason)
	}

	// The worst first, then by id, so that a capped list is stable from
	// one scrape to the next.
	for _, n := range worst(named[flagOffline], func(n termStatus) float64 { return -float64(n.t.LastSeen.Unix()) }) {
		gauge(f.up, 0, n.t.ID)
		if !n.t.LastSeen.IsZero() {
			gauge(f.seen, float64(n.t.LastSeen.UnixNano())/1e9, n.t.ID)
		}
	}
	for _, n := range worst(named[flagBacklog], func(n termStatus) float64 { return n.st.OutboxOldestAgeS }) {
		gauge(f.outbox, float64(n.st.OutboxPending), n.t.ID)
		gauge(f.oldest, n.st.OutboxOldestAgeS, n.t.ID)
	}
	for _, n := range worst(named[flagPrinterDown], func(termStatus) float64 { return 0 }) {
		for name, p := range n.st.Printers {
			gauge(f.printer, b2f(p.Up), n.t.ID, name)
		}
	}
	for _, n := range worst(named[flagDisk], func(n termStatus) float64 { return -float64(n.st.DiskFreeBytes) }) {
		gauge(f.diskFree, float64(n.st.DiskFreeBytes), n.t.ID)
		gauge(f.diskWarn, b2f(n.st.DiskWarning), n.t.ID)
	}
	for _, n := range worst(named[flagClock], func(termStatus) float64 { return 0 }) {
		gauge(f.clock, 1, n.t.ID)
	}
}

// termStatus is a terminal with its last status decoded.
type termStatus struct {
	t  cloud.Terminal
	st wire.Status
}

// worst returns at most FleetNamedMax of ts, the highest badness first,
// then by id.
func worst(ts []termStatus, badness func(termStatus) float64) []termStatus {
	slices.SortFunc(ts, func(a, b termStatus) int {
		return cmp.Or(cmp.Compare(badness(b), badness(a)), cmp.Compare(a.t.ID, b.t.ID))
	})
	return ts[:min(len(ts), FleetNamedMax)]
}

// printerDown reports whether a printer of the status is down.
func printerDown(st wire.Status) bool {
	for _, p := range st.Printers {
		if !p.Up {
			return true
		}
	}
	return false
}

func b2f(b bool) float64 {
	if b {
		return 1
	}
	return 0
}
