package badgerstore

import (
	"encoding/binary"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/bits-and-blooms/bloom/v3"

	"github.com/dgraph-io/badger/v4"

	"github.com/comptoir/comptoir/cloud"
)

// A parcel (p/ value) is encoded by hand rather than as JSON: every
// deposit writes one in the commit loop, which runs one group at a time,
// and JSON took 1.5 µs of it. The tracking number is the key's.
//
//	version 2, created_at and since (Unix ns, 8 bytes big-endian each),
//	then status, holder, merchant, ra_id, terminal, each a uvarint length
//	and its bytes. Version 1 (before stuck parcels, issue 15) had no since
//	(read as created_at) and no terminal.
const (
	parcelCodecV1 = 1
	parcelCodecV2 = 2
)

var errParcelValue = errors.New("badgerstore: malformed parcel value")

func encodeParcel(p cloud.Parcel) []byte {
	b := make([]byte, 0, 1+16+5+len(p.Status)+len(p.Holder)+len(p.Merchant)+len(p.RAID)+len(p.Terminal))
	b = append(b, parcelCodecV2)
	b = binary.BigEndian.AppendUint64(b, uint64(p.CreatedAt.UnixNano()))
	b = binary.BigEndian.AppendUint64(b, uint64(p.Since.UnixNano()))
	for _, s := range []string{string(p.Status), p.Holder, p.Merchant, p.RAID, p.Terminal} {
		b = binary.AppendUvarint(b, uint64(len(s)))
		b = append(b, s...)
	}
	return b
}

func decodeParcel(tracking string, b []byte) (cloud.Parcel, error) {
	if len(b) < 9 || (b[0] != parcelCodecV1 && b[0] != parcelCodecV2) || (b[0] == parcelCodecV2 && len(b) < 17) {
		return cloud.Parcel{}, errParcelValue
	}
	v := b[0]
	p := cloud.Parcel{Tracking: tracking, CreatedAt: time.Unix(0, int64(binary.BigEndian.Uint64(b[1:9]))).UTC()}
	p.Since, b = p.CreatedAt, b[9:]
	n := 4
	if v == parcelCodecV2 {
		p.Since, b, n = time.Unix(0, int64(binary.BigEndian.Uint64(b[:8]))).UTC(), b[8:], 5
	}
	var fields [5]string
	for i := 0; i < n; i++ {
		l, k := binary.Uvarint(b)
		if k <= 0 || uint64(len(b)-k) < l {
			return cloud.Parcel{}, errParcelValue
		}
		fields[i], b = string(b[k:k+int(l)]), b[k+int(l):]
	}
	p.Status, p.Holder, p.Merchant, p.RAID, p.Terminal = cloud.Status(fields[0]), fields[1], fields[2], fields[3], fields[4]
	return p, nil
}

// getParcel reads the parcel of tracking; found is false when there is
// none.
func getParcel(txn *badger.Txn, tracking string) (p cloud.Parcel, found bool, err error) {
	item, err := txn.Get(parcelKey(tracking))
	if errors.Is(err, badger.ErrKeyNotFound) {
		return p, false, nil
	} else if err != nil {
		return p, false, err
	}
	err = item.Value(func(b []byte) (err error) {
		p, err = decodeParcel(tracking, b)
		return err
	})
	return p, err == nil, err
}

func (s *Store) setParcel(txn *badger.Txn, p cloud.Parcel) error {
	s.parcels.add(p.Tracking)
	return txn.Set(parcelKey(p.Tracking), encodeParcel(p))
}

// parcelFilter is a Bloom filter of the tracking numbers that have a
// parcel. Most deposits are the first the cloud hears of their parcel, and
// asking Badger for a key it does not have costs a fifth of the commit
// loop's time an event; the filter answers most of those without asking.
// A false positive only costs the lookup, so the filter may hold numbers
// whose write failed. It is built at Open from the keys alone (1.2 bytes a
// parcel at 1 % false positives, sized for twice the parcels there are).
type parcelFilter struct {
	mu sync.Mutex
	f  *bloom.BloomFilter
}

func (s *Store) loadParcelFilter() error {
	var keys [][]byte
	err := s.db.View(func(txn *badger.Txn) error {
		it := txn.NewIterator(badger.IteratorOptions{Prefix: []byte("p/")})
		defer it.Close()
		for it.Rewind(); it.Valid(); it.Next() {
			keys = append(keys, it.Item().KeyCopy(nil)[2:])
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("badgerstore: parcels filter: %w", err)
	}
	f := bloom.NewWithEstimates(uint(max(1<<20, 2*len(keys))), 0.01)
	for _, k := range keys {
		f.Add(k)
	}
	s.parcels = &parcelFilter{f: f}
	return nil
}

// mayExist reports whether tracking may have a parcel; false is sure.
func (pf *parcelFilter) mayExist(tracking string) bool {
	pf.mu.Lock()
	defer pf.mu.Unlock()
	return pf.f.TestString(tracking)
}

// testAndAdd reports whether tracking may have a parcel, and marks it.
func (pf *parcelFilter) testAndAdd(tracking string) bool {
	pf.mu.Lock()
	defer pf.mu.Unlock()
	return pf.f.TestAndAddString(tracking)
}

func (pf *parcelFilter) add(tracking string) {
	pf.mu.Lock()
	pf.f.AddString(tracking)
	pf.mu.Unlock()
}
