package cloud

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"sync"
	"time"

	"github.com/comptoir/comptoir/edge"
)

// Delivery is one attempt to deliver an event to a webhook, as Standard
// Webhooks (standardwebhooks.com) has it: ID is the webhook-id header (the
// event's id, the same on every attempt), Timestamp the webhook-timestamp,
// Body the payload; Secrets sign it (one signature each).
type Delivery struct {
	ID        string
	Timestamp time.Time
	Body      []byte
	Secrets   []string
}

// NewDelivery returns the delivery of ev to w at now: the body is
// {"type","timestamp","data"}.
func NewDelivery(ev Event, w Webhook, now time.Time) (Delivery, error) {
	body, err := json.Marshal(struct {
		Type      string    `json:"type"`
		Timestamp time.Time `json:"timestamp"`
		Data      EventData `json:"data"`
	}{ev.Type, ev.OccurredAt.UTC(), ev.Data})
	if err != nil {
		return Delivery{}, err
	}
	return Delivery{ID: ev.ID, Timestamp: now, Body: body, Secrets: w.SigningSecrets(now)}, nil
}

// Sender sends deliveries (the HTTP adapter: cloud/webhookhttp).
type Sender interface {
	// Send posts d to url and returns the receiver's HTTP status, or an
	// error when there was no answer (refused target, timeout, ...).
	Send(ctx context.Context, url string, d Delivery) (status int, err error)
}

// DispatchStore is what the Dispatcher needs of the store.
type DispatchStore interface {
	Webhooks(ctx context.Context, scope Scope) ([]Webhook, error)
	UpdateWebhook(ctx context.Context, scope Scope, id string, fn func(*Webhook) error) (Webhook, error)
	Events(ctx context.Context, scope Scope, after uint64, limit int) ([]Event, uint64, error)
	PruneEvents(ctx context.Context, before time.Time) (int, error)
}

// FeedHeads is what a DispatchStore may also offer: the last seq of the
// feed of each of merchants (0 for one with none), in one read, counting
// every event committed before it. With it, the
// Dispatcher reads it once per poll for all its subscriptions, and the
// loops of those with nothing new skip their step (no read of their
// webhook or of the feed).
type FeedHeads interface {
	FeedHeads(ctx context.Context, merchants []string) (map[string]uint64, error)
}

// Dispatcher defaults.
const (
	DefaultMaxFailing = 72 * time.Hour // a subscription failing this long is disabled
	// DefaultRetention is how long the outbox keeps the events every
	// subscription has passed: the feed's and the replays' reach.
	DefaultRetention = 7 * 24 * time.Hour
	pruneEvery       = time.Hour
	defaultPoll      = time.Second
	defaultLease     = 30 * time.Second
	maxBackoff       = time.Hour
)

// Dispatcher delivers the events of the outbox to the webhooks that
// subscribe to them: each subscription in its own loop, in the order of
// the outbox (so a parcel's events in order), one event at a time,
// retried with exponential backoff until a 2xx answer, for up to
// MaxFailing, after which the subscription is disabled with the reason.
// A slow or dead receiver only delays its own subscription. Instances
// sharing a store take a lease on a subscription before delivering for
// it, so that one at a time does.
type Dispatcher struct {
	Store  DispatchStore
	Sender Sender
	// Instance names this instance in leases; it must differ between
	// instances sharing a store.
	Instance string
	// Now is the clock (time.Now); Backoff the wait after the n-th failed
	// attempt of an event (exponential from 1 s, with jitter, up to an
	// hour); Poll how often new subscriptions and events are looked for
	// (1 s); Lease how long a lease lasts (30 s); MaxFailing how long a
	// subscription may fail before it is disabled (DefaultMaxFailing).
	Now        func() time.Time
	Backoff    func(n int) time.Duration
	Poll       time.Duration
	Lease      time.Duration
	MaxFailing time.Duration
	// Retention is how long the outbox keeps events once every active
	// subscription of their merchant has passed them (DefaultRetention);
	// Run prunes it every hour.
	Retention time.Duration
	Logger    *slog.Logger
	// Observe, when set, is told the result of each attempt ("ok",
	// "failed", "refused") and, for a 2xx, the time from the event to it.
	Observe func(result string, sinceEvent time.Duration)

	mu      sync.Mutex
	running map[string]bool // subscriptions with a loop
	round   *round          // the last poll's subscriptions and feed heads
}

// round is what one poll of Run read: the subscriptions and, when the
// store has FeedHeads, the heads of their merchants' feeds. next is
// closed when the next round replaces it.
type round struct {
	subs  map[string]Webhook
	heads map[string]uint64
	next  chan struct{}
}

// idle reports whether a step of subscription id would do nothing at now
// as far as the round saw: another instance holds its lease, or this one
// holds it with no renewal due, no retry or replay under way and no event
// of its merchant after its cursor. What changed after the round (a
// replay, a disabling, a new event) is seen by the next one: a cursor
// only grows but by a replay, and the heads were read after the events
// before them had their seq.
func (r *round) idle(id, instance string, now time.Time, lease time.Duration) bool {
	w, ok := r.subs[id]
	if !ok || r.heads == nil || w.Disabled != "" {
		return false
	}
	if w.LeaseOwner != instance && now.Before(w.LeaseUntil) {
		return true // Step would find it leased
	}
	head, ok := r.heads[w.Merchant]
	return ok && head <= w.Cursor && w.ReplayTo == 0 && w.NextAttempt.IsZero() &&
		w.LeaseOwner == instance && w.LeaseUntil.Sub(now) >= lease*3/4
}

func (d *Dispatcher) now() time.Time {
	if d.Now != nil {
		return d.Now().UTC()
	}
	return time.Now().UTC()
}

func (d *Dispatcher) poll() time.Duration {
	if d.Poll > 0 {
		return d.Poll
	}
	return defaultPoll
}

func (d *Dispatcher) lease() time.Duration {
	if d.Lease > 0 {
		return d.Lease
	}
	return defaultLease
}

func (d *Dispatcher) log() *slog.Logger {
	l := d.Logger
	if l == nil {
		l = slog.Default()
	}
	return l.With("component", "dispatcher")
}

// Backoff is the default wait after the n-th failed attempt: 2^(n-1)
// seconds up to an hour, between half and all of it (jitter, so that
// subscriptions failing together do not retry together).
func Backoff(n int) time.Duration {
	b := maxBackoff
	if n < 13 {
		b = min(time.Second<<max(n-1, 0), maxBackoff)
	}
	return b/2 + rand.N(b/2+1)
}

// Run starts a loop for every active subscription, and for those created
// later, until ctx ends; it returns once they have stopped.
func (d *Dispatcher) Run(ctx context.Context) {
	d.mu.Lock()
	d.running, d.round = map[string]bool{}, nil
	d.mu.Unlock()
	var wg sync.WaitGroup
	defer wg.Wait()
	t := time.NewTicker(d.poll())
	defer t.Stop()
	wg.Add(1)
	go func() {
		defer wg.Done()
		d.pruneLoop(ctx)
	}()
	for {
		ws, err := d.Store.Webhooks(ctx, Network)
		if err != nil && ctx.Err() == nil {
			d.log().Warn("list webhooks", "err", err)
		}
		d.newRound(ctx, ws)
		for _, w := range ws {
			d.mu.Lock()
			start := w.Disabled == "" && !d.running[w.ID]
			if start {
				d.running[w.ID] = true
			}
			d.mu.Unlock()
			if start {
				wg.Add(1)
				go func(id string) {
					defer wg.Done()
					d.serve(ctx, id)
					d.mu.Lock()
					delete(d.running, id)
					d.mu.Unlock()
				}(w.ID)
			}
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// newRound publishes the round of the subscriptions ws, with the heads of
// their merchants' feeds when the store has FeedHeads (one read for all),
// and wakes the loops waiting for it.
func (d *Dispatcher) newRound(ctx context.Context, ws []Webhook) {
	r := &round{subs: make(map[string]Webhook, len(ws)), next: make(chan struct{})}
	var merchants []string
	seen := map[string]bool{}
	for _, w := range ws {
		r.subs[w.ID] = w
		if w.Disabled == "" && !seen[w.Merchant] {
			seen[w.Merchant] = true
			merchants = append(merchants, w.Merchant)
		}
	}
	if fh, ok := d.Store.(FeedHeads); ok && len(merchants) > 0 {
		heads, err := fh.FeedHeads(ctx, merchants)
		if err != nil && ctx.Err() == nil {
			d.log().Warn("read the feed heads", "err", err)
		}
		r.heads = heads // nil on error: every loop steps
	}
	d.mu.Lock()
	old := d.round
	d.round = r
	d.mu.Unlock()
	if old != nil {
		close(old.next)
	}
}

// current returns the last round, nil before the first.
func (d *Dispatcher) current() *round {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.round
}

// Prune removes the events recorded more than Retention ago that every
// active subscription of their merchant has passed, and returns how many.
func (d *Dispatcher) Prune(ctx context.Context) (int, error) {
	keep := d.Retention
	if keep <= 0 {
		keep = DefaultRetention
	}
	return d.Store.PruneEvents(ctx, d.now().Add(-keep))
}

// pruneLoop prunes the outbox at once and then every hour until ctx ends,
// beside the deliveries (a first pruning of a large outbox takes a while).
func (d *Dispatcher) pruneLoop(ctx context.Context) {
	t := time.NewTicker(pruneEvery)
	defer t.Stop()
	for {
		if _, err := d.Prune(ctx); err != nil && ctx.Err() == nil {
			d.log().Warn("prune the outbox", "err", err)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// errStop ends a subscription's loop: it was deleted or disabled.
var errStop = errors.New("subscription gone or disabled")

// errLeased: another instance holds the subscription's lease.
var errLeased = errors.New("leased by another instance")

// serve runs the loop of subscription id until it is gone, disabled, or
// ctx ends. Each round of Run is looked at once: when it says a step
// would do nothing, the loop waits for the next round instead.
func (d *Dispatcher) serve(ctx context.Context, id string) {
	var seen *round
	for ctx.Err() == nil {
		if r := d.current(); r != nil && r != seen {
			seen = r
			if r.idle(id, d.Instance, d.now(), d.lease()) {
				select {
				case <-ctx.Done():
				case <-r.next:
				}
				continue
			}
		}
		wait, err := d.Step(ctx, id)
		if errors.Is(err, errStop) {
			return
		} else if err != nil && ctx.Err() == nil {
			d.log().Warn("delivery step", "webhook", id, "err", err)
			wait = d.poll()
		}
		if wait <= 0 {
			continue
		}
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
		case <-t.C:
		}
	}
}

// Step makes the next delivery attempt of subscription id if one is due,
// and returns how long to wait before the next step. It takes (or renews)
// the subscription's lease first, and does nothing while another instance
// holds it.
func (d *Dispatcher) Step(ctx context.Context, id string) (time.Duration, error) {
	now := d.now()
	lease := d.lease()
	w, err := d.Store.UpdateWebhook(ctx, Network, id, func(w *Webhook) error {
		if w.Disabled != "" {
			return errStop
		}
		if w.LeaseOwner != d.Instance && now.Before(w.LeaseUntil) {
			return errLeased
		}
		// The lease is renewed when a quarter of it has run: an idle
		// step of a subscription then writes nothing.
		if w.LeaseOwner != d.Instance || w.LeaseUntil.Sub(now) < lease*3/4 {
			w.LeaseOwner, w.LeaseUntil = d.Instance, now.Add(lease)
		}
		if w.ReplayTo > 0 && w.Cursor >= w.ReplayTo { // a replayed range is done
			w.Cursor, w.ReplayTo, w.ReplayResume = max(w.Cursor, w.ReplayResume), 0, 0
		}
		return nil
	})
	switch {
	case edge.ErrorCode(err) == edge.ENOTFOUND || errors.Is(err, errStop):
		return 0, errStop
	case errors.Is(err, errLeased):
		return d.poll(), nil
	case err != nil:
		return 0, err
	}
	if now.Before(w.NextAttempt) {
		return min(w.NextAttempt.Sub(now), lease/2), nil
	}
	evs, _, err := d.Store.Events(ctx, MerchantScope(w.Merchant), w.Cursor, 100)
	if err != nil {
		return 0, err
	}
	// Attempts start until half the lease is left, so that the last one
	// (at most the Sender's timeout) ends before the lease does.
	return d.deliver(ctx, w, evs, w.LeaseUntil.Add(-lease/2))
}

// sent is the outcome of one attempt.
type sent struct {
	entry DeliveryAttempt
	ok    bool
}

// deliver sends w the events of evs it wants, in order, one at a time,
// until one fails, all are sent, or until (so that the lease outlives the
// step), and then records the outcome in one write: the cursor after the
// last event delivered or skipped, the log, and for a failure its retry or
// the subscription's disabling. An instance killed between a delivery and
// that write delivers again (the same webhook-id): at least once.
func (d *Dispatcher) deliver(ctx context.Context, w Webhook, evs []Event, until time.Time) (time.Duration, error) {
	cursor := w.Cursor
	var done []sent
	failed := false
	for _, ev := range evs {
		if w.ReplayTo > 0 && ev.Seq > w.ReplayTo {
			cursor = max(cursor, w.ReplayTo)
			break // the end of a replayed range: the next step goes on where it was
		}
		if !w.Wants(ev.Type) {
			cursor = ev.Seq
			continue
		}
		if len(done) > 0 && !d.now().Before(until) {
			break
		}
		r, err := d.attempt(ctx, w, ev)
		if err != nil {
			return 0, err
		}
		done = append(done, r)
		if !r.ok {
			failed = true
			break
		}
		cursor = ev.Seq
	}
	if len(done) == 0 && cursor == w.Cursor {
		return d.poll(), nil
	}
	now := d.now()
	backoff := Backoff
	if d.Backoff != nil {
		backoff = d.Backoff
	}
	maxFailing := d.MaxFailing
	if maxFailing <= 0 {
		maxFailing = DefaultMaxFailing
	}
	var wait time.Duration
	_, err := d.Store.UpdateWebhook(ctx, Network, w.ID, func(s *Webhook) error {
		for _, r := range done {
			s.Log = append(s.Log, r.entry)
		}
		if n := len(s.Log) - MaxDeliveryLog; n > 0 {
			s.Log = append([]DeliveryAttempt(nil), s.Log[n:]...)
		}
		if s.Replays != w.Replays {
			return nil // a replay moved the cursor meanwhile
		}
		s.Cursor = max(s.Cursor, cursor)
		if !failed {
			if len(done) > 0 {
				s.Attempts, s.NextAttempt, s.FailingSince = 0, time.Time{}, time.Time{}
			}
			return nil
		}
		last := done[len(done)-1].entry
		s.Attempts++
		if s.FailingSince.IsZero() {
			s.FailingSince = last.At
		}
		if now.Sub(s.FailingSince) >= maxFailing {
			s.Disabled = fmt.Sprintf("Deliveries failed for %s since %s; the last: %s. Fix the receiver, then enable the webhook again (POST /v1/webhooks/{id}/enable).",
				maxFailing, s.FailingSince.Format(time.RFC3339), last.Error)
			s.DisabledAt = now
			return nil
		}
		wait = backoff(s.Attempts)
		s.NextAttempt = now.Add(wait)
		return nil
	})
	return wait, err
}

// attempt delivers ev to w once.
func (d *Dispatcher) attempt(ctx context.Context, w Webhook, ev Event) (sent, error) {
	now := d.now()
	dl, err := NewDelivery(ev, w, now)
	if err != nil {
		return sent{}, err
	}
	start := time.Now()
	status, sendErr := d.Sender.Send(ctx, w.URL, dl)
	latency := time.Since(start)
	ok := sendErr == nil && status >= 200 && status < 300
	entry := DeliveryAttempt{EventID: ev.ID, At: now, Status: status, LatencyMS: latency.Milliseconds()}
	if sendErr != nil {
		entry.Error = sendErr.Error()
	} else if !ok {
		entry.Error = fmt.Sprintf("HTTP %d", status)
	}
	if ctx.Err() != nil && !ok {
		return sent{}, ctx.Err() // stopping: not the receiver's failure
	}
	if d.Observe != nil {
		switch {
		case ok:
			d.Observe("ok", now.Sub(ev.OccurredAt))
		case sendErr != nil && status == 0:
			d.Observe("refused", 0)
		default:
			d.Observe("failed", 0)
		}
	}
	return sent{entry: entry, ok: ok}, nil
}
