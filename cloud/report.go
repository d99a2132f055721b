package cloud

import (
	"context"
	"slices"
	"strconv"
	"time"

	"github.com/comptoir/comptoir/edge"
)

// ReportBy is what the rows of a returns report are keyed by (DESIGN.md,
// "Returns insight").
type ReportBy string

// Dimensions of a returns report.
const (
	ByReason      ReportBy = "reason"      // the reason of each item of the return
	BySKU         ReportBy = "sku"         // the SKU of each item of the return
	ByDisposition ReportBy = "disposition" // where the store sent each item (in-store returns)
	ByResolution  ReportBy = "resolution"  // what the customer got (in-store returns)
	ByRelayPoint  ReportBy = "relay_point" // the terminal of the first drop-off
	ByCarrier     ReportBy = "carrier"     // the carrier of the return
)

// ReportDims lists the dimensions in the order of the API's documentation.
var ReportDims = []ReportBy{ByReason, BySKU, ByDisposition, ByResolution, ByRelayPoint, ByCarrier}

// MaxReportDays bounds the days of one report: a year and a day.
const MaxReportDays = 366

// ReportQuery is a checked request for a returns report: the returns
// created from From (a day, UTC) up to To (the day after the last one
// asked for, exclusive), keyed by By.
type ReportQuery struct {
	From, To time.Time
	By       ReportBy
}

// Days returns the days of q, From included, To excluded.
func (q ReportQuery) Days() int { return int(q.To.Sub(q.From) / (24 * time.Hour)) }

// ParseReportQuery checks the query parameters of GET /v1/reports/returns:
// from and to are days (YYYY-MM-DD, UTC, both included, at most
// MaxReportDays apart) and by one of ReportDims. Anything else is
// EINVALID with a message that names the parameter.
func ParseReportQuery(from, to, by string) (ReportQuery, error) {
	q, err := parsePeriod(from, to)
	if err != nil {
		return q, err
	}
	q.By = ReportBy(by)
	if !slices.Contains(ReportDims, q.By) {
		return q, edge.Errorf(edge.EINVALID, "by must be one of reason, sku, disposition, resolution, relay_point, carrier; not %q.", clip(by))
	}
	return q, nil
}

// parsePeriod checks the days from and to of a report (YYYY-MM-DD, UTC,
// both included, at most MaxReportDays apart).
func parsePeriod(from, to string) (ReportQuery, error) {
	var q ReportQuery
	var err error
	if q.From, err = parseDay("from", from); err != nil {
		return q, err
	}
	last, err := parseDay("to", to)
	if err != nil {
		return q, err
	}
	if last.Before(q.From) {
		return q, edge.Errorf(edge.EINVALID, "to (%s) is before from (%s).", to, from)
	}
	q.To = last.AddDate(0, 0, 1)
	if q.Days() > MaxReportDays {
		return q, edge.Errorf(edge.EINVALID, "A report covers at most %d days; %s to %s is %d.", MaxReportDays, from, to, q.Days())
	}
	return q, nil
}

// parseDay parses a day YYYY-MM-DD between the years 2000 and 9999.
func parseDay(name, s string) (time.Time, error) {
	d, err := time.Parse(time.DateOnly, s)
	if err != nil || len(s) != len(time.DateOnly) || d.Year() < 2000 {
		return time.Time{}, edge.Errorf(edge.EINVALID, "%s must be a day as YYYY-MM-DD from the year 2000, not %q.", name, clip(s))
	}
	return d, nil
}

// clip shortens what a client sent before it is quoted in a message.
func clip(s string) string {
	if len(s) > 40 {
		return s[:40] + "..."
	}
	return s
}

// ReportRow is one row of a returns report: of the returns created in the
// period that have the row's key, how many reached each step (each return
// counts once per step, whatever happened twice), and the median and 90th
// percentile, in whole seconds, of the time between steps. A return with
// two items of different reasons (or SKUs, or dispositions) is in both
// rows. A duration is nil when no return of the row took that step.
type ReportRow struct {
	Key                 string `json:"key"`
	Returns             int64  `json:"returns"`
	Deposited           int64  `json:"deposited"`
	ReceivedInStore     int64  `json:"received_in_store"`
	Cancelled           int64  `json:"cancelled"`
	HandedOver          int64  `json:"handed_over"`
	ReceivedAtWarehouse int64  `json:"received_at_warehouse"`
	Refunded            int64  `json:"refunded"`
	Exchanged           int64  `json:"exchanged"`

	// From the return's creation to its first drop-off (at a relay point
	// or in store), then from that drop-off to the first handover, to the
	// warehouse and to the refund or exchange.
	CreatedToDroppedOffP50   *int64 `json:"created_to_dropped_off_p50_s"`
	CreatedToDroppedOffP90   *int64 `json:"created_to_dropped_off_p90_s"`
	DroppedOffToHandoverP50  *int64 `json:"dropped_off_to_handed_over_p50_s"`
	DroppedOffToHandoverP90  *int64 `json:"dropped_off_to_handed_over_p90_s"`
	DroppedOffToWarehouseP50 *int64 `json:"dropped_off_to_warehouse_p50_s"`
	DroppedOffToWarehouseP90 *int64 `json:"dropped_off_to_warehouse_p90_s"`
	DroppedOffToResolvedP50  *int64 `json:"dropped_off_to_resolved_p50_s"`
	DroppedOffToResolvedP90  *int64 `json:"dropped_off_to_resolved_p90_s"`
}

// Stages of the durations of a report, the indexes of SetDuration.
const (
	StageToDropOff = iota
	StageToHandover
	StageToWarehouse
	StageToResolved
	NumStages
)

// SetDuration sets the median and 90th percentile of stage.
func (r *ReportRow) SetDuration(stage int, p50, p90 int64) {
	ps := r.durations()
	*ps[stage][0], *ps[stage][1] = &p50, &p90
}

func (r *ReportRow) durations() [NumStages][2]**int64 {
	return [NumStages][2]**int64{
		{&r.CreatedToDroppedOffP50, &r.CreatedToDroppedOffP90},
		{&r.DroppedOffToHandoverP50, &r.DroppedOffToHandoverP90},
		{&r.DroppedOffToWarehouseP50, &r.DroppedOffToWarehouseP90},
		{&r.DroppedOffToResolvedP50, &r.DroppedOffToResolvedP90},
	}
}

// ReportHeader is the header line of a report's CSV.
var ReportHeader = []string{
	"key", "returns", "deposited", "received_in_store", "cancelled", "handed_over", "received_at_warehouse", "refunded", "exchanged",
	"created_to_dropped_off_p50_s", "created_to_dropped_off_p90_s", "dropped_off_to_handed_over_p50_s", "dropped_off_to_handed_over_p90_s",
	"dropped_off_to_warehouse_p50_s", "dropped_off_to_warehouse_p90_s", "dropped_off_to_resolved_p50_s", "dropped_off_to_resolved_p90_s",
}

// Record returns r as a CSV record under ReportHeader; a missing duration
// is an empty field.
func (r ReportRow) Record() []string {
	out := []string{r.Key}
	for _, n := range []int64{r.Returns, r.Deposited, r.ReceivedInStore, r.Cancelled, r.HandedOver, r.ReceivedAtWarehouse, r.Refunded, r.Exchanged} {
		out = append(out, strconv.FormatInt(n, 10))
	}
	for _, st := range r.durations() {
		for _, p := range st {
			if *p == nil {
				out = append(out, "")
			} else {
				out = append(out, strconv.FormatInt(**p, 10))
			}
		}
	}
	return out
}

// ReportStore answers reports from the store's own query power: SQL
// aggregates on PostgreSQL, counters kept at ingest on Badger.
type ReportStore interface {
	// ReturnsReport returns the rows of q in scope, sorted by key (byte
	// order). Returns of other merchants are not counted.
	ReturnsReport(ctx context.Context, scope Scope, q ReportQuery) ([]ReportRow, error)
	RefusalStore
}

// Reports answers the reports of the returns insight.
type Reports struct {
	Store ReportStore
}

// Returns checks the query parameters (ParseReportQuery) and answers the
// returns report in scope.
func (rs *Reports) Returns(ctx context.Context, scope Scope, from, to, by string) ([]ReportRow, error) {
	q, err := ParseReportQuery(from, to, by)
	if err != nil {
		return nil, err
	}
	rows, err := rs.Store.ReturnsReport(ctx, scope, q)
	if rows == nil && err == nil {
		rows = []ReportRow{}
	}
	return rows, err
}
