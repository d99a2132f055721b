package badgerstore

import "encoding/binary"

// decoder reads the varints, bytes and length-prefixed fields of the
// store's binary records (events, return facts, counters). Its first error
// sticks: a record's decoding reads on and checks err once.
type decoder struct {
	b   []byte
	bad error // what a malformed record answers
	err error
}

// fail records that the record is malformed.
func (d *decoder) fail() {
	if d.err == nil {
		d.err = d.bad
	}
}

func (d *decoder) uvarint() uint64 {
	if d.err != nil {
		return 0
	}
	v, n := binary.Uvarint(d.b)
	if n <= 0 {
		d.fail()
		return 0
	}
	d.b = d.b[n:]
	return v
}

func (d *decoder) varint() int64 {
	if d.err != nil {
		return 0
	}
	v, n := binary.Varint(d.b)
	if n <= 0 {
		d.fail()
		return 0
	}
	d.b = d.b[n:]
	return v
}

func (d *decoder) byte() byte {
	if d.err != nil || len(d.b) == 0 {
		d.fail()
		return 0
	}
	v := d.b[0]
	d.b = d.b[1:]
	return v
}

// bytes reads a length-prefixed field; the slice is b's.
func (d *decoder) bytes() []byte {
	l := d.uvarint()
	if d.err != nil || l > uint64(len(d.b)) {
		d.fail()
		return nil
	}
	v := d.b[:l]
	d.b = d.b[l:]
	return v
}
