package main

import (
	"bufio"
	"bytes"
	"context"
	"crypto/pbkdf2"
	"crypto/rand"
	"crypto/sha512"
	"crypto/tls"
	"encoding/base64"
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
	"github.com/comptoir/comptoir/cloud/ingest"
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
//   - cloud_rss_B/terminal, cloud_heap_B/terminal,
//     cloud_live_heap_B/terminal and cloud_stack_B/terminal: the cloud's
//     growth from enrolled and idle to the fleet connected and its events
//     acked (RSS, the Go heap in use from its /metrics, the same right
//     after a collection, and the goroutine stacks in use);
//   - remembered_heap_B/terminal: the heap of the restarted cloud once
//     every terminal has left (cleanly), over the first one's before any
//     connected: what the persistent sessions the broker keeps cost
//     (remembered_live_heap_B/terminal: the same after a collection);
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
//
// broker=mosquitto runs the same fleet on a Mosquitto of the benchmark's
// own with the dynamic security plugin (serve --broker; the terminals on
// its TLS listener, the cloud on its plain one) and also reports
// broker_rss_B/terminal, broker_hwm_B/terminal (its peak, VmHWM, over
// its RSS before the fleet connected) and broker_cpu_ms/connect. A
// restart of the cloud drops no terminal there (the benchmark fails if
// one reconnects), so it has no storm: restart_s only. The terminals'
// accounts are written into the plugin's file at once (dynsecAccounts)
// rather than by --broker-dynsec's one exchange an enrolment, which ran
// at 3 to 8 enrolments a second on the shared development machine
// (Mosquitto 2.0 rewrites its whole file at each change).
func BenchmarkFleet(b *testing.B) {
	for i, n := range fleetSizes() {
		b.Run(fmt.Sprintf("broker=embedded/tls/terminals=%d", n), func(b *testing.B) { benchFleet(b, n, false) })
		if i == 0 && n <= 5000 {
			b.Run(fmt.Sprintf("broker=embedded/tls/queue=8192/terminals=%d", n), func(b *testing.B) {
				benchFleet(b, n, false, "--mqtt-terminal-queue", "8192")
			})
		}
		b.Run(fmt.Sprintf("broker=mosquitto/tls/terminals=%d", n), func(b *testing.B) { benchFleet(b, n, true) })
	}
}

func benchFleet(b *testing.B, n int, mosquitto bool, serveArgs ...string) {
	var rep fleetReport
	for i := 0; i < b.N; i++ {
		r := runFleet(b, n, mosquitto, serveArgs...)
		rep.add(r)
	}
	rep.report(b, n, mosquitto)
}

// fleetRun is what one run of benchFleet measured.
type fleetRun struct {
	connectSecs, stormSecs      float64
	restartSecs                 float64 // the new process from exec to healthy
	rss, heap, rememberedHeap   int64   // growth, bytes
	rememberedLive              int64   // rememberedHeap after a collection
	liveHeap                    int64   // growth after a collection, bytes
	stack                       int64   // growth of the goroutine stacks in use, bytes
	loadgenHeap                 int64
	metricsBytes, metricsSeries int
	scrape                      time.Duration
	failed, resumed             int64
	connectCPU, stormCPU        time.Duration // the cloud's
	// Of the external broker (broker=mosquitto): RSS growth, peak over
	// the RSS before the fleet connected, CPU of the first connections.
	brokerRSS, brokerHWM int64
	brokerCPU            time.Duration
}

type fleetReport struct{ runs []fleetRun }

func (r *fleetReport) add(f fleetRun) { r.runs = append(r.runs, f) }

func (r *fleetReport) report(b *testing.B, n int, mosquitto bool) {
	var sum fleetRun
	for _, f := range r.runs {
		sum.connectSecs += f.connectSecs
		sum.stormSecs += f.stormSecs
		sum.restartSecs += f.restartSecs
		sum.rss += f.rss
		sum.heap += f.heap
		sum.liveHeap += f.liveHeap
		sum.stack += f.stack
		sum.rememberedHeap += f.rememberedHeap
		sum.rememberedLive += f.rememberedLive
		sum.loadgenHeap += f.loadgenHeap
		sum.metricsBytes += f.metricsBytes
		sum.metricsSeries += f.metricsSeries
		sum.scrape += f.scrape
		sum.failed += f.failed
		sum.resumed += f.resumed
		sum.connectCPU += f.connectCPU
		sum.stormCPU += f.stormCPU
		sum.brokerRSS += f.brokerRSS
		sum.brokerHWM += f.brokerHWM
		sum.brokerCPU += f.brokerCPU
	}
	k := float64(len(r.runs))
	per := func(v int64) float64 { return float64(v) / k / float64(n) }
	b.ReportMetric(float64(n)*k/sum.connectSecs, "connects/s")
	b.ReportMetric(per(sum.rss), "cloud_rss_B/terminal")
	b.ReportMetric(per(sum.heap), "cloud_heap_B/terminal")
	b.ReportMetric(per(sum.liveHeap), "cloud_live_heap_B/terminal")
	b.ReportMetric(per(sum.stack), "cloud_stack_B/terminal")
	b.ReportMetric(per(sum.loadgenHeap), "loadgen_heap_B/terminal")
	b.ReportMetric(sum.restartSecs/k, "restart_s")
	if mosquitto {
		b.ReportMetric(per(sum.brokerRSS), "broker_rss_B/terminal")
		b.ReportMetric(per(sum.brokerHWM), "broker_hwm_B/terminal")
		b.ReportMetric(float64(sum.brokerCPU.Microseconds())/1000/k/float64(n), "broker_cpu_ms/connect")
	} else {
		b.ReportMetric(sum.stormSecs/k, "storm_s")
		b.ReportMetric(float64(sum.stormCPU.Microseconds())/1000/k/float64(n), "storm_cpu_ms/terminal")
		b.ReportMetric(float64(sum.resumed)/k/float64(n), "tls_resumed/terminal")
		b.ReportMetric(per(sum.rememberedHeap), "remembered_heap_B/terminal")
		b.ReportMetric(per(sum.rememberedLive), "remembered_live_heap_B/terminal")
	}
	// CPU per connection of the cloud, first connections and storm
	// (which includes the restarted cloud's start): on a shared machine
	// connects/s and storm_s are what the other tenants leave.
	b.ReportMetric(float64(sum.connectCPU.Microseconds())/1000/k/float64(n), "cloud_cpu_ms/connect")
	b.ReportMetric(float64(sum.failed)/k/float64(n), "refused/terminal")
	b.ReportMetric(float64(sum.metricsBytes)/k, "metrics_B")
	b.ReportMetric(float64(sum.metricsSeries)/k, "metrics_series")
	b.ReportMetric(float64(sum.scrape.Microseconds())/1000/k, "scrape_ms")
}

// runFleet starts a cloud (on a Mosquitto of its own when mosquitto),
// enrols n terminals, and measures it with them connected, through a
// restart, and after they have gone.
func runFleet(b *testing.B, n int, mosquitto bool, serveArgs ...string) fleetRun {
	b.StopTimer()
	defer b.StartTimer()
	dir := b.TempDir()
	pool, cert, key := testenv.SelfSignedTLS(b, dir)
	httpAddr, pprofAddr := freeAddr(b), freeAddr(b)
	args := []string{"--data", filepath.Join(dir, "cloud"), "--demo", "--pprof", pprofAddr}
	var mosq *testenv.DynsecMosquitto
	if mosquitto {
		// The shipped mosquitto.conf's queue for the cloud's consumer.
		mosq = testenv.StartDynsecMosquitto(b, testenv.DynsecOptions{Admin: "cloud", Password: "cloud-pass",
			CertFile: cert, KeyFile: key,
			Extra: "max_queued_messages 400000\nmax_queued_bytes 2147483648\nmax_packet_size 524288"})
		args = append(args, "--broker", "tcp://"+mosq.Addr, "--broker-user", "cloud", "--broker-pass", "cloud-pass",
			"--mqtt-public-url", "mqtts://"+mosq.TLSAddr)
	} else {
		args = append(args, "--mqtt-listen", freeAddr(b), "--mqtt-tls-cert", cert, "--mqtt-tls-key", key)
	}
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
	t0 := time.Now()
	f, err := loadgen.NewFleet(ctx, loadgen.FleetConfig{
		Cloud: "http://" + httpAddr, OperatorKey: demo.OperatorKey, Terminals: n,
		TLS: &tls.Config{RootCAs: pool}, EventsPerConnect: 10, EnrolWorkers: 16,
	})
	if err != nil {
		b.Fatal(err)
	}
	defer f.Close()
	b.Logf("%d terminals enrolled in %s", n, time.Since(t0).Round(time.Millisecond))
	brokerPid := 0
	if mosquitto {
		mosq.Restart(b, func() { dynsecAccounts(b, mosq.Config, f.Accounts()) })
		brokerPid = mosq.Cmd.Process.Pid
		// The cloud's consumer reconnects on its own (at most 10 s).
		waitWithin(b, "cloud back on Mosquitto", time.Minute, func() bool {
			resp, err := http.Get("http://" + httpAddr + "/healthz")
			if err != nil {
				return false
			}
			resp.Body.Close()
			return resp.StatusCode == http.StatusOK
		})
	}
	var run fleetRun
	stopProgress := progress(ctx, n, f, httpAddr)
	defer stopProgress()
	settle()
	rss0, heap0 := processRSS(b, in.cmd.Process.Pid), scrapeHeap(b, httpAddr)
	live0 := liveHeap(b, pprofAddr, httpAddr)
	alloc0 := scrapeGauge(b, httpAddr, "go_memstats_heap_alloc_bytes")
	saveProfile(b, pprofAddr, "heap?gc=1", fmt.Sprintf("cloud-heap-%d-before.pb.gz", n))
	stack0 := scrapeGauge(b, httpAddr, "go_memstats_stack_inuse_bytes")
	lg0 := selfHeap()

	var brokerRSS0 int64
	var brokerCPU0 time.Duration
	if mosquitto {
		brokerRSS0, brokerCPU0 = processRSS(b, brokerPid), processCPU(b, brokerPid)
	}
	cpu0 := processCPU(b, in.cmd.Process.Pid)
	start := time.Now()
	f.Start(ctx)
	if err := f.WaitConnected(ctx, n); err != nil {
		b.Fatal(err)
	}
	run.connectSecs = time.Since(start).Seconds()
	run.connectCPU = processCPU(b, in.cmd.Process.Pid) - cpu0
	if mosquitto {
		run.brokerCPU = processCPU(b, brokerPid) - brokerCPU0
	}
	if err := f.WaitAcked(ctx); err != nil {
		b.Fatal(err)
	}
	settle()
	run.rss = processRSS(b, in.cmd.Process.Pid) - rss0
	run.heap = scrapeHeap(b, httpAddr) - heap0
	run.stack = scrapeGauge(b, httpAddr, "go_memstats_stack_inuse_bytes") - stack0
	run.loadgenHeap = selfHeap() - lg0
	run.liveHeap = liveHeap(b, pprofAddr, httpAddr) - live0
	b.Logf("after a collection: stacks %d B/terminal, heap objects %d B/terminal (in use %d, the rest free slots in spans in use), goroutines %d",
		(scrapeGauge(b, httpAddr, "go_memstats_stack_inuse_bytes")-stack0)/int64(n),
		(scrapeGauge(b, httpAddr, "go_memstats_heap_alloc_bytes")-alloc0)/int64(n), run.liveHeap/int64(n), scrapeGauge(b, httpAddr, "go_goroutines"))
	if mosquitto {
		run.brokerRSS = processRSS(b, brokerPid) - brokerRSS0
		run.brokerHWM = processStatus(b, brokerPid, "VmHWM:") - brokerRSS0
	}
	saveProfile(b, pprofAddr, "heap?gc=1", fmt.Sprintf("cloud-heap-%d.pb.gz", n))
	saveProfile(b, pprofAddr, "goroutine?debug=1", fmt.Sprintf("cloud-goroutine-%d.txt", n))
	t0 = time.Now()
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
	if mosquitto {
		// The terminals' connections are Mosquitto's: none drops.
		t1 := time.Now()
		in = startInstanceAt(b, httpAddr, args...)
		run.restartSecs = time.Since(t1).Seconds()
		settle()
		if st := f.Stats(); st.Connects != before.Connects || st.Connected != int64(n) {
			b.Fatalf("terminals reconnected across the cloud's restart on Mosquitto: %+v, before %+v", st, before)
		}
		b.Logf("terminals=%d mosquitto run=%+v stats=%+v", n, run, before)
		in.kill()
		return run
	}
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
	run.rememberedLive = liveHeap(b, pprofAddr, httpAddr) - live0
	saveProfile(b, pprofAddr, "heap?gc=1", fmt.Sprintf("cloud-heap-%d-gone.pb.gz", n))
	b.Logf("terminals=%d run=%+v stats=%+v", n, run, after)
	in.kill()
	return run
}

// dynsecAccounts adds to the dynamic security plugin's file at path (with
// Mosquitto stopped) each terminal's client and role, as
// ingest.RegisterTerminal creates them: password hashed as the plugin
// does (PBKDF2-SHA512, 101 iterations, a salt of 12 bytes).
func dynsecAccounts(b *testing.B, path string, accounts []loadgen.Account) {
	data, err := os.ReadFile(path)
	if err != nil {
		b.Fatal(err)
	}
	var d map[string]any
	if err := json.Unmarshal(data, &d); err != nil {
		b.Fatal(err)
	}
	clients, _ := d["clients"].([]any)
	roles, _ := d["roles"].([]any)
	for _, a := range accounts {
		salt := make([]byte, 12)
		rand.Read(salt)
		hash, err := pbkdf2.Key(sha512.New, a.Password, salt, 101, 64)
		if err != nil {
			b.Fatal(err)
		}
		role := ingest.TerminalRole(a.ClientID)
		clients = append(clients, map[string]any{"username": a.Username, "clientid": a.ClientID,
			"password": base64.StdEncoding.EncodeToString(hash), "salt": base64.StdEncoding.EncodeToString(salt),
			"iterations": 101, "roles": []any{map[string]any{"rolename": role}}})
		roles = append(roles, map[string]any{"rolename": role, "acls": ingest.TerminalACLs(a.ClientID)})
	}
	d["clients"], d["roles"] = clients, roles
	if data, err = json.Marshal(d); err != nil {
		b.Fatal(err)
	}
	if err := os.WriteFile(path, data, 0o600); err != nil {
		b.Fatal(err)
	}
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

// saveProfile keeps one of the cloud's profiles (the heap after a
// collection, for go tool pprof -inuse_space; its goroutines by stack) in
// BENCH_FLEET_PROFILE, when set.
func saveProfile(b *testing.B, pprofAddr, profile, name string) {
	dir := os.Getenv("BENCH_FLEET_PROFILE")
	if dir == "" {
		return
	}
	resp, err := http.Get("http://" + pprofAddr + "/debug/pprof/" + profile)
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
func processRSS(b *testing.B, pid int) int64 { return processStatus(b, pid, "VmRSS:") }

// processStatus returns a size of /proc/PID/status (VmRSS:, VmHWM:) in
// bytes.
func processStatus(b *testing.B, pid int, field string) int64 {
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		b.Fatal(err)
	}
	for line := range strings.Lines(string(data)) {
		if v, ok := strings.CutPrefix(line, field); ok {
			kb, _ := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 10, 64)
			return kb << 10
		}
	}
	b.Fatalf("no %s in /proc/%d/status", field, pid)
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
	return scrapeGauge(b, addr, "go_memstats_heap_inuse_bytes")
}

// scrapeGauge returns the value of an unlabelled series of the cloud at
// addr.
func scrapeGauge(b *testing.B, addr, name string) int64 {
	sc := bufio.NewScanner(bytes.NewReader(scrape(b, addr)))
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), name+" "); ok {
			f, _ := strconv.ParseFloat(v, 64)
			return int64(f)
		}
	}
	b.Fatalf("no %s in /metrics", name)
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
