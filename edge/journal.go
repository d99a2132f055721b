package edge

import (
	"context"
	"time"
)

// ShelfParcel is a deposited parcel waiting on the shelf for the carrier.
type ShelfParcel struct {
	DepositID   string    `json:"deposit_id"`
	Seq         uint64    `json:"seq"`
	Tracking    string    `json:"tracking"`
	RAID        string    `json:"ra_id,omitempty"`
	Carrier     string    `json:"carrier"`
	Slot        string    `json:"slot"`
	WeightG     int       `json:"weight_g"`
	DepositedAt time.Time `json:"deposited_at"`
	Operator    string    `json:"operator,omitempty"`
}

// Journal is the durable, append-only record of the terminal's operations and
// the projections the Desk reads from it.
type Journal interface {
	// Append assigns op its terminal and the next seq (and an id if it has
	// none), then stores it and jobs in one durable write (fsync) before it
	// returns. Seq stays gap-free: a failed append consumes no seq. Returns
	// STORAGE_FULL when the journal's disk budget is spent.
	Append(ctx context.Context, op Operation, jobs ...PrintJob) (Operation, error)

	// AppendAll appends ops as Append does, in one durable write with
	// consecutive seqs, jobs beside the last op: all of them or none. It is
	// not for deposits (INVALID), and returns TOO_LARGE when the ops do not
	// fit in one write.
	AppendAll(ctx context.Context, ops []Operation, jobs ...PrintJob) ([]Operation, error)

	// FindDeposit returns the shelf entry of a deposit on the shelf whose RA id
	// equals raID (when not empty) or whose tracking equals tracking.
	FindDeposit(ctx context.Context, raID, tracking string) (ShelfParcel, bool, error)

	// ShelfSlots returns the shelf slots taken by parcels on the shelf.
	ShelfSlots(ctx context.Context) ([]string, error)

	// Shelf returns the parcels on the shelf, oldest first.
	Shelf(ctx context.Context) ([]ShelfParcel, error)

	// ShelfCount returns how many parcels are on the shelf, without
	// reading them.
	ShelfCount(ctx context.Context) (int, error)

	// DepositByID returns the record of the deposit whose operation id is
	// id, on the shelf or not; ENOTFOUND when there is none.
	DepositByID(ctx context.Context, id string) (DepositRecord, error)

	// DepositByTracking returns the record of the last deposit of tracking;
	// found is false when it was never deposited.
	DepositByTracking(ctx context.Context, tracking string) (rec DepositRecord, found bool, err error)

	// InstoreReceived reports whether an instore.received of the RA raID
	// is journalled.
	InstoreReceived(ctx context.Context, raID string) (bool, error)

	// History returns the operations that match q, in seq order.
	History(ctx context.Context, q HistoryQuery) (HistoryPage, error)
}

// DepositState tells where a deposited parcel is.
type DepositState string

// States of a deposit: a deposit leaves the shelf once, by a cancellation or
// a handover, and never comes back.
const (
	DepositOnShelf    DepositState = "on_shelf"
	DepositCancelled  DepositState = "cancelled"
	DepositHandedOver DepositState = "handed_over"
)

// DepositRecord is what the journal keeps of every deposit: its shelf entry,
// and the operation that took it off the shelf, if any.
type DepositRecord struct {
	Parcel ShelfParcel  `json:"parcel"`
	State  DepositState `json:"state"`
	// ClosedSeq is the seq of the return.cancelled or parcel.handed_over
	// that took the parcel off the shelf.
	ClosedSeq uint64    `json:"closed_seq,omitempty"`
	ClosedAt  time.Time `json:"closed_at,omitzero"`
	// Erased is set once the personal data of the return (its items, the
	// cancellation's reason, its labels and receipts) has been erased from
	// the journal, a retention period after ClosedAt.
	Erased bool `json:"erased,omitempty"`
}
