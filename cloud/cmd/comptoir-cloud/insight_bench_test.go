package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/comptoir/comptoir/cloud"
	"github.com/comptoir/comptoir/edge"
)

// returnsLoad is BenchmarkIngestInsight's load: a relay point's day, the
// same for every terminal, with merchants' returns among the carriers'
// parcels, so that every write of the returns insight happens at ingest.
// Its proportions are those of storetest's insight benchmark (its network's
// three months, makeInsightLoad), as a terminal's uplink sends them: one
// parcel in five is a merchant's return, issued before (the Issuer, as
// POST /v1/returns does) and deposited naming its RA, or, one return in
// ten, received in store with its items graded (dispositions) and a
// refund or an exchange; one return in ten is first refused at the
// counter (an expired code, journalled); the other four parcels are
// carriers' (no return). The day's parcels are dropped off first, then the
// driver takes them (handed over), all but one in twenty (left on the
// shelf: the stuck list's). The carriers' and warehouses' steps of the
// returns come after, through the API (POST /v1/events, the merchants'
// partner keys): half the returns handed over are scanned in transit, one
// in four reaches the merchant's warehouse, one in eight is refunded or
// exchanged there. With 256 events a terminal: 129 parcels (26 returns,
// 2 of them in store, 3 refused first), 123 handovers, 1 more carrier's
// deposit; 24 partner events (13 in transit, 7 at the warehouse, 4
// resolved).
type returnsLoad struct {
	terminals int
	day       []daySlot
	returns   int // a terminal's
	// issued[i][term][r] is the r-th return of terminal term in
	// iteration i.
	issued [][][]cloud.Return
	// partnerKeys are the merchants' partner keys, operatorKey the
	// network's.
	partnerKeys map[string]string
	operatorKey string
}

// daySlot is an event of a terminal's day: its type and its parcel (the
// p-th of the day; its return's number r when it is one, else -1).
type daySlot struct {
	typ  edge.OpType
	p, r int
}

// Merchants of returnsLoad.
const loadMerchants = 20

// newReturnsLoad plans a day of events for each of terminals.
func newReturnsLoad(terminals, events int) *returnsLoad {
	l := &returnsLoad{terminals: terminals}
	isReturn := func(p int) bool { return p%5 == 0 }
	refused := func(r int) bool { return r%10 == 4 }
	handed := func(p int) bool { return p%20 != 19 }
	count := func(parcels int) int {
		n := 0
		for p := range parcels {
			n++
			if isReturn(p) && refused(p/5) {
				n++
			}
			if handed(p) {
				n++
			}
		}
		return n
	}
	parcels := 0
	for count(parcels+1) <= events {
		parcels++
	}
	for p := range parcels {
		switch {
		case !isReturn(p):
			l.day = append(l.day, daySlot{edge.OpReturnDeposited, p, -1})
		case p/5%10 == 9:
			l.day = append(l.day, daySlot{edge.OpInstoreReceived, p, p / 5})
		default:
			if refused(p / 5) {
				l.day = append(l.day, daySlot{edge.OpReturnRefused, p, p / 5})
			}
			l.day = append(l.day, daySlot{edge.OpReturnDeposited, p, p / 5})
		}
	}
	l.returns = (parcels + 4) / 5
	for p := range parcels {
		if handed(p) {
			r := -1
			if isReturn(p) {
				r = p / 5
			}
			l.day = append(l.day, daySlot{edge.OpParcelHandedOver, p, r})
		}
	}
	for p := parcels; len(l.day) < events; p++ {
		l.day = append(l.day, daySlot{edge.OpReturnDeposited, p, -1})
	}
	return l
}

// merchant returns the merchant of return r of terminal term.
func (l *returnsLoad) merchant(term, r int) string {
	return fmt.Sprintf("m-%02d", (term+r)%loadMerchants)
}

// tracking returns the tracking number of parcel p of terminal term in
// iteration i (15 characters: no S10 check digit).
func (l *returnsLoad) tracking(i, term, p int, ret bool) string {
	kind := "IC"
	if ret {
		kind = "IR"
	}
	return fmt.Sprintf("%s%02d%04d%05dFR", kind, i%100, term, p)
}

// setup makes in s, through the cloud's use cases as the API does, the
// merchants (their signing keys, issuer and partner keys), an operator
// key, and the returns of iterations iterations, 64 at once.
func (l *returnsLoad) setup(b *testing.B, s cloud.Store, iterations int) {
	ctx := context.Background()
	trust := &cloud.Trust{Store: s}
	ms := &cloud.Merchants{Store: s, Trust: trust}
	l.partnerKeys = map[string]string{}
	for m := range loadMerchants {
		id := fmt.Sprintf("m-%02d", m)
		if _, _, err := ms.Create(ctx, id, "Shop "+id); err != nil {
			b.Fatal(err)
		}
		key, err := ms.AddAPIKey(ctx, id, cloud.RolePartner, "carrier of "+id)
		if err != nil {
			b.Fatal(err)
		}
		l.partnerKeys[id] = key
	}
	var err error
	if l.operatorKey, err = ms.AddAPIKey(ctx, "", cloud.RoleOperator, "bench"); err != nil {
		b.Fatal(err)
	}
	is := &cloud.Issuer{Store: s, Trust: trust}
	reasons := []string{edge.ReasonChangedMind, edge.ReasonWrongSize, edge.ReasonDamaged, edge.ReasonDefective, edge.ReasonNotAsDescribed, edge.ReasonOther}
	l.issued = make([][][]cloud.Return, iterations)
	type job struct{ i, term int }
	jobs := make(chan job)
	errs := make(chan error, 64)
	var wg sync.WaitGroup
	for range 64 {
		wg.Go(func() {
			for j := range jobs {
				for r := range l.returns {
					req := cloud.ReturnRequest{Tracking: l.tracking(j.i, j.term, r*5, true), Carrier: []string{"DEMO", "UPS", "COLISSIMO"}[r%3]}
					for k := range 1 + r%2 {
						req.Items = append(req.Items, edge.Item{SKU: fmt.Sprintf("SKU-%03d", (j.term*7+r+k)%200), Qty: 1, Reason: reasons[(r+k)%len(reasons)]})
					}
					ret, err := is.CreateReturn(ctx, l.merchant(j.term, r), req)
					if err != nil {
						errs <- err
						return
					}
					l.issued[j.i][j.term][r] = ret
				}
			}
		})
	}
	for i := range iterations {
		l.issued[i] = make([][]cloud.Return, l.terminals)
		for term := range l.terminals {
			l.issued[i][term] = make([]cloud.Return, l.returns)
		}
	}
	go func() {
		defer close(jobs)
		for i := range iterations {
			for term := range l.terminals {
				select {
				case jobs <- job{i, term}:
				case <-errs:
					return
				}
			}
		}
	}()
	wg.Wait()
	select {
	case err := <-errs:
		b.Fatalf("issue returns: %v", err)
	default:
	}
}

// events returns loadgen's Config.Events for iteration i: the terminal's
// day, one event a millisecond.
func (l *returnsLoad) events(i int) func(term, first, last int, base time.Time) []edge.Operation {
	return func(term, first, last int, base time.Time) []edge.Operation {
		evs := make([]edge.Operation, 0, last-first+1)
		for q := first; q <= last; q++ {
			evs = append(evs, l.op(i, term, l.day[q-1], base.Add(time.Duration(q)*time.Millisecond)))
		}
		return evs
	}
}

// op is the event of slot d of terminal term in iteration i, at.
func (l *returnsLoad) op(i, term int, d daySlot, at time.Time) edge.Operation {
	var ret cloud.Return
	if d.r >= 0 {
		ret = l.issued[i][term][d.r]
	}
	tracking := l.tracking(i, term, d.p, d.r >= 0)
	var data any
	switch d.typ {
	case edge.OpReturnRefused:
		tracking, data = "", edge.RefusedData{Reason: edge.RefusalCode("EXPIRED"), Digest: "ab12"}
	case edge.OpInstoreReceived:
		in := edge.InstoreData{RAID: ret.ID, Resolution: l.resolution(d.r)}
		for k, it := range ret.Items {
			in.Items = append(in.Items, edge.InstoreItem{SKU: it.SKU, Qty: it.Qty, Reason: it.Reason, Condition: edge.ConditionOpened,
				Disposition: []edge.Disposition{edge.DispositionRestock, edge.DispositionRefurbish}[k%2]})
		}
		data = in
	case edge.OpParcelHandedOver:
		data = edge.HandedOverData{ManifestID: fmt.Sprintf("mf-%d", term), Carrier: "DEMO"}
	default:
		dd := edge.DepositData{Verified: true, Mode: edge.ModeLabelAtCounter, WeightG: 1200, ReceiptID: fmt.Sprintf("r-%d", d.p), ShelfSlot: "A1"}
		if d.r >= 0 {
			dd.RAID, dd.Items = ret.ID, ret.Items
		}
		data = dd
	}
	return edge.NewOperation(d.typ, at, "loadgen", tracking, data)
}

// resolution is the resolution of return r when it is received in store
// (every other one a refund).
func (l *returnsLoad) resolution(r int) edge.Resolution {
	return []edge.Resolution{edge.ResolutionRefund, edge.ResolutionExchange}[r/10%2]
}

// resolved is the partner's resolution of return r when it has one (every
// other one a refund).
func (l *returnsLoad) resolved(r int) cloud.Status {
	return []cloud.Status{cloud.StatusRefunded, cloud.StatusExchanged}[r/8%2]
}

// partnerPhases returns the partner events of iteration i at at, by
// merchant, in three phases (in transit, at the warehouse, refunded or
// exchanged), each phase's after the one before.
func (l *returnsLoad) partnerPhases(i int, at time.Time) [3]map[string][]cloud.PartnerEvent {
	var out [3]map[string][]cloud.PartnerEvent
	for k := range out {
		out[k] = map[string][]cloud.PartnerEvent{}
	}
	for _, d := range l.day {
		if d.typ != edge.OpParcelHandedOver || d.r < 0 {
			continue
		}
		for term := range l.terminals {
			m, tr := l.merchant(term, d.r), l.tracking(i, term, d.p, true)
			add := func(k int, st cloud.Status) {
				out[k][m] = append(out[k][m], cloud.PartnerEvent{ID: fmt.Sprintf("%s-%d", tr, k), Tracking: tr, Status: st, OccurredAt: at.Add(time.Duration(k) * time.Second), Location: "hub"})
			}
			if d.r%2 == 0 {
				add(0, cloud.StatusInTransit)
			}
			if d.r%4 == 0 {
				add(1, cloud.StatusReceivedAtWarehouse)
			}
			if d.r%8 == 0 {
				add(2, l.resolved(d.r))
			}
		}
	}
	return out
}

// settle asks the cloud at base for a report of a day with no returns:
// a store that folds its insight's steps later (PostgreSQL) folds what
// is pending first, so that the fold's cost is measured with the
// ingest's (on both sides of insight=on/off: the report reads nothing).
func (l *returnsLoad) settle(b *testing.B, base string) {
	var rep struct{ Rows []cloud.ReportRow }
	if err := apiCall(http.MethodGet, base+"/v1/reports/returns?by=carrier&from=2000-01-01&to=2000-01-01", l.operatorKey, nil, &rep); err != nil {
		b.Fatal(err)
	}
}

// postPartners posts iteration i's partner events to the cloud at base
// (an http:// URL), in batches of 50 from 16 callers, a phase after the
// other, and returns how many were added.
func (l *returnsLoad) postPartners(b *testing.B, base string, i int) int64 {
	var added int64
	for _, phase := range l.partnerPhases(i, time.Now().UTC()) {
		type batch struct {
			key    string
			events []cloud.PartnerEvent
		}
		var batches []batch
		for m, evs := range phase {
			for len(evs) > 0 {
				n := min(cloud.MaxPartnerEvents/10, len(evs))
				batches = append(batches, batch{l.partnerKeys[m], evs[:n]})
				evs = evs[n:]
			}
		}
		var mu sync.Mutex
		var wg sync.WaitGroup
		next := make(chan batch)
		errs := make(chan error, 16)
		for range 16 {
			wg.Go(func() {
				for bt := range next {
					var res cloud.PartnerResult
					if err := apiCall(http.MethodPost, base+"/v1/events", bt.key, map[string]any{"events": bt.events}, &res); err != nil {
						errs <- err
						return
					}
					if len(res.Refused) > 0 {
						errs <- fmt.Errorf("partner event refused: %+v", res.Refused[0])
						return
					}
					mu.Lock()
					added += int64(res.Added)
					mu.Unlock()
				}
			})
		}
	feed:
		for _, bt := range batches {
			select {
			case next <- bt:
			case err := <-errs:
				errs <- err
				break feed
			}
		}
		close(next)
		wg.Wait()
		select {
		case err := <-errs:
			b.Fatal(err)
		default:
		}
	}
	return added
}

// check asks the cloud at base for the network's report of the returns
// (and, with the insight, of the refusals) and fails unless it counts
// what iterations iterations sent with the insight on, and nothing with it
// off: so that insight=on and insight=off measure what they say.
func (l *returnsLoad) check(b *testing.B, base string, iterations int, on bool) {
	day := func(d int) string { return time.Now().UTC().AddDate(0, 0, d).Format(time.DateOnly) }
	var rep struct{ Rows []cloud.ReportRow }
	if err := apiCall(http.MethodGet, base+"/v1/reports/returns?by=carrier&from="+day(-1)+"&to="+day(1), l.operatorKey, nil, &rep); err != nil {
		b.Fatal(err)
	}
	var got cloud.ReportRow
	for _, r := range rep.Rows {
		got.Returns, got.Deposited, got.ReceivedInStore = got.Returns+r.Returns, got.Deposited+r.Deposited, got.ReceivedInStore+r.ReceivedInStore
		got.HandedOver, got.ReceivedAtWarehouse = got.HandedOver+r.HandedOver, got.ReceivedAtWarehouse+r.ReceivedAtWarehouse
		got.Refunded, got.Exchanged = got.Refunded+r.Refunded, got.Exchanged+r.Exchanged
	}
	var want cloud.ReportRow
	var refusals int64
	if on {
		n := int64(iterations * l.terminals)
		for _, d := range l.day {
			if d.r < 0 {
				continue
			}
			switch d.typ {
			case edge.OpReturnRefused:
				refusals += n
			case edge.OpReturnDeposited:
				want.Returns, want.Deposited = want.Returns+n, want.Deposited+n
			case edge.OpInstoreReceived:
				want.Returns, want.ReceivedInStore = want.Returns+n, want.ReceivedInStore+n
				if l.resolution(d.r) == edge.ResolutionRefund {
					want.Refunded += n
				} else {
					want.Exchanged += n
				}
			case edge.OpParcelHandedOver:
				want.HandedOver += n
				if d.r%4 == 0 {
					want.ReceivedAtWarehouse += n
				}
				if d.r%8 == 0 && l.resolved(d.r) == cloud.StatusRefunded {
					want.Refunded += n
				} else if d.r%8 == 0 {
					want.Exchanged += n
				}
			}
		}
	}
	if got != want {
		b.Fatalf("insight=%v: the report counts %+v, want %+v", on, got, want)
	}
	if !on {
		return
	}
	var ref struct{ Rows []cloud.RefusalRow }
	if err := apiCall(http.MethodGet, base+"/v1/reports/refusals?from="+day(-1)+"&to="+day(1), l.operatorKey, nil, &ref); err != nil {
		b.Fatal(err)
	}
	var gotRefusals int64
	for _, r := range ref.Rows {
		gotRefusals += r.Refusals
	}
	if gotRefusals != refusals {
		b.Fatalf("the refusals report counts %d, want %d", gotRefusals, refusals)
	}
}

// apiCall sends body as JSON with key and decodes the answer into out; an
// answer other than 2xx is an error.
func apiCall(method, url, key string, body, out any) error {
	var rd io.Reader
	if body != nil {
		data, err := json.Marshal(body)
		if err != nil {
			return err
		}
		rd = bytes.NewReader(data)
	}
	req, err := http.NewRequest(method, url, rd)
	if err != nil {
		return err
	}
	req.Header.Set("Authorization", "Bearer "+key)
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	if err != nil {
		return err
	}
	if resp.StatusCode/100 != 2 {
		return fmt.Errorf("%s %s: %s: %s", method, url, resp.Status, data)
	}
	return json.Unmarshal(data, out)
}
