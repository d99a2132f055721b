package server_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil/promlint"

	"github.com/comptoir/comptoir/build/testenv"
	"github.com/comptoir/comptoir/cloud"
	"github.com/comptoir/comptoir/cloud/pgstore"
	"github.com/comptoir/comptoir/cloud/server"
	"github.com/comptoir/comptoir/edge"
)

func TestDemoKeysReused(t *testing.T) {
	dir := t.TempDir()
	m := MustRun(t, dir)
	iss, op, pt := m.Demo()
	data, err := os.ReadFile(filepath.Join(dir, "demo.json"))
	if err != nil {
		t.Fatal(err)
	}
	want := fmt.Sprintf(`{"issuer_key":%q,"operator_key":%q,"partner_key":%q}`, iss, op, pt)
	if string(data) != want {
		t.Fatalf("demo.json = %s, want %s", data, want)
	}
	if !regexp.MustCompile(`^\{"issuer_key":"[^"]+","operator_key":"[^"]+","partner_key":"[^"]+"\}$`).Match(data) {
		t.Fatalf("demo.json format: %s", data)
	}
	for _, f := range []string{"demo.json"} {
		if st, err := os.Stat(filepath.Join(dir, f)); err != nil || st.Mode().Perm() != 0o600 {
			t.Fatalf("%s: mode %v, %v; want 0600", f, st.Mode().Perm(), err)
		}
	}
	kids := fmt.Sprint(m.Trust().List().KeyIDs())
	if err := m.Close(); err != nil {
		t.Fatal(err)
	}

	m2 := MustRun(t, dir)
	iss2, op2, pt2 := m2.Demo()
	if iss2 != iss || op2 != op || pt2 != pt || fmt.Sprint(m2.Trust().List().KeyIDs()) != kids {
		t.Fatal("second start did not reuse demo.json and the demo merchant's signing key")
	}
	if st := call(t, "POST", m2.HTTPURL()+"/v1/returns", iss2, map[string]any{"items": []map[string]any{{"sku": "A1"}}}, nil); st != 201 {
		t.Fatalf("create return with reused key: %d", st)
	}
}

func TestAddressInUse(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	addr := ln.Addr().String()
	tests := []struct{ flag, other string }{
		{"--http", "--mqtt-listen"},
		{"--mqtt-listen", "--http"},
	}
	for _, tt := range tests {
		t.Run(tt.flag, func(t *testing.T) {
			m := server.NewMain()
			m.Logger = slog.New(slog.DiscardHandler)
			if err := m.ParseFlags([]string{"--data", t.TempDir(), tt.flag, addr, tt.other, "127.0.0.1:0"}); err != nil {
				t.Fatal(err)
			}
			err := m.Run(context.Background())
			if err == nil {
				m.Close()
				t.Fatal("Run succeeded on an address in use")
			}
			if !strings.Contains(err.Error(), addr) || !strings.Contains(err.Error(), tt.flag) {
				t.Fatalf("error %q should name %s and %s", err, addr, tt.flag)
			}
		})
	}
}

func TestParseFlags(t *testing.T) {
	tests := []struct {
		args    []string
		wantErr string
		check   func(server.Config) bool
	}{
		{nil, "", func(c server.Config) bool {
			return c.HTTPAddr == "127.0.0.1:8080" && c.MQTTListen == "127.0.0.1:1884" && c.Store == "badger" && !c.Demo
		}},
		{[]string{"serve", "--demo", "--data", "/x"}, "", func(c server.Config) bool { return c.Demo && c.DataDir == "/x" }},
		{[]string{"--broker", "tcp://127.0.0.1:1883", "--broker-user", "u"}, "", func(c server.Config) bool {
			return c.BrokerURL == "tcp://127.0.0.1:1883" && c.BrokerUser == "u"
		}},
		{[]string{"--broker", "tcp://h:1", "--mqtt-listen", "127.0.0.1:1"}, "exclude", nil},
		{[]string{"--store", "mysql"}, "--store", nil},
		{[]string{"--store", "postgres"}, "--pg", nil},
		{[]string{"--nope"}, "nope", nil},
		{[]string{"extra"}, "extra", nil},
		{nil, "", func(c server.Config) bool { return c.TimeZone == "Europe/Paris" }},
		{[]string{"--time-zone", "America/Montreal"}, "", func(c server.Config) bool { return c.TimeZone == "America/Montreal" }},
		{[]string{"--time-zone", "Mars/Olympus"}, "--time-zone", nil},
		{[]string{"--time-zone", ""}, "--time-zone", nil},
	}
	for _, tt := range tests {
		t.Run(strings.Join(tt.args, " "), func(t *testing.T) {
			m := server.NewMain()
			err := m.ParseFlags(tt.args)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err = %v, want one mentioning %q", err, tt.wantErr)
				}
				return
			}
			if err != nil || !tt.check(m.Config) {
				t.Fatalf("config = %+v, err %v", m.Config, err)
			}
		})
	}
}

// TestPostgresStore runs a cloud on PostgreSQL (a schema of its own):
// a terminal enrols, its batch is stored and acked, a resend is acked as a
// duplicate, the timeline and acked_seq show it.
func TestPostgresStore(t *testing.T) {
	dsn, drop, err := pgstore.NewSchema(context.Background(), testenv.Postgres(t))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { drop() })
	m := server.NewMain()
	m.Logger = slog.New(slog.DiscardHandler)
	if err := m.ParseFlags([]string{"--data", t.TempDir(), "--http", "127.0.0.1:0", "--mqtt-listen", "127.0.0.1:0", "--demo", "--store", "postgres", "--pg", dsn}); err != nil {
		t.Fatal(err)
	}
	if err := m.Run(context.Background()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { m.Close() })
	if _, ok := m.Store().(*pgstore.Store); !ok {
		t.Fatalf("store is %T, want *pgstore.Store", m.Store())
	}
	e, _ := enrol(t, m, "shop-1")
	term := connectTerminal(t, e)
	b := batch("shop-1", op("shop-1", 1, edge.OpReturnDeposited, "XY123"), op("shop-1", 2, edge.OpReturnRefused, ""))
	for range 2 {
		term.publish(t, "shop-1", b)
		if got := term.ack(t); got != "[[1 2]]" {
			t.Fatalf("ack = %s, want [[1 2]]", got)
		}
	}
	if got := statuses(t, m, "XY123"); got != "deposited" {
		t.Fatalf("timeline = %s, want deposited", got)
	}
	_, operator, _ := m.Demo()
	var v struct {
		AckedSeq uint64 `json:"acked_seq"`
	}
	if st := call(t, "GET", m.HTTPURL()+"/v1/terminals/shop-1", operator, nil, &v); st != 200 || v.AckedSeq != 2 {
		t.Fatalf("terminal: %d, acked_seq %d; want 200, 2", st, v.AckedSeq)
	}
	if got := metric(t, m, "comptoir_cloud_ingest_duplicates_total"); got != "2" {
		t.Fatalf("duplicates = %s, want 2", got)
	}
}

// TestMetricsLint checks /metrics with Prometheus's own linter (what
// promtool check metrics runs), with a terminal in the fleet view.
func TestMetricsLint(t *testing.T) {
	m := MustRun(t, t.TempDir())
	enrol(t, m, "shop-1")
	enrol(t, m, "shop-2") // no status yet: no device gauges
	st := `{"v":1,"online":true,"outbox_pending":3,"outbox_oldest_age_s":90000,"printers":{"label":{"up":false,"state":"paper_out"},"receipt":{"up":true}},"disk_free_bytes":1000,"disk_warning":true,"shelf":42}`
	if err := m.Store().UpdateTerminalStatus(context.Background(), "shop-1", cloud.StatusUpdate{Online: true, Status: json.RawMessage(st), SeenAt: time.Now()}); err != nil {
		t.Fatal(err)
	}
	for sample, want := range map[string]string{
		`comptoir_fleet_printer_up{printer="label",terminal="shop-1"}`:   "0",
		`comptoir_fleet_printer_up{printer="receipt",terminal="shop-1"}`: "1",
		`comptoir_fleet_disk_free_bytes{terminal="shop-1"}`:              "1000",
		`comptoir_fleet_disk_warning{terminal="shop-1"}`:                 "1",
		`comptoir_fleet_shelved_parcels`:                                 "42",
		`comptoir_fleet_terminals{state="online"}`:                       "1",
		`comptoir_fleet_terminals{state="offline"}`:                      "1",
		`comptoir_fleet_terminals_flagged{reason="offline"}`:             "1",
		`comptoir_fleet_terminals_flagged{reason="backlog"}`:             "1",
		`comptoir_fleet_terminals_flagged{reason="printer_down"}`:        "1",
		`comptoir_fleet_terminals_flagged{reason="disk"}`:                "1",
		`comptoir_fleet_terminal_up{terminal="shop-1"}`:                  "absent",
		`comptoir_fleet_outbox_oldest_age_seconds{terminal="shop-1"}`:    "90000",
		`comptoir_fleet_outbox_pending{terminal="shop-1"}`:               "3",
		`comptoir_fleet_disk_free_bytes{terminal="shop-2"}`:              "absent",
		`comptoir_fleet_terminal_up{terminal="shop-2"}`:                  "0",
	} {
		if got := metric(t, m, sample); got != want {
			t.Errorf("%s = %s, want %s", sample, got, want)
		}
	}
	resp, err := http.Get(m.HTTPURL() + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	for _, name := range []string{"comptoir_build_info", "comptoir_fleet_terminals", "comptoir_fleet_terminal_up", "comptoir_fleet_outbox_pending", "comptoir_cloud_ingest_seconds_bucket", "comptoir_cloud_ingest_events_total"} {
		if !bytes.Contains(body, []byte("\n"+name)) {
			t.Errorf("/metrics lacks %s", name)
		}
	}
	problems, err := promlint.New(bytes.NewReader(body)).Lint()
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range problems {
		t.Errorf("lint %s: %s", p.Metric, p.Text)
	}
}
