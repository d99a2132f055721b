package cloud

import (
	"context"
	"strconv"
	"strings"
	"time"

	"github.com/comptoir/comptoir/edge"
)

// Stage is where a parcel waits: on a relay point's shelf for the driver,
// or handed over and not yet seen by the carrier (DESIGN.md, "Returns
// insight").
type Stage string

// Stages of stuck parcels.
const (
	// StageAwaitingHandover: deposited or received in store, not handed
	// over.
	StageAwaitingHandover Stage = "awaiting_handover"
	// StageAwaitingCarrier: handed over, and no partner's event since.
	StageAwaitingCarrier Stage = "awaiting_carrier"
)

// Stages lists the stages.
var Stages = []Stage{StageAwaitingHandover, StageAwaitingCarrier}

// StageOf returns the stage a parcel of status s waits at; ok is false for
// a parcel that waits for nobody at the network (created, cancelled, or
// seen by the carrier).
func StageOf(s Status) (Stage, bool) {
	switch s {
	case StatusDeposited, StatusReceivedInStore:
		return StageAwaitingHandover, true
	case StatusHandedOver:
		return StageAwaitingCarrier, true
	}
	return "", false
}

// StuckParcel is a parcel that has waited at its stage since Since, at
// Terminal (the one holding it, or the one that handed it over).
type StuckParcel struct {
	Tracking string    `json:"tracking"`
	Stage    Stage     `json:"stage"`
	Since    time.Time `json:"since"`
	Terminal string    `json:"terminal"`
}

// StuckQuery asks for the parcels waiting at Stage since before Before,
// the oldest first, at most Limit.
type StuckQuery struct {
	Stage  Stage
	Before time.Time
	Limit  int
}

// DefaultStuckAfter is how long a parcel waits at a stage before the
// cloud's metric counts it stuck: three days (relay points hand over to a
// driver daily; a carrier scans within a day).
const DefaultStuckAfter = 72 * time.Hour

// Limits of a stuck list.
const (
	MaxStuckAge     = 366 * 24 * time.Hour
	MaxStuckParcels = 1000
)

// ParseStuckQuery checks the parameters of GET /v1/parcels/stuck at now:
// stage one of Stages, older_than a duration from a minute to a year
// (Go's form, 36h, or days, 3d), limit 1 to MaxStuckParcels (default the
// most). Anything else is EINVALID naming the parameter.
func ParseStuckQuery(stage, olderThan, limit string, now time.Time) (StuckQuery, error) {
	q := StuckQuery{Stage: Stage(stage), Limit: MaxStuckParcels}
	if q.Stage != StageAwaitingHandover && q.Stage != StageAwaitingCarrier {
		return q, edge.Errorf(edge.EINVALID, "stage must be awaiting_handover or awaiting_carrier, not %q.", clip(stage))
	}
	d, err := parseAge(olderThan)
	if err != nil || d < time.Minute || d > MaxStuckAge {
		return q, edge.Errorf(edge.EINVALID, "older_than must be a duration from 1m to 366d (such as 36h or 3d), not %q.", clip(olderThan))
	}
	q.Before = now.UTC().Add(-d)
	if limit != "" {
		n, err := strconv.Atoi(limit)
		if err != nil || n < 1 || n > MaxStuckParcels {
			return q, edge.Errorf(edge.EINVALID, "limit must be 1 to %d, not %q.", MaxStuckParcels, clip(limit))
		}
		q.Limit = n
	}
	return q, nil
}

// parseAge reads a Go duration or a whole number of days ("3d").
func parseAge(s string) (time.Duration, error) {
	if days, ok := strings.CutSuffix(s, "d"); ok {
		n, err := strconv.Atoi(days)
		if err != nil || n < 0 || n > 1000 || strings.HasPrefix(days, "+") {
			return 0, edge.Errorf(edge.EINVALID, "bad days")
		}
		return time.Duration(n) * 24 * time.Hour, nil
	}
	return time.ParseDuration(s)
}

// StuckStore finds stuck parcels through an index by stage and time.
type StuckStore interface {
	// StuckParcels returns the parcels in scope waiting at q.Stage since
	// before q.Before, oldest first (then by tracking number), at most
	// q.Limit.
	StuckParcels(ctx context.Context, scope Scope, q StuckQuery) ([]StuckParcel, error)
	// CountStuck returns how many parcels of the network wait at stage
	// since before before.
	CountStuck(ctx context.Context, stage Stage, before time.Time) (int, error)
}

// Stuck lists the parcels that wait too long.
type Stuck struct {
	Store StuckStore
	Now   func() time.Time
}

// List checks the parameters (ParseStuckQuery) and lists the stuck
// parcels in scope.
func (s *Stuck) List(ctx context.Context, scope Scope, stage, olderThan, limit string) ([]StuckParcel, error) {
	now := time.Now()
	if s.Now != nil {
		now = s.Now()
	}
	q, err := ParseStuckQuery(stage, olderThan, limit, now)
	if err != nil {
		return nil, err
	}
	ps, err := s.Store.StuckParcels(ctx, scope, q)
	if ps == nil && err == nil {
		ps = []StuckParcel{}
	}
	return ps, err
}
