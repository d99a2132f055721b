package main

import (
	"bufio"
	"bytes"
	"context"
	"crypto/tls"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/comptoir/comptoir/build/testenv"
	"github.com/comptoir/comptoir/cloud/loadgen"
)

// fleetSizes are the fleets BenchmarkFleet holds: BENCH_FLEET, a
// comma-separated list, or 5,000 terminals. One process of the development
// machine may open 20,000 files and the cloud needs one a connection, so
// 19,000 is the most it can try; that run did not finish in 20 minutes
// there (docs/scaling.md).
func fleetSizes() []int {
	sizes := []int{5000}
	if s := os.Getenv("BENCH_FLEET"); s != "" {
		sizes = sizes[:0]
		for _, f := range strings.Split(s, ",") {
			if n, err := strconv.Atoi(f); err == nil && n > 0 {
				sizes = append(sizes, n)
			}
		}
	}
	return sizes
}

// BenchmarkFleet holds a fleet of terminals connected over TLS to one cloud
// (a serve process, embedded broker, Badger) and measures what a network
// operator sizes a cloud by:
//
//   - connects/s: the whole fleet connecting at once (TLS handshake, MQTT
//     CONNECT with its password, three subscriptions, the retained status,
//     a batch of 10 events);
//   - cloud_rss_B/terminal, cloud_heap_B/terminal and
//     cloud_live_heap_B/terminal: the cloud's growth from enrolled and
//     idle to the fleet connected and its events acked (RSS, the Go heap
//     in use from its /metrics, and the same right after a collection);
//   - remembered_heap_B/terminal: the heap of the restarted cloud once
//     every terminal has left (cleanly), over the first one's before any
//     connected: what the persistent sessions the broker keeps cost;
//   - restart_s: the restarted cloud's start, from exec to healthy (it
//     marks every terminal offline first);
//   - storm_s: the cloud restarted (SIGTERM, then a new process on the
//     same data and addresses), from the new process healthy to the whole
//     fleet reconnected on its own, each terminal backing off with
//     wire.ReconnectAfter; every terminal's second batch is acked
//     (acked == sent, or the benchmark fails);
//   - metrics_B, metrics_series and scrape_ms: one scrape of /metrics with
//     the fleet connected.
//
// The smallest fleet, when of 5,000 terminals or fewer, also runs as a
// peer with mochi's default queue of 8,192 messages a client
// (--mqtt-terminal-queue 8192), what the cloud had before
// DefaultTerminalQueue (larger fleets would need gigabytes for it).
func BenchmarkFleet(b *testing.B) {
	for i, n := range fleetSizes() {
		b.Run(fmt.Sprintf("broker=embedded/tls/terminals=%d", n), func(b *testing.B) { benchFleet(b, n) })
		if i == 0 && n <= 5000 {
			b.Run(fmt.Sprintf("broker=embedded/tls/queue=8192/terminals=%d", n), func(b *testing.B) {
				benchFleet(b, n, "--mqtt-terminal-queue", "8192")
			})
		}
	}
}

func benchFleet(b *testing.B, n int, serveArgs ...string) {
	var rep fleetReport
	for i := 0; i < b.N; i++ {
		r := runFleet(b, n, serveArgs...)
		rep.add(r)
	}
	rep.report(b, n)
}

// fleetRun is what one run of benchFleet measured.
type fleetRun struct {
	connectSecs, stormSecs      float64
	restartSecs                 float64 // the new process from exec to healthy
	rss, heap, rememberedHeap   int64   // growth, bytes
	liveHeap                    int64   // growth after a collection, bytes
	loadgenHeap                 int64
	metricsBytes, metricsSeries int
	scrape                      time.Duration
	failed, resumed             int64
	connectCPU, stormCPU        time.Duration // the cloud's
}

type fleetReport struct{ runs []fleetRun }

func (r *fleetReport) add(f fleetRun) { r.runs = append(r.runs, f) }

func (r *fleetReport) report(b *testing.B, n int) {
	var sum fleetRun
	for _, f := range r.runs {
		sum.connectSecs += f.connectSecs
		sum.stormSecs += f.stormSecs
		sum.restartSecs += f.restartSecs
		sum.rss += f.rss
		sum.heap += f.heap
		sum.liveHeap += f.liveHeap
		sum.rememberedHeap += f.rememberedHeap
		sum.loadgenHeap += f.loadgenHeap
		sum.metricsBytes += f.metricsBytes
		sum.metricsSeries += f.metricsSeries
		sum.scrape += f.scrape
		sum.failed += f.failed
		sum.resumed += f.resumed
		sum.connectCPU += f.connectCPU
		sum.stormCPU += f.stormCPU
	}
	k := float64(len(r.runs))
	per := func(v int64) float64 { return float64(v) / k / float64(n) }
	b.ReportMetric(float64(n)*k/sum.connectSecs, "connects/s")
	b.ReportMetric(per(sum.rss), "cloud_rss_B/terminal")
	b.ReportMetric(per(sum.heap), "cloud_heap_B/terminal")
	b.ReportMetric(per(sum.liveHeap), "cloud_live_heap_B/terminal")
	b.ReportMetric(per(sum.rememberedHeap), "remembered_heap_B/terminal")
	b.ReportMetric(per(sum.loadgenHeap), "loadgen_heap_B/terminal")
	b.ReportMetric(sum.stormSecs/k, "storm_s")
	b.ReportMetric(sum.restartSecs/k, "restart_s")
	// CPU per connection of the cloud, first connections and storm
	// (which includes the restarted cloud's start): on a shared machine
	// connects/s and storm_s are what the other tenants leave.
	b.ReportMetric(float64(sum.connectCPU.Microseconds())/1000/k/float64(n), "cloud_cpu_ms/connect")
	b.ReportMetric(float64(sum.stormCPU.Microseconds())/1000/k/float64(n), "storm_cpu_ms/terminal")
	b.ReportMetric(float64(sum.failed)/k/float64(n), "refused/terminal")
	b.ReportMetric(float64(sum.resumed)/k/float64(n), "tls_resumed/terminal")
	b.ReportMetric(float64(sum.metricsBytes)/k, "metrics_B")
	b.ReportMetric(float64(sum.metricsSeries)/k, "metrics_series")
	b.ReportMetric(float64(sum.scrape.Microseconds())/1000/k, "scrape_ms")
}

// runFleet starts a cloud, enrols n terminals, and measures it with them
// connected, through a restart, and after they have gone.
func runFleet(b *testing.B, n int, serveArgs ...string) fleetRun {
	b.StopTimer()
	defer b.StartTimer()
	dir := b.TempDir()
	pool, cert, key := testenv.SelfSignedTLS(b, dir)
	httpAddr, mqttAddr, pprofAddr := freeAddr(b), freeAddr(b), freeAddr(b)
	args := []string{"--data", filepath.Join(dir, "cloud"), "--mqtt-listen", mqttAddr, "--demo",
		"--mqtt-tls-cert", cert, "--mqtt-tls-key", key, "--pprof", pprofAddr}
	args = append(args, serveArgs...)
	in := startInstanceAt(b, httpAddr, args...)
	var demo struct {
		OperatorKey string `json:"operator_key"`
	}
	data, err := os.ReadFile(filepath.Join(dir, "cloud", "demo.json"))
	if err != nil {
		b.Fatal(err)
	}
	if err := json.Unmarshal(data, &demo); err != nil {
		b.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Minute)
	defer cancel()
	f, err := loadgen.NewFleet(ctx, loadgen.FleetConfig{
		Cloud: "http://" + httpAddr, OperatorKey: demo.OperatorKey, Terminals: n,
		TLS: &tls.Config{RootCAs: pool}, EventsPerConnect: 10, EnrolWorkers: 16,
	})
	if err != nil {
		b.Fatal(err)
	}
	defer f.Close()
	var run fleetRun
	stopProgress := progress(ctx, n, f, httpAddr)
	defer stopProgress()
	settle()
	rss0, heap0 := processRSS(b, in.cmd.Process.Pid), scrapeHeap(b, httpAddr)
	live0 := liveHeap(b, pprofAddr, httpAddr)
	lg0 := selfHeap()

	cpu0 := processCPU(b, in.cmd.Process.Pid)
	start := time.Now()
	f.Start(ctx)
	if err := f.WaitConnected(ctx, n); err != nil {
		b.Fatal(err)
	}
	run.connectSecs = time.Since(start).Seconds()
	run.connectCPU = processCPU(b, in.cmd.Process.Pid) - cpu0
	if err := f.WaitAcked(ctx); err != nil {
		b.Fatal(err)
	}
	settle()
	run.rss = processRSS(b, in.cmd.Process.Pid) - rss0
	run.heap = scrapeHeap(b, httpAddr) - heap0
	run.loadgenHeap = selfHeap() - lg0
	run.liveHeap = liveHeap(b, pprofAddr, httpAddr) - live0
	saveProfile(b, pprofAddr, fmt.Sprintf("cloud-heap-%d.pb.gz", n))
	t0 := time.Now()
	body := scrape(b, httpAddr)
	run.scrape = time.Since(t0)
	run.metricsBytes = len(body)
	run.metricsSeries = countSeries(body)
	before := f.Stats()

	// The restart: SIGTERM drops every connection at once.
	if err := in.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		b.Fatal(err)
	}
	<-in.done
	if err := f.WaitDisconnected(ctx); err != nil {
		b.Fatal(err)
	}
	t1 := time.Now()
	in = startInstanceAt(b, httpAddr, args...)
	restarted := time.Now()
	run.restartSecs = restarted.Sub(t1).Seconds()
	if err := f.WaitConnected(ctx, n); err != nil {
		b.Fatal(err)
	}
	run.stormSecs = time.Since(restarted).Seconds()
	run.stormCPU = processCPU(b, in.cmd.Process.Pid)
	if err := f.WaitAcked(ctx); err != nil {
		b.Fatal(err)
	}
	after := f.Stats()
	if after.Sent != int64(2*10*n) || after.Acked != after.Sent {
		b.Fatalf("after the storm: %+v, want %d events sent and acked", after, 2*10*n)
	}
	run.failed = after.Failed - before.Failed
	run.resumed = after.Resumed - before.Resumed

	// Every terminal leaves cleanly; the broker keeps their sessions.
	f.Close()
	settle()
	run.rememberedHeap = scrapeHeap(b, httpAddr) - heap0
	b.Logf("terminals=%d run=%+v stats=%+v", n, run, after)
	in.kill()
	return run
}

// progress prints, every 30 s until stopped, the fleet's counts and the
// cloud's ingest and drop counters: what a run that does not finish is
// diagnosed with.
func progress(ctx context.Context, n int, f *loadgen.Fleet, httpAddr string) (stop func()) {
	ctx, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() {
		defer close(done)
		t := time.NewTicker(30 * time.Second)
		defer t.Stop()
		start := time.Now()
		for {
			select {
			case <-ctx.Done():
				return
			case <-t.C:
			}
			var counters []string
			if resp, err := http.Get("http://" + httpAddr + "/metrics"); err == nil {
				body, _ := io.ReadAll(resp.Body)
				resp.Body.Close()
				for line := range strings.Lines(string(body)) {
					for _, name := range []string{"comptoir_cloud_mqtt_messages_dropped_total ", "comptoir_cloud_ingest_batches_total ", "comptoir_cloud_ingest_events_total ", "go_goroutines "} {
						if strings.HasPrefix(line, name) {
							counters = append(counters, strings.TrimSpace(line))
						}
					}
				}
			}
			fmt.Fprintf(os.Stderr, "fleet %d +%s: %+v %v\n", n, time.Since(start).Round(time.Second), f.Stats(), counters)
		}
	}()
	return func() { cancel(); <-done }
}

// liveHeap returns the cloud's heap in use right after a collection that
// its pprof endpoint forces: what is live, without the garbage that
// cloud_heap_B counts.
func liveHeap(b *testing.B, pprofAddr, httpAddr string) int64 {
	resp, err := http.Get("http://" + pprofAddr + "/debug/pprof/heap?gc=1")
	if err != nil {
		b.Fatal(err)
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return scrapeHeap(b, httpAddr)
}

// saveProfile keeps the cloud's heap profile (after a collection) in
// BENCH_FLEET_PROFILE, when set, for go tool pprof -inuse_space.
func saveProfile(b *testing.B, pprofAddr, name string) {
	dir := os.Getenv("BENCH_FLEET_PROFILE")
	if dir == "" {
		return
	}
	resp, err := http.Get("http://" + pprofAddr + "/debug/pprof/heap?gc=1")
	if err != nil {
		b.Fatal(err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	if err != nil {
		b.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, name), data, 0o644); err != nil {
		b.Fatal(err)
	}
}

// settle lets the cloud's garbage collector catch up before a reading.
func settle() { time.Sleep(3 * time.Second) }

// processRSS returns the resident set of a process, from /proc.
func processRSS(b *testing.B, pid int) int64 {
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		b.Fatal(err)
	}
	for line := range strings.Lines(string(data)) {
		if v, ok := strings.CutPrefix(line, "VmRSS:"); ok {
			kb, _ := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 10, 64)
			return kb << 10
		}
	}
	b.Fatal("no VmRSS")
	return 0
}

// selfHeap returns this process's heap in use, after a collection.
func selfHeap() int64 {
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	return int64(ms.HeapInuse)
}

func scrape(b *testing.B, addr string) []byte {
	resp, err := http.Get("http://" + addr + "/metrics")
	if err != nil {
		b.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil || resp.StatusCode != http.StatusOK {
		b.Fatalf("scrape: %s %v", resp.Status, err)
	}
	return body
}

// scrapeHeap returns the Go heap in use of the cloud at addr.
func scrapeHeap(b *testing.B, addr string) int64 {
	sc := bufio.NewScanner(bytes.NewReader(scrape(b, addr)))
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), "go_memstats_heap_inuse_bytes "); ok {
			f, _ := strconv.ParseFloat(v, 64)
			return int64(f)
		}
	}
	b.Fatal("no go_memstats_heap_inuse_bytes in /metrics")
	return 0
}

// countSeries counts the samples of a scrape in the text format.
func countSeries(body []byte) int {
	n := 0
	for line := range bytes.Lines(body) {
		if len(bytes.TrimSpace(line)) > 0 && line[0] != '#' {
			n++
		}
	}
	return n
}
