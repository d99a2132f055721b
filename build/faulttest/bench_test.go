package faulttest

import (
	"bufio"
	"fmt"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"
)

// BenchmarkDrain100k measures DESIGN.md's sync target: a backlog of
// 100,000 operations (50,000 deposits and their handovers) in a real
// journal on disk, drained by a real terminal process to a real cloud
// process and acked, over loopback. The terminal starts behind a stalled
// proxy (its broker connection held open, nothing passing), so that neither
// the process start nor the opening of its journal is timed; the clock runs
// from the proxy letting its MQTT CONNECT through to its outbox being empty
// (every ack applied). It reports the
// seconds, events per second, and the terminal's peak RSS (VmHWM) while
// draining, with the peak of its anonymous part sampled as it drains (the
// rest is file pages of Badger's memory-mapped tables and value log, which
// the kernel can drop). Targets: under 10 s, under 80 MB.
func BenchmarkDrain100k(b *testing.B) {
	for _, kind := range []brokerKind{embedded, mosquitto} {
		b.Run(string(kind), func(b *testing.B) {
			const deposits = 50_000
			var secs, hwm, anon float64
			for range b.N {
				b.StopTimer()
				r := newRig(b, kind)
				r.seed(deposits)
				r.proxy.setState(proxyStalled)
				r.startTerminal()
				pid := r.term.cmd.Process.Pid
				b.StartTimer()
				start := time.Now()
				r.proxy.setState(proxyOpen)
				eventually(b, "outbox drained", func() bool {
					anon = max(anon, procStatus(b, pid, "RssAnon:"))
					var st struct {
						Pending int `json:"outbox_pending"`
					}
					return r.kiosk.do("GET", "/api/status", nil, &st) == 200 && st.Pending == 0
				})
				secs += time.Since(start).Seconds()
				b.StopTimer()
				if got := r.ackedSeq(); got != 2*deposits {
					b.Fatalf("cloud's acked_seq %d, want %d", got, 2*deposits)
				}
				hwm = max(hwm, procStatus(b, pid, "VmHWM:"))
				r.term.stop()
			}
			b.ReportMetric(secs/float64(b.N), "s/drain")
			b.ReportMetric(2*deposits*float64(b.N)/secs, "events/s")
			b.ReportMetric(hwm/(1<<20), "peak-RSS-MB")
			b.ReportMetric(anon/(1<<20), "peak-anon-MB")
		})
	}
}

// procStatus returns a size field of /proc/pid/status (VmHWM: the peak
// resident set; RssAnon: resident memory that is not file pages, such as
// Badger's memory-mapped tables), in bytes.
func procStatus(tb testing.TB, pid int, field string) float64 {
	f, err := os.Open(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		tb.Fatal(err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), field); ok {
			kb, err := strconv.ParseFloat(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 64)
			if err != nil {
				tb.Fatal(err)
			}
			return kb * 1024
		}
	}
	tb.Fatalf("no %s in /proc/%d/status", field, pid)
	return 0
}
