package main

import (
	"context"
	"os"
	"strconv"
	"testing"
	"time"

	"github.com/comptoir/comptoir/build/testenv"
	"github.com/comptoir/comptoir/cloud/loadgen"
	"github.com/comptoir/comptoir/cloud/pgstore"
)

// benchSize sizes a load run: BENCH_TERMINALS simulated terminals (default
// 1,000) send BENCH_EVENTS events each (default 100), in batches of
// BENCH_BATCH (default 50) with 8 in flight.
func benchSize() (terminals, events, batch int) {
	terminals, events, batch = 1000, 100, 50
	if n, err := strconv.Atoi(os.Getenv("BENCH_TERMINALS")); err == nil && n > 0 {
		terminals = n
	}
	if n, err := strconv.Atoi(os.Getenv("BENCH_EVENTS")); err == nil && n > 0 {
		events = n
	}
	if n, err := strconv.Atoi(os.Getenv("BENCH_BATCH")); err == nil && n > 0 {
		batch = n
	}
	return terminals, events, batch
}

// BenchmarkIngest measures the cloud's ingest end to end: cloud instances
// as processes on a Mosquitto of the benchmark's own, loadgen's terminals
// publishing and awaiting acks. events/s is the acked events over the run;
// p50/p99 are from a batch's first publish to its ack. Badger runs one
// instance (its store is a local directory); PostgreSQL one and two, on a
// fresh schema each.
func BenchmarkIngest(b *testing.B) {
	b.Run("store=badger/instances=1", func(b *testing.B) { benchIngest(b, "badger", 1) })
	b.Run("store=postgres/instances=1", func(b *testing.B) { benchIngest(b, "postgres", 1) })
	b.Run("store=postgres/instances=2", func(b *testing.B) { benchIngest(b, "postgres", 2) })
}

func benchIngest(b *testing.B, store string, instances int) {
	terminals, events, size := benchSize()
	broker := startMosquitto(b)
	var args []string
	if store == "postgres" {
		dsn, drop, err := pgstore.NewSchema(context.Background(), testenv.Postgres(b))
		if err != nil {
			b.Fatal(err)
		}
		b.Cleanup(func() { drop() })
		// Migrated once before the instances start.
		s, err := pgstore.Open(context.Background(), dsn)
		if err != nil {
			b.Fatal(err)
		}
		s.Close()
		args = []string{"--store", "postgres", "--pg", dsn}
	}
	for range instances {
		startInstance(b, append([]string{"--data", b.TempDir(), "--broker", broker}, args...)...)
	}
	var acked int64
	var secs, p50, p99 float64
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
		res, err := loadgen.Run(ctx, loadgen.Config{
			BrokerURL: broker, Terminals: terminals, EventsPerTerminal: events, BatchSize: size,
		})
		cancel()
		if err != nil {
			b.Fatal(err)
		}
		acked += res.Acked
		secs += res.Seconds
		p50, p99 = max(p50, res.P50AckMS), max(p99, res.P99AckMS)
	}
	b.ReportMetric(float64(acked)/secs, "events/s")
	b.ReportMetric(float64(acked)/secs/float64(instances), "events/s/instance")
	b.ReportMetric(p50, "p50_ack_ms")
	b.ReportMetric(p99, "p99_ack_ms")
}
