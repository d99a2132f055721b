package cloud

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"net"
	"net/netip"
	"net/url"
	"slices"
	"strconv"
	"time"

	"github.com/comptoir/comptoir/edge"
)

// Webhook is a merchant's subscription to its events (DESIGN.md, "The
// timeline flows out"): the events of the types it names are delivered to
// its URL, signed with its secrets.
type Webhook struct {
	ID        string    `json:"id"`
	Merchant  string    `json:"merchant"`
	URL       string    `json:"url"`
	Events    []string  `json:"events"`
	CreatedAt time.Time `json:"created_at"`
	// Secrets sign the deliveries: the current one first, then those
	// rotated out, each until its Until. Never shown after creation or
	// rotation, never logged.
	Secrets []WebhookSecret `json:"-"`
	// Disabled is why deliveries stopped (failing for too long), empty
	// while the subscription is active; DisabledAt is when.
	Disabled   string    `json:"disabled,omitempty"`
	DisabledAt time.Time `json:"disabled_at,omitzero"`

	// The delivery state, kept by the Dispatcher. Cursor is the position
	// (Event.Seq) of the last event delivered or skipped; Attempts the
	// failed attempts of the next one, retried at NextAttempt; deliveries
	// have failed since FailingSince.
	Cursor       uint64    `json:"cursor"`
	Attempts     int       `json:"attempts"`
	NextAttempt  time.Time `json:"next_attempt_at,omitzero"`
	FailingSince time.Time `json:"failing_since,omitzero"`
	// Log is the last attempts, newest last (at most MaxDeliveryLog).
	Log []DeliveryAttempt `json:"log"`
	// LeaseOwner is the instance that delivers for the subscription until
	// LeaseUntil: one at a time.
	LeaseOwner string    `json:"-"`
	LeaseUntil time.Time `json:"-"`
	// A replay of a time range (Webhooks.Replay) moved Cursor back: once
	// it passes ReplayTo it goes on at ReplayResume, where it was.
	// Replays counts the replays, so that a delivery step that began
	// before one does not move the cursor it moved.
	ReplayTo     uint64 `json:"-"`
	ReplayResume uint64 `json:"-"`
	Replays      int    `json:"-"`
}

// DeliveryAttempt is an entry of a subscription's delivery log.
type DeliveryAttempt struct {
	EventID string    `json:"event_id"`
	At      time.Time `json:"at"`
	// Status is the receiver's HTTP status, 0 when there was no answer.
	Status    int    `json:"status"`
	Error     string `json:"error,omitempty"`
	LatencyMS int64  `json:"latency_ms"`
}

// MaxDeliveryLog bounds a subscription's delivery log.
const MaxDeliveryLog = 50

// storedWebhook is a subscription as stores keep it: with its secrets and
// lease, which the API's JSON leaves out.
type storedWebhook struct {
	Webhook
	Secrets      []WebhookSecret `json:"secrets"`
	LeaseOwner   string          `json:"lease_owner,omitempty"`
	LeaseUntil   time.Time       `json:"lease_until,omitzero"`
	ReplayTo     uint64          `json:"replay_to,omitempty"`
	ReplayResume uint64          `json:"replay_resume,omitempty"`
	Replays      int             `json:"replays,omitempty"`
}

// MarshalWebhook encodes w as stores keep it, secrets included.
func MarshalWebhook(w Webhook) ([]byte, error) {
	return json.Marshal(storedWebhook{Webhook: w, Secrets: w.Secrets, LeaseOwner: w.LeaseOwner, LeaseUntil: w.LeaseUntil,
		ReplayTo: w.ReplayTo, ReplayResume: w.ReplayResume, Replays: w.Replays})
}

// UnmarshalWebhook decodes what MarshalWebhook encoded.
func UnmarshalWebhook(b []byte) (Webhook, error) {
	var sw storedWebhook
	if err := json.Unmarshal(b, &sw); err != nil {
		return Webhook{}, err
	}
	w := sw.Webhook
	w.Secrets, w.LeaseOwner, w.LeaseUntil = sw.Secrets, sw.LeaseOwner, sw.LeaseUntil
	w.ReplayTo, w.ReplayResume, w.Replays = sw.ReplayTo, sw.ReplayResume, sw.Replays
	return w, nil
}

// WebhookSecret is a signing secret, "whsec_" and the base64 of its key.
type WebhookSecret struct {
	Secret string `json:"secret"`
	// Until is when a rotated-out secret stops signing; zero for the
	// current one.
	Until time.Time `json:"until,omitzero"`
}

// Wants reports whether w subscribes to events of type t.
func (w Webhook) Wants(t string) bool {
	return slices.Contains(w.Events, "*") || slices.Contains(w.Events, t)
}

// SigningSecrets returns the secrets that sign a delivery at now: the
// current one and those rotated out less than RotationOverlap ago.
func (w Webhook) SigningSecrets(now time.Time) []string {
	var out []string
	for _, s := range w.Secrets {
		if s.Until.IsZero() || now.Before(s.Until) {
			out = append(out, s.Secret)
		}
	}
	return out
}

// WebhookStore keeps webhook subscriptions.
type WebhookStore interface {
	// CreateWebhook stores w; ECONFLICT if its id exists.
	CreateWebhook(ctx context.Context, w Webhook) error
	// Webhooks returns the subscriptions in scope, oldest first.
	Webhooks(ctx context.Context, scope Scope) ([]Webhook, error)
	// UpdateWebhook replaces subscription id in scope by what fn makes of
	// it, in one transaction; ENOTFOUND when there is none in scope, or
	// fn's error.
	UpdateWebhook(ctx context.Context, scope Scope, id string, fn func(*Webhook) error) (Webhook, error)
	// DeleteWebhook removes subscription id in scope, or returns
	// ENOTFOUND.
	DeleteWebhook(ctx context.Context, scope Scope, id string) error
}

// EPrivateTarget is the code of a webhook URL whose host is, or resolves
// to, a private, loopback or link-local address (HTTP 422).
const EPrivateTarget = "PRIVATE_TARGET"

// Limits of webhook subscriptions.
const (
	MaxWebhooks     = 20             // per merchant
	maxWebhookURL   = 2048           // bytes
	RotationOverlap = 24 * time.Hour // a rotated-out secret signs this long beside the new one
)

// WebhookRequest is the body of POST /v1/webhooks.
type WebhookRequest struct {
	URL    string   `json:"url"`
	Events []string `json:"events"`
}

// Webhooks is the use case of webhook subscriptions.
type Webhooks struct {
	Store interface {
		WebhookStore
		EventsHead(ctx context.Context) (uint64, error)
		EventsAt(ctx context.Context, t time.Time) (uint64, error)
	}
	// AllowPrivate lets webhooks target private, loopback and link-local
	// addresses (tests, a cloud inside one network).
	AllowPrivate bool
	// Resolve looks up a host's addresses; nil uses the system resolver.
	Resolve func(ctx context.Context, host string) ([]netip.Addr, error)
	Now     func() time.Time
}

func (ws *Webhooks) now() time.Time {
	if ws.Now != nil {
		return ws.Now().UTC()
	}
	return time.Now().UTC()
}

// Create subscribes merchant to the events req names at req.URL and
// returns the subscription and its secret (shown once). A malformed
// request is EINVALID, a private target EPrivateTarget, one subscription
// too many ECONFLICT; none changes anything.
func (ws *Webhooks) Create(ctx context.Context, merchant string, req WebhookRequest) (Webhook, string, error) {
	if !ValidMerchantID(merchant) {
		return Webhook{}, "", edge.Errorf(edge.EFORBIDDEN, "Webhooks belong to a merchant: use an issuer key.")
	}
	events, err := checkEventTypes(req.Events)
	if err != nil {
		return Webhook{}, "", err
	}
	if err := ws.CheckTarget(ctx, req.URL); err != nil {
		return Webhook{}, "", err
	}
	have, err := ws.Store.Webhooks(ctx, MerchantScope(merchant))
	if err != nil {
		return Webhook{}, "", err
	}
	if len(have) >= MaxWebhooks {
		return Webhook{}, "", edge.Errorf(edge.ECONFLICT, "A merchant has at most %d webhooks; delete one first.", MaxWebhooks)
	}
	head, err := ws.Store.EventsHead(ctx)
	if err != nil {
		return Webhook{}, "", err
	}
	secret := NewWebhookSecret()
	w := Webhook{
		ID: "wh_" + randomHex(12), Merchant: merchant, URL: req.URL, Events: events,
		CreatedAt: ws.now(), Secrets: []WebhookSecret{{Secret: secret}},
		Cursor: head, // the events from now on
	}
	if err := ws.Store.CreateWebhook(ctx, w); err != nil {
		return Webhook{}, "", err
	}
	return w, secret, nil
}

// RotateSecret gives subscription id in scope a new secret, returned; the
// one it replaces signs beside it for RotationOverlap, so that the
// receiver can switch without missing a delivery.
func (ws *Webhooks) RotateSecret(ctx context.Context, scope Scope, id string) (Webhook, string, error) {
	secret, now := NewWebhookSecret(), ws.now()
	w, err := ws.Store.UpdateWebhook(ctx, scope, id, func(w *Webhook) error {
		kept := []WebhookSecret{{Secret: secret}}
		for _, s := range w.Secrets {
			if s.Until.IsZero() {
				s.Until = now.Add(RotationOverlap)
			}
			if now.Before(s.Until) {
				kept = append(kept, s)
			}
		}
		w.Secrets = kept
		return nil
	})
	return w, secret, err
}

// List returns the subscriptions in scope, oldest first.
func (ws *Webhooks) List(ctx context.Context, scope Scope) ([]Webhook, error) {
	return ws.Store.Webhooks(ctx, scope)
}

// Delete removes subscription id in scope; ENOTFOUND when there is none.
// Its deliveries not made yet are dropped.
func (ws *Webhooks) Delete(ctx context.Context, scope Scope, id string) error {
	return ws.Store.DeleteWebhook(ctx, scope, id)
}

// ReplayRequest is the body of POST /v1/webhooks/{id}/replay: the events
// after the feed's cursor After, or those recorded from From (the two
// exclusive), up to To (exclusive; zero for all).
type ReplayRequest struct {
	After string    `json:"after"`
	From  time.Time `json:"from,omitzero"`
	To    time.Time `json:"to,omitzero"`
}

// Replay delivers again to subscription id in scope the events req names,
// in order, then goes on where it was: its cursor goes back to the range's
// start and a pending retry starts at once. Only the events the outbox
// still keeps are replayed (its retention). A malformed cursor, one
// beyond the last event, both After and From, or To not after From is
// EINVALID; a disabled subscription is ECONFLICT (enable it first).
func (ws *Webhooks) Replay(ctx context.Context, scope Scope, id string, req ReplayRequest) (Webhook, error) {
	start, end, err := ws.replayRange(ctx, req)
	if err != nil {
		return Webhook{}, err
	}
	return ws.Store.UpdateWebhook(ctx, scope, id, func(w *Webhook) error {
		if w.Disabled != "" {
			return edge.Errorf(edge.ECONFLICT, "The webhook is disabled (%s): enable it first.", w.Disabled)
		}
		if !req.To.IsZero() && end <= start {
			return nil // no event in the range
		}
		resume := w.Cursor
		if w.ReplayTo > 0 { // a replay in progress: the cursor is in its range
			resume = max(resume, w.ReplayResume)
		}
		w.Cursor, w.ReplayTo, w.ReplayResume = start, 0, 0
		if end > 0 && end < resume {
			w.ReplayTo, w.ReplayResume = end, resume
		}
		w.Replays++
		w.Attempts, w.NextAttempt, w.FailingSince = 0, time.Time{}, time.Time{}
		return nil
	})
}

// replayRange returns the cursor a replay starts after and, with To, the
// position of its last event (the range is empty when it is not after
// the start).
func (ws *Webhooks) replayRange(ctx context.Context, req ReplayRequest) (start, end uint64, err error) {
	switch {
	case req.After != "" && !req.From.IsZero():
		return 0, 0, edge.Errorf(edge.EINVALID, "Name either after (a cursor) or from (a time), not both.")
	case !req.To.IsZero() && !req.To.After(req.From):
		return 0, 0, edge.Errorf(edge.EINVALID, "to must be after from.")
	}
	if req.After != "" {
		if start, err = strconv.ParseUint(req.After, 10, 64); err != nil {
			return 0, 0, edge.Errorf(edge.EINVALID, "The cursor %q is not one of GET /v1/events.", req.After)
		}
	}
	head, err := ws.Store.EventsHead(ctx)
	if err != nil {
		return 0, 0, err
	}
	if start > head {
		return 0, 0, edge.Errorf(edge.EINVALID, "The cursor %q is beyond the last event.", req.After)
	}
	if !req.From.IsZero() {
		if start, err = ws.Store.EventsAt(ctx, req.From); err != nil {
			return 0, 0, err
		}
	}
	if !req.To.IsZero() {
		if end, err = ws.Store.EventsAt(ctx, req.To); err != nil {
			return 0, 0, err
		}
	}
	return start, end, nil
}

// Enable starts again the deliveries of subscription id in scope, disabled
// after failing for too long (Dispatcher.MaxFailing): it resumes after the
// last event delivered, with the events the outbox still keeps (its
// retention), and its failure count starts from nothing. Why it was
// disabled stays in the delivery log. An active subscription is left as
// it is.
func (ws *Webhooks) Enable(ctx context.Context, scope Scope, id string) (Webhook, error) {
	return ws.Store.UpdateWebhook(ctx, scope, id, func(w *Webhook) error {
		if w.Disabled == "" {
			return nil
		}
		w.Disabled, w.DisabledAt = "", time.Time{}
		w.Attempts, w.NextAttempt, w.FailingSince = 0, time.Time{}, time.Time{}
		return nil
	})
}

// NewWebhookSecret returns a new secret: "whsec_" and the base64 of 24
// random bytes, as Standard Webhooks writes them.
func NewWebhookSecret() string {
	b := make([]byte, 24)
	_, _ = rand.Read(b)
	return "whsec_" + base64.StdEncoding.EncodeToString(b)
}

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// checkEventTypes returns the types of a subscription, without
// duplicates, or EINVALID.
func checkEventTypes(types []string) ([]string, error) {
	if len(types) == 0 || len(types) > 20 {
		return nil, edge.Errorf(edge.EINVALID, "Name 1 to 20 event types, or [\"*\"] for all.")
	}
	var out []string
	for _, t := range types {
		if t != "*" && !ValidEventType(t) {
			return nil, edge.Errorf(edge.EINVALID, "%q is not an event type.", t)
		}
		if !slices.Contains(out, t) {
			out = append(out, t)
		}
	}
	return out, nil
}

// CheckTarget returns EINVALID unless raw is an absolute http(s) URL with
// a host and no credentials, and EPrivateTarget when its host is, or
// resolves to, an address that is not public (PublicAddr), unless
// AllowPrivate. Delivery checks the addresses it dials again.
func (ws *Webhooks) CheckTarget(ctx context.Context, raw string) error {
	u, err := url.Parse(raw)
	if err != nil || len(raw) > maxWebhookURL || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" || u.User != nil || u.Hostname() == "" {
		return edge.Errorf(edge.EINVALID, "The webhook URL must be an absolute http(s) URL with a host and no credentials, up to %d bytes.", maxWebhookURL)
	}
	if ws.AllowPrivate {
		return nil
	}
	host := u.Hostname()
	var addrs []netip.Addr
	if a, err := netip.ParseAddr(host); err == nil {
		addrs = []netip.Addr{a}
	} else {
		resolve := ws.Resolve
		if resolve == nil {
			resolve = func(ctx context.Context, host string) ([]netip.Addr, error) {
				return net.DefaultResolver.LookupNetIP(ctx, "ip", host)
			}
		}
		ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
		defer cancel()
		if addrs, err = resolve(ctx, host); err != nil || len(addrs) == 0 {
			return edge.Errorf(edge.EINVALID, "The webhook host %q does not resolve.", host)
		}
	}
	for _, a := range addrs {
		if !PublicAddr(a) {
			return edge.Errorf(EPrivateTarget, "The webhook host %q is a private, loopback or link-local address; the cloud delivers only to public ones.", host)
		}
	}
	return nil
}

// Address ranges that are not public beyond netip's predicates: carriers'
// NAT (RFC 6598) and NAT64, which would reach IPv4 addresses behind it.
var (
	cgnat = netip.MustParsePrefix("100.64.0.0/10")
	nat64 = netip.MustParsePrefix("64:ff9b::/96")
)

// PublicAddr reports whether a is an address webhooks may reach: not
// loopback, private, link-local, unspecified, multicast or carrier NAT
// (IPv4-mapped IPv6 addresses are judged as IPv4).
func PublicAddr(a netip.Addr) bool {
	a = a.Unmap()
	switch {
	case !a.IsValid(), a.IsLoopback(), a.IsPrivate(), a.IsLinkLocalUnicast(), a.IsLinkLocalMulticast(),
		a.IsInterfaceLocalMulticast(), a.IsMulticast(), a.IsUnspecified(), cgnat.Contains(a), nat64.Contains(a):
		return false
	case a.Is4() && a.As4()[0] == 0: // 0.0.0.0/8: "this network"
		return false
	}
	return true
}
