package badgerstore

import (
	"encoding/binary"
	"errors"
	"time"

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

func setParcel(txn *badger.Txn, p cloud.Parcel) error {
	return txn.Set(parcelKey(p.Tracking), encodeParcel(p))
}
