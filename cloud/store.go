package cloud

import (
	"context"
	"time"

	"github.com/comptoir/comptoir/edge"
)

// Store keeps the cloud's state. Badger implements it (cloud/badgerstore)
// and PostgreSQL (cloud/pgstore); cloud/storetest holds the contract suite
// that every implementation passes. Its consumers each take the small part
// they need (EventStore, ReturnStore, ...), declared beside them.
//
// Every write is durable (synced to disk) when the method returns, because
// the ingest acks events to terminals right after StoreEvents. Every read
// and write of a merchant's data takes a Scope and filters by it in the
// store's query: what another merchant owns is ENOTFOUND.
type Store interface {
	EventStore
	TimelineStore
	ReturnStore
	ReportStore
	StuckStore
	StatementStore
	MerchantStore
	FleetStore
	KeyStore
	FeedStore
	WebhookStore

	// Close releases the store.
	Close() error
}

// EventStore is what the ingest needs: terminals' events, their status
// messages and the dead letters.
type EventStore interface {
	// StoreEvents stores the events of terminal tid received at receivedAt,
	// idempotently by event id and by terminal and seq: a resent event is
	// counted as a duplicate and changes nothing. In seq order (an event
	// above a gap waits for the gap to fill), each event is checked against
	// its parcel (ApplyTerminalEvent): one that agrees moves the parcel and
	// goes on its timeline, one that does not is kept as a Conflict, off the
	// timeline. It returns an *edge.Error with code EINVALID when an event
	// has no id or seq, a seq over 2^63, or names another terminal.
	StoreEvents(ctx context.Context, tid string, events []edge.Operation, receivedAt time.Time) (Ingested, error)
	// UpdateTerminalStatus records a status message of terminal id, or
	// returns ENOTFOUND.
	UpdateTerminalStatus(ctx context.Context, id string, u StatusUpdate) error
	// AddDeadLetter keeps a message the ingest refused (NewDeadLetter).
	AddDeadLetter(ctx context.Context, d DeadLetter) error
	// PruneDeadLetters removes the dead letters older than before, and
	// those of terminal beyond its keep newest; it returns how many it
	// removed.
	PruneDeadLetters(ctx context.Context, terminal string, keep int, before time.Time) (int, error)
}

// TimelineStore reads timelines and takes the partners' events.
type TimelineStore interface {
	// Timeline returns the timeline of tracking ordered by occurred_at then
	// received_at. In the network's scope it is empty (not an error) for an
	// unknown tracking; in a merchant's, a parcel that is not the
	// merchant's is ENOTFOUND.
	Timeline(ctx context.Context, scope Scope, tracking string) ([]TimelineEntry, error)
	// FindParcel returns the parcel of tracking in scope, or ENOTFOUND.
	FindParcel(ctx context.Context, scope Scope, tracking string) (Parcel, error)
	// AddPartnerEntry adds e to the timeline of the parcel tracking in
	// scope, idempotently by e.EventID (added is false for a duplicate,
	// and check is not called). check decides, from the parcel as it
	// stands, its next state or an error that refuses e; the read, the
	// check and the writes are one transaction. A parcel not in scope is
	// ENOTFOUND.
	AddPartnerEntry(ctx context.Context, scope Scope, tracking string, e TimelineEntry, check func(Parcel) (Parcel, error)) (added bool, err error)
	// AddTimelineEntry adds e to the timeline of tracking with no check
	// and no parcel, idempotently by e.EventID; added is false for a
	// duplicate. For tools and tests: the API goes through CreateReturn and
	// AddPartnerEntry.
	AddTimelineEntry(ctx context.Context, tracking string, e TimelineEntry) (added bool, err error)
	// Conflicts returns up to limit conflicts received after the cursor
	// (empty: from the first), oldest first, and the cursor of the last.
	Conflicts(ctx context.Context, after string, limit int) ([]Conflict, string, error)
}

// ReturnStore keeps return authorisations and revocations.
type ReturnStore interface {
	// CreateReturn stores r, its parcel (status created) and the "created"
	// entry of its timeline, at once. It returns ECONFLICT if its id
	// exists, and ETrackingTaken if a parcel of its tracking number exists.
	CreateReturn(ctx context.Context, r Return) error
	// FindReturn returns the return of id in scope, or ENOTFOUND.
	FindReturn(ctx context.Context, scope Scope, id string) (Return, error)
	// Revoke adds the RA id, a return in scope, to the revocation list; a
	// return not in scope is ENOTFOUND; revoking twice is no error.
	Revoke(ctx context.Context, scope Scope, raID string) error
	// Revocations returns the revoked RA ids, sorted.
	Revocations(ctx context.Context) ([]string, error)
}

// MerchantStore keeps the merchants and their signing keys.
type MerchantStore interface {
	// CreateMerchant stores m; ECONFLICT if its id exists.
	CreateMerchant(ctx context.Context, m Merchant) error
	// FindMerchant returns merchant id in scope, or ENOTFOUND.
	FindMerchant(ctx context.Context, scope Scope, id string) (Merchant, error)
	// Merchants returns the merchants in scope, sorted by id.
	Merchants(ctx context.Context, scope Scope) ([]Merchant, error)
	// CreateSigningKey stores k; ECONFLICT if a key of its id exists (of
	// any merchant: key ids are unique in the network).
	CreateSigningKey(ctx context.Context, k SigningKey) error
	// RetireSigningKey marks key kid of merchant retired at at, unless it
	// is retired already; ENOTFOUND when merchant has no such key.
	RetireSigningKey(ctx context.Context, merchant, kid string, at time.Time) error
	// SigningKeys returns the signing keys in scope, oldest first.
	SigningKeys(ctx context.Context, scope Scope) ([]SigningKey, error)
	// ResealSigningKey replaces the private half of key kid with private
	// if it still is was (a half stored before sealing, sealed now);
	// ENOTFOUND when no key kid holds was.
	ResealSigningKey(ctx context.Context, kid, was, private string) error
	// AdoptLegacy gives merchant the returns, parcels of returns and issuer
	// and partner keys stored before merchants existed (with none), and
	// makes the parcels of returns stored before parcels existed. It is
	// idempotent and cheap once done.
	AdoptLegacy(ctx context.Context, merchant string) error
	// Secret returns the secret called name, created with gen (and kept)
	// the first time; instances sharing a store get the same one.
	Secret(ctx context.Context, name string, gen func() []byte) ([]byte, error)
}

// FleetStore keeps the registry of terminals.
type FleetStore interface {
	// CreateTerminal enrols t. It returns ECONFLICT if its id is enrolled
	// and not decommissioned; a decommissioned terminal is replaced, its
	// receipt keys kept (Terminal.Succeeding).
	CreateTerminal(ctx context.Context, t Terminal) error
	// FindTerminal returns terminal id with its AckedSeq, or ENOTFOUND.
	FindTerminal(ctx context.Context, id string) (Terminal, error)
	// Terminals returns every terminal, sorted by id.
	Terminals(ctx context.Context) ([]Terminal, error)
	// SeqFloor returns the highest seq of terminal id the cloud holds
	// (acked, or stored above a gap), 0 for none: a device enrolled in its
	// place numbers its operations above it.
	SeqFloor(ctx context.Context, id string) (uint64, error)
	// DeadLetters returns up to limit dead letters after the one whose ID
	// is after ("" from the oldest), oldest first, with their IDs set, and
	// the cursor of the next page ("" after the last). It returns EINVALID
	// for a cursor that is not a dead letter's ID.
	DeadLetters(ctx context.Context, after string, limit int) (page []DeadLetter, next string, err error)

	// DecommissionTerminal records that terminal id was decommissioned at
	// at for reason, removes its password and marks it offline; it returns
	// the terminal as recorded, ENOTFOUND, or ECONFLICT if it already was.
	DecommissionTerminal(ctx context.Context, id string, at time.Time, reason string) (Terminal, error)
}

// KeyStore keeps API keys.
type KeyStore interface {
	// PutAPIKey stores k, replacing a key of the same hash. EINVALID unless
	// k.Check passes.
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
}

// ErrNotFound returns the ENOTFOUND error of a missing thing.
func ErrNotFound(what, id string) error {
	return edge.Errorf(edge.ENOTFOUND, "No %s %q.", what, id)
}

// ETrackingTaken is the code of a return whose tracking number another
// parcel has (HTTP 409).
const ETrackingTaken = "TRACKING_TAKEN"

// ErrTrackingTaken returns the ETrackingTaken error of tracking.
func ErrTrackingTaken(tracking string) error {
	return edge.Errorf(ETrackingTaken, "The tracking number %s is already used by another parcel.", tracking)
}
