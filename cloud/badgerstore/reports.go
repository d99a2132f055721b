package badgerstore

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/dgraph-io/badger/v4"

	"github.com/comptoir/comptoir/cloud"
)

// Reports (issue 15) are answered from counters kept as the data comes in,
// never from a scan of the events:
//
//	f/{tracking}                                  -> cloud.ReturnFacts of a return's parcel (factscodec.go)
//	a/{by}\x00{merchant}\x00{day:8}{key}          -> cloud.ReportCounts (countscodec.go)
//
// A return's creation, and each step of its parcel that agrees with it
// (a terminal's event in the commit loop, a partner's event), update its
// facts and add their change to the counters of its merchant, its day of
// creation and each of its rows. The transaction that stores the step
// writes both as one record (i/, insightlog.go), folded into these keys
// later; a group commit (events.go) records each return's facts and each
// counter once, however many of its steps touch them.

func factsKey(tracking string) []byte { return []byte("f/" + tracking) }

func countsPrefix(by cloud.ReportBy, merchant string) []byte {
	return []byte("a/" + string(by) + "\x00" + merchant + "\x00")
}

// insightStep adds the change a step of a parcel (to next) makes to its
// return's facts and counters to in, unless the store keeps no insight.
// (The index of stuck parcels is in memory, moved once the transaction
// committed: stuck.go.)
func (s *Store) insightStep(txn *badger.Txn, in *insight, next cloud.Parcel, st func() cloud.ReportStep) error {
	if !s.insight {
		return nil
	}
	return in.reportStep(txn, next, st)
}

// reportReturn keeps the facts of a new return and counts it: a record
// of the transaction txn of out (insightlog.go).
func (s *Store) reportReturn(txn *badger.Txn, out *outTxn, r cloud.Return) error {
	if !s.insight {
		return nil
	}
	in := s.newInsight()
	gf := &groupFacts{f: cloud.NewReturnFacts(r), found: true, changed: true}
	in.facts = map[string]*groupFacts{r.Tracking: gf}
	gf.f.CreatedEach(in.counts.adder(&gf.f))
	out.insight = in
	return in.flush(txn)
}

// newInsight returns the insight of a transaction that writes a record.
func (s *Store) newInsight() *insight { return &insight{log: s.log} }

// reportStep applies a step of parcel p to its return's facts and adds
// the change to the group's counters. A parcel of no return (no
// merchant), or of a return stored before reports existed (no facts), is
// not counted. The facts are read once in a group and written once, at
// its end (flush), however many of the return's steps it holds.
func (in *insight) reportStep(txn *badger.Txn, p cloud.Parcel, st func() cloud.ReportStep) error {
	if p.Merchant == "" {
		return nil
	}
	gf := in.facts[p.Tracking]
	if gf == nil {
		gf = &groupFacts{}
		if f, ok := in.log.lookup(p.Tracking); ok { // a record, or a fold lately
			gf.f, gf.found = f, true
		} else if err := readValue(txn, factsKey(p.Tracking), func(b []byte) error { gf.found = true; return decodeFacts(b, &gf.f) }); err != nil {
			return err
		}
		if in.facts == nil {
			in.facts = map[string]*groupFacts{}
		}
		in.facts[p.Tracking] = gf
	}
	if !gf.found {
		return nil
	}
	// A step that changes the facts is stored even when it changes no
	// counter: a drop-off moved within its bucket changes the durations
	// counted from it at later steps.
	before, counted := gf.f, false
	gf.f.ObserveEach(st(), func(k cloud.ReportKey, d cloud.ReportDelta) {
		counted = true
		in.counts.add(&gf.f, k, d)
	})
	gf.changed = gf.changed || counted || !gf.f.Same(before)
	return nil
}

// groupFacts are a return's facts as a group commit's steps left them.
type groupFacts struct {
	f       cloud.ReturnFacts
	found   bool // stored: a return counted by reports
	changed bool // to be written
}

// countsID names a counter (a/ key) without making its key: the commit
// loop adds every step's change to the counters of its rows, and made a
// key (a string) for each before.
type countsID struct {
	by       cloud.ReportBy
	merchant string
	day      uint64 // timeKey of the day
	key      string
}

func (id countsID) bytes() []byte {
	return append(be8(countsPrefix(id.by, id.merchant), id.day), id.key...)
}

// reportCounts gathers the changes of counters in a transaction, so that
// the steps of a group commit, which mostly share their merchant, day and
// keys, read and write each counter once.
type reportCounts map[countsID]*cloud.ReportSum

// insight gathers, in a group commit's transaction, the changes of the
// returns' facts, the reports' counters and the relay points' statements,
// written once each at the end (flush).
type insight struct {
	facts      map[string]*groupFacts // by tracking
	counts     reportCounts
	statements map[string]*cloud.StatementCounts
	refusals   map[string]uint64 // R/ key -> refusals to add (refusals.go)
	// log holds the facts of the records not folded (read only here);
	// seq is the number of the transaction's record, 0 for none.
	log *insightLog
	seq uint64
}

// flush writes the facts changed, the counters', statements' and
// refusals' changes as a record (insightlog.go).
func (in *insight) flush(txn *badger.Txn) error {
	return in.log.writeRecord(txn, in)
}

// addStored adds d to the counter stored (as JSON) under key, zero when
// absent.
func addStored[T any, PT interface {
	*T
	Add(T)
}](txn *badger.Txn, key string, d PT) error {
	var c T
	if _, err := getJSON(txn, []byte(key), &c); err != nil {
		return err
	}
	PT(&c).Add(*d)
	return setJSON(txn, []byte(key), c)
}

// add adds d, the change of row k of the return of facts f, to rc.
func (rc *reportCounts) add(f *cloud.ReturnFacts, k cloud.ReportKey, d cloud.ReportDelta) {
	if *rc == nil {
		*rc = reportCounts{}
	}
	id := countsID{by: k.By, merchant: f.Merchant, day: timeKey(f.Day()), key: k.Key}
	sum := (*rc)[id]
	if sum == nil {
		sum = &cloud.ReportSum{}
		(*rc)[id] = sum
	}
	sum.Add(d)
}

// adder returns a function that adds the changes of the rows of the
// return of facts f to rc.
func (rc *reportCounts) adder(f *cloud.ReturnFacts) func(cloud.ReportKey, cloud.ReportDelta) {
	return func(k cloud.ReportKey, d cloud.ReportDelta) { rc.add(f, k, d) }
}

// ReturnsReport implements cloud.Store: the counters of each merchant in
// scope, over the days of q, summed by key.
func (s *Store) ReturnsReport(ctx context.Context, scope cloud.Scope, q cloud.ReportQuery) ([]cloud.ReportRow, error) {
	if err := s.fold(ctx); err != nil { // the records waiting count too
		return nil, err
	}
	merchants := []string{scope.Merchant}
	if scope.All() {
		ms, err := s.Merchants(ctx, cloud.Network)
		if err != nil {
			return nil, err
		}
		merchants = merchants[:0]
		for _, m := range ms {
			merchants = append(merchants, m.ID)
		}
	}
	sums := map[string]*cloud.ReportSum{}
	err := s.db.View(func(txn *badger.Txn) error {
		for _, m := range merchants {
			prefix := countsPrefix(q.By, m)
			end := be8(prefix, timeKey(q.To))
			it := txn.NewIterator(badger.IteratorOptions{Prefix: prefix, PrefetchValues: true, PrefetchSize: 64})
			for it.Seek(be8(prefix, timeKey(q.From))); it.Valid() && string(it.Item().Key()) < string(end); it.Next() {
				k := it.Item().Key()[len(prefix)+8:]
				sum := sums[string(k)]
				if sum == nil {
					sum = &cloud.ReportSum{}
					sums[string(k)] = sum
				}
				if err := it.Item().Value(func(b []byte) error { return addEncoded(sum, b) }); err != nil {
					it.Close()
					return err
				}
			}
			it.Close()
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("badgerstore: returns report: %w", err)
	}
	rows := make([]cloud.ReportRow, 0, len(sums))
	for k, sum := range sums {
		if sum.N != ([len(sum.N)]int64{}) {
			rows = append(rows, sum.Counts().Row(k))
		}
	}
	slices.SortFunc(rows, func(a, b cloud.ReportRow) int { return strings.Compare(a.Key, b.Key) })
	return rows, nil
}
