package main

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/comptoir/comptoir/build/testenv"
	"github.com/comptoir/comptoir/cloud"
	"github.com/comptoir/comptoir/cloud/badgerstore"
	"github.com/comptoir/comptoir/cloud/loadgen"
	"github.com/comptoir/comptoir/cloud/pgstore"
)

// benchSize sizes a load run: BENCH_TERMINALS simulated terminals (default
// 1,000) send BENCH_EVENTS events each, in batches of BENCH_BATCH (defaults
// events and batch), with 8 batches in flight.
func benchSize(events, batch int) (int, int, int) {
	terminals := 1000
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
//
// Two loads: batch=256, every terminal sending a backlog of 256 events in
// one full batch (a fleet catching up after an outage: the uplink sends
// what is pending, up to 256 a batch), and batch=50, 100 events each in
// batches of 50, two in flight.
func BenchmarkIngest(b *testing.B) {
	for _, load := range []struct{ events, batch int }{{256, 256}, {100, 50}} {
		name := fmt.Sprintf("batch=%d", load.batch)
		for _, r := range []ingestRun{{store: "badger", instances: 1}, {store: "postgres", instances: 1}, {store: "postgres", instances: 2}} {
			r.events, r.batch = load.events, load.batch
			b.Run(fmt.Sprintf("store=%s/instances=%d/%s", r.store, r.instances, name), func(b *testing.B) { benchIngest(b, r) })
		}
	}
}

// BenchmarkIngestDrain measures what an instance ingests when it is the
// only one working: the instance is stopped (SIGSTOP) while loadgen
// publishes its 1,000 terminals' full batches of 256 to the broker, then
// resumed (SIGCONT); events/s is from the resume to the last ack. This is a
// fleet catching up after a cloud outage, with loadgen's publishing (its
// MQTT clients take as much CPU as the instance) kept out of the
// measurement, as it would be on separate machines; the broker still
// delivers and loadgen still receives the acks on the same 2 cores. No
// latency is reported: the batches waited for the resume.
func BenchmarkIngestDrain(b *testing.B) {
	for _, store := range []string{"badger", "postgres"} {
		b.Run("store="+store+"/instances=1/batch=256", func(b *testing.B) {
			benchIngest(b, ingestRun{store: store, instances: 1, events: 256, batch: 256, drain: true})
		})
	}
}

// BenchmarkIngestWebhooks measures the effect of webhook subscriptions on
// ingest: one instance, full batches of 256, with no subscription and with
// 100 (5 each for 20 merchants, to a receiver on loopback). loadgen's
// deposits are carriers' parcels, which no merchant's webhook gets: what
// the 100 add is their dispatcher's work beside the ingest: per
// --webhook-poll (1 s) a read of the subscriptions and, on PostgreSQL, one
// of their merchants' feed heads; a lease renewal each every 7.5 s
// (Badger: a lease and a read of the feed each per poll). The ingest
// numbers its outbox rows itself on both stores, with or without
// subscriptions. Run both in one command,
// alternated (-count 1 in a loop), and compare events/s.
func BenchmarkIngestWebhooks(b *testing.B) {
	for _, store := range []string{"badger", "postgres"} {
		for _, n := range []int{0, 100} {
			b.Run(fmt.Sprintf("store=%s/webhooks=%d", store, n), func(b *testing.B) {
				benchIngest(b, ingestRun{store: store, instances: 1, events: 256, batch: 256, webhooks: n})
			})
		}
	}
}

// BenchmarkIngestInsight measures what the returns insight (issue 15)
// costs at ingest: full batches of 256 on one instance of each store, of
// a relay point's day with merchants' returns among the carriers' parcels
// (returnsLoad: RA deposits, in-store receipts graded, refused scans,
// handovers; then carriers' and warehouses' steps through the API), with
// the insight (insight=on) and without (insight=off: --bench-no-insight,
// and on PostgreSQL its insight's indexes dropped). events/s and
// cloud_cpu_us/event are the terminals' events (MQTT); partner_events/s and
// partner_cloud_cpu_us/event the API's, posted after them; on PostgreSQL,
// db_cpu_us/event and partner_db_cpu_us/event are the server's CPU for
// them (its backends that serve the instances, when it runs on this
// machine). On PostgreSQL the steps that ingest left pending are folded
// into the facts (a report of a day with no returns, returnsLoad.settle)
// before each phase's CPU is read, with the insight and without. After
// the runs the network's report must count every return sent with the
// insight, and none without. -count repeats each sub-benchmark before the next: to
// alternate them, run it with -count 1 in a loop (make bench does).
func BenchmarkIngestInsight(b *testing.B) {
	for _, store := range []string{"badger", "postgres"} {
		for _, on := range []bool{true, false} {
			name := fmt.Sprintf("store=%s/insight=%s/batch=256", store, map[bool]string{true: "on", false: "off"}[on])
			b.Run(name, func(b *testing.B) {
				benchIngest(b, ingestRun{store: store, instances: 1, events: 256, batch: 256, noInsight: !on, returns: true})
			})
		}
	}
}

// addWebhooks subscribes n webhooks, 5 a merchant, to a receiver on
// loopback that answers 204.
func addWebhooks(b *testing.B, s cloud.Store, n int) {
	if n == 0 {
		return
	}
	r := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(http.StatusNoContent) }))
	b.Cleanup(r.Close)
	ws := &cloud.Webhooks{Store: s, AllowPrivate: true}
	for i := range n {
		if _, _, err := ws.Create(context.Background(), fmt.Sprintf("m-%02d", i/5), cloud.WebhookRequest{URL: r.URL, Events: []string{"*"}}); err != nil {
			b.Fatal(err)
		}
	}
}

// insightIndexes are the PostgreSQL store's indexes that only the returns
// insight reads and that ingest writes: the stuck parcels' and the
// refusals'.
var insightIndexes = []string{"parcels_awaiting_handover", "parcels_awaiting_carrier", "parcels_merchant_waiting", "events_refusals"}

// ingestRun is a run of benchIngest: the store, its instances, the events
// per terminal and per batch, whether the instances are stopped while
// loadgen publishes (drain), whether the store keeps the returns insight,
// how many webhook subscriptions it has, and whether the terminals send
// returnsLoad's day (returns) rather than carriers' deposits.
type ingestRun struct {
	store                     string
	instances                 int
	events, batch             int
	drain, noInsight, returns bool
	webhooks                  int
}

func benchIngest(b *testing.B, r ingestRun) {
	store, instances, drain, webhooks := r.store, r.instances, r.drain, r.webhooks
	terminals, events, size := benchSize(r.events, r.batch)
	broker, mosq := startMosquittoProc(b)
	args := []string{"--webhook-allow-private"}
	dirs := make([]string, instances)
	for i := range dirs {
		dirs[i] = b.TempDir()
	}
	var load *returnsLoad
	if r.returns {
		load = newReturnsLoad(terminals, events)
	}
	if store == "badger" && (webhooks > 0 || load != nil) {
		s, err := badgerstore.OpenWith(filepath.Join(dirs[0], "store"), badgerstore.Options{NoInsight: r.noInsight})
		if err != nil {
			b.Fatal(err)
		}
		addWebhooks(b, s, webhooks)
		if load != nil {
			load.setup(b, s, b.N)
		}
		s.Close()
	}
	var dsn string // PostgreSQL's schema
	if store == "postgres" {
		var drop func() error
		var err error
		dsn, drop, err = pgstore.NewSchema(context.Background(), testenv.Postgres(b))
		if err != nil {
			b.Fatal(err)
		}
		b.Cleanup(func() { drop() })
		// Migrated once before the instances start.
		s, err := pgstore.OpenWith(context.Background(), dsn, pgstore.Options{NoInsight: r.noInsight})
		if err != nil {
			b.Fatal(err)
		}
		addWebhooks(b, s, webhooks)
		if load != nil {
			load.setup(b, s, b.N)
		}
		if r.noInsight {
			if _, err := s.Pool().Exec(context.Background(), "DROP INDEX "+strings.Join(insightIndexes, ", ")); err != nil {
				b.Fatal(err)
			}
		}
		s.Close()
		args = append(args, "--store", "postgres", "--pg", dsn)
	}
	if r.noInsight {
		args = append(args, "--bench-no-insight")
	}
	var pids []int
	var api string // the first instance's HTTP API
	for _, dir := range dirs {
		in := startInstance(b, append([]string{"--data", dir, "--broker", broker}, args...)...)
		pids = append(pids, in.cmd.Process.Pid)
		if api == "" {
			api = "http://" + in.http
		}
	}
	var acked, partnerAdded int64
	var secs, partnerSecs, p50, p99 float64
	var cloudCPU, brokerCPU, loadgenCPU, partnerCPU, dbCPU, partnerDBCPU time.Duration
	_, dbOK := serverCPU(b, dsn)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		c0, m0, l0 := processCPU(b, pids...), processCPU(b, mosq.Pid), selfCPU()
		d0, ok := serverCPU(b, dsn)
		dbOK = dbOK && ok
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
		cfg := loadgen.Config{BrokerURL: broker, Terminals: terminals, EventsPerTerminal: events, BatchSize: size}
		if load != nil {
			cfg.Events = load.events(i)
		}
		resumed := make(chan time.Time, 1)
		if drain {
			signalAll(b, pids, syscall.SIGSTOP)
			cfg.OnPublished = func() {
				signalAll(b, pids, syscall.SIGCONT)
				resumed <- time.Now()
			}
		}
		res, err := loadgen.Run(ctx, cfg)
		cancel()
		if drain {
			signalAll(b, pids, syscall.SIGCONT) // in case the run failed first
		}
		if err != nil {
			b.Fatal(err)
		}
		if drain {
			res.Seconds = res.End.Sub(<-resumed).Seconds()
		}
		if load != nil {
			load.settle(b, api) // the insight's steps folded (PostgreSQL) within the CPU measured
		}
		cloudCPU += processCPU(b, pids...) - c0
		brokerCPU += processCPU(b, mosq.Pid) - m0
		loadgenCPU += selfCPU() - l0
		d1, ok := serverCPU(b, dsn)
		dbOK, dbCPU = dbOK && ok, dbCPU+d1-d0
		acked += res.Acked
		secs += res.Seconds
		p50, p99 = max(p50, res.P50AckMS), max(p99, res.P99AckMS)
		if load != nil {
			c0, t0 := processCPU(b, pids...), time.Now()
			partnerAdded += load.postPartners(b, api, i)
			partnerSecs += time.Since(t0).Seconds()
			load.settle(b, api)
			partnerCPU += processCPU(b, pids...) - c0
			d2, ok := serverCPU(b, dsn)
			dbOK, partnerDBCPU = dbOK && ok, partnerDBCPU+d2-d1
		}
	}
	if load != nil {
		b.StopTimer()
		load.check(b, api, b.N, !r.noInsight)
		b.ReportMetric(float64(partnerAdded)/partnerSecs, "partner_events/s")
		b.ReportMetric(float64(partnerCPU.Microseconds())/float64(partnerAdded), "partner_cloud_cpu_us/event")
		if dbOK {
			b.ReportMetric(float64(partnerDBCPU.Microseconds())/float64(partnerAdded), "partner_db_cpu_us/event")
		}
	}
	b.ReportMetric(float64(acked)/secs, "events/s")
	b.ReportMetric(float64(acked)/secs/float64(instances), "events/s/instance")
	if !drain {
		b.ReportMetric(p50, "p50_ack_ms")
		b.ReportMetric(p99, "p99_ack_ms")
	}
	// CPU time per event (user + system), of the instances together, of the
	// broker, and of loadgen (the benchmark process): on a shared machine
	// events/s is what the slowest of them allows, while the cloud's CPU per
	// event says what one instance does with a core of its own.
	perEvent := func(d time.Duration) float64 { return float64(d.Microseconds()) / float64(acked) }
	b.ReportMetric(perEvent(cloudCPU), "cloud_cpu_us/event")
	b.ReportMetric(perEvent(brokerCPU), "broker_cpu_us/event")
	b.ReportMetric(perEvent(loadgenCPU), "loadgen_cpu_us/event")
	if dbOK {
		// The PostgreSQL server's backends that serve the instances
		// (pgstore.SchemaBackends), when it runs on this machine.
		b.ReportMetric(perEvent(dbCPU), "db_cpu_us/event")
	}
}

// processCPU returns the CPU time (user + system) the processes have used
// (testenv.ProcessCPU).
func processCPU(b *testing.B, pids ...int) time.Duration {
	d, ok := testenv.ProcessCPU(pids...)
	if !ok {
		b.Fatalf("no CPU time of processes %v", pids)
	}
	return d
}

// serverCPU returns the CPU time the PostgreSQL server's backends serving
// the schema of dsn (pgstore.NewSchema's) have used, false when they are
// not processes of this machine or dsn is "" (the Badger store).
func serverCPU(b *testing.B, dsn string) (time.Duration, bool) {
	if dsn == "" {
		return 0, false
	}
	pids, err := pgstore.SchemaBackends(context.Background(), dsn)
	if err != nil {
		b.Fatal(err)
	}
	return testenv.ProcessCPU(pids...)
}

// selfCPU returns the CPU time of this process.
func selfCPU() time.Duration {
	var ru syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// signalAll sends sig to the processes.
func signalAll(b *testing.B, pids []int, sig syscall.Signal) {
	for _, pid := range pids {
		if err := syscall.Kill(pid, sig); err != nil {
			b.Fatal(err)
		}
	}
}
