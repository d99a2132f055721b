package webhookhttp_test

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"sync/atomic"
	"testing"
	"time"

	standardwebhooks "github.com/standard-webhooks/standard-webhooks/libraries/go"

	"github.com/comptoir/comptoir/cloud"
	"github.com/comptoir/comptoir/cloud/webhookhttp"
)

func delivery(secrets ...string) cloud.Delivery {
	return cloud.Delivery{ID: "ev-1", Timestamp: time.Now(), Body: []byte(`{"type":"return.deposited","timestamp":"2026-12-04T10:00:00Z","data":{}}`), Secrets: secrets}
}

// TestSendSigned: the receiver verifies the delivery with the
// standard-webhooks library, with either secret during a rotation.
func TestSendSigned(t *testing.T) {
	oldSecret, newSecret := cloud.NewWebhookSecret(), cloud.NewWebhookSecret()
	var verified atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		for _, s := range []string{oldSecret, newSecret} {
			wh, err := standardwebhooks.NewWebhook(s)
			if err != nil {
				t.Error(err)
			}
			if err := wh.Verify(body, r.Header); err != nil {
				t.Errorf("signature with one of the secrets: %v", err)
			} else {
				verified.Add(1)
			}
		}
		if r.Header.Get("webhook-id") != "ev-1" {
			t.Errorf("webhook-id = %q", r.Header.Get("webhook-id"))
		}
		w.WriteHeader(http.StatusAccepted)
	}))
	defer srv.Close()
	s := webhookhttp.New(webhookhttp.Config{AllowPrivate: true})
	st, err := s.Send(context.Background(), srv.URL, delivery(newSecret, oldSecret))
	if err != nil || st != http.StatusAccepted || verified.Load() != 2 {
		t.Fatalf("Send = %d, %v; verified %d of 2", st, err, verified.Load())
	}
	// A tampered body fails verification: the check above can fail.
	wh, _ := standardwebhooks.NewWebhook(newSecret)
	d := delivery(newSecret)
	sig, _ := webhookhttp.Sign(d)
	h := http.Header{"Webhook-Id": {d.ID}, "Webhook-Timestamp": {strconv.FormatInt(d.Timestamp.Unix(), 10)}, "Webhook-Signature": {sig}}
	if err := wh.Verify(append(d.Body, ' '), h); err == nil {
		t.Fatal("a tampered body verified")
	}
}

// TestSendRefusesPrivate: without AllowPrivate, a loopback receiver is
// never reached: the dialler refuses the address it resolved.
func TestSendRefusesPrivate(t *testing.T) {
	var hits atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { hits.Add(1) }))
	defer srv.Close()
	s := webhookhttp.New(webhookhttp.Config{})
	for _, url := range []string{srv.URL, "http://localhost:" + srv.URL[len("http://127.0.0.1:"):]} {
		if _, err := s.Send(context.Background(), url, delivery(cloud.NewWebhookSecret())); !errors.Is(err, webhookhttp.ErrPrivateTarget) {
			t.Errorf("%s: %v, want ErrPrivateTarget", url, err)
		}
	}
	if hits.Load() != 0 {
		t.Fatalf("the private receiver got %d requests", hits.Load())
	}
}

// TestSendNoRedirect: a redirect is answered as it is, not followed.
func TestSendNoRedirect(t *testing.T) {
	var hits atomic.Int32
	target := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { hits.Add(1) }))
	defer target.Close()
	srv := httptest.NewServer(http.RedirectHandler(target.URL, http.StatusTemporaryRedirect))
	defer srv.Close()
	st, err := webhookhttp.New(webhookhttp.Config{AllowPrivate: true}).Send(context.Background(), srv.URL, delivery(cloud.NewWebhookSecret()))
	if err != nil || st != http.StatusTemporaryRedirect || hits.Load() != 0 {
		t.Fatalf("Send = %d, %v; the redirect's target got %d", st, err, hits.Load())
	}
}

// TestSendTimeout: a receiver that does not answer is given up on after
// the timeout.
func TestSendTimeout(t *testing.T) {
	release := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { <-release }))
	defer srv.Close()
	defer close(release)
	s := webhookhttp.New(webhookhttp.Config{AllowPrivate: true, Timeout: 50 * time.Millisecond})
	if _, err := s.Send(context.Background(), srv.URL, delivery(cloud.NewWebhookSecret())); err == nil {
		t.Fatal("no error from a receiver that never answers")
	}
}
