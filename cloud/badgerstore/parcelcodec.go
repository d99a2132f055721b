package badgerstore

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/maphash"
	"sync"
	"time"

	"github.com/dgraph-io/badger/v4"

	"github.com/comptoir/comptoir/cloud"
)

// A parcel (p/ value) is encoded by hand rather than as JSON: every
// deposit writes one in the commit loop, which runs one group at a time,
// and JSON took 1.5 µs of it. The tracking number is the key's.
//
//	version 3, created_at and since (Unix ns, 8 bytes big-endian each),
//	then status, holder, merchant, ra_id, terminal, each a uvarint length
//	and its bytes, then the timeline's terminal events: the s/ key of each,
//	a uvarint length and its bytes, in the order they were applied.
//
// Version 2 has no events (its terminal events' entries are t/ keys, as
// they were before the parcel kept them), version 1 (before stuck parcels,
// issue 15) no since (read as created_at) and no terminal either. A
// terminal's event that goes on a timeline always moves its parcel, which
// is written anyway: keeping the event's s/ key in the parcel instead of
// a t/ key of its own spares Badger a key per event (issue 13).
const (
	parcelCodecV1 = 1
	parcelCodecV2 = 2
	parcelCodecV3 = 3
)

var errParcelValue = errors.New("badgerstore: malformed parcel value")

// encodeParcel encodes p followed by refs, the timeline's events
// (appendRef) as decodeParcelRecord returned them.
func encodeParcel(p cloud.Parcel, refs []byte) []byte { return encodeParcelAdding(p, refs, nil) }

// encodeParcelAdding is encodeParcel with sk, the s/ key of an event,
// added to refs unless nil: the value is made in one allocation.
func encodeParcelAdding(p cloud.Parcel, refs, sk []byte) []byte {
	n := 1 + 16 + 5 + len(p.Status) + len(p.Holder) + len(p.Merchant) + len(p.RAID) + len(p.Terminal) + len(refs)
	if sk != nil {
		n += binary.MaxVarintLen32 + len(sk)
	}
	b := make([]byte, 0, n)
	b = append(b, parcelCodecV3)
	b = binary.BigEndian.AppendUint64(b, uint64(p.CreatedAt.UnixNano()))
	b = binary.BigEndian.AppendUint64(b, uint64(p.Since.UnixNano()))
	for _, s := range []string{string(p.Status), p.Holder, p.Merchant, p.RAID, p.Terminal} {
		b = binary.AppendUvarint(b, uint64(len(s)))
		b = append(b, s...)
	}
	b = append(b, refs...)
	if sk != nil {
		b = appendRef(b, sk)
	}
	return b
}

// appendRef appends the s/ key of a terminal's event to the events of a
// parcel's timeline.
func appendRef(refs, sk []byte) []byte {
	return append(binary.AppendUvarint(refs, uint64(len(sk))), sk...)
}

// eachRef calls fn with each s/ key of refs, in order.
func eachRef(refs []byte, fn func(sk []byte) error) error {
	for len(refs) > 0 {
		l, k := binary.Uvarint(refs)
		if k <= 0 || uint64(len(refs)-k) < l {
			return errParcelValue
		}
		if err := fn(refs[k : k+int(l)]); err != nil {
			return err
		}
		refs = refs[k+int(l):]
	}
	return nil
}

func decodeParcel(tracking string, b []byte) (cloud.Parcel, error) {
	p, _, err := decodeParcelRecord(tracking, b)
	return p, err
}

// decodeParcelRecord decodes a p/ value: the parcel and its timeline's
// events (eachRef), a part of b.
func decodeParcelRecord(tracking string, b []byte) (cloud.Parcel, []byte, error) {
	if len(b) < 9 || b[0] < parcelCodecV1 || b[0] > parcelCodecV3 || (b[0] >= parcelCodecV2 && len(b) < 17) {
		return cloud.Parcel{}, nil, errParcelValue
	}
	v := b[0]
	p := cloud.Parcel{Tracking: tracking, CreatedAt: time.Unix(0, int64(binary.BigEndian.Uint64(b[1:9]))).UTC()}
	p.Since, b = p.CreatedAt, b[9:]
	n := 4
	if v >= parcelCodecV2 {
		p.Since, b, n = time.Unix(0, int64(binary.BigEndian.Uint64(b[:8]))).UTC(), b[8:], 5
	}
	var fields [5]string
	for i := 0; i < n; i++ {
		l, k := binary.Uvarint(b)
		if k <= 0 || uint64(len(b)-k) < l {
			return cloud.Parcel{}, nil, errParcelValue
		}
		fields[i], b = string(b[k:k+int(l)]), b[k+int(l):]
	}
	p.Status, p.Holder, p.Merchant, p.RAID, p.Terminal = cloud.Status(fields[0]), fields[1], fields[2], fields[3], fields[4]
	if v < parcelCodecV3 {
		return p, nil, nil
	}
	return p, b, nil
}

// getParcel reads the parcel of tracking; found is false when there is
// none.
func getParcel(txn *badger.Txn, tracking string) (p cloud.Parcel, found bool, err error) {
	p, _, found, err = getParcelRecord(txn, tracking)
	return p, found, err
}

// getParcelRecord reads the parcel of tracking and its timeline's events
// (a copy, eachRef); found is false when there is none.
func getParcelRecord(txn *badger.Txn, tracking string) (p cloud.Parcel, refs []byte, found bool, err error) {
	item, err := txn.Get(parcelKey(tracking))
	if errors.Is(err, badger.ErrKeyNotFound) {
		return p, nil, false, nil
	} else if err != nil {
		return p, nil, false, err
	}
	err = item.Value(func(b []byte) (err error) {
		p, refs, err = decodeParcelRecord(tracking, b)
		refs = bytes.Clone(refs)
		return err
	})
	return p, refs, err == nil, err
}

// setParcel writes p with refs, its timeline's events.
func (s *Store) setParcel(txn *badger.Txn, p cloud.Parcel, refs []byte) error {
	return s.setParcelAdding(txn, p, refs, nil)
}

// setParcelAdding writes p with refs and sk (encodeParcelAdding).
func (s *Store) setParcelAdding(txn *badger.Txn, p cloud.Parcel, refs, sk []byte) error {
	s.parcels.add(p.Tracking)
	return txn.Set(parcelKey(p.Tracking), encodeParcelAdding(p, refs, sk))
}

// keyFilter is a Bloom filter of the keys under a prefix: of the tracking
// numbers that have a parcel (p/), of the event ids stored (e/). Most
// deposits are the first the cloud hears of their parcel, and every event
// of its id, and asking Badger for a key it does not have costs a fifth of
// the commit loop's time an event; the filter answers most of those
// without asking. A false positive only costs the lookup, so the filter
// may hold keys whose write failed. It is built at Open from the keys
// (the parcels' in the pass that builds the stuck index, loadParcels):
// 10 bits (1.25 bytes) a key, sized for twice the keys there are; past
// that it answers "maybe" more often, and Badger is asked.
//
// The filter is blocked: a key's bits are all in one block of 512 bits
// (a cache line), chosen by a hash of the key, and placed in it by
// another. A test then reads memory once instead of once a bit: the
// classic filter's seven reads all over a megabyte, twice an event (ids
// and parcels) in the commit loop, were 3 % of the store's CPU in a
// profile. Its false positives are a little more frequent than the
// classic filter's at the same size (TestKeyFilter: 0.03 % at half the
// keys it is sized for).
type keyFilter struct {
	mu     sync.Mutex
	seeds  [2]maphash.Seed // of the block, of the bits in it
	blocks []filterBlock
}

// filterBlock is a block of 512 bits.
type filterBlock [8]uint64

// filterBits is the bits a key sets in its block, 9 bits of a hash each.
const filterBits = 7

// loadFilter builds the filter of the keys under prefix.
func (s *Store) loadFilter(prefix string) (*keyFilter, error) {
	var keys [][]byte
	err := s.db.View(func(txn *badger.Txn) error {
		it := txn.NewIterator(badger.IteratorOptions{Prefix: []byte(prefix)})
		defer it.Close()
		for it.Rewind(); it.Valid(); it.Next() {
			keys = append(keys, it.Item().KeyCopy(nil)[len(prefix):])
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("badgerstore: filter of %s: %w", prefix, err)
	}
	return newKeyFilter(keys), nil
}

// newKeyFilter returns the filter of keys.
func newKeyFilter(keys [][]byte) *keyFilter {
	n := max(1<<20, 2*len(keys))
	f := &keyFilter{seeds: [2]maphash.Seed{maphash.MakeSeed(), maphash.MakeSeed()}, blocks: make([]filterBlock, (10*n+511)/512)}
	for _, k := range keys {
		f.mark(string(k), true)
	}
	return f
}

// mark reports whether key may be stored (its bits are all set), and sets
// its bits when add is true; f.mu is held, or f is not shared yet.
func (f *keyFilter) mark(key string, add bool) bool {
	h := maphash.String(f.seeds[0], key)
	b := &f.blocks[(h>>32)*uint64(len(f.blocks))>>32] // h's top 32 bits scaled to the blocks
	bits := maphash.String(f.seeds[1], key)
	maybe := true
	for range filterBits {
		word, bit := (bits>>6)&7, uint64(1)<<(bits&63)
		if b[word]&bit == 0 {
			maybe = false
			if add {
				b[word] |= bit
			}
		}
		bits >>= 9
	}
	return maybe
}

// mayExist reports whether key may be stored; false is sure.
func (f *keyFilter) mayExist(key string) bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.mark(key, false)
}

// testAndAdd reports whether key may be stored, and marks it.
func (f *keyFilter) testAndAdd(key string) bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.mark(key, true)
}

func (f *keyFilter) add(key string) {
	f.mu.Lock()
	f.mark(key, true)
	f.mu.Unlock()
}
