package cloud

import (
	"context"
	"net/url"
	"slices"
	"strconv"
	"time"

	"github.com/comptoir/comptoir/edge"
)

// EPCIS 2.0 (GS1) JSON-LD: the timeline as supply-chain events for the
// systems that speak it (DESIGN.md, "The timeline flows out"). Only what
// happens to the parcel in the physical world becomes an event: a deposit
// (bizStep accepting), a handover to the carrier (departing), an in-store
// receipt (inspecting, with the disposition of each grade), a partner's in
// transit (transporting) and receipt at the warehouse (receiving). The
// creation of a return, a cancelled deposit, a refund and an exchange
// change no object's state that a reader of EPCIS tracks, and are left out.
//
// Identifiers are URIs under the namespace the caller gives (the cloud's
// address): a parcel is {ns}/track/{tracking}, its public tracking page; a
// relay point {ns}/relay-points/{terminal}; a partner's location
// {ns}/locations/{location}; an item class {ns}/skus/{merchant}/{sku}; an
// event {ns}/events/{event id}, with #{disposition} for each disposition of
// an in-store receipt.

// EPCISContext is the JSON-LD context of EPCIS 2.0.
const EPCISContext = "https://ref.gs1.org/standards/epcis/2.0.0/epcis-context.jsonld"

// EPCISDocument is an EPCIS 2.0 EPCISDocument.
type EPCISDocument struct {
	Context       []any     `json:"@context"`
	Type          string    `json:"type"`
	SchemaVersion string    `json:"schemaVersion"`
	CreationDate  time.Time `json:"creationDate"`
	Body          EPCISBody `json:"epcisBody"`
}

// EPCISBody is the body of an EPCISDocument.
type EPCISBody struct {
	EventList []EPCISEvent `json:"eventList"`
}

// EPCISEvent is an EPCIS 2.0 ObjectEvent with the extension fields of
// Comptoir (prefix "comptoir:").
type EPCISEvent struct {
	Type                string          `json:"type"`
	EventID             string          `json:"eventID"`
	EventTime           time.Time       `json:"eventTime"`
	EventTimeZoneOffset string          `json:"eventTimeZoneOffset"`
	EPCList             []string        `json:"epcList"`
	QuantityList        []EPCISQuantity `json:"quantityList,omitempty"`
	Action              string          `json:"action"`
	BizStep             string          `json:"bizStep"`
	Disposition         string          `json:"disposition,omitempty"`
	ReadPoint           *EPCISLocation  `json:"readPoint,omitempty"`
	RAID                string          `json:"comptoir:raID,omitempty"`
	ReceiptID           string          `json:"comptoir:receiptID,omitempty"`
}

// EPCISQuantity is an element of an event's quantityList: a number of
// items of one class.
type EPCISQuantity struct {
	EPCClass string  `json:"epcClass"`
	Quantity float64 `json:"quantity"`
}

// EPCISLocation is a readPoint.
type EPCISLocation struct {
	ID string `json:"id"`
}

// epcisDisposition is the CBV 2.0 disposition of each grade of an in-store
// receipt.
var epcisDisposition = map[edge.Disposition]string{
	edge.DispositionRestock:        "sellable_not_accessible",
	edge.DispositionRefurbish:      "non_sellable_other",
	edge.DispositionRecycle:        "disposed",
	edge.DispositionReturnToVendor: "returned",
	edge.DispositionDestroy:        "destroyed",
}

// EPCISStore is what EPCIS reads: the feed, and the events of one parcel.
type EPCISStore interface {
	FeedReader
	ParcelEvents(ctx context.Context, scope Scope, tracking string) ([]Event, error)
}

// EPCISQuery selects the events of a document: those of the parcel
// Tracking, or those that occurred at or after Since, read from the feed
// in pages of Limit (0: 100) after the cursor After ("" from the first)
// until the document has Limit events, the feed ends, or epcisScan of its
// events were read.
type EPCISQuery struct {
	Tracking string
	Since    time.Time
	After    string
	Limit    int
}

// epcisScan bounds how many of the feed's events one document reads to
// find those since a time: past it, the document ends and its cursor goes
// on from there.
const epcisScan = 10 * MaxFeedLimit

// EPCIS is the use case of GET /v1/epcis/events.
type EPCIS struct {
	Store EPCISStore
	Now   func() time.Time
}

// Document returns the EPCIS document of the events in scope that q
// selects, with identifiers under ns, and the feed's cursor after the
// events it read ("" for a parcel's). A query with both or neither of
// Tracking and Since, a cursor with Tracking, a cursor the feed did not
// give or a limit out of 1 to MaxFeedLimit is EINVALID; a parcel not in
// scope is ENOTFOUND.
func (x *EPCIS) Document(ctx context.Context, scope Scope, ns string, q EPCISQuery) (EPCISDocument, string, error) {
	doc := EPCISDocument{
		Context:       []any{EPCISContext, map[string]string{"comptoir": ns + "/epcis/vocab#"}},
		Type:          "EPCISDocument",
		SchemaVersion: "2.0",
		CreationDate:  x.now().UTC().Truncate(time.Millisecond),
		Body:          EPCISBody{EventList: []EPCISEvent{}},
	}
	switch {
	case (q.Tracking == "") == q.Since.IsZero():
		return doc, "", edge.Errorf(edge.EINVALID, "Ask for the events of one parcel (tracking) or since a time (since), not both or neither.")
	case q.Tracking != "" && (q.After != "" || q.Limit != 0):
		return doc, "", edge.Errorf(edge.EINVALID, "A parcel's events come in one document: no cursor or limit with tracking.")
	case q.Tracking != "":
		evs, err := x.Store.ParcelEvents(ctx, scope, q.Tracking)
		if err != nil {
			return doc, "", err
		}
		for _, ev := range evs {
			doc.Body.EventList = append(doc.Body.EventList, EPCISEvents(ns, ev)...)
		}
		return doc, "", nil
	}
	feed := Feed{Store: x.Store}
	want := q.Limit
	if want == 0 {
		want = 100
	}
	cursor, read := q.After, 0
	for read < epcisScan {
		evs, next, err := feed.Page(ctx, scope, cursor, q.Limit)
		if err != nil {
			return doc, "", err
		}
		cursor, read = next, read+len(evs)
		for _, ev := range evs {
			if !ev.OccurredAt.Before(q.Since) {
				doc.Body.EventList = append(doc.Body.EventList, EPCISEvents(ns, ev)...)
			}
		}
		if len(evs) < want || len(doc.Body.EventList) >= want {
			break
		}
	}
	return doc, cursor, nil
}

func (x *EPCIS) now() time.Time {
	if x.Now == nil {
		return time.Now()
	}
	return x.Now()
}

// EPCISEvents returns the EPCIS events of ev, with identifiers under ns:
// none for a step that is not a physical one, one per disposition for an
// in-store receipt, one otherwise.
func EPCISEvents(ns string, ev Event) []EPCISEvent {
	id := ns + "/events/" + url.PathEscape(ev.ID)
	e := EPCISEvent{
		Type: "ObjectEvent", EventID: id, EventTime: ev.OccurredAt.UTC(), EventTimeZoneOffset: "+00:00",
		EPCList: []string{ns + "/track/" + url.PathEscape(ev.Tracking)}, Action: "OBSERVE",
		RAID: ev.Data.RAID, ReceiptID: ev.Data.ReceiptID,
	}
	if ev.Data.RelayPoint != "" {
		e.ReadPoint = &EPCISLocation{ID: ns + "/relay-points/" + url.PathEscape(ev.Data.RelayPoint)}
	} else if ev.Data.Location != "" {
		e.ReadPoint = &EPCISLocation{ID: ns + "/locations/" + url.PathEscape(ev.Data.Location)}
	}
	switch ev.Data.Status {
	case StatusDeposited:
		e.BizStep, e.Disposition = "accepting", "returned"
	case StatusHandedOver:
		e.BizStep, e.Disposition = "departing", "in_transit"
	case StatusInTransit:
		e.BizStep, e.Disposition = "transporting", "in_transit"
	case StatusReceivedAtWarehouse:
		e.BizStep = "receiving"
	case StatusReceivedInStore:
		e.BizStep = "inspecting"
		return inspected(ns, ev, e)
	default:
		return nil
	}
	return []EPCISEvent{e}
}

// inspected returns the events of an in-store receipt: one per
// disposition, with the quantities of the items graded so; one with no
// disposition when the receipt names no grades.
func inspected(ns string, ev Event, e EPCISEvent) []EPCISEvent {
	if ev.Data.Instore == nil {
		return []EPCISEvent{e}
	}
	var dispositions []string
	qty := map[string][]EPCISQuantity{}
	for _, it := range ev.Data.Instore.Items {
		d, ok := epcisDisposition[it.Disposition]
		if !ok {
			continue
		}
		if _, seen := qty[d]; !seen {
			dispositions = append(dispositions, d)
		}
		class := ns + "/skus/" + url.PathEscape(ev.Merchant) + "/" + url.PathEscape(it.SKU)
		qty[d] = append(qty[d], EPCISQuantity{EPCClass: class, Quantity: float64(it.Qty)})
	}
	slices.Sort(dispositions)
	if len(dispositions) == 0 {
		return []EPCISEvent{e}
	}
	out := make([]EPCISEvent, 0, len(dispositions))
	for _, d := range dispositions {
		g := e
		g.EventID, g.Disposition, g.QuantityList = e.EventID+"#"+d, d, qty[d]
		out = append(out, g)
	}
	return out
}

// ParseEPCISSince parses the since parameter: an RFC 3339 time, or
// EINVALID.
func ParseEPCISSince(v string) (time.Time, error) {
	t, err := time.Parse(time.RFC3339, v)
	if err != nil {
		return t, edge.Errorf(edge.EINVALID, "since must be an RFC 3339 time such as 2026-12-01T00:00:00Z, not %s.", strconv.Quote(clip(v)))
	}
	return t, nil
}
