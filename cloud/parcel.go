package cloud

import (
	"bytes"
	"encoding/json"
	"time"

	"github.com/comptoir/comptoir/edge"
)

// Parcel is what the cloud knows of a parcel: whose it is (the merchant of
// its return, none for a carrier's parcel with no return), the return it
// comes from, where it stands, and which terminal holds it. Stores keep one
// per tracking number, created by the first of its return or its deposit;
// it is what makes tracking numbers unique and what events are checked
// against (DESIGN.md, "What the cloud believes").
type Parcel struct {
	Tracking  string    `json:"tracking"`
	Merchant  string    `json:"merchant,omitempty"`
	RAID      string    `json:"ra_id,omitempty"`
	CreatedAt time.Time `json:"created_at"`
	// Status is the parcel's last status on its timeline.
	Status Status `json:"status"`
	// Holder is the terminal that has the parcel on its shelf (deposited or
	// received in store, not yet handed over); empty otherwise.
	Holder string `json:"holder,omitempty"`
	// Since is when the parcel took its status (the occurred_at of the
	// step); Terminal the last terminal that moved it (kept after a
	// handover, which clears Holder). Stuck parcels are found by them.
	Since    time.Time `json:"since"`
	Terminal string    `json:"terminal,omitempty"`
}

// Conflict reasons: why a terminal's event was kept off its parcel's
// timeline. They label comptoir_cloud_ingest_conflicts_total.
const (
	ConflictUnknownType      = "UNKNOWN_TYPE"      // an operation type the cloud does not know
	ConflictNoTracking       = "NO_TRACKING"       // a parcel's event without a usable tracking number
	ConflictUnknownRA        = "UNKNOWN_RA"        // the RA named does not exist, or is another parcel's
	ConflictAlreadyDeposited = "ALREADY_DEPOSITED" // the parcel was deposited already (here or elsewhere)
	ConflictNotHolder        = "NOT_HOLDER"        // a cancel or handover by a terminal that does not hold the parcel
)

// Conflict is a terminal's event that disagreed with its parcel's state: it
// is stored (the terminal's journal is never lost) and acked, but kept off
// the timeline, and listed for operators.
type Conflict struct {
	EventID    string         `json:"event_id"`
	Terminal   string         `json:"terminal"`
	Seq        uint64         `json:"seq"`
	Type       edge.OpType    `json:"type"`
	Tracking   string         `json:"tracking,omitempty"`
	Reason     string         `json:"reason"`
	OccurredAt time.Time      `json:"occurred_at"`
	ReceivedAt time.Time      `json:"received_at"`
	Parcel     *ParcelSummary `json:"parcel,omitempty"`
}

// ParcelSummary is the state of the parcel a conflict was checked against.
type ParcelSummary struct {
	Status Status `json:"status"`
	Holder string `json:"holder,omitempty"`
}

// KnownOpType reports whether t is an operation type of DESIGN.md (or a
// terminal's day closing, which marks no parcel).
func KnownOpType(t edge.OpType) bool {
	switch t {
	case edge.OpReturnDeposited, edge.OpReturnRefused, edge.OpReturnCancelled,
		edge.OpInstoreReceived, edge.OpParcelHandedOver, edge.OpManifestClosed,
		edge.OpCommandApplied, edge.OpDayClosed:
		return true
	}
	return false
}

// onShelf reports whether a parcel of status s has been dropped off (at a
// relay point or in store) and is no longer only announced or cancelled.
func onShelf(s Status) bool {
	switch s {
	case "", StatusCreated, StatusCancelled:
		return false
	}
	return true
}

// ApplyTerminalEvent checks a terminal's event against its parcel, p (found
// false when the cloud knows no parcel of that tracking number), and
// returns the parcel's next state and whether the event changes it. reason
// is empty when the event agrees with the parcel, else a Conflict reason;
// the parcel is then unchanged. Events that mark no status agree with
// every parcel and change none.
//
// The rules: a deposit or an in-store receipt needs a parcel that is not
// dropped off already and, when it names an RA, the parcel of that RA; a
// cancel or a handover must come from the terminal that holds the parcel.
//
// raID is the RA the event names (RAIDOf), read by the caller beforehand so
// that the stores' commit loops do not decode event data.
func ApplyTerminalEvent(p Parcel, found bool, op edge.Operation, raID string) (next Parcel, changed bool, reason string) {
	if !KnownOpType(op.Type) {
		return p, false, ConflictUnknownType
	}
	status, marks := StatusOf(op.Type)
	if !marks {
		return p, false, ""
	}
	if !ValidTracking(op.Tracking) {
		return p, false, ConflictNoTracking
	}
	next = p
	switch status {
	case StatusDeposited, StatusReceivedInStore:
		if raID != "" && (!found || p.RAID != raID) {
			return p, false, ConflictUnknownRA
		}
		if found && onShelf(p.Status) {
			return p, false, ConflictAlreadyDeposited
		}
		if !found {
			next = Parcel{Tracking: op.Tracking, CreatedAt: op.OccurredAt.UTC()}
		}
		next.Status, next.Holder = status, op.Terminal
	case StatusCancelled:
		if !found || p.Holder != op.Terminal || p.Status != StatusDeposited {
			return p, false, ConflictNotHolder
		}
		next.Status, next.Holder = StatusCancelled, ""
	case StatusHandedOver:
		if !found || p.Holder != op.Terminal {
			return p, false, ConflictNotHolder
		}
		next.Status, next.Holder = StatusHandedOver, ""
	}
	next.Since, next.Terminal = op.OccurredAt.UTC(), op.Terminal
	return next, true, ""
}

// RAIDOf returns the RA id a deposit or an in-store receipt names, "" for
// a parcel with no return and for other operations.
func RAIDOf(op edge.Operation) string {
	if op.Type != edge.OpReturnDeposited && op.Type != edge.OpInstoreReceived {
		return ""
	}
	// Most carriers' parcels name no RA: when neither the key (in any
	// case: encoding/json matches keys without regard to it) nor a \u
	// escape (which could spell it) is in the data, there is none, and the
	// data need not be decoded.
	if !containsFold(op.Data, "ra_id") && !bytes.Contains(op.Data, []byte(`\u`)) {
		return ""
	}
	var d struct {
		RAID string `json:"ra_id"`
	}
	_ = json.Unmarshal(op.Data, &d) // data without ra_id: a parcel with no return
	return d.RAID
}

// containsFold reports whether b holds the lower-case ASCII word w in any
// case.
func containsFold(b []byte, w string) bool {
	for i := 0; i+len(w) <= len(b); i++ {
		j := 0
		for ; j < len(w); j++ {
			c := b[i+j]
			if 'A' <= c && c <= 'Z' {
				c += 'a' - 'A'
			}
			if c != w[j] {
				break
			}
		}
		if j == len(w) {
			return true
		}
	}
	return false
}

// NewParcelOf returns the parcel that op makes when it is the first the
// cloud hears of its tracking number and agrees with that (a deposit or an
// in-store receipt naming no RA); ok is false otherwise.
func NewParcelOf(op edge.Operation, raID string) (Parcel, bool) {
	next, changed, reason := ApplyTerminalEvent(Parcel{}, false, op, raID)
	return next, changed && reason == ""
}

// maxTrackingLen bounds the tracking numbers that get a parcel and a
// timeline, so that an odd payload cannot make huge keys.
const maxTrackingLen = 128

// ValidTracking reports whether t can name a parcel: not empty, at most 128
// bytes, no NUL and no slash (stores use them in keys).
func ValidTracking(t string) bool {
	if t == "" || len(t) > maxTrackingLen {
		return false
	}
	for i := 0; i < len(t); i++ {
		if t[i] == 0 || t[i] == '/' {
			return false
		}
	}
	return true
}

// NewConflict returns the conflict of op, received at receivedAt, refused
// for reason against parcel p (found false when there was none).
func NewConflict(op edge.Operation, receivedAt time.Time, reason string, p Parcel, found bool) Conflict {
	c := Conflict{
		EventID: op.ID, Terminal: op.Terminal, Seq: op.Seq, Type: op.Type, Tracking: op.Tracking,
		Reason: reason, OccurredAt: op.OccurredAt.UTC(), ReceivedAt: receivedAt.UTC(),
	}
	if found {
		c.Parcel = &ParcelSummary{Status: p.Status, Holder: p.Holder}
	}
	return c
}

// maxSeq is the largest seq stores take: PostgreSQL's bigint, and more
// operations than a terminal appends in a million years.
const maxSeq = 1<<63 - 1

// CheckEvent returns an EINVALID error unless the i-th event of a batch of
// terminal tid has an id, a seq from 1 to 2^63-1, and names tid.
func CheckEvent(tid string, i int, ev edge.Operation) error {
	switch {
	case ev.ID == "" || ev.Seq == 0 || ev.Terminal != tid:
		return edge.Errorf(edge.EINVALID, "Event %d lacks an id or a seq, or names another terminal than %q.", i, tid)
	case ev.Seq > maxSeq:
		return edge.Errorf(edge.EINVALID, "Event %d has a seq over 2^63.", i)
	}
	return nil
}
