package main

import (
	"bytes"
	"fmt"
	"image"
	"image/color"
	"image/png"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/comptoir/comptoir/scanner/token"
)

// BenchmarkScanImageMemory measures the agent's peak resident memory
// (VmHWM) when a clerk's session posts four colour PNGs at once to
// /api/scan/image: 12 MP frames (4000x3000, the default limit), and 40 MP
// ones (6300x6300) with the agent configured to take them
// (max_image_pixels 40000000; the default refuses them from their header).
// The agent is the static binary of `make cross`, or the one in
// $COMPTOIR_BENCH_EDGE_BIN (to measure another build).
//
//	go test -run '^$' -bench BenchmarkScanImageMemory -benchtime 1x ./edge/cmd/comptoir-edge/
func BenchmarkScanImageMemory(b *testing.B) {
	bin := os.Getenv("COMPTOIR_BENCH_EDGE_BIN")
	if bin == "" {
		dir := b.TempDir()
		crossBuild(b, "amd64", dir, "./edge/cmd/comptoir-edge")
		bin = filepath.Join(dir, "comptoir-edge")
	}
	for _, size := range []struct {
		name   string
		w, h   int
		config string
	}{
		{"12MP", 4000, 3000, `{}`},
		{"40MP", 6300, 6300, `{"max_image_pixels": 40000000}`},
	} {
		b.Run(size.name, func(b *testing.B) {
			frame := colourFrame(b, size.w, size.h)
			b.ReportMetric(median(scanFramesPeak(b, bin, frame, size.config)), "peak_rss_MB")
		})
	}
}

// scanFramesPeak runs the agent bin with config, posts four copies of frame
// at once, and returns the agent's peak RSS in MB, once per b.Loop.
func scanFramesPeak(b *testing.B, bin string, frame []byte, config string) []float64 {
	var peak []float64
	for b.Loop() {
		dir := b.TempDir()
		offlineTerminal(b, dir, "term-scanmem", token.NewTrustList())
		cfg := filepath.Join(dir, "edge.json")
		if err := os.WriteFile(cfg, []byte(config), 0o600); err != nil {
			b.Fatal(err)
		}
		a := startAgentConfig(b, bin, dir, cfg)
		c := newClient(b, a.url)
		if code := c.do("POST", "/api/session", map[string]string{"pin": "1234"}, nil); code != http.StatusCreated {
			b.Fatalf("sign in: %d", code)
		}
		var wg sync.WaitGroup
		codes := make([]int, 4)
		for i := range codes {
			wg.Add(1)
			go func() { defer wg.Done(); codes[i] = c.do("POST", "/api/scan/image", frame, nil) }()
		}
		wg.Wait()
		b.Logf("%d-byte frames answered %v", len(frame), codes)
		peak = append(peak, float64(a.statusKB(b, "VmHWM:"))/1024)
		a.stop()
	}
	return peak
}

// colourFrame is a PNG of an RGB image (image/png decodes it to RGBA):
// mostly white, with a band of gradients, so that it stays small.
func colourFrame(tb testing.TB, w, h int) []byte {
	img := image.NewRGBA(image.Rect(0, 0, w, h))
	for i := range img.Pix {
		img.Pix[i] = 0xff
	}
	for y := h / 3; y < h/2; y++ {
		for x := range w {
			img.SetRGBA(x, y, color.RGBA{uint8(x), uint8(y), uint8(x ^ y), 0xff})
		}
	}
	var buf bytes.Buffer
	if err := (&png.Encoder{CompressionLevel: png.BestSpeed}).Encode(&buf, img); err != nil {
		tb.Fatal(err)
	}
	return buf.Bytes()
}

// startAgentConfig runs bin with a config file, as startAgent runs argv.
func startAgentConfig(tb testing.TB, bin, dir, cfg string) *agent {
	tb.Helper()
	wrapper := filepath.Join(tb.TempDir(), "agent.sh")
	script := fmt.Sprintf("#!/bin/sh\nexec %q \"$@\" --config %q\n", bin, cfg)
	if err := os.WriteFile(wrapper, []byte(script), 0o700); err != nil {
		tb.Fatal(err)
	}
	if _, err := exec.LookPath("sh"); err != nil {
		tb.Skip("no sh")
	}
	return startAgent(tb, []string{wrapper}, dir)
}

// statusKB reads a field of the process's /proc status, in kB.
func (a *agent) statusKB(tb testing.TB, field string) int64 {
	tb.Helper()
	raw, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", a.cmd.Process.Pid))
	if err != nil {
		tb.Fatal(err)
	}
	for _, l := range strings.Split(string(raw), "\n") {
		if v, ok := strings.CutPrefix(l, field); ok {
			var kb int64
			fmt.Sscanf(strings.TrimSpace(v), "%d kB", &kb)
			return kb
		}
	}
	tb.Fatalf("no %s in /proc status", field)
	return 0
}
