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

	// FindDeposit returns the shelf entry of a deposit on the shelf whose RA id
	// equals raID (when not empty) or whose tracking equals tracking.
	FindDeposit(ctx context.Context, raID, tracking string) (ShelfParcel, bool, error)

	// ShelfSlots returns the shelf slots taken by parcels on the shelf.
	ShelfSlots(ctx context.Context) ([]string, error)
}
