package cloud

import (
	"encoding/json"
	"slices"
	"sort"
	"time"

	"github.com/comptoir/comptoir/edge"
)

// Stores that keep counters (Badger) rather than query their events
// (PostgreSQL) keep, per return, its ReturnFacts, and per merchant, day of
// creation, dimension and key, a ReportCounts. Each step of a return's
// parcel changes its facts (Observe), and the difference between what the
// facts count before and after the step is added to the counters: so the
// counters always equal what the facts of every return count, as an SQL
// aggregate over the returns would, whatever the order of the steps.

// HistBounds are the upper bounds, in seconds, of the buckets of the
// durations' histograms; a last bucket holds what is longer. A percentile
// read from a histogram is the upper bound of its bucket (0 for a step
// taken at once, such as the refund of an in-store return).
var HistBounds = []int64{
	0, 60, 5 * 60, 15 * 60, 30 * 60, 3600, 2 * 3600, 4 * 3600, 8 * 3600, 12 * 3600,
	86400, 36 * 3600, 2 * 86400, 3 * 86400, 4 * 86400, 5 * 86400, 7 * 86400,
	10 * 86400, 14 * 86400, 21 * 86400, 30 * 86400, 45 * 86400, 60 * 86400, 90 * 86400,
}

// Indexes of ReportCounts.N, in the order of ReportRow's counts.
const (
	nReturns = iota
	nDeposited
	nReceivedInStore
	nCancelled
	nHandedOver
	nReceivedAtWarehouse
	nRefunded
	nExchanged
	numCounts
)

// ReportCounts is a counter of a report: the counts of a ReportRow, and a
// histogram (bucket index to count, see HistBounds) of each stage's
// durations. Deltas may be negative (a step that moves a first drop-off
// earlier moves its duration to another bucket).
type ReportCounts struct {
	N [numCounts]int64         `json:"n"`
	H [NumStages]map[int]int64 `json:"h,omitempty"`
}

// Add adds d to c.
func (c *ReportCounts) Add(d ReportCounts) {
	for i, n := range d.N {
		c.N[i] += n
	}
	for st, h := range d.H {
		for b, n := range h {
			if c.H[st] == nil {
				c.H[st] = map[int]int64{}
			}
			if c.H[st][b] += n; c.H[st][b] == 0 {
				delete(c.H[st], b)
			}
		}
	}
}

// Row returns the report row of key that c counts.
func (c ReportCounts) Row(key string) ReportRow {
	r := ReportRow{Key: key, Returns: c.N[nReturns], Deposited: c.N[nDeposited], ReceivedInStore: c.N[nReceivedInStore],
		Cancelled: c.N[nCancelled], HandedOver: c.N[nHandedOver], ReceivedAtWarehouse: c.N[nReceivedAtWarehouse],
		Refunded: c.N[nRefunded], Exchanged: c.N[nExchanged]}
	for st, h := range c.H {
		if p50, ok := histPercentile(h, 50); ok {
			p90, _ := histPercentile(h, 90)
			r.SetDuration(st, p50, p90)
		}
	}
	return r
}

// histPercentile returns the pct-th percentile of h by nearest rank (the
// smallest bucket holding at least pct % of the samples), as its upper
// bound (the last, unbounded bucket answers the last bound).
func histPercentile(h map[int]int64, pct int64) (int64, bool) {
	var total int64
	buckets := make([]int, 0, len(h))
	for b, n := range h {
		total += n
		buckets = append(buckets, b)
	}
	if total <= 0 {
		return 0, false
	}
	sort.Ints(buckets)
	rank := (total*pct + 99) / 100 // ceil
	var cum int64
	for _, b := range buckets {
		if cum += h[b]; cum >= rank {
			return HistBounds[min(b, len(HistBounds)-1)], true
		}
	}
	return HistBounds[len(HistBounds)-1], true
}

// histBucket returns the bucket of a duration of secs seconds.
func histBucket(secs int64) int {
	i, _ := slices.BinarySearch(HistBounds, secs)
	return i
}

// ReportKey is a row of a report: a dimension and its key.
type ReportKey struct {
	By  ReportBy
	Key string
}

// ReturnFacts is what reports know of one return and its parcel. Times
// are the first of each step (by occurred_at); the relay point is the
// terminal of the first drop-off.
type ReturnFacts struct {
	Merchant     string    `json:"m"`
	Created      time.Time `json:"c"`
	Carrier      string    `json:"car,omitempty"`
	Reasons      []string  `json:"r,omitempty"`
	SKUs         []string  `json:"s,omitempty"`
	Relay        string    `json:"rp,omitempty"`
	Dispositions []string  `json:"d,omitempty"`
	Resolution   string    `json:"res,omitempty"`
	DroppedAt    time.Time `json:"da,omitzero"`
	InstoreAt    time.Time `json:"ia,omitzero"`
	HandedAt     time.Time `json:"ha,omitzero"`
	WarehouseAt  time.Time `json:"wa,omitzero"`
	ResolvedAt   time.Time `json:"ra,omitzero"`
	Deposited    bool      `json:"dep,omitempty"`
	InStore      bool      `json:"ins,omitempty"`
	Cancelled    bool      `json:"can,omitempty"`
	Refunded     bool      `json:"ref,omitempty"`
	Exchanged    bool      `json:"exc,omitempty"`
}

// NewReturnFacts returns the facts of a return just created: its
// merchant, day, carrier and its items' distinct reasons and SKUs.
func NewReturnFacts(r Return) ReturnFacts {
	f := ReturnFacts{Merchant: r.Merchant, Created: r.CreatedAt.UTC(), Carrier: r.Carrier}
	for _, it := range r.Items {
		f.Reasons = append(f.Reasons, it.Reason)
		f.SKUs = append(f.SKUs, it.SKU)
	}
	f.Reasons, f.SKUs = distinct(f.Reasons), distinct(f.SKUs)
	return f
}

func distinct(s []string) []string {
	slices.Sort(s)
	return slices.Compact(s)
}

// Day returns the day the return was created (UTC): the day its counters
// are kept under.
func (f ReturnFacts) Day() time.Time { return f.Created.Truncate(24 * time.Hour) }

// ReportStep is a step of a return's parcel as reports see it: a status
// that agreed with the parcel, when it occurred, the terminal of a
// terminal's event, and the grades of an in-store receipt.
type ReportStep struct {
	Status   Status
	At       time.Time
	Terminal string
	Instore  *edge.InstoreData
}

// Observe applies st to f and returns the change of the counters of each
// key, none for a step that changes nothing the reports count.
func (f *ReturnFacts) Observe(st ReportStep) map[ReportKey]ReportCounts {
	out := map[ReportKey]ReportCounts{}
	f.ObserveEach(st, func(k ReportKey, d ReportDelta) { out[k] = d.Counts() })
	return out
}

// ObserveEach is Observe without its maps: it applies st to f, calls fn
// with the change of each row's counter that changes, and reports whether
// f changed (then f must be stored, whether or not a counter changed: see
// Same). It runs for every step of a return (Badger's fold, added up in a
// ReportSum). A step that leaves f the same changes no counter: the rows
// and the tally are read only from what Same compares, so they are not
// computed for it.
func (f *ReturnFacts) ObserveEach(st ReportStep, fn func(ReportKey, ReportDelta)) bool {
	before := *f
	f.Apply(st)
	if f.Same(before) {
		return false
	}
	var kbuf, abuf [8]ReportKey
	diffTallies(before.keys(kbuf[:0]), before.tally(), f.keys(abuf[:0]), f.tally(), fn)
	return true
}

// Apply applies st to f, as Observe does, without the change of the
// counters (for stores that keep the facts and their durations rather
// than counters, PostgreSQL).
func (f *ReturnFacts) Apply(st ReportStep) {
	at := st.At.UTC()
	earlier := func(t *time.Time) bool {
		if t.IsZero() || at.Before(*t) {
			*t = at
			return true
		}
		return false
	}
	resolve := func(refund, exchange bool) {
		f.Refunded, f.Exchanged = f.Refunded || refund, f.Exchanged || exchange
		if refund || exchange {
			earlier(&f.ResolvedAt)
		}
	}
	switch st.Status {
	case StatusDeposited, StatusReceivedInStore:
		if earlier(&f.DroppedAt) {
			f.Relay = st.Terminal
		}
		if st.Status == StatusDeposited {
			f.Deposited = true
			break
		}
		f.InStore = true
		if st.Instore != nil && earlier(&f.InstoreAt) {
			var ds []string
			for _, it := range st.Instore.Items {
				if it.Disposition != "" {
					ds = append(ds, string(it.Disposition))
				}
			}
			f.Dispositions, f.Resolution = distinct(ds), string(st.Instore.Resolution)
			resolve(f.Resolution == string(edge.ResolutionRefund), f.Resolution == string(edge.ResolutionExchange))
		}
	case StatusCancelled:
		f.Cancelled = true
	case StatusHandedOver:
		earlier(&f.HandedAt)
	case StatusReceivedAtWarehouse:
		earlier(&f.WarehouseAt)
	case StatusRefunded, StatusExchanged:
		resolve(st.Status == StatusRefunded, st.Status == StatusExchanged)
	}
}

// CreatedCounts returns the change of the counters that a new return makes.
func (f ReturnFacts) CreatedCounts() map[ReportKey]ReportCounts {
	out := map[ReportKey]ReportCounts{}
	f.CreatedEach(func(k ReportKey, d ReportDelta) { out[k] = d.Counts() })
	return out
}

// CreatedEach is CreatedCounts without its map: it calls fn with the
// change of each row's counter that a new return makes.
func (f ReturnFacts) CreatedEach(fn func(ReportKey, ReportDelta)) {
	var buf [8]ReportKey
	diffTallies(nil, noTally(), f.keys(buf[:0]), f.tally(), fn)
}

// keys appends the rows f counts in to ks.
func (f ReturnFacts) keys(ks []ReportKey) []ReportKey {
	for _, r := range f.Reasons {
		ks = append(ks, ReportKey{ByReason, r})
	}
	for _, s := range f.SKUs {
		ks = append(ks, ReportKey{BySKU, s})
	}
	for _, d := range f.Dispositions {
		ks = append(ks, ReportKey{ByDisposition, d})
	}
	if f.Resolution != "" {
		ks = append(ks, ReportKey{ByResolution, f.Resolution})
	}
	if f.Relay != "" {
		ks = append(ks, ReportKey{ByRelayPoint, f.Relay})
	}
	return append(ks, ReportKey{ByCarrier, f.Carrier})
}

// tally is what facts count in each of their rows, the same in each: the
// counts (0 or 1), and the histogram bucket of each stage's duration (-1
// for a stage not taken). Observe compares two tallies rather than two
// maps of counters (a map a row, a map a histogram): it runs for every
// step of a return at ingest.
type tally struct {
	n      [numCounts]int64
	bucket [NumStages]int
}

// noTally is the tally of no facts.
func noTally() tally {
	var t tally
	for st := range t.bucket {
		t.bucket[st] = -1
	}
	return t
}

// tally returns what f counts in each of its rows.
func (f ReturnFacts) tally() tally {
	t := noTally()
	for i, ok := range [numCounts]bool{true, f.Deposited, f.InStore, f.Cancelled, !f.HandedAt.IsZero(), !f.WarehouseAt.IsZero(), f.Refunded, f.Exchanged} {
		if ok {
			t.n[i] = 1
		}
	}
	for st, secs := range f.stageSecs() {
		if secs >= 0 {
			t.bucket[st] = histBucket(secs)
		}
	}
	return t
}

// delta returns the counter of a row that counted before and counts after.
func delta(before, after tally) ReportCounts {
	var d ReportCounts
	for i := range d.N {
		d.N[i] = after.n[i] - before.n[i]
	}
	for st := range d.H {
		a, b := after.bucket[st], before.bucket[st]
		if a == b {
			continue
		}
		d.H[st] = map[int]int64{}
		if a >= 0 {
			d.H[st][a] = 1
		}
		if b >= 0 {
			d.H[st][b] = -1
		}
	}
	return d
}

// stageSecs returns the duration of each stage in seconds (Seconds), -1
// for a stage not taken.
func (f ReturnFacts) stageSecs() [NumStages]int64 {
	span := func(from, to time.Time) int64 {
		if from.IsZero() || to.IsZero() {
			return -1
		}
		return Seconds(to.Sub(from))
	}
	return [NumStages]int64{
		StageToDropOff:   span(f.Created, f.DroppedAt),
		StageToHandover:  span(f.DroppedAt, f.HandedAt),
		StageToWarehouse: span(f.DroppedAt, f.WarehouseAt),
		StageToResolved:  span(f.DroppedAt, f.ResolvedAt),
	}
}

// ReportDuration is one duration a report takes the percentiles of: a
// stage of a return, in one of the rows the return counts in.
type ReportDuration struct {
	ReportKey
	Stage int
	Secs  int64
}

// Durations returns the durations of f: each stage taken, in each row f
// counts in (what counts adds to the histograms; PostgreSQL takes exact
// percentiles of the facts' stages in SQL, and its tests hold its reports
// to these).
func (f ReturnFacts) Durations() []ReportDuration {
	var out []ReportDuration
	secs := f.stageSecs()
	for _, k := range f.keys(nil) {
		for st, s := range secs {
			if s >= 0 {
				out = append(out, ReportDuration{k, st, s})
			}
		}
	}
	return out
}

// Same reports whether f and g, facts of one return, are the same in what
// a step may change: a step that changes them must be stored, whether or
// not it changes a counter (a drop-off moved within its histogram bucket
// changes the durations counted from it at later steps).
func (f ReturnFacts) Same(g ReturnFacts) bool {
	return f.Relay == g.Relay && slices.Equal(f.Dispositions, g.Dispositions) && f.Resolution == g.Resolution &&
		f.DroppedAt.Equal(g.DroppedAt) && f.InstoreAt.Equal(g.InstoreAt) && f.HandedAt.Equal(g.HandedAt) &&
		f.WarehouseAt.Equal(g.WarehouseAt) && f.ResolvedAt.Equal(g.ResolvedAt) && f.Deposited == g.Deposited &&
		f.InStore == g.InStore && f.Cancelled == g.Cancelled && f.Refunded == g.Refunded && f.Exchanged == g.Exchanged
}

// StageSecs returns the duration of each stage of f in seconds, -1 for
// a stage not taken: its Durations are these in each of its rows.
func (f ReturnFacts) StageSecs() [NumStages]int64 { return f.stageSecs() }

// SameRows reports whether f counts in the rows that g counts in (the
// rows of their Durations).
func (f ReturnFacts) SameRows(g ReturnFacts) bool {
	var fb, gb [8]ReportKey
	return slices.Equal(f.keys(fb[:0]), g.keys(gb[:0]))
}

// Seconds returns d in whole seconds, rounded down, and 0 for a negative
// duration (a terminal's clock behind the cloud's): the durations of
// reports.
func Seconds(d time.Duration) int64 { return max(0, int64(d/time.Second)) }

// diffTallies calls fn with the change of each row's counter from facts
// that counted before in the rows of kb to facts that count after in
// those of ka (each list's keys distinct), leaving out the rows that do
// not change.
func diffTallies(kb []ReportKey, before tally, ka []ReportKey, after tally, fn func(ReportKey, ReportDelta)) {
	if slices.Equal(kb, ka) { // most steps: the same rows, in the same order
		if before != after {
			for _, k := range ka {
				fn(k, ReportDelta{before, after})
			}
		}
		return
	}
	for _, k := range ka {
		b := noTally()
		if slices.Contains(kb, k) {
			b = before
		}
		if b != after {
			fn(k, ReportDelta{b, after})
		}
	}
	for _, k := range kb {
		if !slices.Contains(ka, k) {
			fn(k, ReportDelta{before, noTally()})
		}
	}
}

// ReportDelta is the change one step makes to the counter of one row:
// what the return counted in it before the step and what it counts after.
type ReportDelta struct{ before, after tally }

// Counts returns d as a counter's change.
func (d ReportDelta) Counts() ReportCounts { return delta(d.before, d.after) }

// NumBuckets is the number of buckets of a duration histogram: one per
// bound of HistBounds, and the last, unbounded.
const NumBuckets = 25

// ReportSum adds up the changes of a counter (ReportDelta) without maps:
// its histograms are arrays. Counts returns the ReportCounts that adding
// each change's Counts would.
type ReportSum struct {
	N [numCounts]int64
	H [NumStages][NumBuckets]int64
}

// Add adds d to s.
func (s *ReportSum) Add(d ReportDelta) {
	for i := range s.N {
		s.N[i] += d.after.n[i] - d.before.n[i]
	}
	for st := range s.H {
		a, b := d.after.bucket[st], d.before.bucket[st]
		if a == b {
			continue
		}
		if a >= 0 {
			s.H[st][a]++
		}
		if b >= 0 {
			s.H[st][b]--
		}
	}
}

// Counts returns what s adds up as a counter (its histograms hold the
// buckets whose count is not 0).
func (s *ReportSum) Counts() ReportCounts {
	c := ReportCounts{N: s.N}
	for st, h := range s.H {
		for b, n := range h {
			if n == 0 {
				continue
			}
			if c.H[st] == nil {
				c.H[st] = map[int]int64{}
			}
			c.H[st][b] = n
		}
	}
	return c
}

// ReportStepOf returns the report step of a terminal's event that agreed
// with its parcel; an in-store receipt's grades are read from its data
// (grades that do not decode count as none).
func ReportStepOf(op edge.Operation) ReportStep { return PendingStepOf(op).ReportStep() }

// PartnerStep returns the report step of a partner's timeline entry.
func PartnerStep(e TimelineEntry) ReportStep { return PendingPartnerStep("", e).ReportStep() }

// PendingStep is a step of a return's parcel as a store keeps it from the
// transaction that stores the step to the fold that applies it to the
// return's facts: what ReportStep holds, the parcel's tracking, and an
// in-store receipt's data as the event sent it (decoded when folded).
type PendingStep struct {
	Tracking string
	Status   Status
	At       time.Time
	Terminal string // "" for a partner's
	Instore  []byte // an instore.received event's data, nil for none
}

// PendingStepOf returns the pending step of a terminal's event that
// agreed with its parcel.
func PendingStepOf(op edge.Operation) PendingStep {
	s, _ := StatusOf(op.Type)
	st := PendingStep{Tracking: op.Tracking, Status: s, At: op.OccurredAt, Terminal: op.Terminal}
	if op.Type == edge.OpInstoreReceived {
		st.Instore = op.Data
	}
	return st
}

// PendingPartnerStep returns the pending step of a partner's timeline
// entry e of tracking.
func PendingPartnerStep(tracking string, e TimelineEntry) PendingStep {
	return PendingStep{Tracking: tracking, Status: e.Status, At: e.OccurredAt}
}

// ReportStep returns the step as reports see it; grades that do not
// decode count as none.
func (p PendingStep) ReportStep() ReportStep {
	st := ReportStep{Status: p.Status, At: p.At, Terminal: p.Terminal}
	if len(p.Instore) > 0 {
		var d edge.InstoreData
		if json.Unmarshal(p.Instore, &d) == nil {
			st.Instore = &d
		}
	}
	return st
}
