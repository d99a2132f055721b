package server_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	standardwebhooks "github.com/standard-webhooks/standard-webhooks/libraries/go"

	"github.com/comptoir/comptoir/cloud"
	"github.com/comptoir/comptoir/cloud/server"
	"github.com/comptoir/comptoir/edge"
)

// runDelivering starts a demo cloud whose webhooks may reach loopback,
// look for events every 10 ms and retry after 5 ms.
func runDelivering(tb testing.TB, dir string, extra ...string) *server.Main {
	tb.Helper()
	m := server.NewMain()
	m.WebhookBackoff = func(int) time.Duration { return 5 * time.Millisecond }
	return mustRun(tb, m, dir, append([]string{"--webhook-allow-private", "--webhook-poll", "10ms"}, extra...)...)
}

// delivered is a delivery a receiver verified and answered 2xx.
type delivered struct {
	ID   string
	Type string          `json:"type"`
	Data cloud.EventData `json:"data"`
}

// receiver is a webhook receiver on loopback that verifies signatures
// with the standard-webhooks library. answer picks the status of the n-th
// attempt (from 1) of an event.
type receiver struct {
	srv *httptest.Server

	mu       sync.Mutex
	secrets  []string
	answer   func(id string, n int) int
	anyTime  bool // the cloud's clock is a test's: timestamps are not checked
	attempts map[string]int
	ok       []delivered // in the order of their 2xx
	bad      []string    // what failed verification
}

// subscribe creates merchant's webhook of every event to r with ws and
// lets r verify its signatures.
func (r *receiver) subscribe(tb testing.TB, ws *cloud.Webhooks, merchant string) cloud.Webhook {
	tb.Helper()
	w, secret, err := ws.Create(context.Background(), merchant, cloud.WebhookRequest{URL: r.srv.URL, Events: []string{"*"}})
	if err != nil {
		tb.Fatal(err)
	}
	r.setSecret(secret)
	return w
}

func newReceiver(tb testing.TB) *receiver {
	r := &receiver{attempts: map[string]int{}, answer: func(string, int) int { return 200 }}
	r.srv = httptest.NewServer(http.HandlerFunc(r.serve))
	tb.Cleanup(r.srv.Close)
	return r
}

func (r *receiver) serve(w http.ResponseWriter, req *http.Request) {
	body, _ := io.ReadAll(req.Body)
	r.mu.Lock()
	defer r.mu.Unlock()
	verified := false
	for _, s := range r.secrets {
		wh, err := standardwebhooks.NewWebhook(s)
		if err == nil && wh.Verify(body, req.Header) == nil {
			verified = true
		} else if err == nil && r.anyTime && wh.VerifyIgnoringTimestamp(body, req.Header) == nil {
			verified = true
		}
	}
	var d delivered
	if err := json.Unmarshal(body, &d); err != nil || !verified {
		r.bad = append(r.bad, string(body))
		w.WriteHeader(http.StatusUnauthorized)
		return
	}
	d.ID = req.Header.Get("webhook-id")
	r.attempts[d.ID]++
	st := r.answer(d.ID, r.attempts[d.ID])
	if st/100 == 2 {
		r.ok = append(r.ok, d)
	}
	w.WriteHeader(st)
}

func (r *receiver) setSecret(s string) {
	r.mu.Lock()
	r.secrets = append(r.secrets, s)
	r.mu.Unlock()
}

// received returns the ids of the deliveries answered 2xx, in order.
func (r *receiver) received() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	var ids []string
	for _, d := range r.ok {
		ids = append(ids, d.ID)
	}
	return ids
}

func subscribe(tb testing.TB, m *server.Main, key string, r *receiver) string {
	tb.Helper()
	var w webhookAnswer
	if st := call(tb, "POST", m.HTTPURL()+"/v1/webhooks", key, map[string]any{"url": r.srv.URL + "/hook", "events": []string{"*"}}, &w); st != http.StatusCreated {
		tb.Fatalf("subscribe: %d", st)
	}
	r.setSecret(w.Secret)
	return w.ID
}

func feedIDs(evs []cloud.Event) []string {
	var ids []string
	for _, e := range evs {
		ids = append(ids, e.ID)
	}
	return ids
}

// TestWebhookDelivery: every event of a merchant reaches its receiver,
// signed, with the feed's data, once with a 2xx although the receiver
// answers 503 to each first attempt; another merchant's receiver gets
// only its own; the log shows the attempts.
func TestWebhookDelivery(t *testing.T) {
	m := runDelivering(t, t.TempDir())
	acme, bolt := createMerchant(t, m, "acme"), createMerchant(t, m, "bolt")
	ra, rb := newReceiver(t), newReceiver(t)
	ra.answer = func(_ string, n int) int {
		if n == 1 {
			return http.StatusServiceUnavailable
		}
		return http.StatusNoContent
	}
	subscribe(t, m, acme, ra)
	subscribe(t, m, bolt, rb)

	var trackings []string
	for range 3 {
		_, c := createReturn(t, m, acme, nil)
		trackings = append(trackings, c.Tracking)
	}
	_, b := createReturn(t, m, bolt, nil)
	e1, _ := enrol(t, m, "shop-1")
	t1 := connectTerminal(t, e1)
	dep := op("shop-1", 1, edge.OpReturnDeposited, trackings[0])
	dep.Data, _ = json.Marshal(edge.DepositData{ReceiptID: "rcpt-1"})
	t1.publish(t, "shop-1", batch("shop-1", dep, op("shop-1", 2, edge.OpParcelHandedOver, trackings[0])))
	t1.ack(t)

	want := feedIDs(readFeed(t, m, acme, "100"))
	if len(want) != 5 {
		t.Fatalf("acme's feed has %d events, want 5", len(want))
	}
	eventually(t, func() bool { return len(ra.received()) >= len(want) })
	if got := ra.received(); strings.Join(got, ",") != strings.Join(want, ",") {
		t.Fatalf("acme's receiver got %v, want %v in order", got, want)
	}
	ra.mu.Lock()
	for id, n := range ra.attempts {
		if n != 2 {
			t.Errorf("event %s: %d attempts, want 2 (a 503, then a 2xx)", id, n)
		}
	}
	if len(ra.bad) != 0 {
		t.Errorf("deliveries that failed verification: %v", ra.bad)
	}
	d := ra.ok[3]
	if d.Type != cloud.EventReturnDeposited || d.Data.ReceiptID != "rcpt-1" || d.Data.RelayPoint != "shop-1" || d.Data.Tracking != trackings[0] {
		t.Errorf("deposit delivered as %+v", d)
	}
	ra.mu.Unlock()

	eventually(t, func() bool { return len(rb.received()) >= 1 })
	if got := rb.received(); len(got) != 1 || got[0] != feedIDs(readFeed(t, m, bolt, "10"))[0] {
		t.Fatalf("bolt's receiver got %v, want only its return of %s", got, b.Tracking)
	}
	var list struct {
		Webhooks []cloud.Webhook `json:"webhooks"`
	}
	call(t, "GET", m.HTTPURL()+"/v1/webhooks", acme, nil, &list)
	if len(list.Webhooks) != 1 || len(list.Webhooks[0].Log) != 10 || list.Webhooks[0].Log[0].Status != 503 || list.Webhooks[0].Log[1].Status != 204 {
		t.Fatalf("acme's webhook and its log = %+v", list.Webhooks)
	}
	if v := metric(t, m, `comptoir_cloud_webhook_deliveries_total{result="failed"}`); v == "absent" || v == "0" {
		t.Errorf("failed deliveries counted = %s", v)
	}
}

// TestWebhookReceiverDown: while its receiver is down (503), a merchant's
// events wait; when it is back, each arrives once, in the feed's order
// (so each parcel's in order).
func TestWebhookReceiverDown(t *testing.T) {
	m := runDelivering(t, t.TempDir())
	acme := createMerchant(t, m, "acme")
	r := newReceiver(t)
	var mu sync.Mutex
	down := true
	r.answer = func(string, int) int {
		mu.Lock()
		defer mu.Unlock()
		if down {
			return http.StatusServiceUnavailable
		}
		return http.StatusOK
	}
	subscribe(t, m, acme, r)
	e1, _ := enrol(t, m, "shop-1")
	t1 := connectTerminal(t, e1)
	var evs []edge.Operation
	for i := range 4 {
		_, c := createReturn(t, m, acme, nil)
		evs = append(evs, op("shop-1", uint64(2*i+1), edge.OpReturnDeposited, c.Tracking), op("shop-1", uint64(2*i+2), edge.OpParcelHandedOver, c.Tracking))
	}
	t1.publish(t, "shop-1", batch("shop-1", evs...))
	t1.ack(t)
	eventually(t, func() bool {
		r.mu.Lock()
		defer r.mu.Unlock()
		return len(r.attempts) > 0 && r.attempts[firstKey(r.attempts)] >= 3
	})
	if got := r.received(); len(got) != 0 {
		t.Fatalf("delivered while down: %v", got)
	}
	if v := metric(t, m, "comptoir_cloud_webhook_oldest_undelivered_seconds"); v == "0" || v == "absent" {
		t.Errorf("oldest undelivered while down = %s, want an age", v)
	}
	mu.Lock()
	down = false
	mu.Unlock()
	want := feedIDs(readFeed(t, m, acme, "100"))
	eventually(t, func() bool { return len(r.received()) >= len(want) })
	if got := r.received(); strings.Join(got, ",") != strings.Join(want, ",") {
		t.Fatalf("after the outage: %v, want %v", got, want)
	}
	eventually(t, func() bool { return metric(t, m, "comptoir_cloud_webhook_oldest_undelivered_seconds") == "0" })

	// A replay from the feed's cursor after the 6th event delivers the
	// later ones again, in order.
	var page feedPage
	call(t, "GET", m.HTTPURL()+"/v1/events?limit=6", acme, nil, &page)
	var list struct {
		Webhooks []cloud.Webhook `json:"webhooks"`
	}
	call(t, "GET", m.HTTPURL()+"/v1/webhooks", acme, nil, &list)
	id := list.Webhooks[0].ID
	for _, tt := range []struct {
		key, after string
		want       int
	}{
		{acme, "x", 400},
		{acme, "18446744073709551615", 400},
		{createMerchant(t, m, "bolt"), page.Next, 404},
		{acme, page.Next, 200},
	} {
		if st := call(t, "POST", m.HTTPURL()+"/v1/webhooks/"+id+"/replay", tt.key, map[string]string{"after": tt.after}, nil); st != tt.want {
			t.Fatalf("replay after %q: %d, want %d", tt.after, st, tt.want)
		}
	}
	eventually(t, func() bool { return len(r.received()) >= len(want)+len(want[6:]) })
	if got := r.received()[len(want):]; strings.Join(got, ",") != strings.Join(want[6:], ",") {
		t.Fatalf("replayed %v, want %v", got, want[6:])
	}
}

func firstKey(m map[string]int) string {
	for k := range m {
		return k
	}
	return ""
}

// TestWebhookSlowReceiver: a receiver that does not answer holds only its
// own merchant's deliveries: another merchant's events arrive meanwhile.
func TestWebhookSlowReceiver(t *testing.T) {
	m := runDelivering(t, t.TempDir())
	slowKey, fastKey := createMerchant(t, m, "slow"), createMerchant(t, m, "fast")
	release := make(chan struct{})
	stuck := make(chan struct{}, 1)
	slow := newReceiver(t)
	slow.srv.Config.Handler = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case stuck <- struct{}{}:
		default:
		}
		<-release
	})
	t.Cleanup(func() { close(release) }) // runs before the receiver's Close
	fast := newReceiver(t)
	subscribe(t, m, slowKey, slow)
	subscribe(t, m, fastKey, fast)
	createReturn(t, m, slowKey, nil)
	select { // the slow merchant's delivery is in flight, unanswered
	case <-stuck:
	case <-time.After(15 * time.Second):
		t.Fatal("no delivery to the slow receiver")
	}
	for range 5 {
		createReturn(t, m, fastKey, nil)
	}
	eventually(t, func() bool { return len(fast.received()) == 5 })
}
