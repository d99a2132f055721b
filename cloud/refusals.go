package cloud

import (
	"cmp"
	"context"
	"encoding/json"
	"slices"
	"strconv"
	"time"

	"github.com/comptoir/comptoir/edge"
)

// RefusalRow counts the codes a relay point refused for one reason
// (return.refused journalled at its terminal: refused scans, deposits and
// in-store returns) in the days of a report.
type RefusalRow struct {
	RelayPoint string `json:"relay_point"`
	Reason     string `json:"reason"`
	Refusals   int64  `json:"refusals"`
}

// RefusalHeader is the header line of a refusals report's CSV.
var RefusalHeader = []string{"relay_point", "reason", "refusals"}

// Record returns r as a CSV record under RefusalHeader.
func (r RefusalRow) Record() []string {
	return []string{r.RelayPoint, r.Reason, strconv.FormatInt(r.Refusals, 10)}
}

// RefusalReason returns the reason of the data of a return.refused, ""
// when it names none (or is not a refusal's data): such a refusal still
// counts, under the reason "".
func RefusalReason(data json.RawMessage) string {
	var d struct {
		Reason string `json:"reason"`
	}
	if json.Unmarshal(data, &d) != nil {
		return ""
	}
	return d.Reason
}

// RefusalStore counts the network's refusals.
type RefusalStore interface {
	// RefusalCounts returns, by terminal and reason, the return.refused
	// events up to each terminal's watermark that occurred from from to to
	// (excluded), sorted by terminal then reason.
	RefusalCounts(ctx context.Context, from, to time.Time) ([]RefusalRow, error)
}

// Refusals checks the days (as ParseReportQuery does) and answers the
// refusals of the network's relay points by reason. Refusals belong to the
// network (most refused codes name no merchant): a merchant's scope is
// EFORBIDDEN.
func (rs *Reports) Refusals(ctx context.Context, scope Scope, from, to string) ([]RefusalRow, error) {
	if !scope.All() {
		return nil, edge.Errorf(edge.EFORBIDDEN, "The refusals of relay points are the network's: an operator key reads them.")
	}
	q, err := parsePeriod(from, to)
	if err != nil {
		return nil, err
	}
	rows, err := rs.Store.RefusalCounts(ctx, q.From, q.To)
	if rows == nil && err == nil {
		rows = []RefusalRow{}
	}
	return rows, err
}

// SortRefusals sorts rows by relay point, then reason.
func SortRefusals(rows []RefusalRow) {
	slices.SortFunc(rows, func(a, b RefusalRow) int {
		return cmp.Or(cmp.Compare(a.RelayPoint, b.RelayPoint), cmp.Compare(a.Reason, b.Reason))
	})
}
