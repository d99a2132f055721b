package cloud

import (
	"time"

	"github.com/comptoir/comptoir/edge"
)

// Status is a step of a parcel's tracking timeline.
type Status string

// Timeline statuses of DESIGN.md.
const (
	StatusCreated             Status = "created"
	StatusDeposited           Status = "deposited"
	StatusCancelled           Status = "cancelled"
	StatusReceivedInStore     Status = "received_in_store"
	StatusHandedOver          Status = "handed_over"
	StatusInTransit           Status = "in_transit"
	StatusReceivedAtWarehouse Status = "received_at_warehouse"
	StatusRefunded            Status = "refunded"
	StatusExchanged           Status = "exchanged"
)

// Valid reports whether s is one of the statuses above.
func (s Status) Valid() bool {
	switch s {
	case StatusCreated, StatusDeposited, StatusCancelled, StatusReceivedInStore,
		StatusHandedOver, StatusInTransit, StatusReceivedAtWarehouse,
		StatusRefunded, StatusExchanged:
		return true
	}
	return false
}

// PartnerStatus reports whether partners (carriers, warehouses) may post s
// through the events API: the statuses that happen after the counter.
func (s Status) PartnerStatus() bool {
	switch s {
	case StatusInTransit, StatusReceivedAtWarehouse, StatusRefunded, StatusExchanged:
		return true
	}
	return false
}

// Sources of timeline entries.
const (
	SourceIssuer  = "issuer"  // the cloud's issuer created the RA
	SourcePartner = "partner" // a carrier or warehouse, through the events API
)

// TerminalSource returns the source of an entry made from a terminal's event.
func TerminalSource(tid string) string { return "terminal:" + tid }

// TimelineEntry is one step of a parcel's timeline.
type TimelineEntry struct {
	Status     Status    `json:"status"`
	OccurredAt time.Time `json:"occurred_at"`
	ReceivedAt time.Time `json:"received_at"`
	Location   string    `json:"location,omitempty"`
	Source     string    `json:"source"`
	EventID    string    `json:"event_id"`
}

// StatusOf maps a terminal operation type to the timeline status it marks.
// ok is false for operations that mark none (refusals, manifests,
// commands).
func StatusOf(t edge.OpType) (s Status, ok bool) {
	switch t {
	case edge.OpReturnDeposited:
		return StatusDeposited, true
	case edge.OpReturnCancelled:
		return StatusCancelled, true
	case edge.OpInstoreReceived:
		return StatusReceivedInStore, true
	case edge.OpParcelHandedOver:
		return StatusHandedOver, true
	}
	return "", false
}

// EntryOf returns the timeline entry of a terminal's operation, received at
// receivedAt. ok is false when the operation marks no status or names no
// tracking number.
func EntryOf(op edge.Operation, receivedAt time.Time) (TimelineEntry, bool) {
	s, ok := StatusOf(op.Type)
	if !ok || op.Tracking == "" {
		return TimelineEntry{}, false
	}
	return TimelineEntry{
		Status:     s,
		OccurredAt: op.OccurredAt.UTC(),
		ReceivedAt: receivedAt.UTC(),
		Location:   op.Terminal,
		Source:     TerminalSource(op.Terminal),
		EventID:    op.ID,
	}, true
}
