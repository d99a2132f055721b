// Package kiosk holds the kiosk launcher, comptoir-kiosk: Chromium in
// kiosk mode on the terminal's local UI, started once the agent is ready.
// Its test runs the script with a real (headless) Chromium.
package kiosk

import (
	"context"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/comptoir/comptoir/build/testenv"
)

// noCallHome are the flags that keep Chromium from reaching the internet.
var noCallHome = []string{
	"--disable-background-networking", "--disable-component-update",
	"--disable-sync", "--no-first-run", "--disable-features=",
	"--disable-domain-reliability", "--disable-client-side-phishing-detection",
	"--safebrowsing-disable-auto-update", "--host-resolver-rules=", "--kiosk",
	"--lang=", "--accept-lang=",
}

func TestFlags(t *testing.T) {
	b, err := os.ReadFile("comptoir-kiosk")
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range noCallHome {
		if !strings.Contains(string(b), "\t"+f) {
			t.Errorf("comptoir-kiosk does not pass %s", f)
		}
	}
}

// TestWaitsForReady: the launcher polls /readyz until the agent is ready,
// and only then opens the page in Chromium (headless here, with all the
// kiosk flags), which shows it in the terminal's language: French by
// default, English when COMPTOIR_KIOSK_LANG says so (Accept-Language and
// navigator.language both).
func TestWaitsForReady(t *testing.T) {
	chromium := testenv.Chromium(t)
	testenv.Command(t, "curl", "curl")
	for _, tt := range []struct{ lang, wantAccept, wantJS string }{
		{"", "fr-FR,fr", "fr-FR"},
		{"en", "en-GB,en", "en-GB"},
	} {
		t.Run("lang="+tt.lang, func(t *testing.T) {
			var (
				mu               sync.Mutex
				readyzHits       int
				ready, pageEarly bool
				pageServed       bool
				accept           string
			)
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				mu.Lock()
				defer mu.Unlock()
				switch r.URL.Path {
				case "/readyz":
					readyzHits++
					if readyzHits < 3 {
						http.Error(w, `{"error":{"code":"UNAVAILABLE"}}`, http.StatusServiceUnavailable)
						return
					}
					ready = true
					w.Write([]byte(`{"ready":true}`))
				case "/":
					pageServed = true
					pageEarly = pageEarly || !ready
					accept = r.Header.Get("Accept-Language")
					w.Header().Set("Content-Type", "text/html")
					w.Write([]byte(`<!doctype html><title>kiosk</title><p id="m">comptoir-kiosk-ready</p>` +
						`<p id="l"></p><script>document.getElementById("l").textContent = "lang=" + navigator.language;</script>`))
				default:
					http.NotFound(w, r)
				}
			}))
			defer srv.Close()

			extra := "--headless=new --dump-dom --disable-gpu"
			if os.Geteuid() == 0 {
				extra += " --no-sandbox"
			}
			ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
			defer cancel()
			cmd := exec.CommandContext(ctx, "./comptoir-kiosk")
			cmd.Env = append(os.Environ(),
				"COMPTOIR_KIOSK_URL="+srv.URL+"/",
				"COMPTOIR_CHROMIUM="+chromium,
				"COMPTOIR_KIOSK_PROFILE="+t.TempDir(),
				"COMPTOIR_KIOSK_EXTRA="+extra,
				"COMPTOIR_KIOSK_LANG="+tt.lang,
				"LANG=C.UTF-8",
				"DISPLAY=:test", // no cage: Chromium runs headless
			)
			var stderr strings.Builder
			cmd.Stderr = &stderr
			out, err := cmd.Output()
			if err != nil {
				t.Fatalf("comptoir-kiosk: %v\n%s", err, stderr.String())
			}
			mu.Lock()
			defer mu.Unlock()
			if readyzHits < 3 || !pageServed || pageEarly {
				t.Fatalf("readyz polled %d times, page served %v, before ready %v; want 3+, true, false\n%s",
					readyzHits, pageServed, pageEarly, stderr.String())
			}
			if !strings.Contains(string(out), "comptoir-kiosk-ready") {
				t.Fatalf("Chromium did not show the page: %q\n%s", out, stderr.String())
			}
			if !strings.Contains(stderr.String(), "agent ready after") {
				t.Errorf("launcher did not log readiness: %s", stderr.String())
			}
			if !strings.HasPrefix(accept, tt.wantAccept) || !strings.Contains(string(out), "lang="+tt.wantJS) {
				t.Errorf("Chromium sent Accept-Language %q and shows %q; want %s and lang=%s", accept, out, tt.wantAccept, tt.wantJS)
			}
		})
	}
}
