package webhookhttp

import (
	"context"
	"log/slog"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/comptoir/comptoir/cloud"
)

// BacklogStore is what the backlog collector reads.
type BacklogStore interface {
	Webhooks(ctx context.Context, scope cloud.Scope) ([]cloud.Webhook, error)
	Events(ctx context.Context, scope cloud.Scope, after uint64, limit int) ([]cloud.Event, uint64, error)
}

// backlogCollector reads, at scrape time, the subscriptions by state and
// the age of the oldest event waiting for delivery to an active one: one
// value for the instance, not one per subscription (their number is not
// bounded).
type backlogCollector struct {
	store  BacklogStore
	now    func() time.Time
	log    *slog.Logger
	subs   *prometheus.Desc
	oldest *prometheus.Desc
}

// NewBacklogCollector returns the collector of comptoir_cloud_webhooks and
// comptoir_cloud_webhook_oldest_undelivered_seconds.
func NewBacklogCollector(store BacklogStore, log *slog.Logger) prometheus.Collector {
	return &backlogCollector{
		store: store, now: time.Now, log: log.With("component", "webhookhttp"),
		subs: prometheus.NewDesc("comptoir_cloud_webhooks", "Webhook subscriptions by state (active, disabled).", []string{"state"}, nil),
		oldest: prometheus.NewDesc("comptoir_cloud_webhook_oldest_undelivered_seconds",
			"Age of the oldest event that an active subscription is still to receive (0 when none waits).", nil, nil),
	}
}

// Describe implements prometheus.Collector.
func (c *backlogCollector) Describe(ch chan<- *prometheus.Desc) {
	ch <- c.subs
	ch <- c.oldest
}

// Collect implements prometheus.Collector.
func (c *backlogCollector) Collect(ch chan<- prometheus.Metric) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	ws, err := c.store.Webhooks(ctx, cloud.Network)
	if err != nil {
		c.log.Warn("webhook metrics", "err", err)
		return
	}
	active, disabled := 0, 0
	var oldest time.Duration
	for _, w := range ws {
		if w.Disabled != "" {
			disabled++
			continue
		}
		active++
		evs, _, err := c.store.Events(ctx, cloud.MerchantScope(w.Merchant), w.Cursor, 100)
		if err != nil {
			c.log.Warn("webhook metrics", "err", err)
			return
		}
		for _, ev := range evs {
			if w.Wants(ev.Type) {
				oldest = max(oldest, c.now().Sub(ev.OccurredAt))
				break
			}
		}
	}
	ch <- prometheus.MustNewConstMetric(c.subs, prometheus.GaugeValue, float64(active), "active")
	ch <- prometheus.MustNewConstMetric(c.subs, prometheus.GaugeValue, float64(disabled), "disabled")
	ch <- prometheus.MustNewConstMetric(c.oldest, prometheus.GaugeValue, oldest.Seconds())
}
