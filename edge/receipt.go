package edge

import "time"

// Receipt holds the claims of a proof-of-deposit receipt token, signed by the
// terminal's own Ed25519 key. JSON names are the claim names of DESIGN.md.
type Receipt struct {
	ID         string    `json:"rid"`
	Tracking   string    `json:"trk"`
	RAID       string    `json:"ra,omitempty"`
	RelayPoint string    `json:"rp"`
	At         time.Time `json:"-"`
	WeightG    int       `json:"wt"`
	Parcels    int       `json:"n"`
	// TimeSynced says At was read from a clock that agreed with the
	// cloud's (ClockState.Synced); a receipt without it may be dated by a
	// clock that was not checked.
	TimeSynced bool `json:"sync,omitempty"`
}

// ReceiptSigner signs receipts with the terminal's key.
type ReceiptSigner interface {
	// SignReceipt returns the compact JWT of r.
	SignReceipt(r Receipt) (string, error)
}

// RelayPoint is where the terminal stands.
type RelayPoint struct {
	ID      string  `json:"id"`
	Name    string  `json:"name"`
	Address Address `json:"address"`
}
