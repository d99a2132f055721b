package main

import (
	"context"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/comptoir/comptoir/build/testenv"
	"github.com/comptoir/comptoir/cloud/server"
	"github.com/comptoir/comptoir/edge"
)

// BenchmarkFootprint measures DESIGN.md's footprint targets on the static
// binaries of `make cross`: binary sizes (MB), the agent's time from start
// to a 200 from /readyz (ms) and its resident memory after 3 s idle (VmRSS,
// MB), connected to an in-process cloud. linux/amd64 runs natively;
// linux/arm64 runs under qemu-aarch64-static, as an indication only (its
// RSS includes the emulator's). On amd64, the peak RSS (VmHWM) under work
// too, each scenario in an agent of its own: "day_peak_rss_MB" for a
// connected counter's day (1,500 deposits printed, a handover every 100,
// all synced: footDay), "backlog100k_peak_rss_MB" for 100,000 operations
// appended while offline then drained to the cloud (fillBacklog). Target:
// under 80 MB in every scenario.
//
//	go test -run '^$' -bench BenchmarkFootprint -benchtime 1x ./edge/cmd/comptoir-edge/
func BenchmarkFootprint(b *testing.B) {
	cloud := server.NewMain()
	cloud.Logger = slog.New(slog.DiscardHandler)
	if err := cloud.ParseFlags([]string{"--data", b.TempDir(), "--http", "127.0.0.1:0", "--mqtt-listen", "127.0.0.1:0", "--demo"}); err != nil {
		b.Fatal(err)
	}
	if err := cloud.Run(context.Background()); err != nil {
		b.Fatal(err)
	}
	defer cloud.Close()
	_, operatorKey, _ := cloud.Demo()

	for _, arch := range []string{"amd64", "arm64"} {
		b.Run(arch, func(b *testing.B) {
			// argv is the agent's command line: its binary, behind qemu for arm64.
			var argv []string
			bindir := b.TempDir()
			crossBuild(b, arch, bindir, "./edge/cmd/comptoir-edge", "./cloud/cmd/comptoir-cloud")
			if arch == "arm64" {
				argv = []string{testenv.Command(b, "qemu-aarch64-static", "qemu-user-static")}
			}
			argv = append(argv, filepath.Join(bindir, "comptoir-edge"))
			var ready, rss []float64
			for i := 0; b.Loop(); i++ {
				dir := b.TempDir()
				if _, err := Enroll(context.Background(), cloud.HTTPURL(), operatorKey, "fp-"+arch+"-"+edge.NewID()[28:], "Footprint", dir); err != nil {
					b.Fatal(err)
				}
				a := startAgent(b, argv, dir)
				time.Sleep(3 * time.Second) // idle: uplink connected, nothing to send
				ready = append(ready, float64(a.ready.Microseconds())/1000)
				rss = append(rss, float64(a.rssBytes(b))/(1<<20))
				a.stop()
			}
			b.ReportMetric(median(ready), "ready_ms")
			b.ReportMetric(median(rss), "idle_rss_MB")
			if arch == "amd64" {
				enroll := func(name string) string {
					dir := b.TempDir()
					if _, err := Enroll(context.Background(), cloud.HTTPURL(), operatorKey, name, "Footprint", dir); err != nil {
						b.Fatal(err)
					}
					return dir
				}
				dir := enroll("fp-day-" + edge.NewID()[28:])
				a := startAgent(b, argv, dir)
				footDay(b, a, 1500)
				b.ReportMetric(float64(a.statusKB(b, "VmHWM:"))/1024, "day_peak_rss_MB")
				// What the RSS is made of at the end: the Go heap and
				// Badger's arenas (anonymous) or mapped files.
				b.ReportMetric(float64(a.statusKB(b, "RssAnon:"))/1024, "day_end_anon_MB")
				b.ReportMetric(float64(a.statusKB(b, "RssFile:"))/1024, "day_end_file_MB")
				a.stop()

				tid := "fp-bk-" + edge.NewID()[28:]
				dir = enroll(tid)
				startAgent(b, argv, dir).stop() // makes its key and demo staff
				fillBacklog(b, dir, tid, 100_000)
				a = startAgent(b, argv, dir)
				c := newClient(b, a.url)
				if code := c.do("POST", "/api/session", map[string]string{"pin": "1234"}, nil); code != http.StatusCreated {
					b.Fatalf("sign in: %d", code)
				}
				waitDrained(b, c)
				b.ReportMetric(float64(a.statusKB(b, "VmHWM:"))/1024, "backlog100k_peak_rss_MB")
				a.stop()
			}
			for _, bin := range []string{"comptoir-edge", "comptoir-cloud"} {
				st, err := os.Stat(filepath.Join(bindir, bin))
				if err != nil {
					b.Fatal(err)
				}
				b.ReportMetric(float64(st.Size())/(1<<20), bin[len("comptoir-"):]+"_MB")
			}
		})
	}
}

func median(xs []float64) float64 {
	if len(xs) == 0 {
		return 0
	}
	return slices.Sorted(slices.Values(xs))[len(xs)/2]
}
