package badgerstore

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"log/slog"
	"strconv"
	"time"

	"github.com/dgraph-io/badger/v4"

	"github.com/comptoir/comptoir/cloud"
)

// The returns insight's keys (issue 15) are derived from the store's own
// data: the facts and counters of the reports (f/, a/), the statements'
// counters (b/) and the refusals' counters (R/); the index of stuck
// parcels, once kept under K/ (and before that under k/, among the API
// keys), is now in memory (stuck.go), and its old keys are deleted. A
// store written before them, or by a version whose layout of them differs,
// has them rebuilt at Open: every derived key is deleted, then made again
// from the returns, parcels, timelines and events, and only then is the
// layout's version recorded. A rebuild cut short is done again in full at
// the next Open, so it is idempotent.

// insightLayoutKey holds the version of the layout of the insight's keys.
var insightLayoutKey = []byte("_/insight")

// insightLayout is the version of this code's layout: 1 has the stuck
// index under K/ and the refusals' counters; 2 the reports' counters in
// binary (countscodec.go); 3 the returns' facts in binary (factscodec.go).
const insightLayout = 3

// progressEvery is how many items a rebuild reads between two lines of
// its progress log.
var progressEvery = 100_000

// derivedPrefixes are the prefixes of the insight's derived keys; the old
// stuck index, k/{merchant}\x00..., is told from the API keys (k/{hex}) by
// its NUL.
var derivedPrefixes = []string{"f/", "a/", "b/", refusalsPrefix, stuckIndexPrefix, insightLogPrefix}

// migrateInsight rebuilds the insight's keys unless the store records the
// current layout. log receives the progress of a rebuild.
func migrateInsight(db *badger.DB, log *slog.Logger) error {
	var version []byte
	err := db.View(func(txn *badger.Txn) error {
		item, err := txn.Get(insightLayoutKey)
		if err == badger.ErrKeyNotFound {
			return nil
		} else if err != nil {
			return err
		}
		version, err = item.ValueCopy(nil)
		return err
	})
	if err != nil {
		return fmt.Errorf("badgerstore: insight layout: %w", err)
	}
	if len(version) == 1 && version[0] >= insightLayout {
		return nil
	}
	start := time.Now()
	r := &rebuild{db: db, log: log, in: &insight{}}
	if !r.empty() {
		log.Info("rebuilding the returns insight's counters", "layout", insightLayout)
	}
	for _, step := range []struct {
		name string
		fn   func() error
	}{
		{"delete derived keys", r.deleteDerived},
		{"returns", r.returns},
		{"events", r.events},
		{"write counters", r.writeCounters},
	} {
		if err := step.fn(); err != nil {
			return fmt.Errorf("badgerstore: rebuild insight: %s: %w", step.name, err)
		}
	}
	if err := db.Update(func(txn *badger.Txn) error { return txn.Set(insightLayoutKey, []byte{insightLayout}) }); err != nil {
		return fmt.Errorf("badgerstore: rebuild insight: %w", err)
	}
	if r.returnsSeen+r.eventsSeen+r.deleted > 0 {
		log.Info("returns insight rebuilt", "returns", r.returnsSeen, "events", r.eventsSeen,
			"keys_deleted", r.deleted, "seconds", time.Since(start).Seconds())
	}
	return nil
}

// empty reports whether the store holds no return, parcel or event (a
// new store: nothing to rebuild, nothing to tell).
func (r *rebuild) empty() bool {
	empty := true
	_ = r.db.View(func(txn *badger.Txn) error {
		for _, p := range []string{"r/", "p/", "s/"} {
			it := txn.NewIterator(badger.IteratorOptions{Prefix: []byte(p)})
			it.Rewind()
			empty = empty && !it.Valid()
			it.Close()
		}
		return nil
	})
	return empty
}

// rebuild is the state of one rebuild of the insight's keys.
type rebuild struct {
	db  *badger.DB
	log *slog.Logger
	in  *insight // counters gathered, written at the end

	deleted, returnsSeen, eventsSeen int
}

// progress logs every progressEvery items of what.
func (r *rebuild) progress(what string, n int) {
	if n%progressEvery == 0 {
		r.log.Info("rebuilding the returns insight", "step", what, "done", n)
	}
}

// batch runs fn with a write batch, flushed at the end.
func (r *rebuild) batch(fn func(wb *badger.WriteBatch) error) error {
	wb := r.db.NewWriteBatch()
	defer wb.Cancel()
	if err := fn(wb); err != nil {
		return err
	}
	return wb.Flush()
}

// each calls fn with every key and value under prefix.
func (r *rebuild) each(prefix string, values bool, fn func(k, v []byte) error) error {
	return r.db.View(func(txn *badger.Txn) error {
		it := txn.NewIterator(badger.IteratorOptions{Prefix: []byte(prefix), PrefetchValues: values, PrefetchSize: 256})
		defer it.Close()
		for it.Rewind(); it.Valid(); it.Next() {
			var v []byte
			if values {
				var err error
				if v, err = it.Item().ValueCopy(nil); err != nil {
					return err
				}
			}
			if err := fn(it.Item().KeyCopy(nil), v); err != nil {
				return err
			}
		}
		return nil
	})
}

func (r *rebuild) deleteDerived() error {
	return r.batch(func(wb *badger.WriteBatch) error {
		del := func(k, _ []byte) error {
			r.deleted++
			r.progress("delete derived keys", r.deleted)
			return wb.Delete(k)
		}
		for _, p := range derivedPrefixes {
			if err := r.each(p, false, del); err != nil {
				return err
			}
		}
		return r.each("k/", false, func(k, v []byte) error {
			if bytes.IndexByte(k, 0) < 0 {
				return nil // an API key
			}
			return del(k, v)
		})
	})
}

// returns makes the facts of every return of a merchant from its
// timeline, and gathers its counts.
func (r *rebuild) returns() error {
	return r.batch(func(wb *badger.WriteBatch) error {
		return r.each("r/", true, func(_, v []byte) error {
			var ret cloud.Return
			if err := json.Unmarshal(v, &ret); err != nil {
				return err
			}
			r.returnsSeen++
			r.progress("returns", r.returnsSeen)
			if ret.Merchant == "" || !cloud.ValidTracking(ret.Tracking) {
				return nil // no scope reads it: reports count merchants' returns
			}
			f := cloud.NewReturnFacts(ret)
			add := r.in.counts.adder(&f)
			f.CreatedEach(add)
			err := r.db.View(func(txn *badger.Txn) error {
				return eachStep(txn, ret.Tracking, func(st cloud.ReportStep) {
					f.ObserveEach(st, add)
				})
			})
			if err != nil {
				return err
			}
			return wb.Set(factsKey(ret.Tracking), encodeFacts(&f))
		})
	})
}

// eachStep calls fn with the report step of each entry of the timeline of
// tracking, in its order: a terminal's event (on the timeline, so it
// agreed with its parcel) or a partner's entry.
func eachStep(txn *badger.Txn, tracking string, fn func(cloud.ReportStep)) error {
	items, err := readTimeline(txn, tracking)
	if err != nil {
		return err
	}
	for _, it := range items {
		if it.op == nil {
			fn(cloud.PartnerStep(it.entry))
		} else {
			fn(cloud.ReportStepOf(*it.op))
		}
	}
	return nil
}

// events counts, for the statements and the refusals, every terminal's
// event up to its watermark that agreed with its parcel (or marks none),
// as the commit loop does when its watermark passes it.
func (r *rebuild) events() error {
	conflicts := map[string]bool{}
	if err := r.each("c/", true, func(_, v []byte) error {
		var c cloud.Conflict
		if err := json.Unmarshal(v, &c); err != nil {
			return err
		}
		conflicts[c.Terminal+"/"+strconv.FormatUint(c.Seq, 10)] = true
		return nil
	}); err != nil {
		return err
	}
	marks := map[string]uint64{}
	return r.db.View(func(txn *badger.Txn) error {
		it := txn.NewIterator(badger.IteratorOptions{Prefix: []byte("s/"), PrefetchValues: true, PrefetchSize: 256})
		defer it.Close()
		for it.Rewind(); it.Valid(); it.Next() {
			k := it.Item().Key()
			if len(k) < 2+1+9 || k[len(k)-9] != '/' {
				return fmt.Errorf("event key %q", k)
			}
			tid, seq := string(k[2:len(k)-9]), binary.BigEndian.Uint64(k[len(k)-8:])
			wm, ok := marks[tid]
			if !ok {
				m, err := readMark(txn, tid, false)
				if err != nil {
					return err
				}
				wm, marks[tid] = m.wm, m.wm
			}
			if seq > wm {
				continue // above a gap: counted once the gap fills
			}
			r.eventsSeen++
			r.progress("events", r.eventsSeen)
			var se storedEvent
			if err := it.Item().Value(func(b []byte) (err error) {
				se, err = decodeStored(b)
				return err
			}); err != nil {
				return err
			}
			owner, err := txn.Get(eventKey(se.Op.ID))
			if err != nil {
				return err
			}
			own, err := owner.ValueCopy(nil)
			if err != nil {
				return err
			}
			self := tid + "/" + strconv.FormatUint(seq, 10)
			if string(own) != self {
				continue // an alias: its event counts under its first seq
			}
			r.in.statement(se.Op, !conflicts[self])
		}
		return nil
	})
}

// writeCounters writes the counters gathered: every derived key was
// deleted, so each is set, not added to.
func (r *rebuild) writeCounters() error {
	return r.batch(func(wb *badger.WriteBatch) error {
		set := func(key string, v any) error {
			b, err := json.Marshal(v)
			if err != nil {
				return err
			}
			return wb.Set([]byte(key), b)
		}
		for id, sum := range r.in.counts {
			if err := wb.Set(id.bytes(), encodeCounts(sum)); err != nil {
				return err
			}
		}
		for key, c := range r.in.statements {
			if err := set(key, c); err != nil {
				return err
			}
		}
		for key, n := range r.in.refusals {
			if err := wb.Set([]byte(key), be8(nil, n)); err != nil {
				return err
			}
		}
		return nil
	})
}
