package badgerstore

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/dgraph-io/badger/v4"

	"github.com/comptoir/comptoir/cloud"
)

// Reports (issue 15) are answered from counters kept as the data comes in,
// never from a scan of the events:
//
//	f/{tracking}                                  -> cloud.ReturnFacts JSON of a return's parcel
//	a/{by}\x00{merchant}\x00{day:8}{key}          -> cloud.ReportCounts (countscodec.go)
//
// A return's creation, and each step of its parcel that agrees with it
// (a terminal's event in the commit loop, a partner's event), update its
// facts and add their change to the counters of its merchant, its day of
// creation and each of its rows, in the transaction that stores the step.

func factsKey(tracking string) []byte { return []byte("f/" + tracking) }

func countsPrefix(by cloud.ReportBy, merchant string) []byte {
	return []byte("a/" + string(by) + "\x00" + merchant + "\x00")
}

func countsKey(by cloud.ReportBy, merchant string, day time.Time, key string) []byte {
	return append(be8(countsPrefix(by, merchant), timeKey(day)), key...)
}

// insightStep adds the change a step of a parcel (to next) makes to its
// return's counters to counts, unless the store keeps no insight. (The
// index of stuck parcels is in memory, moved once the transaction
// committed: stuck.go.)
func (s *Store) insightStep(txn *badger.Txn, counts *reportCounts, next cloud.Parcel, st func() cloud.ReportStep) error {
	if !s.insight {
		return nil
	}
	return reportStep(txn, counts, next, st)
}

// reportReturn keeps the facts of a new return and counts it.
func (s *Store) reportReturn(txn *badger.Txn, r cloud.Return) error {
	if !s.insight {
		return nil
	}
	f := cloud.NewReturnFacts(r)
	if err := txn.Set(factsKey(r.Tracking), encodeFacts(&f)); err != nil {
		return err
	}
	var counts reportCounts
	counts.add(f, f.CreatedCounts())
	return counts.flush(txn)
}

// reportStep applies a step of parcel p to its return's facts and adds
// the change to counts. A parcel of no return (no merchant), or of a
// return stored before reports existed (no facts), is not counted.
func reportStep(txn *badger.Txn, counts *reportCounts, p cloud.Parcel, st func() cloud.ReportStep) error {
	if p.Merchant == "" {
		return nil
	}
	var f cloud.ReturnFacts
	found := false
	if err := readValue(txn, factsKey(p.Tracking), func(b []byte) error { found = true; return decodeFacts(b, &f) }); err != nil || !found {
		return err
	}
	d := f.Observe(st())
	if len(d) == 0 {
		return nil
	}
	counts.add(f, d)
	return txn.Set(factsKey(p.Tracking), encodeFacts(&f))
}

// reportCounts gathers the changes of counters in a transaction, so that
// the steps of a group commit, which mostly share their merchant, day and
// keys, read and write each counter once.
type reportCounts map[string]*cloud.ReportCounts

// insight gathers, in a group commit's transaction, the changes of the
// reports' counters and of the relay points' statements, written once
// each at the end (flush).
type insight struct {
	counts     reportCounts
	statements map[string]*cloud.StatementCounts
	refusals   map[string]uint64 // R/ key -> refusals to add (refusals.go)
}

// flush adds the changes gathered to the stored counters.
func (in *insight) flush(txn *badger.Txn) error {
	if err := in.counts.flush(txn); err != nil {
		return err
	}
	for key, d := range in.statements {
		if err := addStored(txn, key, d); err != nil {
			return err
		}
	}
	return in.flushRefusals(txn)
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

func (rc *reportCounts) add(f cloud.ReturnFacts, deltas map[cloud.ReportKey]cloud.ReportCounts) {
	if *rc == nil {
		*rc = reportCounts{}
	}
	for k, d := range deltas {
		key := string(countsKey(k.By, f.Merchant, f.Day(), k.Key))
		if (*rc)[key] == nil {
			(*rc)[key] = &cloud.ReportCounts{}
		}
		(*rc)[key].Add(d)
	}
}

// flush adds the changes gathered to the stored counters (countscodec.go).
func (rc reportCounts) flush(txn *badger.Txn) error {
	for key, d := range rc {
		if err := readValue(txn, []byte(key), func(b []byte) error { return addEncoded(d, b) }); err != nil {
			return err
		}
		if err := txn.Set([]byte(key), encodeCounts(d)); err != nil {
			return err
		}
	}
	return nil
}

// ReturnsReport implements cloud.Store: the counters of each merchant in
// scope, over the days of q, summed by key.
func (s *Store) ReturnsReport(ctx context.Context, scope cloud.Scope, q cloud.ReportQuery) ([]cloud.ReportRow, error) {
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
	sums := map[string]*cloud.ReportCounts{}
	err := s.db.View(func(txn *badger.Txn) error {
		for _, m := range merchants {
			prefix := countsPrefix(q.By, m)
			end := be8(prefix, timeKey(q.To))
			it := txn.NewIterator(badger.IteratorOptions{Prefix: prefix, PrefetchValues: true, PrefetchSize: 64})
			for it.Seek(be8(prefix, timeKey(q.From))); it.Valid() && string(it.Item().Key()) < string(end); it.Next() {
				k := it.Item().Key()[len(prefix)+8:]
				sum := sums[string(k)]
				if sum == nil {
					sum = &cloud.ReportCounts{}
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
	for k, c := range sums {
		if c.N != ([len(c.N)]int64{}) {
			rows = append(rows, c.Row(k))
		}
	}
	slices.SortFunc(rows, func(a, b cloud.ReportRow) int { return strings.Compare(a.Key, b.Key) })
	return rows, nil
}
