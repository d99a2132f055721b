package main

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/cookiejar"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/comptoir/comptoir/edge"
	"github.com/comptoir/comptoir/scanner/token"
)

// client is an HTTP client with a cookie jar, for the kiosk API.
type client struct {
	tb   testing.TB
	base string
	http *http.Client
	// key, when set, is sent as a Bearer API key (for the cloud).
	key string
}

func newClient(tb testing.TB, base string) *client {
	jar, _ := cookiejar.New(nil)
	return &client{tb: tb, base: base, http: &http.Client{Jar: jar, Timeout: 30 * time.Second}}
}

// do sends body (JSON-encoded unless it is []byte) and decodes the answer
// into out when out is not nil. It returns the status code.
func (c *client) do(method, path string, body, out any) int {
	c.tb.Helper()
	var r io.Reader
	ctype := "application/json"
	switch b := body.(type) {
	case nil:
	case []byte:
		r, ctype = bytes.NewReader(b), "application/octet-stream"
	default:
		raw, err := json.Marshal(b)
		if err != nil {
			c.tb.Fatal(err)
		}
		r = bytes.NewReader(raw)
	}
	target := path
	if !strings.HasPrefix(path, "http://") && !strings.HasPrefix(path, "https://") {
		target = c.base + path
	}
	req, err := http.NewRequest(method, target, r)
	if err != nil {
		c.tb.Fatal(err)
	}
	if body != nil {
		req.Header.Set("Content-Type", ctype)
	}
	if c.key != "" {
		req.Header.Set("Authorization", "Bearer "+c.key)
	}
	resp, err := c.http.Do(req)
	if err != nil {
		c.tb.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	if out != nil {
		if p, ok := out.(*[]byte); ok {
			*p = raw
		} else if err := json.Unmarshal(raw, out); err != nil {
			c.tb.Fatalf("%s %s: %d %q: %v", method, path, resp.StatusCode, raw, err)
		}
	}
	return resp.StatusCode
}

// apiError is the error body of both HTTP APIs.
type apiError struct {
	Error struct {
		Code     string   `json:"code"`
		Message  string   `json:"message"`
		Refusals []string `json:"refusals"`
	} `json:"error"`
}

type scanResult struct {
	Kind     string   `json:"kind"`
	Eligible bool     `json:"eligible"`
	Refusals []string `json:"refusals"`
	Text     string   `json:"text"`
	Code     struct {
		Tracking string `json:"tracking"`
		Verified bool   `json:"verified"`
	} `json:"code"`
	Symbols []edge.Symbol `json:"symbols"`
}

type depositResult struct {
	Deposit struct {
		ID        string `json:"id"`
		Seq       uint64 `json:"seq"`
		Tracking  string `json:"tracking"`
		ShelfSlot string `json:"shelf_slot"`
	} `json:"deposit"`
	Receipt struct {
		ID        string `json:"id"`
		Token     string `json:"token"`
		PNGURL    string `json:"png_url"`
		ESCPOSURL string `json:"escpos_url"`
	} `json:"receipt"`
	Label *struct {
		JobID  string `json:"job_id"`
		ZPLURL string `json:"zpl_url"`
	} `json:"label"`
}

// offlineTerminal prepares dir as an enrolled terminal whose broker is
// unreachable and whose trust list holds issuer, as if enrolment had
// happened: the counter must work with no network at all.
func offlineTerminal(tb testing.TB, dir, tid string, trust *token.TrustList) {
	tb.Helper()
	var e Enrollment
	e.Terminal, e.Name, e.Cloud = tid, "Relais Test", "http://127.0.0.1:1"
	e.MQTT.URL, e.MQTT.Username, e.MQTT.Password = "tcp://127.0.0.1:1", tid, "secret"
	b, _ := json.Marshal(e)
	if err := writePrivate(filepath.Join(dir, enrollmentFile), b); err != nil {
		tb.Fatal(err)
	}
	if err := writePrivate(filepath.Join(dir, trustFile), trust.MarshalJWKS()); err != nil {
		tb.Fatal(err)
	}
}

// issuerTerminal makes an issuer of return authorisations and the data
// directory of an offline terminal tid that trusts it.
func issuerTerminal(tb testing.TB, tid string) (token.Key, string) {
	tb.Helper()
	issuer, _ := token.GenerateKey("issuer-" + tid)
	trust := token.NewTrustList()
	trust.AddKey(issuer.ID, issuer.Public())
	dir := tb.TempDir()
	offlineTerminal(tb, dir, tid, trust)
	return issuer, dir
}

// startTerminal runs a Main on a free port in dir and signs in as the demo
// clerk.
func startTerminal(tb testing.TB, dir string, opts ...func(*Config)) (*Main, *client) {
	tb.Helper()
	return startTerminalAt(tb, dir, nil, opts...)
}

// startTerminalAt is startTerminal with the counter's clock now (time.Now
// when nil).
func startTerminalAt(tb testing.TB, dir string, now func() time.Time, opts ...func(*Config)) (*Main, *client) {
	tb.Helper()
	m := NewMain()
	m.Now = now
	m.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	if testing.Verbose() {
		m.Logger = slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	}
	m.Config.DataDir, m.Config.HTTPAddr, m.Config.Demo = dir, "127.0.0.1:0", true
	for _, o := range opts {
		o(&m.Config)
	}
	if err := m.Run(context.Background()); err != nil {
		tb.Fatalf("terminal run: %v", err)
	}
	tb.Cleanup(func() { m.Close() })
	c := newClient(tb, m.URL())
	if code := c.do("POST", "/api/session", map[string]string{"pin": "1234"}, nil); code != http.StatusCreated {
		tb.Fatalf("sign in: status %d", code)
	}
	return m, c
}

// signRA signs a typical return authorisation valid for a week.
func signRA(tb testing.TB, k token.Key, tracking string, mod func(*edge.ReturnAuthorisation)) string {
	tb.Helper()
	now := time.Now()
	ra := edge.ReturnAuthorisation{
		Issuer: "shop-demo", ID: edge.NewID(), IssuedAt: now, ExpiresAt: now.Add(7 * 24 * time.Hour),
		Tracking: tracking, Carrier: "DEMO",
		Dest:  edge.Address{Name: "Entrepôt Retours", Street: "1 rue du Port", Postcode: "69007", City: "Lyon", Country: "FR"},
		Items: []edge.Item{{SKU: "SKU-1", Name: "Pull", Qty: 1, Reason: edge.ReasonWrongSize}},
		MaxG:  5000, Mode: edge.ModeLabelAtCounter,
	}
	if mod != nil {
		mod(&ra)
	}
	tok, err := token.SignRA(k, ra)
	if err != nil {
		tb.Fatal(err)
	}
	return tok
}

// s10 returns a UPU S10 number with a correct check digit for serial n.
func s10(n int) string {
	w := []int{8, 6, 4, 2, 3, 5, 9, 7}
	d := []byte{}
	for i, x := 0, n; i < 8; i++ {
		d = append([]byte{byte('0' + x%10)}, d...)
		x /= 10
	}
	sum := 0
	for i, c := range d {
		sum += int(c-'0') * w[i]
	}
	check := 11 - sum%11
	switch check {
	case 10:
		check = 0
	case 11:
		check = 5
	}
	return "RR" + string(d) + string(rune('0'+check)) + "FR"
}
