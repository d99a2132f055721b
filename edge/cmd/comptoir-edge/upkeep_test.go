package main

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

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

// shortUpkeep makes the upkeep loop run often for the test's length; call it
// before starting the terminal.
func shortUpkeep(t *testing.T) {
	first, every, check := compactFirst, compactEvery, statusCheckEvery
	compactFirst, compactEvery, statusCheckEvery = 10*time.Millisecond, 50*time.Millisecond, 50*time.Millisecond
	t.Cleanup(func() { compactFirst, compactEvery, statusCheckEvery = first, every, check })
}

// TestUpkeepCompacts checks that the upkeep loop compacts acked operations
// past the history's retention period, and keeps unacked ones however old.
func TestUpkeepCompacts(t *testing.T) {
	shortUpkeep(t)
	dir := t.TempDir()
	offlineTerminal(t, dir, "term-compact", token.NewTrustList())
	m, _ := startTerminal(t, dir, func(c *Config) { c.Retention, c.HistoryRetention = Duration(time.Hour), Duration(time.Hour) })
	ctx := context.Background()
	old := time.Now().Add(-2 * time.Hour)
	var seqs []uint64
	for i := range 2 {
		op, err := m.journal.Append(ctx, edge.NewOperation(edge.OpParcelHandedOver, old, "", s10(900+i), edge.HandedOverData{ManifestID: "m", Carrier: "DEMO"}))
		if err != nil {
			t.Fatal(err)
		}
		seqs = append(seqs, op.Seq)
	}
	if err := m.journal.Ack(ctx, seqs[0], seqs[0]); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(20 * time.Second)
	for {
		ops, err := m.journal.Operations(ctx, 0, 0)
		if err != nil {
			t.Fatal(err)
		}
		if len(ops) == 1 {
			if ops[0].Seq != seqs[1] {
				t.Fatalf("left seq %d, want the unacked %d", ops[0].Seq, seqs[1])
			}
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d operations left, want the acked one compacted away", len(ops))
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// TestUpkeepStatusRefresh checks that the retained status reaches the cloud
// soon after the journal passes 80 % of its disk budget, not at the next
// minute's refresh.
func TestUpkeepStatusRefresh(t *testing.T) {
	shortUpkeep(t)
	cloud, _, operator := startCloud(t, t.TempDir(), "127.0.0.1:0", "127.0.0.1:0")
	defer cloud.Close()
	dir := t.TempDir()
	if _, err := Enroll(context.Background(), cloud.HTTPURL(), operator.key, "term-refresh", "Relais", dir); err != nil {
		t.Fatal(err)
	}
	// A first run makes the journal; the second gets a budget it uses 70 %
	// of, then fills.
	ctx := context.Background()
	ref := strings.Repeat("x", 8<<10)
	fill := func(m *Main, i int) {
		t.Helper()
		if _, err := m.journal.Append(ctx, edge.NewOperation(edge.OpParcelHandedOver, time.Now(), "", s10(i), edge.HandedOverData{ManifestID: "m", Carrier: "DEMO", DriverRef: ref})); err != nil {
			t.Fatal(err)
		}
	}
	m, _ := startTerminal(t, dir)
	for i := range 256 {
		fill(m, i)
	}
	used := m.journal.DiskUsage()
	if err := m.Close(); err != nil {
		t.Fatal(err)
	}
	m, _ = startTerminal(t, dir, func(c *Config) { c.DiskBudgetBytes = used * 10 / 7 })
	warning := func() (on, known bool) {
		var v struct {
			Status *struct {
				DiskWarning bool `json:"disk_warning"`
			} `json:"status"`
		}
		operator.do("GET", "/v1/terminals/term-refresh", nil, &v)
		if v.Status == nil {
			return false, false
		}
		return v.Status.DiskWarning, true
	}
	deadline := time.Now().Add(20 * time.Second)
	for on, known := warning(); !known || on; on, known = warning() {
		if time.Now().After(deadline) {
			t.Fatalf("the cloud never saw the terminal's status without a disk warning (usage %d of %d)", m.journal.DiskUsage(), m.journal.DiskBudget())
		}
		time.Sleep(20 * time.Millisecond)
	}
	for i := 256; !m.journal.DiskWarning(); i++ {
		fill(m, i)
	}
	deadline = time.Now().Add(30 * time.Second)
	for on, _ := warning(); !on; on, _ = warning() {
		if time.Now().After(deadline) {
			t.Fatal("the cloud's status shows no disk warning 30 s after the journal passed 80 % of its budget")
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// TestUpkeepScrubsReturns deposits two returns two days ago through the
// kiosk, hands one over then: once the cloud has acked them, the upkeep
// loop scrubs the one handed over (retention 1 h) to its skeleton and
// leaves the one on the shelf whole.
func TestUpkeepScrubsReturns(t *testing.T) {
	shortUpkeep(t)
	issuer, dir := issuerTerminal(t, "term-scrub")
	var offset atomic.Int64
	offset.Store(int64(-48 * time.Hour))
	now := func() time.Time { return time.Now().Add(time.Duration(offset.Load())) }
	m, c := startTerminalAt(t, dir, now, func(c *Config) { c.Retention = Duration(time.Hour) })
	ctx := context.Background()
	var deposits []string
	for _, trk := range []string{s10(801), s10(802)} {
		code := signRA(t, issuer, trk, func(ra *edge.ReturnAuthorisation) {
			ra.Items[0].Name = "Pull angora " + trk
			ra.IssuedAt = now().Add(-time.Hour)
		})
		var dep struct {
			Deposit struct {
				ID string `json:"id"`
			} `json:"deposit"`
		}
		if st := c.do("POST", "/api/deposits", map[string]any{"code": code, "weight_g": 800}, &dep); st != http.StatusCreated {
			t.Fatalf("deposit %s: %d", trk, st)
		}
		deposits = append(deposits, dep.Deposit.ID)
	}
	if st := c.do("POST", "/api/handovers", map[string]any{"trackings": []string{s10(801)}}, nil); st != http.StatusCreated {
		t.Fatalf("handover: %d", st)
	}
	offset.Store(0)
	if err := m.journal.Ack(ctx, 1, m.journal.LastSeq()); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(20 * time.Second)
	for {
		rec, err := m.journal.DepositByID(ctx, deposits[0])
		if err != nil {
			t.Fatal(err)
		}
		if rec.Erased {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the deposit handed over two days ago was never scrubbed")
		}
		time.Sleep(20 * time.Millisecond)
	}
	ops, err := m.journal.Operations(ctx, 0, 0)
	if err != nil {
		t.Fatal(err)
	}
	names := 0
	for _, op := range ops {
		if op.Type != edge.OpReturnDeposited {
			continue
		}
		has := strings.Contains(string(op.Data), "Pull angora")
		if op.ID == deposits[0] && has || op.ID == deposits[1] && !has {
			t.Errorf("deposit %s (handed over: %v): data %s", op.Tracking, op.ID == deposits[0], op.Data)
		}
		if has {
			names++
		}
	}
	if names != 1 {
		t.Errorf("%d deposits with their items, want the one on the shelf", names)
	}
	if rec, _ := m.journal.DepositByID(ctx, deposits[1]); rec.Erased {
		t.Error("the deposit on the shelf was scrubbed")
	}
}
