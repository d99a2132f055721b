package badgerstore

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/dgraph-io/badger/v4"

	"github.com/comptoir/comptoir/cloud"
)

// The returns' facts and the reports' counters (reports.go) are not
// written by the transactions that change them: each such transaction (a
// group commit, a return's creation, a partner's step) writes one record
// of what it changed instead, and the records are folded into the f/ and
// a/ keys later, many at once:
//
//	i/{seq:8}   -> the facts the transaction left to the returns it
//	               changed, the change of each counter, and those of the
//	               relay points' statements (b/) and refusals (R/)
//
// Reading and writing a return's facts and each counter in every group
// made ingest with the insight cost 1.64 times ingest without it
// (BenchmarkStoreReturnSteps); a record is one key, written without a read.
// The statements' and refusals' counters were still read and rewritten
// (as JSON) in every group; they are folded the same way.
// The facts the records hold are kept in memory until folded (insightLog),
// and the last cachedFacts folded after: a step reads its return's facts
// there first, then under f/ (which only folds write, and a rebuild at
// Open, before the cache exists). A fold runs
// when foldRecords records wait, every foldEvery, and before a report is
// answered; it writes the facts and adds the counters' changes, and
// deletes the records it folded in the same transaction, so that a crash
// at any point leaves either the records or what they folded into, never
// both. Open folds the records a crash left.

const insightLogPrefix = "i/"

func insightLogKey(seq uint64) []byte { return be8([]byte(insightLogPrefix), seq) }

// foldRecords and foldFacts are the numbers of records, and of returns'
// facts, from which a fold runs at once; foldEvery is how long records
// wait at most (a variable for tests).
const (
	foldRecords = 64
	foldFacts   = 16384
)

var foldEvery = time.Second

// cachedFacts is how many returns' facts folded stay in memory: the
// returns whose steps come in now (about 200 bytes each).
const cachedFacts = 32768

// cachedCounts is how many counters folded stay in memory, encoded
// (tens of bytes each): those of the days and rows whose returns move now.
const cachedCounts = 16384

// foldChunk is how many facts one fold transaction writes, far below
// Badger's largest transaction.
const foldChunk = 8192

// insightLog is what the records not yet folded hold, in memory; it is
// read and changed under the outbox's lock (Store.out.mu), which every
// transaction that writes a record holds.
type insightLog struct {
	seq    uint64                        // the last record's
	first  uint64                        // the first record not folded; > seq when none
	facts  map[string]cloud.ReturnFacts  // by tracking: what the records left
	folded map[string]cloud.ReturnFacts  // facts folded lately, as f/ holds them
	counts map[countsID]*cloud.ReportSum // the sum of the records' changes
	// statements and refusals are the sums of the records' changes of
	// the b/ and R/ counters, by key.
	statements map[string]*cloud.StatementCounts
	refusals   map[string]uint64
	stored     map[countsID][]byte // counters folded lately, as a/ holds them
	pending    chan struct{}       // wakes foldLoop early
}

func newInsightLog() *insightLog {
	return &insightLog{first: 1, facts: map[string]cloud.ReturnFacts{}, folded: map[string]cloud.ReturnFacts{},
		counts: map[countsID]*cloud.ReportSum{}, stored: map[countsID][]byte{},
		statements: map[string]*cloud.StatementCounts{}, refusals: map[string]uint64{}, pending: make(chan struct{}, 1)}
}

// lookup returns the facts of tracking the records left, or a fold
// lately; ok is false when they are not in memory (but may be under f/).
func (l *insightLog) lookup(tracking string) (f cloud.ReturnFacts, ok bool) {
	if f, ok = l.facts[tracking]; !ok {
		f, ok = l.folded[tracking]
	}
	return f, ok
}

// unfolded reports whether records wait to be folded.
func (l *insightLog) unfolded() bool { return l.first <= l.seq }

// absorb takes in the record of in, just committed; in is not used
// after (its counters' sums become l's).
func (l *insightLog) absorb(in *insight) {
	if in == nil || in.seq == 0 {
		return
	}
	l.seq = in.seq
	for tracking, gf := range in.facts {
		if gf.changed {
			l.facts[tracking] = gf.f
		}
	}
	for id, sum := range in.counts {
		if l.counts[id] == nil {
			l.counts[id] = sum // in is done with: its sum is taken, not copied
			continue
		}
		l.addCounts(id, sum)
	}
	for key, d := range in.statements {
		l.addStatement(key, *d)
	}
	for key, n := range in.refusals {
		l.refusals[key] += n
	}
	if l.seq-l.first+1 >= foldRecords || len(l.facts) >= foldFacts {
		select {
		case l.pending <- struct{}{}:
		default:
		}
	}
}

func (l *insightLog) addCounts(id countsID, d *cloud.ReportSum) {
	c := l.counts[id]
	if c == nil {
		c = &cloud.ReportSum{}
		l.counts[id] = c
	}
	addSum(c, d)
}

func (l *insightLog) addStatement(key string, d cloud.StatementCounts) {
	c := l.statements[key]
	if c == nil {
		c = &cloud.StatementCounts{}
		l.statements[key] = c
	}
	c.Add(d)
}

// record returns the record of in's changes, nil for none.
func (in *insight) record() []byte {
	var b []byte
	n := 0
	for _, gf := range in.facts {
		if gf.changed {
			n++
		}
	}
	if n == 0 && len(in.counts) == 0 && len(in.statements) == 0 && len(in.refusals) == 0 {
		return nil
	}
	// One buffer for the record, sized for the usual facts (about 150
	// bytes) and counters, and one for the value being encoded, whose
	// length goes first: two allocations a record, not one an item.
	b = make([]byte, 0, 1+160*n+64*len(in.counts)+32*(len(in.statements)+len(in.refusals)))
	v := make([]byte, 0, 256)
	b = append(b, insightRecordVersion)
	b = binary.AppendUvarint(b, uint64(n))
	for tracking, gf := range in.facts {
		if gf.changed {
			b = appendField(b, tracking)
			v = appendFacts(v[:0], &gf.f)
			b = appendRef(b, v)
		}
	}
	b = binary.AppendUvarint(b, uint64(len(in.counts)))
	for id, sum := range in.counts {
		b = appendField(appendField(b, string(id.by)), id.merchant)
		b = binary.AppendUvarint(b, id.day)
		b = appendField(b, id.key)
		v = appendCounts(v[:0], sum)
		b = appendRef(b, v)
	}
	b = binary.AppendUvarint(b, uint64(len(in.statements)))
	for key, c := range in.statements {
		b = appendField(b, key)
		for _, v := range [...]int64{c.Deposits, c.Cancelled, c.Handovers, c.Instore, c.Refusals} {
			b = binary.AppendVarint(b, v)
		}
	}
	b = binary.AppendUvarint(b, uint64(len(in.refusals)))
	for key, n := range in.refusals {
		b = binary.AppendUvarint(appendField(b, key), n)
	}
	return b
}

// insightRecordVersion is the first byte of a record: 2 adds the
// statements' and refusals' changes to 1's, which Open still folds (the
// records an older binary left).
const (
	insightRecordVersion   = 2
	insightRecordVersionV1 = 1
)

var errInsightRecord = errors.New("insight record: malformed")

func appendField(b []byte, s string) []byte {
	return append(binary.AppendUvarint(b, uint64(len(s))), s...)
}

// add adds the record b to l, as absorb does.
func (l *insightLog) add(b []byte) error {
	if len(b) == 0 || (b[0] != insightRecordVersion && b[0] != insightRecordVersionV1) {
		return errInsightRecord
	}
	d := decoder{b: b[1:], bad: errInsightRecord}
	n := d.uvarint()
	for i := uint64(0); i < n && d.err == nil; i++ {
		tracking, fb := string(d.bytes()), d.bytes()
		var f cloud.ReturnFacts
		if d.err == nil {
			if err := decodeFacts(fb, &f); err != nil {
				return err
			}
			l.facts[tracking] = f
		}
	}
	n = d.uvarint()
	for i := uint64(0); i < n && d.err == nil; i++ {
		id := countsID{by: cloud.ReportBy(d.bytes()), merchant: string(d.bytes()), day: d.uvarint(), key: string(d.bytes())}
		cb := d.bytes()
		var c cloud.ReportSum
		if d.err == nil {
			if err := addEncoded(&c, cb); err != nil {
				return err
			}
			l.addCounts(id, &c)
		}
	}
	if b[0] == insightRecordVersion {
		n = d.uvarint()
		for i := uint64(0); i < n && d.err == nil; i++ {
			key := string(d.bytes())
			c := cloud.StatementCounts{Deposits: d.varint(), Cancelled: d.varint(), Handovers: d.varint(), Instore: d.varint(), Refusals: d.varint()}
			if d.err == nil {
				l.addStatement(key, c)
			}
		}
		n = d.uvarint()
		for i := uint64(0); i < n && d.err == nil; i++ {
			key, r := string(d.bytes()), d.uvarint()
			if d.err == nil {
				l.refusals[key] += r
			}
		}
	}
	if d.err != nil || len(d.b) != 0 {
		return errInsightRecord
	}
	return nil
}

// writeRecord writes the record of in, the next, in txn; absorb takes it
// in once txn committed.
func (l *insightLog) writeRecord(txn *badger.Txn, in *insight) error {
	b := in.record()
	if b == nil {
		return nil
	}
	in.seq = l.seq + 1
	return txn.Set(insightLogKey(in.seq), b)
}

// foldLocked folds the records into the f/ and a/ keys, under s.out.mu:
// the facts first, in transactions of foldChunk (writing a return's
// facts twice is harmless), then the counters' changes with the deletion
// of the records, in one transaction.
func (s *Store) foldLocked(ctx context.Context) error {
	if !s.log.unfolded() {
		return nil
	}
	if err := s.foldFacts(ctx); err != nil {
		return err
	}
	return s.foldCounts(ctx)
}

// foldFacts writes the facts of the records, the first step of a fold.
func (s *Store) foldFacts(ctx context.Context) error {
	l := s.log
	chunk := make(map[string]cloud.ReturnFacts, min(len(l.facts), foldChunk))
	writeChunk := func() error {
		err := s.update(ctx, func(txn *badger.Txn) error {
			for tracking, f := range chunk {
				if err := txn.Set(factsKey(tracking), encodeFacts(&f)); err != nil {
					return err
				}
			}
			return nil
		})
		clear(chunk)
		return err
	}
	for tracking, f := range l.facts {
		chunk[tracking] = f
		if len(chunk) == foldChunk {
			if err := writeChunk(); err != nil {
				return err
			}
		}
	}
	return writeChunk()
}

// foldCounts adds the records' changes to the counters and deletes the
// records, the last step of a fold. A counter folded lately is read from
// memory (insightLog.stored), not from a/: only folds write a/ once the
// store is open, and those reads were half of a fold's time.
func (s *Store) foldCounts(ctx context.Context) error {
	l := s.log
	written := make(map[countsID][]byte, len(l.counts))
	err := s.update(ctx, func(txn *badger.Txn) error {
		for id, d := range l.counts {
			key := id.bytes()
			c := *d // a copy: a retried transaction adds to the stored counter again
			if b, ok := l.stored[id]; ok {
				if err := addEncoded(&c, b); err != nil {
					return err
				}
			} else if err := readValue(txn, key, func(b []byte) error { return addEncoded(&c, b) }); err != nil {
				return err
			}
			b := encodeCounts(&c)
			if err := txn.Set(key, b); err != nil {
				return err
			}
			written[id] = b
		}
		for key, d := range l.statements {
			if err := addStored(txn, key, d); err != nil {
				return err
			}
		}
		if err := addRefusals(txn, l.refusals); err != nil {
			return err
		}
		for seq := l.first; seq <= l.seq; seq++ {
			if err := txn.Delete(insightLogKey(seq)); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return err
	}
	l.first = l.seq + 1
	for id, b := range written {
		if _, ok := l.stored[id]; !ok && len(l.stored) >= cachedCounts {
			for k := range l.stored { // any one
				delete(l.stored, k)
				break
			}
		}
		l.stored[id] = b
	}
	for tracking, f := range l.facts {
		if _, ok := l.folded[tracking]; !ok && len(l.folded) >= cachedFacts {
			for k := range l.folded { // any one
				delete(l.folded, k)
				break
			}
		}
		l.folded[tracking] = f
	}
	clear(l.facts)
	clear(l.counts)
	clear(l.statements)
	clear(l.refusals)
	return nil
}

// fold folds the records waiting (foldLocked).
func (s *Store) fold(ctx context.Context) error {
	if !s.insight {
		return nil
	}
	s.out.mu.Lock()
	defer s.out.mu.Unlock()
	if err := s.foldLocked(ctx); err != nil {
		return fmt.Errorf("badgerstore: fold insight records: %w", err)
	}
	return nil
}

// foldLoop folds the records every foldEvery, or as soon as absorb finds
// enough waiting, until Close.
func (s *Store) foldLoop() {
	defer s.loops.Done()
	t := time.NewTicker(foldEvery)
	defer t.Stop()
	for {
		select {
		case <-t.C:
		case <-s.log.pending:
		case <-s.closing:
			return
		}
		if err := s.fold(context.Background()); err != nil {
			slog.Warn("badgerstore: returns insight", "err", err)
		}
	}
}

// loadInsightLog reads the records a crash (or a Close) left, and folds
// them.
func (s *Store) loadInsightLog() error {
	s.log = newInsightLog()
	err := s.db.View(func(txn *badger.Txn) error {
		it := txn.NewIterator(badger.IteratorOptions{Prefix: []byte(insightLogPrefix)})
		defer it.Close()
		for it.Rewind(); it.Valid(); it.Next() {
			k := it.Item().Key()
			if len(k) != len(insightLogPrefix)+8 {
				return fmt.Errorf("insight record key %q", k)
			}
			seq := binary.BigEndian.Uint64(k[len(insightLogPrefix):])
			if !s.log.unfolded() {
				s.log.first = seq
			}
			s.log.seq = seq
			if err := it.Item().Value(s.log.add); err != nil {
				return fmt.Errorf("insight record %d: %w", seq, err)
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("badgerstore: open: %w", err)
	}
	return s.fold(context.Background())
}
