package cloud

import (
	"context"
	"encoding/json"
	"strconv"
	"time"

	"github.com/comptoir/comptoir/edge"
)

// Event is an event the cloud publishes (DESIGN.md, "The timeline flows
// out"): one entry that reached a parcel's timeline, as merchants receive
// it by webhook and read it in the feed (GET /v1/events). Stores record it
// in the transaction that puts the entry on the timeline (their outbox),
// at Seq, a position that only grows: the feed's cursor.
type Event struct {
	// Seq is the event's position in the store's outbox.
	Seq uint64 `json:"-"`
	// ID is the timeline entry's event id: the same on every delivery.
	ID         string    `json:"id"`
	Type       string    `json:"type"`
	Tracking   string    `json:"tracking"`
	OccurredAt time.Time `json:"occurred_at"`
	// Merchant is the merchant of the parcel; empty for a carrier's parcel
	// with no return, whose events only operators see.
	Merchant string    `json:"-"`
	Data     EventData `json:"data"`
}

// EventData is the data of an Event.
type EventData struct {
	Tracking   string    `json:"tracking"`
	RAID       string    `json:"ra_id"`
	OccurredAt time.Time `json:"occurred_at"`
	Status     Status    `json:"status"`
	// RelayPoint is the terminal of a terminal's event.
	RelayPoint string `json:"relay_point,omitempty"`
	// ReceiptID is the receipt of a deposit.
	ReceiptID string `json:"receipt_id,omitempty"`
	// Location is where a partner's event happened.
	Location string `json:"location,omitempty"`
	// Instore is the grading of an in-store receipt (instore.received).
	Instore *EventInstore `json:"instore,omitempty"`
}

// EventInstore is what the clerk recorded of an in-store return: each
// item's grade and where it goes next, and what the customer gets.
type EventInstore struct {
	Items      []edge.InstoreItem `json:"items"`
	Resolution edge.Resolution    `json:"resolution"`
}

// Event types of DESIGN.md.
const (
	EventReturnCreated   = "return.created"
	EventReturnDeposited = "return.deposited"
	EventReturnCancelled = "return.cancelled"
	EventHandedOver      = "parcel.handed_over"
	EventInstoreReceived = "instore.received"
)

// EventType returns the type of the event of a timeline entry of status s:
// the partners' statuses are "parcel.<status>".
func EventType(s Status) string {
	switch s {
	case StatusCreated:
		return EventReturnCreated
	case StatusDeposited:
		return EventReturnDeposited
	case StatusCancelled:
		return EventReturnCancelled
	case StatusHandedOver:
		return EventHandedOver
	case StatusReceivedInStore:
		return EventInstoreReceived
	}
	return "parcel." + string(s)
}

// ValidEventType reports whether t is the type of an event the cloud
// publishes.
func ValidEventType(t string) bool {
	for _, s := range []Status{StatusCreated, StatusDeposited, StatusCancelled, StatusReceivedInStore,
		StatusHandedOver, StatusInTransit, StatusReceivedAtWarehouse, StatusRefunded, StatusExchanged} {
		if EventType(s) == t {
			return true
		}
	}
	return false
}

// EntryEvent returns the event of timeline entry e of parcel p, an entry
// of the API (a return's creation, a partner's event).
func EntryEvent(p Parcel, e TimelineEntry) Event {
	at := e.OccurredAt.UTC()
	return Event{
		ID: e.EventID, Type: EventType(e.Status), Tracking: p.Tracking, OccurredAt: at, Merchant: p.Merchant,
		Data: EventData{Tracking: p.Tracking, RAID: p.RAID, OccurredAt: at, Status: e.Status, Location: e.Location},
	}
}

// TerminalEvent returns the event of a terminal's operation op that agreed
// with its parcel, p (its merchant and RA); ok is false when op marks no
// status. Stores keep a reference to op rather than the event, and call
// this when they read it back, so that the ingest's commit loops do not
// decode the operation's data.
func TerminalEvent(op edge.Operation, p Parcel) (Event, bool) {
	s, ok := StatusOf(op.Type)
	if !ok {
		return Event{}, false
	}
	at := op.OccurredAt.UTC()
	ev := Event{
		ID: op.ID, Type: EventType(s), Tracking: op.Tracking, OccurredAt: at, Merchant: p.Merchant,
		Data: EventData{Tracking: op.Tracking, RAID: p.RAID, OccurredAt: at, Status: s, RelayPoint: op.Terminal},
	}
	switch s {
	case StatusDeposited:
		var d edge.DepositData
		_ = json.Unmarshal(op.Data, &d) // data without a receipt: none to name
		ev.Data.ReceiptID = d.ReceiptID
	case StatusReceivedInStore:
		var d edge.InstoreData
		// Data without items (a terminal of before the grading): none to name.
		if json.Unmarshal(op.Data, &d) == nil && len(d.Items) > 0 {
			ev.Data.Instore = &EventInstore{Items: d.Items, Resolution: d.Resolution}
		}
	}
	return ev, true
}

// FeedReader reads the outbox of published events in order.
type FeedReader interface {
	// Events returns up to limit events in scope recorded after the
	// position after (0: from the first), in the order they reached their
	// timelines, and the position of the last one (after when none).
	Events(ctx context.Context, scope Scope, after uint64, limit int) ([]Event, uint64, error)
}

// FeedStore reads the outbox of published events.
type FeedStore interface {
	FeedReader
	// EventsHead returns the position of the last event recorded, 0 for
	// none: a new subscription starts after it.
	EventsHead(ctx context.Context) (uint64, error)
	// EventsAt returns a position (a cursor of Events) after which the
	// events are those recorded at t or later, to within a transaction:
	// the head when all were recorded before t, 0 when there are none.
	EventsAt(ctx context.Context, t time.Time) (uint64, error)
	// PruneEvents removes the events recorded before before that every
	// active subscription of their merchant has passed (its Cursor; a
	// disabled one holds nothing), and returns how many it removed. The
	// feed goes on from the oldest event kept.
	PruneEvents(ctx context.Context, before time.Time) (int, error)
	// ParcelEvents returns the events of the timeline of the parcel
	// tracking in scope, in the timeline's order (occurred_at, then
	// received_at), with no Seq; a parcel not in scope is ENOTFOUND.
	ParcelEvents(ctx context.Context, scope Scope, tracking string) ([]Event, error)
}

// MaxFeedLimit bounds a page of the feed.
const MaxFeedLimit = 1000

// Feed is the use case of GET /v1/events: a scope's events after a cursor.
type Feed struct {
	Store FeedReader
}

// Page returns the events in scope after the cursor ("" from the first) and
// the cursor of the next page, up to limit (0: 100). A cursor that is not
// one the feed gave, or a limit out of 1 to MaxFeedLimit, is EINVALID.
func (f *Feed) Page(ctx context.Context, scope Scope, cursor string, limit int) ([]Event, string, error) {
	if limit == 0 {
		limit = 100
	}
	if limit < 0 || limit > MaxFeedLimit {
		return nil, "", edge.Errorf(edge.EINVALID, "The limit must be from 1 to %d.", MaxFeedLimit)
	}
	var after uint64
	if cursor != "" {
		n, err := strconv.ParseUint(cursor, 10, 64)
		if err != nil {
			return nil, "", edge.Errorf(edge.EINVALID, "The cursor %q is not one this API gave.", cursor)
		}
		after = n
	}
	evs, last, err := f.Store.Events(ctx, scope, after, limit)
	if err != nil {
		return nil, "", err
	}
	return evs, strconv.FormatUint(last, 10), nil
}
