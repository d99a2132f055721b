package badgerstore

import (
	"bytes"
	"context"

	"github.com/dgraph-io/badger/v4"

	"github.com/comptoir/comptoir/cloud"
)

// foldFacts is a return's facts as a fold's steps leave them.
type foldFacts struct {
	f       cloud.ReturnFacts
	found   bool               // stored: a return counted by reports
	changed bool               // to be written
	cached  *cloud.ReturnFacts // what insightLog.folded holds, if it held them
}

// storedCounts is a counter a fold wrote, as a/ holds it.
type storedCounts struct {
	id countsID
	b  []byte
}

// folding is what one fold transaction gathers. Its work a step
// allocates nothing but a new counter's sum and value: a fold's facts are
// in one array (slab), sized for the records' items; one closure (add)
// counts every step's changes, for the return cur of day; the keys and
// the facts' values written are appended to one buffer (buf), which
// Badger holds until the commit. (The facts, keys and values allocated
// one by one were 4 of the 24 allocations a step of BenchmarkFold; most
// of the rest are Badger's, a key written.)
type folding struct {
	facts  map[string]*foldFacts
	slab   []foldFacts
	counts reportCounts
	cur    *foldFacts
	day    uint64 // timeKey of cur's day
	add    func(cloud.ReportKey, cloud.ReportDelta)
	buf    []byte
	reads  int // f/ and a/ keys read
}

func newFolding(rs []*insight, counters int) *folding {
	items := 0
	for _, in := range rs {
		items += in.items()
	}
	g := &folding{facts: make(map[string]*foldFacts, items), slab: make([]foldFacts, 0, items),
		counts: make(reportCounts, counters), buf: make([]byte, 0, 128*items)}
	g.add = func(k cloud.ReportKey, d cloud.ReportDelta) {
		g.counts.sum(countsID{by: k.By, merchant: g.cur.f.Merchant, day: g.day, key: k.Key}).Add(d)
	}
	return g
}

// newFacts returns the fold's facts of tracking, zero. An item of the
// records makes one at most, so the slab holds them all; a new array
// would do as well (the facts are only referred to, never moved).
func (g *folding) newFacts(tracking string) *foldFacts {
	if len(g.slab) == cap(g.slab) {
		g.slab = make([]foldFacts, 0, 64)
	}
	g.slab = append(g.slab, foldFacts{})
	ff := &g.slab[len(g.slab)-1]
	g.facts[tracking] = ff
	return ff
}

// counting makes ff the return whose changes add counts.
func (g *folding) counting(ff *foldFacts) {
	g.cur, g.day = ff, timeKey(ff.f.Day())
}

// set writes key and value, the last bytes appended to buf (value from
// v on), in txn.
func (g *folding) set(txn *badger.Txn, k, v int) error {
	end := len(g.buf)
	return txn.Set(g.buf[k:v:v], g.buf[v:end:end])
}

// steps applies the steps to the returns' facts, from the fold's own,
// else from memory, else from f/ (in txn), and counts their changes.
func (g *folding) steps(txn *badger.Txn, l *insightLog, steps []cloud.PendingStep) error {
	for i := range steps {
		st := &steps[i]
		ff := g.facts[st.Tracking]
		if ff == nil {
			ff = g.newFacts(st.Tracking)
			if f := l.folded[st.Tracking]; f != nil {
				ff.f, ff.found, ff.cached = *f, true, f
			} else {
				g.reads++
				if err := readValue(txn, factsKey(st.Tracking), func(b []byte) error { ff.found = true; return decodeFacts(b, &ff.f) }); err != nil {
					return err
				}
			}
		}
		if !ff.found {
			continue // a return stored before reports existed
		}
		g.counting(ff)
		if ff.f.ObserveEach(st.ReportStep(), g.add) {
			ff.changed = true
		}
	}
	return nil
}

// foldTxn folds the records rs, the first not folded, in one
// transaction (see insightlog.go), under l.mu; it returns what it wrote,
// for the memory of the next folds.
func (s *Store) foldTxn(ctx context.Context, rs []*insight) (map[string]*foldFacts, []storedCounts, error) {
	l := s.log
	var g *folding
	var written []storedCounts
	err := s.update(ctx, func(txn *badger.Txn) error {
		g = newFolding(rs, l.counters)
		statements := &insight{refusals: map[string]uint64{}}
		for _, in := range rs {
			for tracking, f := range in.facts { // a record of version 1 or 2
				*g.newFacts(tracking) = foldFacts{f: f, found: true, changed: true}
			}
			for id, d := range in.counts {
				g.counts.addSum(id, d)
			}
			for tracking, f := range in.created {
				ff := g.newFacts(tracking)
				*ff = foldFacts{f: f, found: true, changed: true}
				g.counting(ff)
				ff.f.CreatedEach(g.add)
			}
			if err := g.steps(txn, l, in.steps); err != nil {
				return err
			}
			for key, d := range in.statements {
				statements.addStatement(key, *d)
			}
			for key, n := range in.refusals {
				statements.refusals[key] += n
			}
		}
		for tracking, ff := range g.facts {
			if ff.changed {
				k := len(g.buf)
				g.buf = appendFactsKey(g.buf, tracking)
				v := len(g.buf)
				g.buf = appendFacts(g.buf, &ff.f)
				if err := g.set(txn, k, v); err != nil {
					return err
				}
			}
		}
		var err error
		if written, err = g.writeCounts(txn, l); err != nil {
			return err
		}
		for key, d := range statements.statements {
			if err := addStored(txn, key, d); err != nil {
				return err
			}
		}
		if err := addRefusals(txn, statements.refusals); err != nil {
			return err
		}
		for _, in := range rs {
			if err := txn.Delete(insightLogKey(in.seq)); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return nil, nil, err
	}
	l.reads, l.counters = l.reads+g.reads, len(written)
	return g.facts, written, nil
}

// writeCounts adds the changes of the counters to what they hold and
// writes them. A counter folded lately is read from memory, not from a/:
// those reads were half of a fold's time.
func (g *folding) writeCounts(txn *badger.Txn, l *insightLog) ([]storedCounts, error) {
	written := make([]storedCounts, 0, len(g.counts))
	var enc []byte
	for id, c := range g.counts {
		k := len(g.buf)
		g.buf = id.appendKey(g.buf)
		v := len(g.buf)
		if b, ok := l.stored[id]; ok {
			if err := addEncoded(c, b); err != nil {
				return nil, err
			}
		} else {
			g.reads++
			if err := readValue(txn, g.buf[k:v:v], func(b []byte) error { return addEncoded(c, b) }); err != nil {
				return nil, err
			}
		}
		// The value stays in memory (insightLog.stored): its own
		// array, of its size.
		enc = appendCounts(enc[:0], c)
		b := bytes.Clone(enc)
		if err := txn.Set(g.buf[k:v:v], b); err != nil {
			return nil, err
		}
		written = append(written, storedCounts{id, b})
	}
	return written, nil
}

// remember keeps in memory the facts and counters a fold wrote (or
// read), as f/ and a/ now hold them, under l.mu.
func (l *insightLog) remember(facts map[string]*foldFacts, written []storedCounts) {
	for _, w := range written {
		if _, ok := l.stored[w.id]; !ok && len(l.stored) >= cachedCounts {
			for k := range l.stored { // any one
				delete(l.stored, k)
				break
			}
		}
		l.stored[w.id] = w.b
	}
	for tracking, ff := range facts {
		switch {
		case !ff.found:
		case ff.cached != nil:
			// In place, without a look-up (if this loop let it go,
			// it is lost: the next fold reads f/).
			*ff.cached = ff.f
		default:
			if _, ok := l.folded[tracking]; !ok && len(l.folded) >= cachedFacts {
				for k := range l.folded { // any one
					delete(l.folded, k)
					break
				}
			}
			f := ff.f
			l.folded[tracking] = &f
		}
	}
}
