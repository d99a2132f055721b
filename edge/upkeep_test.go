package edge_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/comptoir/comptoir/edge"
)

// upkeepJournal records what the upkeep policy asks of the journal.
type upkeepJournal struct {
	cutoffs  []time.Time
	retains  []time.Duration
	scrubErr error
}

func (j *upkeepJournal) Scrub(_ context.Context, cutoff time.Time) (int, error) {
	j.cutoffs = append(j.cutoffs, cutoff)
	return 1, j.scrubErr
}

func (j *upkeepJournal) Compact(_ context.Context, retain time.Duration) (int, error) {
	j.retains = append(j.retains, retain)
	return 0, nil
}

// TestUpkeep scrubs what ended a retention period before the counter's
// clock, then compacts past the history's, with the defaults when unset,
// and stops at the journal's error.
func TestUpkeep(t *testing.T) {
	now := time.Date(2026, 12, 4, 12, 0, 0, 0, time.UTC)
	for _, tt := range []struct {
		name               string
		retention, history time.Duration
		wantCut            time.Time
		wantRetain         time.Duration
	}{
		{"defaults", 0, 0, now.Add(-30 * 24 * time.Hour), 400 * 24 * time.Hour},
		{"configured", time.Hour, 48 * time.Hour, now.Add(-time.Hour), 48 * time.Hour},
	} {
		t.Run(tt.name, func(t *testing.T) {
			j := &upkeepJournal{}
			u := edge.Upkeep{Journal: j, Retention: tt.retention, HistoryRetention: tt.history, Now: func() time.Time { return now }}
			if err := u.Run(context.Background()); err != nil {
				t.Fatal(err)
			}
			if len(j.cutoffs) != 1 || !j.cutoffs[0].Equal(tt.wantCut) || len(j.retains) != 1 || j.retains[0] != tt.wantRetain {
				t.Errorf("scrub cutoffs %v, compact retains %v; want [%v], [%v]", j.cutoffs, j.retains, tt.wantCut, tt.wantRetain)
			}
		})
	}
	j := &upkeepJournal{scrubErr: errors.New("disk gone")}
	if err := (&edge.Upkeep{Journal: j}).Run(context.Background()); err == nil || len(j.retains) != 0 {
		t.Errorf("scrub failed: error %v, compactions %d; want the error and no compaction", err, len(j.retains))
	}
}
