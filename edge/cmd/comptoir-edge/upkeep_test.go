package main

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/comptoir/comptoir/edge"
	"github.com/comptoir/comptoir/scanner/token"
	"github.com/comptoir/comptoir/sync/wire"
)

// TestCommandAppliedOnce hands the agent the same command again, in the
// same run and after a restart (QoS 1 delivers at least once): it is
// applied and journalled once.
func TestCommandAppliedOnce(t *testing.T) {
	dir := t.TempDir()
	offlineTerminal(t, dir, "term-cmd", token.NewTrustList())
	cmd := wire.Command{V: 1, ID: "0190a0a0-0000-7000-8000-0000000c0001", Type: wire.CmdRevocationsAdd, Revocations: []string{"ra-1"}}
	m, _ := startTerminal(t, dir)
	m.applyCommand(cmd)
	m.applyCommand(cmd)
	if err := m.Close(); err != nil {
		t.Fatal(err)
	}
	m, _ = startTerminal(t, dir)
	m.applyCommand(cmd)
	m.applyCommand(wire.Command{V: 1, ID: "0190a0a0-0000-7000-8000-0000000c0002", Type: wire.CmdPing})
	byType, _ := m.journal.Counts()
	if got := byType[edge.OpCommandApplied]; got != 2 {
		t.Errorf("command.applied journalled %d times, want 2 (one per command id)", got)
	}
	if !m.trust.Revoked("ra-1") {
		t.Error("revocation not applied")
	}
}

// TestDiskWarningStatus checks the warning at 80 % of the disk budget in
// GET /api/status and in /metrics.
func TestDiskWarningStatus(t *testing.T) {
	for _, tt := range []struct {
		name   string
		budget int64
		want   bool
	}{{"room left", 1 << 40, false}, {"budget spent", 1, true}} {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			offlineTerminal(t, dir, "term-disk", token.NewTrustList())
			m, c := startTerminal(t, dir, func(c *Config) { c.DiskBudgetBytes = tt.budget })
			var st Status
			if code := c.do("GET", "/api/status", nil, &st); code != http.StatusOK {
				t.Fatalf("status: %d", code)
			}
			if st.DiskWarning != tt.want {
				t.Errorf("disk_warning = %v, want %v", st.DiskWarning, tt.want)
			}
			if got := m.wireStatus().DiskWarning; got != tt.want {
				t.Errorf("MQTT status disk_warning = %v, want %v", got, tt.want)
			}
			want := "comptoir_edge_disk_budget_warning 0"
			if tt.want {
				want = "comptoir_edge_disk_budget_warning 1"
			}
			if got := metricsText(t, m); !strings.Contains(got, want) {
				t.Errorf("/metrics lacks %q", want)
			}
		})
	}
}

func metricsText(t *testing.T, m *Main) string {
	t.Helper()
	rec := httptest.NewRecorder()
	m.metrics.handler().ServeHTTP(rec, httptest.NewRequest("GET", "/metrics", nil))
	return rec.Body.String()
}
