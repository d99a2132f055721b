package edge

import (
	"context"
	"encoding/json"
	"fmt"
	"time"
)

// HistoryQuery selects operations of the journal. Zero fields select
// everything.
type HistoryQuery struct {
	// After skips operations with seq <= After (paging).
	After uint64
	// Limit bounds the operations returned; 0 means no limit.
	Limit int
	// Type keeps operations of this type only.
	Type OpType
	// Tracking keeps operations of this tracking number only.
	Tracking string
	// From and To, when set, keep operations that occurred in [From, To).
	From, To time.Time
}

// Match reports whether op is selected by q (paging aside).
func (q HistoryQuery) Match(op Operation) bool {
	switch {
	case q.Type != "" && op.Type != q.Type:
		return false
	case q.Tracking != "" && op.Tracking != q.Tracking:
		return false
	case !q.From.IsZero() && op.OccurredAt.Before(q.From):
		return false
	case !q.To.IsZero() && !op.OccurredAt.Before(q.To):
		return false
	}
	return true
}

// HistoryPage is one page of the history.
type HistoryPage struct {
	Operations []Operation `json:"operations"`
	// Next is the After of the next page; 0 when this page is the last.
	Next uint64 `json:"next"`
}

// MaxHistoryPage bounds one page of history.
const MaxHistoryPage = 1000

// Day returns the bounds of the calendar day of day ("2006-01-02") in loc:
// the shopkeeper's day is the terminal's local day.
func Day(day string, loc *time.Location) (from, to time.Time, err error) {
	from, err = time.ParseInLocation(time.DateOnly, day, loc)
	if err != nil {
		return time.Time{}, time.Time{}, Errorf(EINVALID, "A day is written YYYY-MM-DD, got %q.", day)
	}
	return from, from.AddDate(0, 0, 1), nil
}

// History returns a page of the journal's operations matching q. Limit is
// capped at MaxHistoryPage; 0 means 100.
func (d *Desk) History(ctx context.Context, q HistoryQuery) (HistoryPage, error) {
	if q.Type != "" && !knownOpType(q.Type) {
		return HistoryPage{}, Errorf(EINVALID, "Unknown operation type %q.", q.Type)
	}
	if q.Limit <= 0 {
		q.Limit = 100
	}
	q.Limit = min(q.Limit, MaxHistoryPage)
	page, err := d.Journal.History(ctx, q)
	if err != nil {
		return HistoryPage{}, fmt.Errorf("history: %w", err)
	}
	if page.Operations == nil {
		page.Operations = []Operation{}
	}
	return page, nil
}

// OpDayClosed is journalled when a manager closes the day; its data is the
// DaySummary, which the cloud keeps as the relay point's statement.
const OpDayClosed OpType = "day.closed"

func knownOpType(t OpType) bool {
	switch t {
	case OpReturnDeposited, OpReturnRefused, OpReturnCancelled, OpInstoreReceived,
		OpParcelHandedOver, OpManifestClosed, OpCommandApplied, OpDayClosed:
		return true
	}
	return false
}

// DaySummary is what a counter did in one day: the shopkeeper's check of the
// till, and what relay points are paid by (per parcel).
type DaySummary struct {
	Day       string `json:"day"`
	Deposits  int    `json:"deposits"`
	Cancelled int    `json:"cancelled"`
	// Refusals counts return.refused by reason.
	Refusals map[RefusalCode]int `json:"refusals"`
	// HandedOver counts parcels handed over; Manifests the manifests closed.
	HandedOver int `json:"handed_over"`
	Manifests  int `json:"manifests"`
	// Instore counts in-store returns; Resolutions splits them.
	Instore     int                `json:"instore_returns"`
	Resolutions map[Resolution]int `json:"resolutions"`
	// Operators counts operations by member of staff.
	Operators map[string]int `json:"operators"`
}

// DaySummary summarises the operations of day ("2006-01-02", the terminal's
// local time in loc).
func (d *Desk) DaySummary(ctx context.Context, day string, loc *time.Location) (DaySummary, error) {
	from, to, err := Day(day, loc)
	if err != nil {
		return DaySummary{}, err
	}
	page, err := d.Journal.History(ctx, HistoryQuery{From: from, To: to})
	if err != nil {
		return DaySummary{}, fmt.Errorf("day summary: %w", err)
	}
	return Summarize(day, page.Operations), nil
}

// Summarize counts ops into a DaySummary.
func Summarize(day string, ops []Operation) DaySummary {
	s := DaySummary{
		Day: day, Refusals: map[RefusalCode]int{}, Resolutions: map[Resolution]int{}, Operators: map[string]int{},
	}
	for _, op := range ops {
		if op.Type == OpDayClosed {
			continue
		}
		if op.Operator != "" {
			s.Operators[op.Operator]++
		}
		switch op.Type {
		case OpReturnDeposited:
			s.Deposits++
		case OpReturnCancelled:
			s.Cancelled++
		case OpReturnRefused:
			var r RefusedData
			if json.Unmarshal(op.Data, &r) == nil && r.Reason != "" {
				s.Refusals[r.Reason]++
			}
		case OpParcelHandedOver:
			s.HandedOver++
		case OpManifestClosed:
			s.Manifests++
		case OpInstoreReceived:
			s.Instore++
			var r InstoreData
			if json.Unmarshal(op.Data, &r) == nil && r.Resolution != "" {
				s.Resolutions[r.Resolution]++
			}
		}
	}
	return s
}

// CloseDay journals day.closed with the summary of day. Closing a day again
// journals a new summary, which supersedes the earlier one (late operations
// of a terminal that was offline may have come in). Only managers close days;
// the caller checks the role.
func (d *Desk) CloseDay(ctx context.Context, day string, loc *time.Location, operator string) (DaySummary, Operation, error) {
	s, err := d.DaySummary(ctx, day, loc)
	if err != nil {
		return DaySummary{}, Operation{}, err
	}
	op := NewOperation(OpDayClosed, d.now(), operator, "", s)
	op.ID = newID()
	op, err = d.Journal.Append(ctx, op)
	if err != nil {
		return DaySummary{}, Operation{}, fmt.Errorf("close day: %w", err)
	}
	d.appended(op)
	return s, op, nil
}
