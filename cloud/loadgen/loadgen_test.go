package loadgen_test

import (
	"context"
	"log/slog"
	"testing"

	"github.com/comptoir/comptoir/cloud/loadgen"
	"github.com/comptoir/comptoir/cloud/server"
)

// TestRun loads an in-process cloud: every event is acked, and the cloud
// stored each terminal's events up to the last seq.
func TestRun(t *testing.T) {
	m := server.NewMain()
	m.Logger = slog.New(slog.DiscardHandler)
	if err := m.ParseFlags([]string{"--data", t.TempDir(), "--http", "127.0.0.1:0", "--mqtt-listen", "127.0.0.1:0", "--demo"}); err != nil {
		t.Fatal(err)
	}
	if err := m.Run(context.Background()); err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	_, operator, _ := m.Demo()

	res, err := loadgen.Run(context.Background(), loadgen.Config{
		Cloud: m.HTTPURL(), OperatorKey: operator,
		Terminals: 5, EventsPerTerminal: 600, BatchSize: 128, Prefix: "lg-test",
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("%+v", res)
	if res.Terminals != 5 || res.Acked != 3000 || res.Sent < res.Acked || res.EventsPerSecond <= 0 || res.P99AckMS < res.P50AckMS {
		t.Fatalf("result = %+v", res)
	}
	ts, err := m.Store().Terminals(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	for _, term := range ts {
		if term.AckedSeq != 600 {
			t.Errorf("%s: acked_seq %d, want 600", term.ID, term.AckedSeq)
		}
	}
	if len(ts) != 5 {
		t.Fatalf("%d terminals enrolled, want 5", len(ts))
	}
}

func TestRunNeedsCounts(t *testing.T) {
	if _, err := loadgen.Run(context.Background(), loadgen.Config{BrokerURL: "tcp://127.0.0.1:1"}); err == nil {
		t.Fatal("no error without terminals")
	}
}
