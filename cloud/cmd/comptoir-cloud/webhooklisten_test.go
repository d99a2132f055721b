package main

import (
	"bytes"
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/comptoir/comptoir/build/testenv"
	"github.com/comptoir/comptoir/cloud/server"
)

// TestWebhookListen: webhook-listen subscribes the demo merchant, prints
// the verified delivery of a new return, refuses an unsigned request, and
// unsubscribes when stopped.
func TestWebhookListen(t *testing.T) {
	dir := t.TempDir()
	m := server.NewMain()
	if err := m.ParseFlags([]string{"--data", dir, "--http", "127.0.0.1:0", "--mqtt-listen", "127.0.0.1:0", "--demo",
		"--webhook-allow-private", "--webhook-poll", "10ms"}); err != nil {
		t.Fatal(err)
	}
	if err := m.Run(context.Background()); err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	addr := freeAddr(t)
	var out testenv.Buffer
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		done <- webhookListenCmd(ctx, []string{"--addr", addr, "--cloud", m.HTTPURL(), "--data", dir}, &out)
	}()
	waitFor(t, "listening", func() bool { return strings.Contains(out.String(), "listening on") })

	if err := demoReturnCmd([]string{"--cloud", m.HTTPURL(), "--data", dir, "--out", dir + "/r.png"}, &bytes.Buffer{}); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the delivery printed", func() bool { return strings.Contains(out.String(), "return.created ") })
	resp, err := http.Post("http://"+addr+"/", "application/json", strings.NewReader(`{"type":"return.refunded"}`))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusUnauthorized || !strings.Contains(out.String(), "refused") {
		t.Fatalf("unsigned request: %d\n%s", resp.StatusCode, out.String())
	}
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(15 * time.Second):
		t.Fatal("webhook-listen did not stop")
	}
	issuer, _, _ := m.Demo()
	var list struct {
		Webhooks []any `json:"webhooks"`
	}
	if err := call(http.MethodGet, m.HTTPURL()+"/v1/webhooks", issuer, nil, &list); err != nil || len(list.Webhooks) != 0 {
		t.Fatalf("after stopping: %v %v, want no subscription left", list.Webhooks, err)
	}
}
