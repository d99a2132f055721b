package edge

import (
	"context"
	"fmt"
	"time"
)

// MonthStatement is what a relay point did in a month, as its shopkeeper
// checks it against what the network pays: the parcels it took (deposits
// and in-store returns) less those cancelled, per parcel at the network's
// rate. The terminal counts from its own journal, offline too; the cloud's
// statement (GET /v1/relay-points/{tid}/statement) is what is paid, and
// equals it once every operation has synced.
type MonthStatement struct {
	Month      string              `json:"month"`
	Deposits   int                 `json:"deposits"`
	Cancelled  int                 `json:"cancelled"`
	HandedOver int                 `json:"handed_over"`
	Instore    int                 `json:"instore_returns"`
	Refusals   map[RefusalCode]int `json:"refusals"`
	// Paid is deposits plus in-store returns less cancellations, never
	// below zero: the parcels the relay point is paid for.
	Paid int `json:"paid_parcels"`
}

// MonthStatement returns the statement of month ("2006-01", the terminal's
// local time in loc); EINVALID for a bad month.
func (d *Desk) MonthStatement(ctx context.Context, month string, loc *time.Location) (MonthStatement, error) {
	from, err := time.ParseInLocation("2006-01", month, loc)
	if err != nil || len(month) != 7 {
		return MonthStatement{}, Errorf(EINVALID, "A month is written YYYY-MM, got %q.", month)
	}
	page, err := d.Journal.History(ctx, HistoryQuery{From: from, To: from.AddDate(0, 1, 0)})
	if err != nil {
		return MonthStatement{}, fmt.Errorf("month statement: %w", err)
	}
	s := Summarize(month, page.Operations)
	return MonthStatement{
		Month: month, Deposits: s.Deposits, Cancelled: s.Cancelled, HandedOver: s.HandedOver, Instore: s.Instore,
		Refusals: s.Refusals, Paid: max(0, s.Deposits+s.Instore-s.Cancelled),
	}, nil
}
