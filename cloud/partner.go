package cloud

import (
	"context"
	"errors"
	"time"

	"github.com/comptoir/comptoir/edge"
)

// PartnerEvent is an event of a carrier or a warehouse (POST /v1/events).
type PartnerEvent struct {
	ID         string    `json:"id"`
	Tracking   string    `json:"tracking"`
	Status     Status    `json:"status"`
	OccurredAt time.Time `json:"occurred_at"`
	Location   string    `json:"location"`
}

// MaxPartnerEvents bounds one POST /v1/events.
const MaxPartnerEvents = 500

// Refusal codes of partner events, beside NOT_FOUND for a parcel that is
// not the partner's merchant's.
const (
	// EStatusOrder: the status cannot follow the parcel's current one.
	EStatusOrder = "STATUS_OUT_OF_ORDER"
	// EBadTime: occurred_at is before the parcel existed or in the future.
	EBadTime = "BAD_TIME"
)

// follows lists, for each status a partner reports, the statuses it may
// follow. A refund or an exchange may come at the first scan (the big
// returns networks refund at the drop-off) and at any later step, once.
var follows = map[Status][]Status{
	StatusInTransit:           {StatusHandedOver, StatusInTransit},
	StatusReceivedAtWarehouse: {StatusHandedOver, StatusInTransit, StatusReceivedInStore},
	StatusRefunded:            {StatusDeposited, StatusReceivedInStore, StatusHandedOver, StatusInTransit, StatusReceivedAtWarehouse},
	StatusExchanged:           {StatusDeposited, StatusReceivedInStore, StatusHandedOver, StatusInTransit, StatusReceivedAtWarehouse},
}

// partnerClockSkew is how far in the future a partner's clock may be.
const partnerClockSkew = 5 * time.Minute

// ApplyPartnerEvent checks e against its parcel p at now and returns the
// parcel's next state: the status must be one that may follow the
// parcel's, and occurred_at neither before the parcel existed nor in the
// future.
func ApplyPartnerEvent(p Parcel, e PartnerEvent, now time.Time) (Parcel, error) {
	if e.OccurredAt.Before(p.CreatedAt.Add(-time.Second)) || e.OccurredAt.After(now.Add(partnerClockSkew)) {
		return p, edge.Errorf(EBadTime, "Event %s: occurred_at %s is before the parcel existed or in the future.", e.ID, e.OccurredAt.UTC().Format(time.RFC3339))
	}
	ok := false
	for _, s := range follows[e.Status] {
		ok = ok || s == p.Status
	}
	if !ok {
		return p, edge.Errorf(EStatusOrder, "Event %s: a parcel %s cannot be %s.", e.ID, orNone(p.Status), e.Status)
	}
	p.Status, p.Holder, p.Since = e.Status, "", e.OccurredAt.UTC()
	return p, nil
}

func orNone(s Status) string {
	if s == "" {
		return "with no status"
	}
	return string(s)
}

// Partners takes carriers' and warehouses' events.
type Partners struct {
	Store interface {
		AddPartnerEntry(ctx context.Context, scope Scope, tracking string, e TimelineEntry, check func(Parcel) (Parcel, error)) (bool, error)
	}
	Now func() time.Time
}

// Refused is a partner event that was not taken.
type Refused struct {
	Index   int    `json:"index"`
	ID      string `json:"id"`
	Code    string `json:"code"`
	Message string `json:"message"`
}

// PartnerResult is what a batch of partner events did.
type PartnerResult struct {
	Added      int       `json:"added"`
	Duplicates int       `json:"duplicates"`
	Refused    []Refused `json:"refused"`
}

// Post adds the events, each checked against its parcel (in scope: a
// parcel of another merchant is NOT_FOUND), idempotently by event id. A
// malformed batch is EINVALID and changes nothing; events that do not
// agree with their parcel are listed as refused, the others taken.
func (ps *Partners) Post(ctx context.Context, scope Scope, events []PartnerEvent) (PartnerResult, error) {
	if len(events) == 0 || len(events) > MaxPartnerEvents {
		return PartnerResult{}, edge.Errorf(edge.EINVALID, "Send 1 to %d events.", MaxPartnerEvents)
	}
	for i, e := range events {
		switch {
		case e.ID == "" || len(e.ID) > 200 || !ValidTracking(e.Tracking) || e.OccurredAt.IsZero():
			return PartnerResult{}, edge.Errorf(edge.EINVALID, "Event %d needs an id (up to 200 bytes), a tracking number and occurred_at.", i)
		case !e.Status.PartnerStatus():
			return PartnerResult{}, edge.Errorf(edge.EINVALID, "Event %d: status %q is not one a partner reports.", i, e.Status)
		case len(e.Location) > 200:
			return PartnerResult{}, edge.Errorf(edge.EINVALID, "Event %d: the location is longer than 200 bytes.", i)
		}
	}
	now := time.Now().UTC()
	if ps.Now != nil {
		now = ps.Now().UTC()
	}
	res := PartnerResult{Refused: []Refused{}}
	for i, e := range events {
		entry := TimelineEntry{
			Status: e.Status, OccurredAt: e.OccurredAt.UTC(), ReceivedAt: now,
			Location: e.Location, Source: SourcePartner, EventID: e.ID,
		}
		added, err := ps.Store.AddPartnerEntry(ctx, scope, e.Tracking, entry, func(p Parcel) (Parcel, error) {
			return ApplyPartnerEvent(p, e, now)
		})
		var coded *edge.Error
		switch {
		case err == nil && added:
			res.Added++
		case err == nil:
			res.Duplicates++
		case errors.As(err, &coded) && coded.Code != edge.EINTERNAL:
			res.Refused = append(res.Refused, Refused{Index: i, ID: e.ID, Code: coded.Code, Message: coded.Message})
		default:
			return res, err
		}
	}
	return res, nil
}
