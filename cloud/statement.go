package cloud

import (
	"context"
	"strconv"
	"time"

	"github.com/comptoir/comptoir/edge"
)

// StatementCounts are the operations of a relay point that its statement
// counts: the steps that agreed with their parcels (conflicts do not
// count) and the refused scans.
type StatementCounts struct {
	Deposits  int64 `json:"deposits"`
	Cancelled int64 `json:"cancelled"`
	Handovers int64 `json:"handovers"`
	Instore   int64 `json:"instore"`
	Refusals  int64 `json:"refusals"`
}

// Count counts n operations of type t that agreed with their parcels (or
// mark none); it reports whether t is one a statement counts.
func (c *StatementCounts) Count(t edge.OpType, n int64) bool {
	switch t {
	case edge.OpReturnDeposited:
		c.Deposits += n
	case edge.OpReturnCancelled:
		c.Cancelled += n
	case edge.OpParcelHandedOver:
		c.Handovers += n
	case edge.OpInstoreReceived:
		c.Instore += n
	case edge.OpReturnRefused:
		c.Refusals += n
	default:
		return false
	}
	return true
}

// Add adds d to c.
func (c *StatementCounts) Add(d StatementCounts) {
	c.Deposits += d.Deposits
	c.Cancelled += d.Cancelled
	c.Handovers += d.Handovers
	c.Instore += d.Instore
	c.Refusals += d.Refusals
}

// Paid returns the parcels a relay point is paid for in the month: its
// drop-offs (deposits and in-store receipts), less the deposits cancelled
// in the month (a cancel is deducted in the month it happens), never
// below zero.
func (c StatementCounts) Paid() int64 { return max(0, c.Deposits+c.Instore-c.Cancelled) }

// Statement is what a relay point is owed for a month (DESIGN.md,
// "Returns insight").
type Statement struct {
	Terminal string `json:"terminal"`
	Month    string `json:"month"`
	StatementCounts
	RateCents   int64 `json:"rate_cents"`
	AmountCents int64 `json:"amount_cents"`
}

// StatementHeader is the header line of a statement's CSV.
var StatementHeader = []string{"terminal", "month", "deposits", "cancelled", "handovers", "instore", "refusals", "rate_cents", "amount_cents"}

// Record returns s as a CSV record under StatementHeader.
func (s Statement) Record() []string {
	out := []string{s.Terminal, s.Month}
	for _, n := range []int64{s.Deposits, s.Cancelled, s.Handovers, s.Instore, s.Refusals, s.RateCents, s.AmountCents} {
		out = append(out, strconv.FormatInt(n, 10))
	}
	return out
}

// ParseMonth reads a month YYYY-MM (UTC, from the year 2000) and returns
// its first instant, or EINVALID.
func ParseMonth(s string) (time.Time, error) {
	m, err := time.Parse("2006-01", s)
	if err != nil || len(s) != 7 || m.Year() < 2000 {
		return time.Time{}, edge.Errorf(edge.EINVALID, "month must be YYYY-MM from the year 2000, not %q.", clip(s))
	}
	return m, nil
}

// StatementStore counts a terminal's operations by the month they
// occurred in.
type StatementStore interface {
	// StatementCounts returns the operations of terminal tid that
	// occurred from from to to (excluded), as StatementCounts counts them,
	// among the events up to the terminal's watermark.
	StatementCounts(ctx context.Context, tid string, from, to time.Time) (StatementCounts, error)
}

// DefaultRelayRateCents is what a relay point is paid per parcel unless
// the cloud's config says otherwise: 0.30 (in the network's currency).
const DefaultRelayRateCents = 30

// Statements makes relay points' monthly statements.
type Statements struct {
	Store interface {
		StatementStore
		FindTerminal(ctx context.Context, id string) (Terminal, error)
	}
	// RateCents is paid per parcel (StatementCounts.Paid).
	RateCents int64
}

// Statement returns the statement of terminal tid for month (YYYY-MM):
// EINVALID for a bad month, ENOTFOUND for a terminal never enrolled.
func (st *Statements) Statement(ctx context.Context, tid, month string) (Statement, error) {
	from, err := ParseMonth(month)
	if err != nil {
		return Statement{}, err
	}
	if _, err := st.Store.FindTerminal(ctx, tid); err != nil {
		return Statement{}, err
	}
	c, err := st.Store.StatementCounts(ctx, tid, from, from.AddDate(0, 1, 0))
	if err != nil {
		return Statement{}, err
	}
	return Statement{Terminal: tid, Month: month, StatementCounts: c, RateCents: st.RateCents, AmountCents: st.RateCents * c.Paid()}, nil
}
