package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	standardwebhooks "github.com/standard-webhooks/standard-webhooks/libraries/go"
)

// webhookListenCmd is "comptoir-cloud webhook-listen": a tiny webhook
// receiver for the README's tour and for trying a cloud out. It listens on
// --addr, verifies each delivery's Standard Webhooks signature with the
// secret, prints the verified ones (answering 204) and refuses the others
// (401). Without --secret it subscribes itself with the issuer key (the
// demo merchant's by default) and unsubscribes when stopped; the cloud must
// then run with --webhook-allow-private, since it delivers to loopback.
func webhookListenCmd(ctx context.Context, args []string, stdout io.Writer) error {
	fs := flag.NewFlagSet("webhook-listen", flag.ContinueOnError)
	addr := fs.String("addr", "127.0.0.1:9000", "address to listen on")
	cloudURL := fs.String("cloud", "http://127.0.0.1:8080", "cloud base URL (to subscribe)")
	dir := fs.String("data", "data/cloud", "the cloud's data dir, to read the issuer key from demo.json")
	key := fs.String("issuer-key", os.Getenv("COMPTOIR_ISSUER_KEY"), "issuer API key (default: from DIR/demo.json)")
	secret := fs.String("secret", os.Getenv("COMPTOIR_WEBHOOK_SECRET"), "secret of an existing subscription (default: subscribe anew)")
	events := fs.String("events", "*", "event types to subscribe to, comma-separated")
	if err := fs.Parse(args); err != nil {
		return err
	}
	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		return fmt.Errorf("webhook-listen: %w", err)
	}
	defer ln.Close()
	if *secret == "" {
		if *key == "" {
			if *key, err = demoIssuerKey(*dir); err != nil {
				return fmt.Errorf("webhook-listen: no --secret, no --issuer-key and %w", err)
			}
		}
		base := strings.TrimRight(*cloudURL, "/")
		body, _ := json.Marshal(map[string]any{"url": "http://" + ln.Addr().String() + "/", "events": strings.Split(*events, ",")})
		var sub struct {
			ID     string `json:"id"`
			Secret string `json:"secret"`
		}
		if err := call(http.MethodPost, base+"/v1/webhooks", *key, strings.NewReader(string(body)), &sub); err != nil {
			return fmt.Errorf("webhook-listen: subscribe: %w", err)
		}
		*secret = sub.Secret
		defer func() {
			if err := call(http.MethodDelete, base+"/v1/webhooks/"+sub.ID, *key, nil, new([]byte)); err != nil {
				fmt.Fprintf(stdout, "could not unsubscribe %s: %v\n", sub.ID, err)
			}
		}()
		fmt.Fprintf(stdout, "subscribed %s to %s\n", sub.ID, *events)
	}
	wh, err := standardwebhooks.NewWebhook(*secret)
	if err != nil {
		return errors.New("webhook-listen: the secret is not whsec_ and base64")
	}
	srv := &http.Server{Handler: listenHandler(wh, stdout), ReadHeaderTimeout: 5 * time.Second}
	done := make(chan error, 1)
	go func() { done <- srv.Serve(ln) }()
	fmt.Fprintf(stdout, "listening on http://%s/\n", ln.Addr())
	select {
	case <-ctx.Done():
		sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		return srv.Shutdown(sctx)
	case err := <-done:
		return fmt.Errorf("webhook-listen: %w", err)
	}
}

// listenHandler prints the deliveries wh verifies, one line each, and
// answers 204; others are refused with 401.
func listenHandler(wh *standardwebhooks.Webhook, out io.Writer) http.Handler {
	var mu sync.Mutex
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, err := io.ReadAll(io.LimitReader(r.Body, 1<<20))
		mu.Lock()
		defer mu.Unlock()
		if err != nil || wh.Verify(body, r.Header) != nil {
			fmt.Fprintf(out, "refused a delivery that does not verify (webhook-id %q)\n", r.Header.Get("webhook-id"))
			w.WriteHeader(http.StatusUnauthorized)
			return
		}
		var d struct {
			Type string          `json:"type"`
			Data json.RawMessage `json:"data"`
		}
		_ = json.Unmarshal(body, &d) // verified: the cloud's
		fmt.Fprintf(out, "%s %s %s\n", d.Type, r.Header.Get("webhook-id"), d.Data)
		w.WriteHeader(http.StatusNoContent)
	})
}

// demoIssuerKey reads the demo merchant's issuer key from DIR/demo.json.
func demoIssuerKey(dir string) (string, error) {
	path := filepath.Join(dir, "demo.json")
	raw, err := os.ReadFile(path)
	if err != nil {
		return "", fmt.Errorf("no demo.json: %w", err)
	}
	var demo struct {
		IssuerKey string `json:"issuer_key"`
	}
	if err := json.Unmarshal(raw, &demo); err != nil {
		return "", fmt.Errorf("%s: %w", path, err)
	}
	return demo.IssuerKey, nil
}
