package server

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"os"
	"time"

	"github.com/comptoir/comptoir/cloud"
	"github.com/comptoir/comptoir/cloud/webhookhttp"
)

// dispatchLoop is the webhook Dispatcher running in the background.
type dispatchLoop struct {
	stop context.CancelFunc
	done chan struct{}
}

// startDispatcher starts delivering webhooks.
func (m *Main) startDispatcher() {
	b := make([]byte, 4)
	_, _ = rand.Read(b)
	host, _ := os.Hostname()
	d := &cloud.Dispatcher{
		Store:     m.store,
		Sender:    webhookhttp.New(webhookhttp.Config{AllowPrivate: m.Config.WebhookAllowPrivate}),
		Instance:  fmt.Sprintf("%s-%d-%s", host, os.Getpid(), hex.EncodeToString(b)),
		Poll:      m.Config.WebhookPoll,
		Retention: m.Config.EventRetention,
		Backoff:   m.WebhookBackoff,
		Logger:    m.Logger,
		Observe:   m.webhookMetrics.Observe,
	}
	ctx, cancel := context.WithCancel(context.Background())
	m.dispatch = &dispatchLoop{stop: cancel, done: make(chan struct{})}
	go func() {
		defer close(m.dispatch.done)
		d.Run(ctx)
	}()
}

// stopDispatcher stops the Dispatcher and waits for its attempts in
// flight (bounded by the Sender's timeout).
func (m *Main) stopDispatcher() {
	if m.dispatch == nil {
		return
	}
	m.dispatch.stop()
	select {
	case <-m.dispatch.done:
	case <-time.After(webhookhttp.DefaultTimeout + time.Second):
		m.log.Warn("webhook deliveries still in flight at close")
	}
	m.dispatch = nil
}
