package badgerstore

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/dgraph-io/badger/v4"

	"github.com/comptoir/comptoir/cloud"
)

// The returns' facts and the reports' counters (reports.go), and the
// relay points' statements and refusals, are not written by the
// transactions that change them: each such transaction (a group commit,
// a return's creation, a partner's step) writes one record of what
// happened instead, and the records are folded into the f/, a/, b/ and
// R/ keys later, many at once:
//
//	i/{seq:8}   -> the facts of the returns the transaction created, the
//	               steps of returns' parcels it stored, in order, and
//	               the change of the relay points' statements (b/) and
//	               refusals (R/) (insightrecord.go)
//
// Reading and writing a return's facts and each counter in every group
// made ingest with the insight cost 1.64 times ingest without it
// (BenchmarkStoreReturnSteps); records that held the facts each return
// was left with and the change of each counter (versions 1 and 2) still
// cost 1.2 times, in the commit's critical section (the facts' lookup,
// their change, the counters') and in the bytes every synced commit
// writes. A record of steps is one key of a few dozen bytes a step,
// written without a read.
//
// A fold takes the records in order, as many as fit one transaction
// (foldChunk), and in that transaction applies their steps to the
// returns' facts (read from memory, insightLog.folded, else from f/),
// computes the change of each counter as the steps go, writes the facts
// and the counters, adds the statements' and refusals' changes, and
// deletes the records: applying a step twice leaves the same facts, but
// counting it twice does not, so a crash at any point leaves either the
// records or all they folded into, never both. A fold runs when
// foldRecords records, or foldSteps steps, wait, every foldEvery, before
// a report is answered and at Close; Open folds the records a crash
// left. Only folds write the f/, a/, b/ and R/ keys once the store is
// open (a rebuild, migrate.go, runs before), so a fold reads them
// without conflicting with the commits, which go on while it works: it
// holds the outbox's lock only to take the records and to let them go.

const insightLogPrefix = "i/"

func insightLogKey(seq uint64) []byte { return be8([]byte(insightLogPrefix), seq) }

// foldRecords and foldSteps are the numbers of records, and of steps
// (and new returns), from which a fold runs at once; foldEvery is how
// long records wait at most (a variable for tests).
const (
	foldRecords = 64
	foldSteps   = 16384
)

var foldEvery = time.Second

// cachedFacts is how many returns' facts folded stay in memory: the
// returns whose steps come in now (about 200 bytes each).
const cachedFacts = 32768

// cachedCounts is how many counters folded stay in memory, encoded
// (tens of bytes each): those of the days and rows whose returns move now.
const cachedCounts = 16384

// foldChunk bounds the steps and returns (so the facts and counters) one
// fold transaction takes, far below Badger's largest transaction; a fold
// takes one record at least (a group's holds maxGroupEvents steps at
// most). A variable for tests.
var foldChunk = 8192

// insightLog is the records not yet folded, in memory, and what folds
// keep of the facts and counters they wrote.
type insightLog struct {
	// seq, records and items are read and changed under the outbox's
	// lock (Store.out.mu), which every transaction that writes a
	// record holds.
	seq     uint64        // the last record's
	records []*insight    // not folded, in order
	items   int           // the records' steps and returns
	pending chan struct{} // wakes foldLoop early

	// The rest is the fold's, under mu: a fold runs at a time.
	mu sync.Mutex
	// folded holds the facts folded lately, as f/ holds them: a fold
	// copies them and writes its copy back in place (remember).
	folded map[string]*cloud.ReturnFacts
	stored map[countsID][]byte // counters folded lately, as a/ holds them
	// counters is how many counters the last fold wrote: the size the
	// next one makes its map.
	counters int
	// reads counts the f/ and a/ keys folds read (tests).
	reads int
}

func newInsightLog() *insightLog {
	return &insightLog{folded: map[string]*cloud.ReturnFacts{}, stored: map[countsID][]byte{}, pending: make(chan struct{}, 1)}
}

// absorb takes in the record of in, just committed.
func (l *insightLog) absorb(in *insight) {
	if in == nil || in.seq == 0 {
		return
	}
	l.seq = in.seq
	in.log = nil
	l.records = append(l.records, in)
	l.items += in.items()
	if len(l.records) >= foldRecords || l.items >= foldSteps {
		select {
		case l.pending <- struct{}{}:
		default:
		}
	}
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

// take returns the first records not folded, up to the record last and
// as many as foldChunk allows (one at least), under s.out.mu.
func (s *Store) take(last uint64) []*insight {
	s.out.mu.Lock()
	defer s.out.mu.Unlock()
	rs, items := s.log.records, 0
	n := 0
	for n < len(rs) && rs[n].seq <= last {
		items += rs[n].items()
		if n > 0 && items > foldChunk {
			break
		}
		n++
	}
	return rs[:n:n]
}

// done lets go of the first n records, folded.
func (s *Store) done(n int) {
	s.out.mu.Lock()
	defer s.out.mu.Unlock()
	for _, in := range s.log.records[:n] {
		s.log.items -= in.items()
	}
	clear(s.log.records[:n])
	s.log.records = s.log.records[n:]
}

// fold folds every record committed before it was called: those a
// report must count.
func (s *Store) fold(ctx context.Context) error {
	if !s.insight {
		return nil
	}
	s.out.mu.Lock()
	last := s.log.seq
	s.out.mu.Unlock()
	return s.foldTo(ctx, last)
}

// foldTo folds the records up to the record last, a transaction for as
// many as fit (take); commits go on meanwhile.
func (s *Store) foldTo(ctx context.Context, last uint64) error {
	s.log.mu.Lock()
	defer s.log.mu.Unlock()
	for {
		rs := s.take(last)
		if len(rs) == 0 {
			return nil
		}
		facts, written, err := s.foldTxn(ctx, rs)
		for errors.Is(err, badger.ErrTxnTooBig) && len(rs) > 1 {
			rs = rs[:len(rs)/2]
			facts, written, err = s.foldTxn(ctx, rs)
		}
		if err != nil {
			return fmt.Errorf("badgerstore: fold insight records: %w", err)
		}
		s.log.remember(facts, written)
		s.done(len(rs))
	}
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
			err := it.Item().Value(func(b []byte) error {
				in, err := decodeRecord(b)
				if err != nil {
					return err
				}
				in.seq = seq
				s.log.absorb(in)
				return nil
			})
			if err != nil {
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
