package edge_test

import (
	"testing"
	"time"

	"github.com/comptoir/comptoir/edge"
)

func TestWeigher(t *testing.T) {
	now := time.Date(2026, 12, 4, 10, 0, 0, 0, time.UTC)
	tests := []struct {
		name    string
		reading *edge.ScaleReading // nil: none yet
		age     time.Duration
		maxG    int
		want    edge.Weighing
	}{
		{"no reading yet", nil, 0, 0, edge.Weighing{State: edge.ScaleSilent}},
		{"stable", &edge.ScaleReading{Milligrams: 1_234_400, State: edge.ScaleStable}, 0, 30000, edge.Weighing{State: edge.ScaleStable, Grams: 1234, Ready: true}},
		{"rounded half up", &edge.ScaleReading{Milligrams: 1_234_500, State: edge.ScaleStable}, 0, 0, edge.Weighing{State: edge.ScaleStable, Grams: 1235, Ready: true}},
		{"stable, at the limit", &edge.ScaleReading{Milligrams: 5_000_000, State: edge.ScaleStable}, 0, 5000, edge.Weighing{State: edge.ScaleStable, Grams: 5000, Ready: true}},
		{"stable, over the limit", &edge.ScaleReading{Milligrams: 5_001_000, State: edge.ScaleStable}, 0, 5000, edge.Weighing{State: edge.ScaleStable, Grams: 5001, Refusal: edge.Overweight}},
		{"stable, empty pan", &edge.ScaleReading{Milligrams: 9_400, State: edge.ScaleStable}, 0, 0, edge.Weighing{State: edge.ScaleStable, Grams: 9}},
		{"moving", &edge.ScaleReading{Milligrams: 1_100_000, State: edge.ScaleUnstable}, 0, 0, edge.Weighing{State: edge.ScaleUnstable, Grams: 1100}},
		{"under zero", &edge.ScaleReading{Milligrams: -25_500, State: edge.ScaleNegative}, 0, 0, edge.Weighing{State: edge.ScaleNegative, Grams: -26}},
		{"overload", &edge.ScaleReading{Milligrams: 99_000_000, State: edge.ScaleOverload}, 0, 0, edge.Weighing{State: edge.ScaleOverload}},
		{"fault", &edge.ScaleReading{State: edge.ScaleFault}, 0, 0, edge.Weighing{State: edge.ScaleFault}},
		{"last reading too old", &edge.ScaleReading{Milligrams: 1_234_000, State: edge.ScaleStable}, edge.DefaultScaleStale + time.Millisecond, 0, edge.Weighing{State: edge.ScaleSilent}},
		{"last reading just fresh", &edge.ScaleReading{Milligrams: 1_234_000, State: edge.ScaleStable}, edge.DefaultScaleStale, 0, edge.Weighing{State: edge.ScaleStable, Grams: 1234, Ready: true}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			feed := &edge.ScaleFeed{}
			if tt.reading != nil {
				feed.Put(*tt.reading, now.Add(-tt.age))
			}
			w := &edge.Weigher{Feed: feed, Now: func() time.Time { return now }}
			got, err := w.Weigh(tt.maxG)
			if err != nil || got != tt.want {
				t.Fatalf("got %+v, %v; want %+v", got, err, tt.want)
			}
		})
	}
	var none *edge.Weigher
	if _, err := none.Weigh(0); edge.ErrorCode(err) != edge.ENOTFOUND {
		t.Fatalf("no scale: err %v, want %s", err, edge.ENOTFOUND)
	}
	if _, err := (&edge.Weigher{}).Weigh(0); edge.ErrorCode(err) != edge.ENOTFOUND {
		t.Fatalf("no feed: err %v, want %s", err, edge.ENOTFOUND)
	}
}
