package badgerstore

import (
	"math"
	"slices"
	"sync"
	"time"

	"github.com/google/btree"

	"github.com/comptoir/comptoir/cloud"
)

// The index of stuck parcels is ordered as the lists read it: for each
// stage, a B-tree of the network's waiting parcels and one of each
// merchant's, by (since, tracking number). A list walks its tree from the
// oldest parcel and stops at the threshold or the limit, whatever the
// number of parcels waiting. It was first a map, and a list a pass over
// every waiting parcel: 172 ms at p50 and 4 s at p99 for the network in
// BenchmarkInsight at 1M events (about 400,000 parcels waiting).
//
// A count (CountStuck, at every /metrics scrape) adds the counts the
// index keeps by stage and hour of since, moved with the parcels: the
// hours before the threshold's, then the parcels of the threshold's hour
// walked in the tree. It costs the number of hours with parcels waiting
// (about 2,000 for three months) and one hour's parcels, not a pass over
// them all.
//
// A waiting parcel costs an entry (64 bytes: its three strings, since in
// nanoseconds, its stage), its place in the map by tracking number and a
// pointer in each of its two trees (the network's and its merchant's; a
// carrier's parcel, of no merchant, is in the network's alone): 158 bytes
// a parcel with its strings' bytes in BenchmarkStuckIndex
// (heap-B/parcel), as the map of entries it replaces.

// stuckEntry is where and since when a parcel waits.
type stuckEntry struct {
	tracking, merchant, terminal string
	since                        int64 // UnixNano, as the parcel keeps it (parcelcodec.go)
	stage                        uint8 // index in cloud.Stages
}

// stuckLess orders the entries as the lists: oldest first, then by
// tracking number.
func stuckLess(a, b *stuckEntry) bool {
	return a.since < b.since || a.since == b.since && a.tracking < b.tracking
}

// stuckTrees are the entries of each stage, in stuckLess's order.
type stuckTrees [2]*btree.BTreeG[*stuckEntry]

// stuckDegree is the trees' degree: nodes of 31 to 63 entries.
const stuckDegree = 32

// stuckIndex is the index of the parcels waiting at a stage: by tracking
// number, for the moves, and in order, for the lists.
type stuckIndex struct {
	mu        sync.RWMutex
	m         map[string]*stuckEntry
	network   stuckTrees
	merchants map[string]*stuckTrees // the merchant's trees; none for ""
	hours     [2]map[int64]int       // the count of each stage by hour of since
}

func newStuckIndex() *stuckIndex {
	x := &stuckIndex{m: map[string]*stuckEntry{}, merchants: map[string]*stuckTrees{}}
	for i := range x.network {
		x.network[i] = btree.NewG(stuckDegree, stuckLess)
		x.hours[i] = map[int64]int{}
	}
	return x
}

// set indexes p as its status says: at its stage, or nowhere.
func (x *stuckIndex) set(p cloud.Parcel) {
	e := entryOf(p)
	x.mu.Lock()
	defer x.mu.Unlock()
	x.put(p.Tracking, e)
}

// entryOf returns the entry of p, nil when it waits at no stage. A parcel
// stored before parcels kept their terminal is indexed under its holder.
func entryOf(p cloud.Parcel) *stuckEntry {
	stage, ok := cloud.StageOf(p.Status)
	if !ok {
		return nil
	}
	term := p.Terminal
	if term == "" {
		term = p.Holder
	}
	return &stuckEntry{tracking: p.Tracking, merchant: p.Merchant, terminal: term, since: p.Since.UnixNano(),
		stage: uint8(slices.Index(cloud.Stages, stage))}
}

// put indexes the parcel of tracking at e, nowhere when e is nil; x.mu is
// held.
func (x *stuckIndex) put(tracking string, e *stuckEntry) {
	if old := x.m[tracking]; old != nil {
		x.remove(old)
	}
	if e == nil {
		delete(x.m, tracking)
		return
	}
	x.m[tracking] = e
	x.network[e.stage].ReplaceOrInsert(e)
	if e.merchant != "" {
		ts := x.merchants[e.merchant]
		if ts == nil {
			ts = &stuckTrees{}
			x.merchants[e.merchant] = ts
		}
		if ts[e.stage] == nil {
			ts[e.stage] = btree.NewG(stuckDegree, stuckLess)
		}
		ts[e.stage].ReplaceOrInsert(e)
	}
	x.hours[e.stage][hourOf(e.since)]++
}

// remove takes e out of the trees and counts (not out of the map).
func (x *stuckIndex) remove(e *stuckEntry) {
	x.network[e.stage].Delete(e)
	if ts := x.merchants[e.merchant]; ts != nil && ts[e.stage] != nil {
		ts[e.stage].Delete(e)
		if ts[e.stage].Len() == 0 {
			ts[e.stage] = nil
			if ts[0] == nil && ts[1] == nil {
				delete(x.merchants, e.merchant)
			}
		}
	}
	h := hourOf(e.since)
	if x.hours[e.stage][h]--; x.hours[e.stage][h] == 0 {
		delete(x.hours[e.stage], h)
	}
}

// list returns the parcels of the scope waiting at stage since before
// before, oldest first (then by tracking number), at most limit.
func (x *stuckIndex) list(scope cloud.Scope, stage cloud.Stage, before time.Time, limit int) []cloud.StuckParcel {
	out := []cloud.StuckParcel{}
	i := slices.Index(cloud.Stages, stage)
	if i < 0 || limit <= 0 {
		return out
	}
	x.mu.RLock()
	defer x.mu.RUnlock()
	t := x.network[i]
	if !scope.All() {
		ts := x.merchants[scope.Merchant]
		if ts == nil || ts[i] == nil {
			return out
		}
		t = ts[i]
	}
	t.AscendLessThan(&stuckEntry{since: unixNano(before)}, func(e *stuckEntry) bool {
		out = append(out, cloud.StuckParcel{Tracking: e.tracking, Stage: stage, Since: time.Unix(0, e.since).UTC(), Terminal: e.terminal})
		return len(out) < limit
	})
	return out
}

// count returns how many parcels of the network wait at stage since
// before before.
func (x *stuckIndex) count(stage cloud.Stage, before time.Time) int {
	i := slices.Index(cloud.Stages, stage)
	b := unixNano(before)
	if i < 0 || b == math.MinInt64 {
		return 0
	}
	x.mu.RLock()
	defer x.mu.RUnlock()
	hb, n := hourOf(b), 0
	for h, k := range x.hours[i] {
		if h < hb {
			n += k
		}
	}
	from := int64(math.MinInt64) // the threshold's hour starts before the range
	if hb > math.MinInt64/int64(time.Hour) {
		from = hb * int64(time.Hour)
	}
	x.network[i].AscendRange(&stuckEntry{since: from}, &stuckEntry{since: b}, func(*stuckEntry) bool {
		n++
		return true
	})
	return n
}

// hourOf is the hour of a time in UnixNano, rounded down.
func hourOf(ns int64) int64 {
	h := ns / int64(time.Hour)
	if ns%int64(time.Hour) < 0 {
		h--
	}
	return h
}

// unixNano is t in UnixNano, clamped to its range: the entries' since is
// in it (parcelcodec.go), and an entry sorts before a pivot of its since
// and no tracking number only if it is strictly before.
func unixNano(t time.Time) int64 {
	switch {
	case t.Before(time.Unix(0, math.MinInt64)):
		return math.MinInt64
	case t.After(time.Unix(0, math.MaxInt64)):
		return math.MaxInt64
	}
	return t.UnixNano()
}
