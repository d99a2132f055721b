package httpapi_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http/httptest"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/comptoir/comptoir/build/testenv"
	"github.com/comptoir/comptoir/cloud"
	"github.com/comptoir/comptoir/cloud/httpapi"
	"github.com/comptoir/comptoir/sync/wire"
)

// listFunc adapts a function to httpapi.TerminalLister.
type listFunc func(ctx context.Context) ([]cloud.Terminal, error)

func (f listFunc) Terminals(ctx context.Context) ([]cloud.Terminal, error) { return f(ctx) }

// TestFleetMetricsAtScale scrapes the fleet metrics of a registry of
// 50,000 terminals, most of them well, some in each bad state, more
// offline than are named: the scrape stays small, counts every terminal,
// names the worst of each state, and passes promtool check metrics.
func TestFleetMetricsAtScale(t *testing.T) {
	const fleet = 50_000
	now := time.Now()
	status := func(st wire.Status) json.RawMessage { return wire.Marshal(st) }
	well := wire.Status{V: 1, Online: true, DiskFreeBytes: 8 << 30, Shelf: 3,
		Printers: map[string]wire.PrinterStatus{"label": {Up: true}, "receipt": {Up: true}}}
	ts := make([]cloud.Terminal, fleet)
	for i := range ts {
		st := well
		t := cloud.Terminal{ID: fmt.Sprintf("relais-%05d", i), Online: true, LastSeen: now}
		switch {
		case i < 1200: // offline for i minutes past the threshold
			t.Online, t.LastSeen = false, now.Add(-httpapi.FleetOfflineAfter-time.Duration(i+1)*time.Minute)
		case i < 1300: // offline, but not for long: not named
			t.Online, t.LastSeen = false, now.Add(-time.Minute)
		case i < 1400:
			st.OutboxPending, st.OutboxOldestAgeS = 150, float64(i)
		case i < 1450:
			st.Printers = map[string]wire.PrinterStatus{"label": {Up: false, State: "paper_out"}, "receipt": {Up: true}}
		case i < 1470:
			st.DiskWarning = true
		case i < 1480:
			st.ClockWrong = true
		case i < 1485: // offline: its clock waits for it to come back
			t.Online, st.ClockWrong = false, true
		}
		t.Status = status(st)
		ts[i] = t
	}
	ts = append(ts, cloud.Terminal{ID: "gone", DecommissionedAt: now, LastSeen: now.Add(-time.Hour)})
	reg := prometheus.NewRegistry()
	reg.MustRegister(httpapi.NewFleetCollector(listFunc(func(context.Context) ([]cloud.Terminal, error) { return ts, nil }), slog.New(slog.DiscardHandler)))
	srv := httptest.NewServer(promhttp.HandlerFor(reg, promhttp.HandlerOpts{}))
	defer srv.Close()
	resp, err := srv.Client().Get(srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()

	series := 0
	for line := range strings.Lines(string(body)) {
		if !strings.HasPrefix(line, "#") {
			series++
		}
	}
	// 2 states, 5 reasons, 2 sums; named: 500 offline x 2, 100 backlogs x
	// 2, 50 printers x 2, 20 disks x 2, 10 clocks.
	if want := 2 + 5 + 2 + 500*2 + 100*2 + 50*2 + 20*2 + 10; series != want {
		t.Errorf("%d series in the scrape, want %d", series, want)
	}
	t.Logf("%d terminals: %d series, %d bytes", fleet, series, len(body))
	for _, sample := range []string{
		`comptoir_fleet_terminals{state="online"} 48695`,
		`comptoir_fleet_terminals{state="offline"} 1305`,
		`comptoir_fleet_terminals_flagged{reason="offline"} 1200`,
		`comptoir_fleet_terminals_flagged{reason="backlog"} 100`,
		`comptoir_fleet_terminals_flagged{reason="printer_down"} 50`,
		`comptoir_fleet_terminals_flagged{reason="disk"} 20`,
		`comptoir_fleet_terminals_flagged{reason="clock"} 10`,
		`comptoir_fleet_clock_wrong{terminal="relais-01470"} 1`,
		`comptoir_fleet_outbox_pending_operations 15000`,
		`comptoir_fleet_terminal_up{terminal="relais-01199"} 0`, // the longest offline is named
		`comptoir_fleet_printer_up{printer="label",terminal="relais-01400"} 0`,
		`comptoir_fleet_printer_up{printer="receipt",terminal="relais-01400"} 1`,
		`comptoir_fleet_disk_warning{terminal="relais-01450"} 1`,
		`comptoir_fleet_outbox_pending{terminal="relais-01399"} 150`,
	} {
		if !bytes.Contains(body, []byte("\n"+sample+"\n")) {
			t.Errorf("scrape lacks %s", sample)
		}
	}
	for _, absent := range []string{
		`terminal="relais-00000"`, // offline, but not among the 500 longest
		`terminal="relais-01250"`, // offline for a minute
		`terminal="relais-20000"`, // well
		`terminal="relais-01480"`, // clock wrong, but offline for a minute
		`terminal="gone"`,
	} {
		if bytes.Contains(body, []byte(absent)) {
			t.Errorf("scrape names %s", absent)
		}
	}

	promtool := testenv.Command(t, "promtool", "prometheus")
	cmd := exec.Command(promtool, "check", "metrics")
	cmd.Stdin = bytes.NewReader(body)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("promtool check metrics: %v\n%s", err, out)
	}
}
