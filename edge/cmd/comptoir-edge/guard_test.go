package main

import (
	"bytes"
	"encoding/json"
	"image"
	"image/png"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"runtime/debug"
	"strings"
	"sync"
	"testing"

	"github.com/comptoir/comptoir/edge"
	"github.com/comptoir/comptoir/scanner/token"
)

// The kiosk's guards against requests it must not serve, through the real
// HTTP stack: other Host names (DNS rebinding), bodies too large or of the
// wrong type.

// rawPost sends body to path with the given headers, on a plain client
// without cookies, and returns the response with its body read.
func rawPost(t *testing.T, base, path, host string, hdr map[string]string, body io.Reader) (*http.Response, apiError) {
	t.Helper()
	req, err := http.NewRequest("POST", base+path, body)
	if err != nil {
		t.Fatal(err)
	}
	if host != "" {
		req.Host = host
	}
	for k, v := range hdr {
		req.Header.Set(k, v)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("POST %s: %v", path, err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	var e apiError
	json.Unmarshal(raw, &e)
	return resp, e
}

func TestKioskRefusesOtherHosts(t *testing.T) {
	dir := t.TempDir()
	offlineTerminal(t, dir, "term-hosts", token.NewTrustList())
	m, _ := startTerminal(t, dir, func(c *Config) { c.HTTPAllowedHosts = []string{"Comptoir.Local"} })
	u, _ := url.Parse(m.URL())
	port := u.Port()
	pin := func() io.Reader { return strings.NewReader(`{"pin":"1234"}`) }
	tests := []struct {
		host string
		want int
	}{
		{"rebind.attacker.example:" + port, http.StatusMisdirectedRequest},
		{"127.0.0.2:" + port, http.StatusMisdirectedRequest},
		{"localhost.attacker.example:" + port, http.StatusMisdirectedRequest},
		{"localhost:" + port, http.StatusCreated},
		{"127.0.0.1:" + port, http.StatusCreated},
		{"[::1]:" + port, http.StatusCreated},
		{"comptoir.local:" + port, http.StatusCreated},
	}
	for _, tt := range tests {
		t.Run(tt.host, func(t *testing.T) {
			origin := "http://" + tt.host
			resp, e := rawPost(t, m.URL(), "/api/session", tt.host,
				map[string]string{"Origin": origin, "Content-Type": "application/json"}, pin())
			if resp.StatusCode != tt.want {
				t.Fatalf("status %d %+v, want %d", resp.StatusCode, e.Error, tt.want)
			}
			if tt.want != http.StatusMisdirectedRequest {
				return
			}
			if e.Error.Code != edge.EMISDIRECTED {
				t.Errorf("error code %q, want %s", e.Error.Code, edge.EMISDIRECTED)
			}
			if c := resp.Header.Values("Set-Cookie"); len(c) > 0 {
				t.Errorf("a rebound request got a cookie: %q", c)
			}
		})
	}
}

func TestKioskJSONBodies(t *testing.T) {
	dir := t.TempDir()
	offlineTerminal(t, dir, "term-json", token.NewTrustList())
	m, clerk := startTerminal(t, dir)
	var cookie string
	for _, ck := range clerk.http.Jar.Cookies(mustURL(t, m.URL())) {
		cookie = ck.Name + "=" + ck.Value
	}
	tests := []struct {
		name, path, ctype, body string
		status                  int
		code                    string
	}{
		{"JSON", "/api/scan", "application/json; charset=utf-8", `{"code":"RR123456785FR"}`, http.StatusOK, ""},
		{"text/plain", "/api/scan", "text/plain", `{"code":"RR123456785FR"}`, http.StatusUnsupportedMediaType, edge.EMEDIATYPE},
		{"form", "/api/session", "application/x-www-form-urlencoded", `pin=1234`, http.StatusUnsupportedMediaType, edge.EMEDIATYPE},
		{"no type", "/api/scan", "", `{"code":"x"}`, http.StatusUnsupportedMediaType, edge.EMEDIATYPE},
		{"trailing data", "/api/scan", "application/json", `{"code":"x"} {"code":"y"}`, http.StatusBadRequest, edge.EINVALID},
		{"trailing garbage", "/api/session", "application/json", `{"pin":"1234"}x`, http.StatusBadRequest, edge.EINVALID},
		{"over 64 KiB", "/api/scan", "application/json", `{"code":"` + strings.Repeat("a", 70<<10) + `"}`, http.StatusRequestEntityTooLarge, edge.ETOOLARGE},
		{"NUL in a reason", "/api/deposits/x/cancel", "application/json", `{"reason":"a\u0000b"}`, http.StatusBadRequest, edge.EBADTEXT},
		{"ANSI escape in a driver ref", "/api/handovers", "application/json", `{"all":true,"driver_ref":"\u001b[2J"}`, http.StatusBadRequest, edge.EBADTEXT},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			hdr := map[string]string{"Cookie": cookie}
			if tt.ctype != "" {
				hdr["Content-Type"] = tt.ctype
			}
			resp, e := rawPost(t, m.URL(), tt.path, "", hdr, strings.NewReader(tt.body))
			if resp.StatusCode != tt.status || e.Error.Code != tt.code {
				t.Errorf("%d %+v, want %d %s", resp.StatusCode, e.Error, tt.status, tt.code)
			}
		})
	}
}

func mustURL(t *testing.T, s string) *url.URL {
	t.Helper()
	u, err := url.Parse(s)
	if err != nil {
		t.Fatal(err)
	}
	return u
}

// TestScanImageRefusesHugeFrames posts four 40 MP PNGs (the attack:
// a small file of 6325x6325 pixels) at once: each is refused from its
// header, before its pixels are decoded, by the default pixel limit of
// 12 MP. Frames within the limit are decoded inside the decoder's slots
// (scanner.TestDecodeSlotCoversImageDecode), so their memory is bounded too.
func TestScanImageRefusesHugeFrames(t *testing.T) {
	dir := t.TempDir()
	offlineTerminal(t, dir, "term-bigpng", token.NewTrustList())
	m, clerk := startTerminal(t, dir)
	var buf bytes.Buffer
	enc := png.Encoder{CompressionLevel: png.BestSpeed}
	if err := enc.Encode(&buf, image.NewGray(image.Rect(0, 0, 6325, 6325))); err != nil {
		t.Fatal(err)
	}
	big := buf.Bytes()
	t.Logf("40 MP PNG: %d bytes", len(big))
	var wg sync.WaitGroup
	results := make([]apiError, 4)
	codes := make([]int, 4)
	for i := range results {
		wg.Add(1)
		go func() {
			defer wg.Done()
			codes[i] = clerk.do("POST", "/api/scan/image", big, &results[i])
		}()
	}
	wg.Wait()
	for i := range results {
		if codes[i] != http.StatusRequestEntityTooLarge || results[i].Error.Code != edge.ETOOLARGE {
			t.Errorf("frame %d: %d %+v, want 413 TOO_LARGE", i, codes[i], results[i].Error)
		}
	}
	if got := metricValue(t, m.URL(), `comptoir_edge_scan_refusals_total{reason="TOO_LARGE"}`); got != 4 {
		t.Errorf("scan refusals TOO_LARGE %v, want 4", got)
	}
}

func TestMemoryLimitFromConfig(t *testing.T) {
	t.Setenv("GOMEMLIMIT", "")
	before := debug.SetMemoryLimit(-1)
	t.Cleanup(func() { debug.SetMemoryLimit(before) })
	quiet := slog.New(slog.NewTextHandler(io.Discard, nil))

	c := DefaultConfig()
	c.applyMemoryLimit(quiet)
	if got := debug.SetMemoryLimit(-1); got != 48<<20 {
		t.Errorf("memory limit %d, want the default 48 MiB", got)
	}
	// The environment wins over the config.
	t.Setenv("GOMEMLIMIT", "1GiB")
	c.MemoryLimitBytes = 100 << 20
	c.applyMemoryLimit(quiet)
	if got := debug.SetMemoryLimit(-1); got != 48<<20 {
		t.Errorf("memory limit %d with GOMEMLIMIT set, want it left alone", got)
	}
}
