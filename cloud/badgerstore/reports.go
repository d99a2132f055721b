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
// records only the step (or the new return's facts) in its record (i/,
// insightlog.go); the fold applies the steps to the facts, in order, and
// computes the counters' changes, later and many at once.

func factsKey(tracking string) []byte { return appendFactsKey(nil, tracking) }

func appendFactsKey(b []byte, tracking string) []byte { return append(append(b, "f/"...), tracking...) }

// countsPrefix returns the prefix of the a/ keys of by and merchant, of
// its length: keys are appended to it.
func countsPrefix(by cloud.ReportBy, merchant string) []byte {
	return slices.Clip(appendCountsPrefix(nil, by, merchant))
}

func appendCountsPrefix(b []byte, by cloud.ReportBy, merchant string) []byte {
	b = append(append(append(b, "a/"...), by...), 0)
	return append(append(b, merchant...), 0)
}

// insightStep records in in the step st of parcel next, unless the store
// keeps no insight or the parcel is of no return (no merchant). (The
// index of stuck parcels is in memory, moved once the transaction
// committed: stuck.go.)
func (s *Store) insightStep(in *insight, next cloud.Parcel, st cloud.PendingStep) {
	if !s.insight || next.Merchant == "" {
		return
	}
	in.steps = append(in.steps, st)
}

// reportReturn records the facts of a new return, r, in the record of
// the transaction txn of out (insightlog.go); the fold counts it.
func (s *Store) reportReturn(txn *badger.Txn, out *outTxn, r cloud.Return) error {
	if !s.insight {
		return nil
	}
	in := s.newInsight()
	in.created = map[string]cloud.ReturnFacts{r.Tracking: cloud.NewReturnFacts(r)}
	out.insight = in
	return in.flush(txn)
}

// newInsight returns the insight of a transaction that writes a record.
func (s *Store) newInsight() *insight { return &insight{log: s.log} }

// countsID names a counter (a/ key) without making its key: a fold adds
// every step's change to the counters of its rows, and made a key (a
// string) for each before.
type countsID struct {
	by       cloud.ReportBy
	merchant string
	day      uint64 // timeKey of the day
	key      string
}

func (id countsID) bytes() []byte { return id.appendKey(nil) }

// appendKey appends the a/ key of id to b (a fold appends its keys to
// one buffer).
func (id countsID) appendKey(b []byte) []byte {
	return append(be8(appendCountsPrefix(b, id.by, id.merchant), id.day), id.key...)
}

// reportCounts gathers the changes of counters in a fold, so that the
// steps it folds, which mostly share their merchant, day and keys, read
// and write each counter once.
type reportCounts map[countsID]*cloud.ReportSum

// insight gathers what a transaction changes of the returns insight,
// written once at its end as a record (flush); a record decoded
// (decodeRecord) is one too, until folded.
type insight struct {
	created map[string]cloud.ReturnFacts // new returns' facts, by tracking
	steps   []cloud.PendingStep          // in their order, after created
	// facts and counts are what a record of version 1 or 2 holds: the
	// facts it left and the change of the counters (and the counters a
	// rebuild gathers, migrate.go).
	facts      map[string]cloud.ReturnFacts
	counts     reportCounts
	statements map[string]*cloud.StatementCounts
	refusals   map[string]uint64 // R/ key -> refusals to add (refusals.go)
	// log numbers the records (under the outbox's lock); seq is the
	// number of the transaction's record, 0 for none.
	log *insightLog
	seq uint64
}

// items is how many returns in may change the facts of, at most.
func (in *insight) items() int { return len(in.created) + len(in.steps) + len(in.facts) }

// flush writes the new returns, the steps and the statements' and
// refusals' changes as a record (insightlog.go).
func (in *insight) flush(txn *badger.Txn) error {
	return in.log.writeRecord(txn, in)
}

func (in *insight) addStatement(key string, d cloud.StatementCounts) {
	if in.statements == nil {
		in.statements = map[string]*cloud.StatementCounts{}
	}
	c := in.statements[key]
	if c == nil {
		c = &cloud.StatementCounts{}
		in.statements[key] = c
	}
	c.Add(d)
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
	rc.sum(countsID{by: k.By, merchant: f.Merchant, day: timeKey(f.Day()), key: k.Key}).Add(d)
}

// addSum adds d, the change of counter id, to rc.
func (rc *reportCounts) addSum(id countsID, d *cloud.ReportSum) { addSum(rc.sum(id), d) }

// sum returns the change of counter id gathered in rc, made zero first.
func (rc *reportCounts) sum(id countsID) *cloud.ReportSum {
	if *rc == nil {
		*rc = reportCounts{}
	}
	sum := (*rc)[id]
	if sum == nil {
		sum = &cloud.ReportSum{}
		(*rc)[id] = sum
	}
	return sum
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
