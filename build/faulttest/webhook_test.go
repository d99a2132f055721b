package faulttest

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"sync"
	"testing"

	standardwebhooks "github.com/standard-webhooks/standard-webhooks/libraries/go"

	"github.com/comptoir/comptoir/build/testenv"
	"github.com/comptoir/comptoir/cloud/pgstore"
)

// hookReceiver verifies deliveries with the standard-webhooks library and
// counts them by webhook-id; the delivery numbered hold (from 1) is held
// unanswered until released, so that a delivery is in flight.
type hookReceiver struct {
	mu       sync.Mutex
	wh       *standardwebhooks.Webhook
	attempts map[string]int
	ok       map[string]bool
	bad      int
	n        int
	hold     int
	heldID   string
	inFlight chan struct{}
	release  chan struct{}
}

func (h *hookReceiver) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	h.mu.Lock()
	if h.wh == nil || h.wh.Verify(body, r.Header) != nil {
		h.bad++
		h.mu.Unlock()
		w.WriteHeader(http.StatusUnauthorized)
		return
	}
	id := r.Header.Get("webhook-id")
	h.attempts[id]++
	h.n++
	held := h.n == h.hold
	if held {
		h.heldID = id
	}
	h.mu.Unlock()
	if held {
		close(h.inFlight)
		select {
		case <-h.release:
		case <-r.Context().Done():
		}
		return // the instance that sent it is dead: not an answer it saw
	}
	h.mu.Lock()
	h.ok[id] = true
	h.mu.Unlock()
	w.WriteHeader(http.StatusNoContent)
}

// TestWebhookInstanceKilled: two comptoir-cloud processes on one
// PostgreSQL database deliver a merchant's webhooks; the one holding the
// subscription's lease is SIGKILLed with a delivery in flight, and the
// other takes over when the lease runs out: every event of the feed is
// delivered (the one in flight again, with the same webhook-id), verified
// by the standard-webhooks library, and nothing else.
func TestWebhookInstanceKilled(t *testing.T) {
	dsn, drop, err := pgstore.NewSchema(context.Background(), testenv.Postgres(t))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { drop() })
	dir := filepath.Join(t.TempDir(), "cloud")
	serve := func(name string) (*proc, *client) {
		addr := freeAddr(t)
		p := start(t, name, bins.cloud, "serve", "--data", dir, "--http", addr, "--mqtt-listen", freeAddr(t),
			"--store", "postgres", "--pg", dsn, "--demo", "--webhook-allow-private", "--webhook-poll", "20ms")
		hc := newClient(t, "http://"+addr, "")
		eventually(t, name+" healthy", func() bool { return hc.do("GET", "/healthz", nil, nil) == 200 })
		return p, hc
	}
	a, ha := serve("cloud-a")
	var demo struct {
		IssuerKey string `json:"issuer_key"`
	}
	b, err := os.ReadFile(filepath.Join(dir, "demo.json"))
	if err != nil || json.Unmarshal(b, &demo) != nil {
		t.Fatalf("demo.json: %v", err)
	}
	h := &hookReceiver{attempts: map[string]int{}, ok: map[string]bool{}, hold: 10,
		inFlight: make(chan struct{}), release: make(chan struct{})}
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	t.Cleanup(func() {
		select {
		case <-h.release:
		default:
			close(h.release)
		}
	})
	viaA := newClient(t, ha.base, demo.IssuerKey)
	var sub struct{ ID, Secret string }
	if st := viaA.do("POST", "/v1/webhooks", map[string]any{"url": srv.URL + "/hook", "events": []string{"*"}}, &sub); st != http.StatusCreated {
		t.Fatalf("subscribe: %d", st)
	}
	wh, err := standardwebhooks.NewWebhook(sub.Secret)
	if err != nil {
		t.Fatal(err)
	}
	h.mu.Lock()
	h.wh = wh
	h.mu.Unlock()
	newReturn := func(c *client) {
		t.Helper()
		if st := c.do("POST", "/v1/returns", map[string]any{"items": []map[string]any{{"sku": "A1", "reason": "WRONG_SIZE"}}}, nil); st != http.StatusCreated {
			t.Fatalf("create a return: %d", st)
		}
	}
	// A delivers the first event: it holds the subscription's lease
	// before B starts.
	newReturn(viaA)
	eventually(t, "the first delivery", func() bool { h.mu.Lock(); defer h.mu.Unlock(); return len(h.ok) == 1 })
	_, hb := serve("cloud-b")
	viaB := newClient(t, hb.base, demo.IssuerKey)
	for i := range 29 {
		newReturn([]*client{viaA, viaB}[i%2])
	}
	<-h.inFlight
	a.kill()
	close(h.release)

	var feed struct {
		Events []struct{ ID string } `json:"events"`
	}
	if st := viaB.do("GET", "/v1/events?limit=100", nil, &feed); st != 200 || len(feed.Events) != 30 {
		t.Fatalf("the feed: %d, %d events", st, len(feed.Events))
	}
	eventually(t, "every event delivered after the takeover", func() bool {
		h.mu.Lock()
		defer h.mu.Unlock()
		return len(h.ok) >= len(feed.Events)
	})
	h.mu.Lock()
	defer h.mu.Unlock()
	for _, e := range feed.Events {
		if !h.ok[e.ID] {
			t.Errorf("event %s never delivered", e.ID)
		}
	}
	if len(h.ok) != len(feed.Events) || h.bad != 0 {
		t.Errorf("%d events delivered for %d in the feed; %d failed verification", len(h.ok), len(feed.Events), h.bad)
	}
	if h.attempts[h.heldID] < 2 || !h.ok[h.heldID] {
		t.Errorf("the delivery in flight at the kill (%s): %d attempts, delivered %v", h.heldID, h.attempts[h.heldID], h.ok[h.heldID])
	}
	t.Logf("%d events, %d attempts in all", len(feed.Events), h.n)
}
