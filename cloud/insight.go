package cloud

import (
	"context"
	"time"
)

// Insight is what the report page shows a merchant (its returns) or an
// operator (the network's): the returns created in each period by reason,
// their dispositions and resolutions, and the parcels waiting by age.
type Insight struct {
	From, To string // the days asked for, both included
	// Periods are the first days of the periods of Reasons: a day each up
	// to 31 days, else a week each.
	Periods []time.Time
	// PeriodDays is the length of a period in days.
	PeriodDays int
	// Reasons holds, per reason, the returns created in each period.
	Reasons []Series
	// Dispositions and Resolutions are the report rows of the whole
	// range (in-store returns only).
	Dispositions, Resolutions []ReportRow
	// Stuck counts the parcels waiting at each stage by age (StuckAges),
	// at most MaxStuckParcels a stage.
	Stuck []StuckAges
}

// Series is a named row of counts, one per period.
type Series struct {
	Key    string
	Values []int64
}

// StuckAges counts the parcels waiting at a stage in each age bucket of
// StuckAgeBounds (the last bucket is older than the last bound).
type StuckAges struct {
	Stage  Stage
	Counts []int64
}

// StuckAgeBounds are the upper bounds of the age buckets of StuckAges.
var StuckAgeBounds = []time.Duration{24 * time.Hour, 3 * 24 * time.Hour, 7 * 24 * time.Hour, 14 * 24 * time.Hour}

// Insight gathers the report page of scope for the days from and to
// (checked as ParseReportQuery does), at now.
func (rs *Reports) Insight(ctx context.Context, stuck StuckStore, scope Scope, from, to string, now time.Time) (Insight, error) {
	q, err := parsePeriod(from, to)
	if err != nil {
		return Insight{}, err
	}
	in := Insight{From: from, To: to, PeriodDays: 1}
	if q.Days() > 31 {
		in.PeriodDays = 7
	}
	byReason := map[string][]int64{}
	var reasons []string
	for p := q.From; p.Before(q.To); p = p.AddDate(0, 0, in.PeriodDays) {
		i := len(in.Periods)
		in.Periods = append(in.Periods, p)
		end := p.AddDate(0, 0, in.PeriodDays)
		if end.After(q.To) {
			end = q.To
		}
		rows, err := rs.Store.ReturnsReport(ctx, scope, ReportQuery{From: p, To: end, By: ByReason})
		if err != nil {
			return Insight{}, err
		}
		for _, r := range rows {
			if byReason[r.Key] == nil {
				reasons = append(reasons, r.Key)
			}
			for len(byReason[r.Key]) <= i {
				byReason[r.Key] = append(byReason[r.Key], 0)
			}
			byReason[r.Key][i] = r.Returns
		}
	}
	for _, k := range reasons {
		v := byReason[k]
		for len(v) < len(in.Periods) {
			v = append(v, 0)
		}
		in.Reasons = append(in.Reasons, Series{Key: k, Values: v})
	}
	sortSeries(in.Reasons)
	for _, d := range []struct {
		by   ReportBy
		rows *[]ReportRow
	}{{ByDisposition, &in.Dispositions}, {ByResolution, &in.Resolutions}} {
		if *d.rows, err = rs.Store.ReturnsReport(ctx, scope, ReportQuery{From: q.From, To: q.To, By: d.by}); err != nil {
			return Insight{}, err
		}
	}
	for _, st := range []Stage{StageAwaitingHandover, StageAwaitingCarrier} {
		ps, err := stuck.StuckParcels(ctx, scope, StuckQuery{Stage: st, Before: now, Limit: MaxStuckParcels})
		if err != nil {
			return Insight{}, err
		}
		ages := StuckAges{Stage: st, Counts: make([]int64, len(StuckAgeBounds)+1)}
		for _, p := range ps {
			b := 0
			for b < len(StuckAgeBounds) && now.Sub(p.Since) >= StuckAgeBounds[b] {
				b++
			}
			ages.Counts[b]++
		}
		in.Stuck = append(in.Stuck, ages)
	}
	return in, nil
}

// sortSeries sorts series by their total, largest first, then by key.
func sortSeries(ss []Series) {
	total := func(s Series) (n int64) {
		for _, v := range s.Values {
			n += v
		}
		return n
	}
	for i := 1; i < len(ss); i++ {
		for j := i; j > 0; j-- {
			a, b := ss[j-1], ss[j]
			if ta, tb := total(a), total(b); ta > tb || (ta == tb && a.Key <= b.Key) {
				break
			}
			ss[j-1], ss[j] = b, a
		}
	}
}
