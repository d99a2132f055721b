package cloud_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/comptoir/comptoir/cloud"
	"github.com/comptoir/comptoir/edge"
)

// trackStore is an in-memory cloud.TrackStore: one timeline, terminals by
// id, and a count of lookups.
type trackStore struct {
	timeline  []cloud.TimelineEntry
	terminals map[string]cloud.Terminal
	findErr   error
	lookups   int
}

func (s *trackStore) Timeline(_ context.Context, scope cloud.Scope, _ string) ([]cloud.TimelineEntry, error) {
	if scope != cloud.Network {
		return nil, errors.New("the tracking page reads in the network's scope")
	}
	return s.timeline, nil
}

func (s *trackStore) FindTerminal(_ context.Context, id string) (cloud.Terminal, error) {
	s.lookups++
	if s.findErr != nil {
		return cloud.Terminal{}, s.findErr
	}
	t, ok := s.terminals[id]
	if !ok {
		return cloud.Terminal{}, edge.Errorf(edge.ENOTFOUND, "no terminal %s", id)
	}
	return t, nil
}

func TestTrackerSteps(t *testing.T) {
	summer := time.Date(2026, 3, 28, 23, 30, 0, 0, time.UTC) // 00:30 on the 29th in Paris, winter time
	store := &trackStore{
		timeline: []cloud.TimelineEntry{
			{Status: cloud.StatusCreated, OccurredAt: summer.Add(-time.Hour), Source: cloud.SourceIssuer},
			{Status: cloud.StatusDeposited, OccurredAt: summer, Source: cloud.TerminalSource("shop-1"), Location: "shop-1"},
			{Status: cloud.StatusCancelled, OccurredAt: summer.Add(2 * time.Hour), Source: cloud.TerminalSource("shop-1"), Location: "shop-1"},
			{Status: cloud.StatusDeposited, OccurredAt: summer.Add(3 * time.Hour), Source: cloud.TerminalSource("gone-1"), Location: "gone-1"},
			{Status: cloud.StatusInTransit, OccurredAt: summer.Add(4 * time.Hour), Source: cloud.SourcePartner, Location: "Hub 7"},
		},
		terminals: map[string]cloud.Terminal{"shop-1": {ID: "shop-1", Name: "Tabac du Coin"}},
	}
	tr := &cloud.Tracker{Store: store} // the default zone, Europe/Paris
	steps, err := tr.Track(context.Background(), "RR123456785FR")
	if err != nil {
		t.Fatal(err)
	}
	want := []struct {
		at, relay string
	}{
		{"2026-03-28T23:30:00+01:00", ""},
		{"2026-03-29T00:30:00+01:00", "Tabac du Coin"},
		{"2026-03-29T03:30:00+02:00", "Tabac du Coin"}, // summer time began at 02:00
		{"2026-03-29T04:30:00+02:00", ""},              // a terminal the registry does not know
		{"2026-03-29T05:30:00+02:00", ""},              // partners' locations are not shown
	}
	if len(steps) != len(want) {
		t.Fatalf("steps = %+v", steps)
	}
	for i, w := range want {
		if got := steps[i].At.Format(time.RFC3339); got != w.at || steps[i].RelayPoint != w.relay || steps[i].Status != store.timeline[i].Status {
			t.Errorf("step %d = %s %q %s, want %s %q", i, got, steps[i].RelayPoint, steps[i].Status, w.at, w.relay)
		}
	}
	if store.lookups != 2 {
		t.Errorf("%d terminal lookups, want one a terminal", store.lookups)
	}

	store.findErr = errors.New("disk on fire")
	if _, err := tr.Track(context.Background(), "RR123456785FR"); err == nil || edge.ErrorCode(err) != edge.EINTERNAL {
		t.Fatalf("a failing registry: err %v, want it passed on", err)
	}
	for _, bad := range []string{"", "A\x00B", "tab\there", string(make([]byte, cloud.MaxTrackingLen+1))} {
		if _, err := tr.Track(context.Background(), bad); edge.ErrorCode(err) != edge.EINVALID {
			t.Errorf("tracking %q: err %v, want %s", bad, err, edge.EINVALID)
		}
	}
}

func TestLoadTimeZone(t *testing.T) {
	if z, err := cloud.LoadTimeZone("Europe/Paris"); err != nil || z.String() != "Europe/Paris" {
		t.Fatalf("Europe/Paris: %v, %v", z, err)
	}
	for _, bad := range []string{"", "Local", "Mars/Olympus", "../../etc/passwd"} {
		if _, err := cloud.LoadTimeZone(bad); edge.ErrorCode(err) != edge.EINVALID {
			t.Errorf("%q: err %v, want %s", bad, err, edge.EINVALID)
		}
	}
}
