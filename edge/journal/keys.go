package journal

import (
	"encoding/binary"
	"time"
)

// Key layout. Every key starts with a two-byte prefix naming its table, so a
// prefix iteration reads one table. Numbers are big-endian so that byte order
// is numeric order: ops, the outbox and the shelf iterate in seq order.
//
//	op/<seq>                    the operation, JSON (history)
//	ak/w                        acked watermark: every seq up to it is acked (outbox.go)
//	ak/r/<first>                last seq of a range acked above the watermark
//	ob/<seq>                    outbox marker of an unacked op (journals before ak/w; dropped at open)
//	sh/<seq>                    shelf parcel of a deposit on the shelf, JSON
//	sd/<deposit id>             shelf index: deposit (operation) id to seq
//	st/<tracking>               shelf index: tracking to seq
//	sr/<ra id>                  shelf index: RA id to seq
//	ss/<slot>                   shelf index: slot to seq (keys alone say which slots are taken)
//	pj/<job id>                 print job, JSON
//	pq/<created ns><job id>     pending print jobs index, oldest first
//	sf/<staff id>               staff account, JSON
//	si/state                    sign-in lockout state (wrong PINs, lock), JSON
//	dd/<deposit id>             every deposit's record (shelf entry and state), JSON; never compacted
//	dt/<tracking>               last deposit id of a tracking number
//	ir/<ra id>                  seq of the instore.received of an RA
//	ca/<command id>             seq of the command.applied of a cloud command; never compacted
//	ct/t/<op type>              count of operations of a type
//	ct/r/<refusal code>         count of refusals of a reason
//	er/flush                    written and dropped by Compact to flush the memtables (compact.go)
//	mt/seq                      last seq ever assigned, so that Compact can
//	                            delete every old op without seq starting over
var (
	prefixOp       = []byte("op/")
	prefixOutbox   = []byte("ob/")
	prefixShelf    = []byte("sh/")
	prefixDepIdx   = []byte("sd/")
	prefixTrkIdx   = []byte("st/")
	prefixRAIdx    = []byte("sr/")
	prefixSlotIdx  = []byte("ss/")
	prefixJob      = []byte("pj/")
	prefixJobQ     = []byte("pq/")
	prefixStaff    = []byte("sf/")
	prefixDeposit  = []byte("dd/")
	prefixDepTrk   = []byte("dt/")
	prefixInstore  = []byte("ir/")
	prefixCommand  = []byte("ca/")
	prefixTypeCt   = []byte("ct/t/")
	prefixReasonC  = []byte("ct/r/")
	keySignIn      = []byte("si/state")
	keyLastSeq     = []byte("mt/seq")
	keyErase       = []byte("er/flush")
	keyAckedTo     = []byte("ak/w")
	prefixAckRange = []byte("ak/r/")
)

func seqKey(prefix []byte, seq uint64) []byte {
	k := make([]byte, len(prefix)+8)
	copy(k, prefix)
	binary.BigEndian.PutUint64(k[len(prefix):], seq)
	return k
}

func strKey(prefix []byte, s string) []byte {
	k := make([]byte, len(prefix)+len(s))
	copy(k, prefix)
	copy(k[len(prefix):], s)
	return k
}

// keySeq returns the seq at the end of a seqKey.
func keySeq(k []byte) uint64 {
	if len(k) < 8 {
		return 0
	}
	return binary.BigEndian.Uint64(k[len(k)-8:])
}

// jobQueueKey orders pending jobs by creation time, then id.
func jobQueueKey(created time.Time, id string) []byte {
	k := make([]byte, len(prefixJobQ)+8+len(id))
	copy(k, prefixJobQ)
	binary.BigEndian.PutUint64(k[len(prefixJobQ):], uint64(created.UnixNano()))
	copy(k[len(prefixJobQ)+8:], id)
	return k
}

func u64(v uint64) []byte {
	b := make([]byte, 8)
	binary.BigEndian.PutUint64(b, v)
	return b
}

func getU64(b []byte) uint64 {
	if len(b) != 8 {
		return 0
	}
	return binary.BigEndian.Uint64(b)
}
