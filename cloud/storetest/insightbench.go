package storetest

import (
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"os"
	"slices"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/comptoir/comptoir/cloud"
	"github.com/comptoir/comptoir/edge"
)

// The returns insight's benchmark (issue 15): a network's three months of
// returns loaded once, then its reports and stuck lists asked for many
// times. Its volume is BENCH_INSIGHT_EVENTS events (default 1,000,000):
// returns created (each a "created" entry of a timeline), terminals'
// events (drop-offs, handovers, cancels, refusals) and partners' events,
// from 100 relay points, for 20 merchants.
var (
	insightStart = time.Date(2026, 8, 1, 0, 0, 0, 0, time.UTC)
	insightNow   = time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC) // the day after the three months
)

const (
	insightMerchants = 20
	insightTerminals = 100
)

// insightVolume is the events the benchmark loads.
func insightVolume() int {
	if n, err := strconv.Atoi(os.Getenv("BENCH_INSIGHT_EVENTS")); err == nil && n > 0 {
		return n
	}
	return 1_000_000
}

// insightLoad is what the benchmark loads: the returns, each terminal's
// events in seq order, and each merchant's partner events.
type insightLoad struct {
	returns  []cloud.Return
	terminal map[string][]edge.Operation
	partner  [2]map[string][]cloud.PartnerEvent // warehouse scans, then refunds and exchanges, by merchant
	events   int                                // returns + terminals' + partners' events
	dropped  int64                              // returns dropped off
	// waiting are the parcels left at a stage when the three months end
	// (the stuck lists'), by merchant ("" for carriers' parcels).
	waiting []waiting
}

// waiting is a parcel that waits at stage since since.
type waiting struct {
	merchant string
	stage    cloud.Stage
	since    time.Time
}

// stuck returns the times since which the parcels of scope have waited
// at q's stage, waiting since before q.Before, oldest first: what
// StuckParcels must list, up to q.Limit.
func (l *insightLoad) stuck(scope cloud.Scope, q cloud.StuckQuery) []time.Time {
	var out []time.Time
	for _, w := range l.waiting {
		if w.stage == q.Stage && w.since.Before(q.Before) && scope.Allows(w.merchant) {
			out = append(out, w.since)
		}
	}
	slices.SortFunc(out, time.Time.Compare)
	return out
}

// checkStuck fails unless ps is the stuck list of q in scope: as many as
// asked for (q.Limit, or all when fewer wait), at q's stage, oldest first
// (each since that of the parcel of the load it ranks with, to the
// millisecond: stores keep times to the microsecond).
func (l *insightLoad) checkStuck(scope cloud.Scope, q cloud.StuckQuery, ps []cloud.StuckParcel) error {
	want := l.stuck(scope, q)
	want = want[:min(len(want), q.Limit)]
	if len(ps) != len(want) {
		return fmt.Errorf("%s: %d parcels listed, want %d (limit %d)", q.Stage, len(ps), len(want), q.Limit)
	}
	for i, p := range ps {
		if d := p.Since.Sub(want[i]); p.Stage != q.Stage || d < -time.Millisecond || d > time.Millisecond {
			return fmt.Errorf("%s: parcel %d is %s at %s since %s, want the one since %s (oldest first)", q.Stage, i, p.Tracking, p.Stage, p.Since, want[i])
		}
	}
	return nil
}

// makeInsightLoad makes about events events, the same every time (a seeded
// generator), of parcels dropped off uniformly over the three months at
// 100 relay points. Four parcels in five are carriers' (deposited with no
// return, 95 % handed over within two days). The fifth is a merchant's
// return, created through the API (the API's writes, a transaction each,
// are what makes the load slow; the terminals' events are batched): 88 % of
// them deposited at a relay point and 7 % received in store (graded),
// from an hour to three days after; 2 % of the deposits cancelled; 95 %
// of the others handed over within two days; one in ten of those seen at the
// warehouse one to four days later, and 80 % of those refunded or
// exchanged a day later; one return in ten also has a refused scan.
// Steps that would fall after insightNow are not taken (they wait: the
// stuck parcels).
func makeInsightLoad(events int) *insightLoad {
	rng := rand.New(rand.NewPCG(15, 15))
	l := &insightLoad{terminal: map[string][]edge.Operation{}}
	l.partner[0], l.partner[1] = map[string][]cloud.PartnerEvent{}, map[string][]cloud.PartnerEvent{}
	reasons := []string{edge.ReasonChangedMind, edge.ReasonWrongSize, edge.ReasonDamaged, edge.ReasonDefective, edge.ReasonNotAsDescribed, edge.ReasonOther}
	dispositions := []edge.Disposition{edge.DispositionRestock, edge.DispositionRefurbish, edge.DispositionRecycle, edge.DispositionReturnToVendor}
	resolutions := []edge.Resolution{edge.ResolutionRefund, edge.ResolutionExchange, edge.ResolutionStoreCredit}
	carriers := []string{"DEMO", "UPS", "COLISSIMO"}
	span := insightNow.Sub(insightStart)
	dur := func(min, spread time.Duration) time.Duration {
		return min + time.Duration(rng.Int64N(int64(spread)))
	}
	add := func(tid string, typ edge.OpType, tracking string, at time.Time, data any) {
		o := Op(tid, 0, typ, tracking, at)
		o.Data, _ = json.Marshal(data)
		l.terminal[tid] = append(l.terminal[tid], o)
		l.events++
	}
	for i := 0; l.events < events; i++ {
		tid := fmt.Sprintf("rp-%03d", rng.IntN(insightTerminals))
		if i%5 != 0 {
			// A carrier's parcel: deposited with no return, handed over.
			tracking, at := fmt.Sprintf("CP%09dFR", i), insightStart.Add(time.Duration(rng.Int64N(int64(span)))).Truncate(time.Second)
			add(tid, edge.OpReturnDeposited, tracking, at, edge.DepositData{Verified: true, Mode: edge.ModeLabelAtCounter, WeightG: 1200, ReceiptID: "r"})
			dropped := at
			if at = at.Add(dur(2*time.Hour, 48*time.Hour)); rng.IntN(20) != 0 && at.Before(insightNow) {
				add(tid, edge.OpParcelHandedOver, tracking, at, edge.HandedOverData{ManifestID: "m", Carrier: "DEMO"})
				l.waiting = append(l.waiting, waiting{"", cloud.StageAwaitingCarrier, at})
			} else {
				l.waiting = append(l.waiting, waiting{"", cloud.StageAwaitingHandover, dropped})
			}
			continue
		}
		r := cloud.Return{
			ID: fmt.Sprintf("ra-%07d", i), Merchant: fmt.Sprintf("m-%02d", i/5%insightMerchants),
			Tracking: fmt.Sprintf("IB%09dFR", i), Carrier: carriers[rng.IntN(len(carriers))],
			CreatedAt: insightStart.Add(time.Duration(rng.Int64N(int64(span)))).Truncate(time.Second),
			Token:     "t",
		}
		r.ExpiresAt = r.CreatedAt.AddDate(0, 1, 0)
		for range 1 + rng.IntN(2) {
			r.Items = append(r.Items, edge.Item{SKU: fmt.Sprintf("SKU-%03d", rng.IntN(200)), Qty: 1, Reason: reasons[rng.IntN(len(reasons))]})
		}
		l.returns = append(l.returns, r)
		l.events++
		if rng.IntN(10) == 0 {
			add(tid, edge.OpReturnRefused, "", r.CreatedAt.Add(dur(time.Hour, 72*time.Hour)), edge.RefusedData{Reason: edge.RefusalCode("EXPIRED"), Digest: "ab12"})
		}
		drop, at := rng.IntN(100), r.CreatedAt.Add(dur(time.Hour, 72*time.Hour))
		if drop >= 95 || !at.Before(insightNow) {
			continue
		}
		l.dropped++
		if drop < 88 {
			add(tid, edge.OpReturnDeposited, r.Tracking, at, edge.DepositData{RAID: r.ID, Verified: true, Mode: edge.ModeLabelAtCounter, Items: r.Items, ReceiptID: "r"})
			if rng.IntN(50) == 0 {
				add(tid, edge.OpReturnCancelled, r.Tracking, at.Add(10*time.Minute), edge.CancelledData{DepositID: "d"})
				continue
			}
		} else {
			d := edge.InstoreData{RAID: r.ID, Resolution: resolutions[rng.IntN(len(resolutions))]}
			for _, it := range r.Items {
				d.Items = append(d.Items, edge.InstoreItem{SKU: it.SKU, Qty: 1, Condition: edge.ConditionOpened, Disposition: dispositions[rng.IntN(len(dispositions))]})
			}
			add(tid, edge.OpInstoreReceived, r.Tracking, at, d)
		}
		dropped := at
		if at = at.Add(dur(2*time.Hour, 48*time.Hour)); rng.IntN(20) == 0 || !at.Before(insightNow) {
			l.waiting = append(l.waiting, waiting{r.Merchant, cloud.StageAwaitingHandover, dropped})
			continue
		}
		add(tid, edge.OpParcelHandedOver, r.Tracking, at, edge.HandedOverData{ManifestID: "m", Carrier: r.Carrier})
		handed := at
		if at = at.Add(dur(24*time.Hour, 72*time.Hour)); rng.IntN(10) != 0 || !at.Before(insightNow) {
			l.waiting = append(l.waiting, waiting{r.Merchant, cloud.StageAwaitingCarrier, handed})
			continue
		}
		l.partner[0][r.Merchant] = append(l.partner[0][r.Merchant], cloud.PartnerEvent{ID: "w-" + r.ID, Tracking: r.Tracking, Status: cloud.StatusReceivedAtWarehouse, OccurredAt: at})
		l.events++
		if at = at.Add(24 * time.Hour); rng.IntN(5) == 0 || !at.Before(insightNow) {
			continue
		}
		status := cloud.StatusRefunded
		if rng.IntN(4) == 0 {
			status = cloud.StatusExchanged
		}
		l.partner[1][r.Merchant] = append(l.partner[1][r.Merchant], cloud.PartnerEvent{ID: "z-" + r.ID, Tracking: r.Tracking, Status: status, OccurredAt: at})
		l.events++
	}
	// Each terminal's events in the order they occurred, numbered so.
	for tid, evs := range l.terminal {
		slices.SortStableFunc(evs, func(a, b edge.Operation) int { return a.OccurredAt.Compare(b.OccurredAt) })
		for i := range evs {
			evs[i].Seq = uint64(i + 1)
			evs[i].ID = fmt.Sprintf("%s-%d", tid, i+1)
		}
	}
	return l
}

// How many callers load at once: the ingest's workers, and the API's
// handlers (each call of theirs is a transaction that waits for its sync:
// the store groups the syncs of calls made at once).
const (
	ingestWorkers = 16
	apiCallers    = 128
)

// load stores l in s the ways the cloud does: the returns one by one (the
// API's POST /v1/returns) from apiCallers callers; the terminals'
// events in batches of 256 (as their uplinks send them and the ingest
// stores them) from ingestWorkers callers, a terminal's batches in order;
// the partners' events in batches of 50 from apiCallers callers, the
// warehouse's scans before the refunds. It returns the seconds each part took.
func (l *insightLoad) load(b testing.TB, s cloud.Store) map[string]float64 {
	took := map[string]float64{}
	ctx := context.Background()
	for m := range insightMerchants {
		if err := s.CreateMerchant(ctx, cloud.Merchant{ID: fmt.Sprintf("m-%02d", m), Name: "M", CreatedAt: insightStart}); err != nil {
			b.Fatal(err)
		}
	}
	parallel := func(what string, workers, n int, fn func(i int) error) {
		start := time.Now()
		var wg sync.WaitGroup
		errs := make(chan error, workers)
		for w := range workers {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for i := w; i < n; i += workers {
					if err := fn(i); err != nil {
						errs <- err
						return
					}
				}
			}()
		}
		wg.Wait()
		close(errs)
		if err := <-errs; err != nil {
			b.Fatalf("load %s: %v", what, err)
		}
		took["load_"+what+"_s"] = time.Since(start).Seconds()
	}
	parallel("returns", apiCallers, len(l.returns), func(i int) error { return s.CreateReturn(ctx, l.returns[i]) })
	tids := make([]string, 0, len(l.terminal))
	for tid := range l.terminal {
		tids = append(tids, tid)
	}
	slices.Sort(tids)
	parallel("terminal_events", ingestWorkers, len(tids), func(i int) error {
		evs := l.terminal[tids[i]]
		for len(evs) > 0 {
			n := min(256, len(evs))
			res, err := s.StoreEvents(ctx, tids[i], evs[:n], evs[n-1].OccurredAt.Add(time.Minute))
			if err != nil {
				return err
			}
			if len(res.Conflicts) > 0 {
				return fmt.Errorf("%s: conflict %+v", tids[i], res.Conflicts[0])
			}
			evs = evs[n:]
		}
		return nil
	})
	ps := &cloud.Partners{Store: s, Now: func() time.Time { return insightNow }}
	type batch struct {
		merchant string
		events   []cloud.PartnerEvent
	}
	for phase, name := range []string{"warehouse", "resolved"} {
		var batches []batch
		for m, evs := range l.partner[phase] {
			for len(evs) > 0 {
				n := min(cloud.MaxPartnerEvents/10, len(evs))
				batches = append(batches, batch{m, evs[:n]})
				evs = evs[n:]
			}
		}
		parallel("partner_"+name, apiCallers, len(batches), func(i int) error {
			res, err := ps.Post(ctx, cloud.MerchantScope(batches[i].merchant), batches[i].events)
			if err == nil && len(res.Refused) > 0 {
				err = fmt.Errorf("refused %+v", res.Refused[0])
			}
			return err
		})
	}
	return took
}

// LoadInsight loads in s about events events of the benchmark's network
// (makeInsightLoad), the ways BenchInsight does, and returns the period
// they were created in, to compare what stores answer of a volume a
// fixture does not reach. s must be empty.
func LoadInsight(t testing.TB, s cloud.Store, events int) (from, to time.Time) {
	makeInsightLoad(events).load(t, s)
	return insightStart, insightNow
}

// BenchInsight loads a network's three months in s (makeInsightLoad),
// checks that the reports count what was loaded, then times the reports
// (each dimension in turn, a merchant's and the network's, over October
// and over the three months) and the stuck lists (each stage in turn,
// waiting for more than three days, up to cloud.MaxStuckParcels), b.N
// times each: p50_ms and p99_ms of each. s must be empty. settle, if
// given, runs after the load and before the queries (its seconds are
// settle_s): what a store does in the background after such a load that
// the test server does not (PostgreSQL's autovacuum).
func BenchInsight(b *testing.B, s cloud.Store, settle ...func() error) {
	ctx := context.Background()
	l := makeInsightLoad(insightVolume())
	// The load is a benchmark of its own, so that its figures are reported
	// (a benchmark with sub-benchmarks reports none); it runs once however
	// many times the testing package calls it.
	var took map[string]float64
	b.Run("load", func(b *testing.B) {
		if took == nil {
			start := time.Now()
			took = l.load(b, s)
			took["load_s"] = time.Since(start).Seconds()
			start = time.Now()
			for _, fn := range settle {
				if err := fn(); err != nil {
					b.Fatal(err)
				}
			}
			took["settle_s"] = time.Since(start).Seconds()
			took["events"], took["returns"] = float64(l.events), float64(len(l.returns))
		}
		for unit, v := range took {
			b.ReportMetric(v, unit)
		}
	})
	if took == nil {
		b.Fatal("not loaded")
	}

	// The reports count every return created and dropped off.
	all := cloud.ReportQuery{From: insightStart, To: insightNow, By: cloud.ByCarrier}
	rows, err := s.ReturnsReport(ctx, cloud.Network, all)
	if err != nil {
		b.Fatal(err)
	}
	var returns, dropped int64
	for _, r := range rows {
		returns, dropped = returns+r.Returns, dropped+r.Deposited+r.ReceivedInStore
	}
	if returns != int64(len(l.returns)) || dropped != l.dropped {
		b.Fatalf("the report counts %d returns, %d dropped off; loaded %d, %d", returns, dropped, len(l.returns), l.dropped)
	}

	october := time.Date(2026, 10, 1, 0, 0, 0, 0, time.UTC)
	for _, c := range []struct {
		name  string
		scope cloud.Scope
		from  time.Time
	}{
		{"report/scope=merchant/days=31", cloud.MerchantScope("m-07"), october},
		{"report/scope=network/days=31", cloud.Network, october},
		{"report/scope=merchant/days=92", cloud.MerchantScope("m-07"), insightStart},
		{"report/scope=network/days=92", cloud.Network, insightStart},
	} {
		b.Run(c.name, func(b *testing.B) {
			timeQueries(b, func(i int) error {
				q := cloud.ReportQuery{From: c.from, To: insightNow, By: cloud.ReportDims[i%len(cloud.ReportDims)]}
				_, err := s.ReturnsReport(ctx, c.scope, q)
				return err
			})
		})
	}
	for _, c := range []struct {
		name  string
		scope cloud.Scope
	}{
		{"stuck/scope=merchant", cloud.MerchantScope("m-07")},
		{"stuck/scope=network", cloud.Network},
	} {
		b.Run(c.name, func(b *testing.B) {
			query := func(i int) cloud.StuckQuery {
				return cloud.StuckQuery{Stage: cloud.Stages[i%len(cloud.Stages)], Before: insightNow.Add(-cloud.DefaultStuckAfter), Limit: cloud.MaxStuckParcels}
			}
			var ps []cloud.StuckParcel
			listed := 0
			timeQueries(b, func(i int) (err error) {
				ps, err = s.StuckParcels(ctx, c.scope, query(i))
				listed += len(ps)
				return err
			}, func(i int) error { return l.checkStuck(c.scope, query(i), ps) })
			b.ReportMetric(float64(listed)/float64(b.N), "parcels/list")
		})
	}
}

// timeQueries runs query b.N times and reports the median and the 99th
// percentile (nearest rank) of its durations in milliseconds; check, if
// given, checks each answer, outside the time.
func timeQueries(b *testing.B, query func(i int) error, check ...func(i int) error) {
	ds := make([]time.Duration, b.N)
	for i := range b.N {
		start := time.Now()
		if err := query(i); err != nil {
			b.Fatal(err)
		}
		ds[i] = time.Since(start)
		for _, fn := range check {
			if err := fn(i); err != nil {
				b.Fatal(err)
			}
		}
	}
	slices.Sort(ds)
	rank := func(pct int) time.Duration { return ds[(len(ds)*pct+99)/100-1] }
	b.ReportMetric(float64(rank(50).Microseconds())/1000, "p50_ms")
	b.ReportMetric(float64(rank(99).Microseconds())/1000, "p99_ms")
}
