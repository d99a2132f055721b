package broker_test

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	paho "github.com/eclipse/paho.mqtt.golang"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/comptoir/comptoir/cloud"
	"github.com/comptoir/comptoir/cloud/broker"
	"github.com/comptoir/comptoir/sync/wire"
)

// TestConsumerFallsBehind: while the cloud's consumer does not read (its
// store fell behind), terminals' messages past the consumer's queue are
// held, not dropped; every one reaches the consumer once it reads again.
// Before the gate, mochi dropped them for the consumer (a 19,000-terminal
// connect burst acked a third of its events in 20 minutes); with a gate
// that let every waiting terminal through at once when it opened, 24
// terminals overflowed a queue of 16.
func TestConsumerFallsBehind(t *testing.T) {
	const queue, terminals, each = 16, 24, 20
	const n = terminals * each
	reg := prometheus.NewRegistry()
	b := broker.New(broker.PasswordsFunc(func(_ context.Context, tid string) ([]byte, error) {
		return cloud.HashSecret("pw-" + tid), nil
	}))
	b.Addr = "127.0.0.1:0"
	b.Logger = slog.New(slog.DiscardHandler)
	b.TerminalQueue = broker.DefaultTerminalQueue
	b.ConsumerQueue = queue
	b.Metrics = broker.NewMetrics(reg)
	if err := b.Open(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { b.Close() })
	user, pass := b.InternalCredentials()
	o := options(b, "_cloud", user, pass)
	o.Servers = nil
	// As the ingest: messages handed over in order, acked once handled,
	// so a handler that waits stops the client reading.
	consumer := mustConnect(t, o.AddBroker(b.InternalURL()).SetOrderMatters(true))
	release := make(chan struct{})
	var got atomic.Int64
	wait(t, consumer.Subscribe(wire.EventsFilter, 1, func(paho.Client, paho.Message) {
		<-release
		got.Add(1)
	}))
	if err := b.AdmitTerminals(); err != nil {
		t.Fatal(err)
	}

	payload := bytes.Repeat([]byte("x"), 32<<10) // 480 of them fill the sockets' buffers
	toks := make(chan paho.Token, n)
	var sending sync.WaitGroup
	for i := range terminals {
		tid := fmt.Sprintf("t-%d", i)
		term := mustConnect(t, options(b, tid, tid, "pw-"+tid).SetWriteTimeout(0))
		sending.Go(func() { // Publish waits once paho's queue is full
			for range each {
				toks <- term.Publish(wire.TerminalTopic(tid, wire.KindEvents), 1, false, payload)
			}
		})
	}
	go func() { sending.Wait(); close(toks) }()
	// The consumer stalls while the terminal sends all it can.
	time.Sleep(500 * time.Millisecond)
	close(release)

	deadline := time.Now().Add(60 * time.Second)
	for got.Load() < n && dropped(t, reg) == 0 && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	if d := dropped(t, reg); d != 0 || got.Load() != n {
		t.Fatalf("consumer got %d of %d messages, broker dropped %v", got.Load(), n, d)
	}
	for tok := range toks {
		wait(t, tok)
	}
}

// dropped reads comptoir_cloud_mqtt_messages_dropped_total.
func dropped(t *testing.T, reg *prometheus.Registry) float64 {
	t.Helper()
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		if mf.GetName() == "comptoir_cloud_mqtt_messages_dropped_total" {
			return mf.GetMetric()[0].GetCounter().GetValue()
		}
	}
	t.Fatal("no comptoir_cloud_mqtt_messages_dropped_total")
	return 0
}
