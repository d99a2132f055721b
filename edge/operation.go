package edge

import (
	"encoding/json"
	"time"
)

// OpType is the type of a journalled operation.
type OpType string

// Operation types of DESIGN.md.
const (
	OpReturnDeposited  OpType = "return.deposited"
	OpReturnRefused    OpType = "return.refused"
	OpReturnCancelled  OpType = "return.cancelled"
	OpInstoreReceived  OpType = "instore.received"
	OpParcelHandedOver OpType = "parcel.handed_over"
	OpManifestClosed   OpType = "manifest.closed"
	OpCommandApplied   OpType = "command.applied"
)

// Operation is one immutable event of the terminal's journal. ID, Terminal
// and Seq are assigned when it is appended; Seq is per terminal, gap-free and
// increasing.
type Operation struct {
	ID         string          `json:"id"`
	Terminal   string          `json:"terminal"`
	Seq        uint64          `json:"seq"`
	Type       OpType          `json:"type"`
	OccurredAt time.Time       `json:"occurred_at"`
	Operator   string          `json:"operator,omitempty"`
	Tracking   string          `json:"tracking,omitempty"`
	Data       json.RawMessage `json:"data"`
}

// DepositData is the data of a return.deposited operation.
type DepositData struct {
	RAID      string `json:"ra_id,omitempty"`
	Issuer    string `json:"issuer,omitempty"`
	Carrier   string `json:"carrier,omitempty"`
	Verified  bool   `json:"verified"`
	Mode      string `json:"mode"`
	WeightG   int    `json:"weight_g"`
	DimsMM    []int  `json:"dims_mm,omitempty"`
	Items     []Item `json:"items,omitempty"`
	ReceiptID string `json:"receipt_id"`
	ShelfSlot string `json:"shelf_slot"`
}

// RefusedData is the data of a return.refused operation. It holds no personal
// data: the RA id when the code was verified far enough, else a digest.
type RefusedData struct {
	Reason  RefusalCode   `json:"reason"`
	Reasons []RefusalCode `json:"reasons,omitempty"`
	RAID    string        `json:"ra_id,omitempty"`
	Digest  string        `json:"digest,omitempty"`
}

// CancelledData is the data of a return.cancelled operation.
type CancelledData struct {
	DepositID string `json:"deposit_id"`
	Reason    string `json:"reason,omitempty"`
}

// HandedOverData is the data of a parcel.handed_over operation.
type HandedOverData struct {
	ManifestID string `json:"manifest_id"`
	Carrier    string `json:"carrier"`
	DriverRef  string `json:"driver_ref,omitempty"`
}

// ManifestData is the data of a manifest.closed operation.
type ManifestData struct {
	ManifestID string   `json:"manifest_id"`
	Carrier    string   `json:"carrier"`
	Count      int      `json:"count"`
	Trackings  []string `json:"trackings"`
}

// CommandData is the data of a command.applied operation.
type CommandData struct {
	CommandID string `json:"command_id"`
	Type      string `json:"type"`
}

// NewOperation returns an operation draft of type t with data marshalled to
// JSON. It panics only if data cannot be marshalled, which is a programming
// error for the data types of this package.
func NewOperation(t OpType, at time.Time, operator, tracking string, data any) Operation {
	raw, err := json.Marshal(data)
	if err != nil {
		panic("edge: marshal operation data: " + err.Error())
	}
	return Operation{Type: t, OccurredAt: at.UTC(), Operator: operator, Tracking: tracking, Data: raw}
}
