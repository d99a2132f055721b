package server_test

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/comptoir/comptoir/cloud"
	"github.com/comptoir/comptoir/sync/wire"
)

// TestStatusRefused: a status with 3,000 printers and one with a negative
// outbox are refused, counted and dead-lettered, and create no metric
// series; the registry keeps the terminal's last valid status.
func TestStatusRefused(t *testing.T) {
	m := MustRun(t, t.TempDir())
	_, operator, _ := m.Demo()
	e, _ := enrol(t, m, "shop-st")
	term := connectTerminal(t, e)
	publish := func(st wire.Status) {
		t.Helper()
		wait(t, term.c.Publish(wire.TerminalTopic("shop-st", wire.KindStatus), 1, true, wire.Marshal(st)))
	}
	many := map[string]wire.PrinterStatus{}
	for i := range 3000 {
		many[fmt.Sprintf("p%04d", i)] = wire.PrinterStatus{Up: true}
	}
	now := time.Now().UTC()
	publish(wire.Status{V: 1, Online: true, OutboxPending: 1, Printers: many, At: now})
	publish(wire.Status{V: 1, Online: true, OutboxPending: -4, At: now})
	// The terminal's messages are handled in order: once this one shows,
	// the two before were handled.
	publish(wire.Status{V: 1, Online: true, OutboxPending: 3, At: now, Printers: map[string]wire.PrinterStatus{"label": {Up: false, State: "paper_out"}}})
	var view struct {
		Status wire.Status `json:"status"`
	}
	eventually(t, func() bool {
		call(t, "GET", m.HTTPURL()+"/v1/terminals/shop-st", operator, nil, &view)
		return view.Status.OutboxPending == 3
	})
	if got := metric(t, m, `comptoir_cloud_status_refused_total{reason="INVALID_STATUS"}`); got != "2" {
		t.Fatalf("status_refused_total = %s, want 2", got)
	}
	if got := metric(t, m, `comptoir_cloud_dead_letters_total{reason="INVALID_STATUS"}`); got != "2" {
		t.Fatalf("dead_letters_total INVALID_STATUS = %s, want 2", got)
	}
	if got := metric(t, m, `comptoir_fleet_printer_up{printer="p0001",terminal="shop-st"}`); got != "absent" {
		t.Fatalf("a refused status's printer has a series: %s", got)
	}
	if got := metric(t, m, `comptoir_fleet_printer_up{printer="label",terminal="shop-st"}`); got != "0" {
		t.Fatalf("printer_up of the valid status (paper out) = %s, want 0", got)
	}
	var refused []string
	for _, d := range allDeadLetters(t, m, 100) {
		if d.Reason == cloud.EInvalidStatus && d.Terminal == "shop-st" {
			refused = append(refused, d.Message)
		}
	}
	if len(refused) != 2 || !strings.Contains(refused[0], "3000 printers") || !strings.Contains(refused[1], "outbox_pending -4") {
		t.Fatalf("INVALID_STATUS dead letters = %q", refused)
	}
}
