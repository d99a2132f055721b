// Package loadgen simulates terminals over real MQTT to measure a cloud's
// ingest: each simulated terminal sends its events in batches on its events
// topic, waits for the cloud's acks, and resends a batch whose ack does not
// come in time, as a terminal's uplink does (DESIGN.md, "Commands",
// comptoir-cloud loadgen).
package loadgen

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	paho "github.com/eclipse/paho.mqtt.golang"

	"github.com/comptoir/comptoir/cloud"
	"github.com/comptoir/comptoir/edge"
	"github.com/comptoir/comptoir/sync/wire"
)

// Config configures a load run.
type Config struct {
	// BrokerURL is the MQTT broker; with Cloud set, the broker URL the
	// cloud answers at enrolment is used when BrokerURL is empty.
	BrokerURL string
	// Cloud and OperatorKey, when set, enrol each simulated terminal first
	// (an embedded broker admits enrolled terminals only). Without them,
	// terminals connect with their id as username and no password.
	Cloud, OperatorKey string
	Terminals          int
	EventsPerTerminal  int
	// BatchSize is the number of events a batch (default 256).
	BatchSize int
	// Window is the most batches a terminal has in flight, unacked
	// (default 8, a terminal's uplink default).
	Window int
	// AckTimeout is how long a batch waits for its ack before it is sent
	// again, plus up to a fifth of it at random, doubling on each try up to
	// 8 times it: the uplink's schedule (default 10 s, the uplink's).
	AckTimeout time.Duration
	// Prefix starts every terminal id; a random one by default, so that
	// runs do not collide.
	Prefix string
	// Events, when set, makes the events of the terminal numbered term
	// (0 to Terminals-1) with seq first to last, in order: their type,
	// tracking number, time and data (Run numbers them: id, terminal,
	// seq). base is when the terminal started. By default each is a
	// carrier's deposit of a parcel of the terminal's own (Deposits).
	Events func(term, first, last int, base time.Time) []edge.Operation
	// OnPublished, when set, is called once every event has been published
	// once and taken by the broker (its PUBACK), acked or not: a benchmark
	// can hold the cloud back until then and measure it draining.
	OnPublished func()
}

// Result is the outcome of a run, printed as one JSON line.
type Result struct {
	Terminals       int     `json:"terminals"`
	Sent            int64   `json:"sent"`
	Acked           int64   `json:"acked"`
	Resent          int64   `json:"resent"`
	Seconds         float64 `json:"seconds"`
	EventsPerSecond float64 `json:"events_per_second"`
	P50AckMS        float64 `json:"p50_ack_ms"`
	P99AckMS        float64 `json:"p99_ack_ms"`
	// End is when the last ack came.
	End time.Time `json:"-"`
}

// Run simulates the terminals until every event is acked or ctx ends.
func Run(ctx context.Context, cfg Config) (Result, error) {
	if cfg.Terminals <= 0 || cfg.EventsPerTerminal <= 0 {
		return Result{}, fmt.Errorf("loadgen: --terminals and --events-per-terminal must be positive")
	}
	if cfg.BatchSize <= 0 || cfg.BatchSize > wire.MaxBatchEvents {
		cfg.BatchSize = wire.MaxBatchEvents
	}
	if cfg.Window <= 0 {
		cfg.Window = 8
	}
	if cfg.AckTimeout <= 0 {
		cfg.AckTimeout = 10 * time.Second
	}
	if cfg.Prefix == "" {
		cfg.Prefix = randomPrefix()
	}

	terms := make([]*sim, cfg.Terminals)
	for i := range terms {
		s := &sim{cfg: cfg, n: i, id: fmt.Sprintf("%s-%04d", cfg.Prefix, i), acks: make(chan wire.Acks, 4*cfg.Window+16)}
		s.user = s.id
		if cfg.Cloud != "" {
			if err := s.enrol(ctx); err != nil {
				return Result{}, err
			}
		}
		if s.broker == "" || cfg.BrokerURL != "" {
			s.broker = cfg.BrokerURL
		}
		if err := s.connect(); err != nil {
			closeAll(terms[:i])
			return Result{}, err
		}
		terms[i] = s
	}
	defer closeAll(terms)

	// The batches are made before the clock starts, so that the JSON work
	// of the simulated terminals does not take CPU from the cloud being
	// measured when both run on one machine; past maxPrebuilt events (about
	// 350 bytes each, 350 MB at most) they are made as they go.
	if cfg.Terminals*cfg.EventsPerTerminal <= maxPrebuilt {
		for _, s := range terms {
			s.prebuild()
		}
	}

	var res Result
	var mu sync.Mutex
	var lat []time.Duration
	var wg sync.WaitGroup
	errs := make(chan error, len(terms))
	if cfg.OnPublished != nil {
		var published sync.WaitGroup
		published.Add(len(terms))
		for _, s := range terms {
			s.published = published.Done
		}
		go func() { published.Wait(); cfg.OnPublished() }()
	}
	start := time.Now()
	for _, s := range terms {
		wg.Add(1)
		go func() {
			defer wg.Done()
			l, err := s.run(ctx, &res)
			mu.Lock()
			lat = append(lat, l...)
			mu.Unlock()
			if err != nil {
				errs <- err
			}
		}()
	}
	wg.Wait()
	res.End = time.Now()
	res.Seconds = res.End.Sub(start).Seconds()
	res.Terminals = len(terms)
	res.EventsPerSecond = float64(res.Acked) / res.Seconds
	slices.Sort(lat)
	res.P50AckMS = percentile(lat, 0.50)
	res.P99AckMS = percentile(lat, 0.99)
	select {
	case err := <-errs:
		return res, err
	default:
		return res, nil
	}
}

func percentile(sorted []time.Duration, p float64) float64 {
	if len(sorted) == 0 {
		return 0
	}
	i := int(float64(len(sorted)-1) * p)
	return float64(sorted[i].Microseconds()) / 1000
}

func closeAll(terms []*sim) {
	for _, s := range terms {
		if s != nil && s.client != nil {
			s.client.Disconnect(100)
		}
	}
}

// maxPrebuilt is the most events whose batches Run makes before it starts.
const maxPrebuilt = 1_000_000

// sim is one simulated terminal.
type sim struct {
	cfg            Config
	n              int // the terminal's number, from 0
	id, user, pass string
	broker         string
	client         paho.Client
	acks           chan wire.Acks
	batches        []*batch // made by prebuild, sent in order
	published      func()   // Config.OnPublished's count, or nil
}

// enrol registers the terminal with the cloud and keeps its credentials.
func (s *sim) enrol(ctx context.Context) (err error) {
	s.broker, s.user, s.pass, err = enrol(ctx, s.cfg.Cloud, s.cfg.OperatorKey, s.id)
	return err
}

// enrol registers terminal id with the cloud and returns the broker URL
// and the credentials it answers.
func enrol(ctx context.Context, cloudURL, operatorKey, id string) (broker, user, pass string, err error) {
	body, _ := json.Marshal(map[string]string{
		"id": id, "name": "loadgen " + id,
		// Receipts are not verified in a load run: any 32 bytes will do.
		"receipt_public_key": "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
	})
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, strings.TrimRight(cloudURL, "/")+"/v1/terminals", bytes.NewReader(body))
	if err != nil {
		return "", "", "", fmt.Errorf("loadgen: enrol: %w", err)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer "+operatorKey)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return "", "", "", fmt.Errorf("loadgen: enrol: %w", err)
	}
	defer resp.Body.Close()
	data, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if resp.StatusCode != http.StatusCreated {
		return "", "", "", fmt.Errorf("loadgen: enrol %s: cloud answered %s: %s", id, resp.Status, bytes.TrimSpace(data))
	}
	var e struct {
		MQTT struct{ URL, Username, Password string } `json:"mqtt"`
	}
	if err := json.Unmarshal(data, &e); err != nil {
		return "", "", "", fmt.Errorf("loadgen: enrol: %w", err)
	}
	return e.MQTT.URL, e.MQTT.Username, e.MQTT.Password, nil
}

// randomPrefix returns a terminal id prefix of its own, so that runs do
// not collide.
func randomPrefix() string {
	return "lg-" + strings.ToLower(strings.NewReplacer("_", "0", "-", "0").Replace(cloud.RandomSecret(3)))
}

// randDuration returns a random duration in [0, d).
func randDuration(d time.Duration) time.Duration {
	if d <= 0 {
		return 0
	}
	return rand.N(d)
}

func (s *sim) connect() error {
	o := paho.NewClientOptions().AddBroker(s.broker).SetClientID(s.id).
		SetUsername(s.user).SetPassword(s.pass).SetCleanSession(true).
		SetAutoReconnect(false).SetOrderMatters(false).SetConnectTimeout(10 * time.Second)
	s.client = paho.NewClient(o)
	if tok := s.client.Connect(); !tok.WaitTimeout(15*time.Second) || tok.Error() != nil {
		return fmt.Errorf("loadgen: connect %s to %s: %v", s.id, s.broker, tok.Error())
	}
	tok := s.client.Subscribe(wire.TerminalTopic(s.id, wire.KindAcks), 1, func(_ paho.Client, m paho.Message) {
		if a, err := wire.DecodeAcks(m.Payload()); err == nil {
			s.acks <- a
		}
	})
	if !tok.WaitTimeout(15*time.Second) || tok.Error() != nil {
		return fmt.Errorf("loadgen: subscribe %s: %v", s.id, tok.Error())
	}
	return nil
}

// batch is a batch of a simulated terminal, in flight until acked.
type batch struct {
	first, last uint64
	payload     []byte
	sentAt      time.Time // first send, for the latency
	deadline    time.Time // next resend
	attempts    int
}

// due sets the batch's next resend after a send at now, as the uplink does
// (wire.ResendAfter).
func (b *batch) due(now time.Time, ackTimeout time.Duration) {
	b.attempts++
	b.deadline = now.Add(wire.ResendAfter(ackTimeout, b.attempts))
}

// run sends the terminal's events as a terminal's uplink does: batches in
// seq order, at most Window unacked at once, each resent when its ack has
// not come within AckTimeout, removed only when an ack names all of it. It
// returns the latencies from first publish to ack.
func (s *sim) run(ctx context.Context, res *Result) ([]time.Duration, error) {
	var lat []time.Duration
	topic := wire.TerminalTopic(s.id, wire.KindEvents)
	base := time.Now().UTC()
	next := 1
	var inflight []*batch
	timer := time.NewTimer(time.Hour)
	defer timer.Stop()
	for next <= s.cfg.EventsPerTerminal || len(inflight) > 0 {
		for len(inflight) < s.cfg.Window && next <= s.cfg.EventsPerTerminal {
			b := s.nextBatch(base, next)
			next = int(b.last) + 1
			tok := s.client.Publish(topic, 1, false, b.payload)
			if next > s.cfg.EventsPerTerminal && s.published != nil {
				// A client's PUBACKs come in order: the last batch's
				// says the broker has them all.
				go func(done func()) { tok.Wait(); done() }(s.published)
			}
			atomic.AddInt64(&res.Sent, int64(b.last-b.first+1))
			b.sentAt = time.Now()
			b.due(b.sentAt, s.cfg.AckTimeout)
			inflight = append(inflight, b)
		}
		earliest := inflight[0].deadline
		for _, b := range inflight {
			if b.deadline.Before(earliest) {
				earliest = b.deadline
			}
		}
		timer.Reset(time.Until(earliest))
		select {
		case a := <-s.acks:
			kept := inflight[:0]
			for _, b := range inflight {
				if covers(a, b.first, b.last) {
					lat = append(lat, time.Since(b.sentAt))
					atomic.AddInt64(&res.Acked, int64(b.last-b.first+1))
				} else {
					kept = append(kept, b)
				}
			}
			inflight = kept
		case now := <-timer.C:
			for _, b := range inflight {
				if !now.Before(b.deadline) {
					s.client.Publish(topic, 1, false, b.payload)
					atomic.AddInt64(&res.Sent, int64(b.last-b.first+1))
					atomic.AddInt64(&res.Resent, int64(b.last-b.first+1))
					b.due(now, s.cfg.AckTimeout)
				}
			}
		case <-ctx.Done():
			return lat, ctx.Err()
		}
	}
	return lat, nil
}

// prebuild makes every batch of the terminal.
func (s *sim) prebuild() {
	base := time.Now().UTC()
	for next := 1; next <= s.cfg.EventsPerTerminal; {
		b := s.batch(base, next)
		s.batches = append(s.batches, b)
		next = int(b.last) + 1
	}
}

// nextBatch returns the batch that starts at seq first: the prebuilt one,
// or a new one.
func (s *sim) nextBatch(base time.Time, first int) *batch {
	if len(s.batches) > 0 && s.batches[0].first == uint64(first) {
		b := s.batches[0]
		s.batches = s.batches[1:]
		return b
	}
	return s.batch(base, first)
}

// batch makes the batch that starts at seq first: Config.Events's, or
// deposits.
func (s *sim) batch(base time.Time, first int) *batch {
	last := min(first+s.cfg.BatchSize-1, s.cfg.EventsPerTerminal)
	var evs []edge.Operation
	if s.cfg.Events != nil {
		evs = s.cfg.Events(s.n, first, last, base)
	} else {
		evs = Deposits(s.id[len(s.id)-4:], base, first, last)
	}
	return &batch{first: uint64(first), last: uint64(last), payload: batchPayload(s.id, first, evs)}
}

// depositBatch returns the batch payload of terminal id's deposits of seq
// first to last; key makes their tracking numbers the terminal's own.
func depositBatch(id, key string, base time.Time, first, last int) []byte {
	return batchPayload(id, first, Deposits(key, base, first, last))
}

// Deposits returns carriers' deposits of seq first to last, one a
// millisecond from base; key makes their tracking numbers the terminal's
// own.
func Deposits(key string, base time.Time, first, last int) []edge.Operation {
	evs := make([]edge.Operation, 0, last-first+1)
	for q := first; q <= last; q++ {
		evs = append(evs, edge.NewOperation(edge.OpReturnDeposited, base.Add(time.Duration(q)*time.Millisecond), "loadgen", fmt.Sprintf("LG%s%07dFR", key, q), edge.DepositData{Verified: true, Mode: edge.ModeLabelAtCounter, WeightG: 1200, ReceiptID: fmt.Sprintf("r-%d", q), ShelfSlot: "A1"}))
	}
	return evs
}

// batchPayload returns the batch payload of terminal id's events evs,
// numbered from seq first.
func batchPayload(id string, first int, evs []edge.Operation) []byte {
	for i := range evs {
		q := first + i
		evs[i].ID, evs[i].Terminal, evs[i].Seq = fmt.Sprintf("%s-%d", id, q), id, uint64(q)
	}
	return wire.Marshal(wire.Batch{V: wire.Version, Terminal: id, Events: evs})
}

// covers reports whether the ranges of a name every seq of [first, last].
func covers(a wire.Acks, first, last uint64) bool {
	for _, r := range a.Ranges {
		if r[0] <= first && last <= r[1] {
			return true
		}
	}
	return false
}
