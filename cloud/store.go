package cloud

import (
	"context"
	"time"

	"github.com/comptoir/comptoir/edge"
)

// Store keeps the cloud's state: events and timelines, returns, the fleet
// registry, dead letters and API keys. Badger implements it
// (cloud/badgerstore) and PostgreSQL (cloud/pgstore);
// cloud/storetest holds the contract suite that every implementation passes.
//
// Every write is durable (synced to disk) when the method returns, because
// the ingest acks events to terminals right after StoreEvents.
type Store interface {
	// StoreEvents stores the events of terminal tid received at receivedAt,
	// idempotently by event id and by terminal and seq: a resent event is
	// counted as a duplicate and changes nothing. Events that mark a status
	// are added to their parcel's timeline. It returns an *edge.Error with
	// code EINVALID when an event has no id or seq or names another
	// terminal.
	StoreEvents(ctx context.Context, tid string, events []edge.Operation, receivedAt time.Time) (Ingested, error)

	// AddTimelineEntry adds e to the timeline of tracking, idempotently by
	// e.EventID; added is false for a duplicate.
	AddTimelineEntry(ctx context.Context, tracking string, e TimelineEntry) (added bool, err error)

	// Timeline returns the timeline of tracking ordered by occurred_at then
	// received_at; it is empty (not an error) for an unknown tracking.
	Timeline(ctx context.Context, tracking string) ([]TimelineEntry, error)

	// CreateReturn stores r. It returns ECONFLICT if its id exists.
	CreateReturn(ctx context.Context, r Return) error
	// FindReturn returns the return of id, or ENOTFOUND.
	FindReturn(ctx context.Context, id string) (Return, error)

	// CreateTerminal enrols t. It returns ECONFLICT if its id is enrolled
	// and not decommissioned; a decommissioned terminal is replaced, its
	// receipt keys kept (Terminal.Succeeding).
	CreateTerminal(ctx context.Context, t Terminal) error
	// FindTerminal returns terminal id with its AckedSeq, or ENOTFOUND.
	FindTerminal(ctx context.Context, id string) (Terminal, error)
	// Terminals returns every terminal, sorted by id.
	Terminals(ctx context.Context) ([]Terminal, error)
	// UpdateTerminalStatus records a status message of terminal id, or
	// returns ENOTFOUND.
	UpdateTerminalStatus(ctx context.Context, id string, u StatusUpdate) error

	// AddDeadLetter keeps a message the ingest refused (NewDeadLetter).
	AddDeadLetter(ctx context.Context, d DeadLetter) error
	// DeadLetters returns up to limit dead letters after the one whose ID
	// is after ("" from the oldest), oldest first, with their IDs set, and
	// the cursor of the next page ("" after the last). It returns EINVALID
	// for a cursor that is not a dead letter's ID.
	DeadLetters(ctx context.Context, after string, limit int) (page []DeadLetter, next string, err error)

	// Revoke adds the RA id to the revocation list; revoking twice is no
	// error.
	Revoke(ctx context.Context, raID string) error
	// Revocations returns the revoked RA ids, sorted.
	Revocations(ctx context.Context) ([]string, error)

	// PutAPIKey stores k, replacing a key of the same hash.
	PutAPIKey(ctx context.Context, k APIKey) error
	// FindAPIKey returns the key whose hash is hash, or ENOTFOUND.
	FindAPIKey(ctx context.Context, hash []byte) (APIKey, error)
	// CountAPIKeys returns how many API keys exist.
	CountAPIKeys(ctx context.Context) (int, error)
	// APIKeys returns every API key (their hashes, never the keys), sorted
	// by hash.
	APIKeys(ctx context.Context) ([]APIKey, error)
	// DeleteAPIKey removes the key whose hash is hash, or returns
	// ENOTFOUND.
	DeleteAPIKey(ctx context.Context, hash []byte) error

	// Close releases the store.
	Close() error

	// Decommissioning (issue 13): see FleetStore for CreateTerminal's
	// re-enrolment of a decommissioned terminal.

	// DecommissionTerminal records that terminal id was decommissioned at
	// at for reason, removes its password and marks it offline; it returns
	// the terminal as recorded, ENOTFOUND, or ECONFLICT if it already was.
	DecommissionTerminal(ctx context.Context, id string, at time.Time, reason string) (Terminal, error)

	// Bounded dead letters (issue 13).

	// PruneDeadLetters removes the dead letters older than before, and
	// those of terminal beyond its keep newest; it returns how many it
	// removed.
	PruneDeadLetters(ctx context.Context, terminal string, keep int, before time.Time) (int, error)
}

// ErrNotFound returns the ENOTFOUND error of a missing thing.
func ErrNotFound(what, id string) error {
	return edge.Errorf(edge.ENOTFOUND, "No %s %q.", what, id)
}
