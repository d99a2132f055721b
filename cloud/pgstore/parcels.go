package pgstore

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strconv"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/comptoir/comptoir/cloud"
	"github.com/comptoir/comptoir/edge"
)

// seqAbove is a row of seqsAbove.
type seqAbove struct {
	Seq   int64
	Alias bool
}

// Statements of the parcels' checks (chain).
const (
	// Each tracking looked up on its own in the primary key (LATERAL),
	// whatever the statistics: a prepared statement's generic plan is made
	// once per connection, often when the table is small, and is kept
	// until the table is analyzed again. A join of unnest with parcels (or
	// "= ANY($1)") was then planned as a hash join over a scan of the whole
	// table, a cost that grew with every parcel stored (6.3 ms a batch of
	// 256 at 50,000 parcels, three times the insert of its events). The
	// trackings come sorted and once each, and the subquery locks each row
	// as it finds it: in the order of the array, the same in every
	// transaction, so that two batches wait for one another rather than
	// deadlock.
	lockParcels = `
SELECT p.tracking, p.merchant, p.ra_id, p.created_at, p.status, p.holder, p.since, p.terminal
FROM unnest($1::text[]) AS u(tracking),
     LATERAL (SELECT * FROM parcels p WHERE p.tracking = u.tracking FOR UPDATE) AS p`
	// A plain insert (no ON CONFLICT, whose speculative insertion costs a
	// third more): a parcel another transaction made meanwhile fails it
	// with a unique violation, and the group runs again (errParcelRace).
	insertParcels = `
INSERT INTO parcels (tracking, merchant, ra_id, created_at, status, holder, since, terminal)
SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::timestamptz[], $5::text[], $6::text[], $7::timestamptz[], $8::text[])`
	// Each row found in the primary key, then by its ctid, whatever the
	// generic plan's statistics (as lockParcels; OFFSET 0 keeps the
	// subquery from being flattened into a join, which was planned as a
	// hash join over the whole table). The rows are locked (lockParcels,
	// AddPartnerEntry's FOR UPDATE): their ctids do not move meanwhile.
	updateParcels = `
UPDATE parcels SET status = u.status, holder = u.holder, since = u.since, terminal = u.terminal
FROM unnest($1::text[], $2::text[], $3::text[], $4::timestamptz[], $5::text[]) AS u(tracking, status, holder, since, terminal),
     LATERAL (SELECT p.ctid AS at FROM parcels p WHERE p.tracking = u.tracking OFFSET 0) AS f
WHERE parcels.ctid = f.at`
	// Each event found in the primary key, then by its ctid, as in
	// updateParcels: the terminal's events change under its watermark's
	// lock only, which the transaction holds.
	setStatuses = `
UPDATE events SET status = u.status
FROM unnest($2::bigint[], $3::text[]) AS u(seq, status),
     LATERAL (SELECT e.ctid AS at FROM events e WHERE e.terminal = $1 AND e.seq = u.seq OFFSET 0) AS f
WHERE events.ctid = f.at`
	// The watermark moved, if it moves (a row version less when not).
	moveWatermark = `
UPDATE watermarks SET acked_seq = $2 WHERE terminal = $1 AND acked_seq <> $2`
	insertConflicts = `
INSERT INTO conflicts (event_id, terminal, seq, type, tracking, reason, occurred_at, received_at, parcel)
SELECT * FROM unnest($1::text[], $2::text[], $3::bigint[], $4::text[], $5::text[], $6::text[], $7::timestamptz[], $8::timestamptz[], $9::json[])
ON CONFLICT DO NOTHING`
)

// errParcelRace: a parcel this transaction found absent was created by
// another meanwhile; the group is run again, and then sees it.
var errParcelRace = errors.New("pgstore: a parcel was created by another transaction")

// chain is the events that a batch makes the terminal's watermark pass, in
// seq order, and what checking them against their parcels decided
// (cloud.ApplyTerminalEvent). Events above a gap are not in it: they are
// checked when the gap fills, so that a handover resent ahead of its
// deposit waits for it.
type chain struct {
	steps []step
	last  int64 // the watermark after the chain
	seqs  []int64
	// parcels are the rows locked for the check; next the parcels the
	// chain changed, status the status of each event that agreed.
	parcels   map[string]cloud.Parcel
	next      map[string]cloud.Parcel
	status    map[int64]string
	conflicts []cloud.Conflict
	out       []outRow // the events that flow out (outbox.go)
}

// step is one event of a chain: a row of the batch (row >= 0) or an event
// an earlier batch stored above a gap (row -1); an alias (an id stored
// under another seq) moves the watermark and is not checked again.
type step struct {
	seq      int64
	row      int
	alias    bool
	op       edge.Operation
	received time.Time
}

// chain returns the chain of w from the watermark wm, given the seqs
// stored above it by earlier batches.
func (w *pgWrite) chain(wm int64, above []seqAbove) *chain {
	earlier := make(map[int64]bool, len(above)) // seq -> alias
	for _, a := range above {
		earlier[a.Seq] = a.Alias
	}
	rows := make(map[int64]int, len(w.seqs))
	for i, q := range w.seqs {
		if q > wm {
			if _, dup := earlier[q]; !dup {
				rows[q] = i
			}
		}
	}
	inBatch := make(map[int64]bool, len(w.events)) // seqs the batch will store
	for _, ev := range w.events {
		inBatch[int64(ev.Seq)] = true
	}
	c := &chain{seqs: w.seqs, steps: make([]step, 0, len(rows))}
	for q := wm + 1; ; q++ {
		if i, ok := rows[q]; ok {
			c.steps = append(c.steps, step{seq: q, row: i, op: w.rowOps[i], received: w.received})
		} else if alias, ok := earlier[q]; ok {
			c.steps = append(c.steps, step{seq: q, row: -1, alias: alias})
		} else if inBatch[q] {
			// The batch names this id twice: stored as an alias.
			c.steps = append(c.steps, step{seq: q, row: -1, alias: true})
		} else {
			c.last = q - 1
			return c
		}
	}
}

// readBack reads the events of earlier batches that the chain passes.
func (c *chain) readBack(ctx context.Context, tx pgx.Tx, tid string) error {
	at := map[int64]int{}
	var seqs []int64
	for i, st := range c.steps {
		if st.row < 0 && !st.alias {
			at[st.seq] = i
			seqs = append(seqs, st.seq)
		}
	}
	if len(seqs) == 0 {
		return nil
	}
	rows, err := tx.Query(ctx, `
		SELECT e.seq, e.op::text, e.received_at FROM unnest($2::bigint[]) AS u(seq)
		JOIN events e ON e.terminal = $1 AND e.seq = u.seq`, tid, seqs)
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		var seq int64
		var op string
		var received time.Time
		if err := rows.Scan(&seq, &op, &received); err != nil {
			return err
		}
		st := &c.steps[at[seq]]
		if err := json.Unmarshal([]byte(op), &st.op); err != nil {
			return fmt.Errorf("event %s/%d: %w", tid, seq, err)
		}
		st.received = received.UTC()
	}
	return rows.Err()
}

// checked reports whether st's event is checked against a parcel.
func checked(st step) bool {
	_, marks := cloud.StatusOf(st.op.Type)
	return !st.alias && (marks || !cloud.KnownOpType(st.op.Type))
}

// lock reads and locks (FOR UPDATE) the parcels of the chain's events.
func (c *chain) lock(ctx context.Context, tx pgx.Tx) error {
	var err error
	c.parcels, err = lockTrackings(ctx, tx, c.trackings(nil))
	return err
}

// trackings appends to dst the trackings of the parcels that the chain's
// events are checked against.
func (c *chain) trackings(dst []string) []string {
	for _, st := range c.steps {
		if checked(st) && cloud.ValidTracking(st.op.Tracking) {
			dst = append(dst, text(st.op.Tracking))
		}
	}
	return dst
}

// lockTrackings reads and locks (FOR UPDATE) the parcels of trackings, in
// their sorted order (lockParcels), and returns those found.
func lockTrackings(ctx context.Context, tx pgx.Tx, trackings []string) (map[string]cloud.Parcel, error) {
	parcels := map[string]cloud.Parcel{}
	if len(trackings) == 0 {
		return parcels, nil
	}
	slices.Sort(trackings) // the order of the locks (lockParcels)
	trackings = slices.Compact(trackings)
	rows, err := tx.Query(ctx, lockParcels, trackings)
	if err != nil {
		return nil, err
	}
	ps, err := pgx.CollectRows(rows, scanParcel)
	if err != nil {
		return nil, err
	}
	for _, p := range ps {
		parcels[p.Tracking] = p
	}
	return parcels, nil
}

// apply checks the chain's events in order against the locked parcels.
func (c *chain) apply(received time.Time) {
	n := len(c.steps)
	c.next, c.status, c.conflicts, c.out = make(map[string]cloud.Parcel, n), make(map[int64]string, n), nil, make([]outRow, 0, n)
	seen := func(tr string) (cloud.Parcel, bool) {
		if p, ok := c.next[tr]; ok {
			return p, true
		}
		p, ok := c.parcels[tr]
		return p, ok
	}
	for _, st := range c.steps {
		if !checked(st) {
			continue
		}
		p, found := seen(st.op.Tracking)
		next, changed, reason := cloud.ApplyTerminalEvent(p, found, st.op, cloud.RAIDOf(st.op))
		if reason != "" {
			c.conflicts = append(c.conflicts, cloud.NewConflict(st.op, st.received, reason, p, found))
			continue
		}
		if changed {
			c.next[st.op.Tracking] = next
		}
		if s, ok := cloud.StatusOf(st.op.Type); ok {
			c.status[st.seq] = string(s)
			next.Tracking = st.op.Tracking
			c.out = append(c.out, terminalOut(next, st.op, st.seq, s))
		}
	}
}

// rowStatuses returns the status to insert for each row of the batch
// (statusOfRow).
func (c *chain) rowStatuses() []*string {
	statuses := make([]*string, len(c.seqs))
	for i := range c.seqs {
		statuses[i] = c.statusOfRow(i)
	}
	return statuses
}

// statusOfRow returns the status to insert for row i of the batch: the
// one its event marks when it was checked and agreed, else nil.
func (c *chain) statusOfRow(i int) *string {
	if s, ok := c.status[c.seqs[i]]; ok {
		return &s
	}
	return nil
}

// dropAliases marks as aliases the batch's rows of the chain that were not
// inserted (their id was stored under another seq); it reports whether
// there were any.
func (c *chain) dropAliases(stored map[int64]bool) bool {
	any := false
	for i := range c.steps {
		if st := &c.steps[i]; st.row >= 0 && !stored[st.seq] {
			st.alias, any = true, true
		}
	}
	return any
}

// statusArgs returns the seqs and statuses of the chain's events of
// earlier batches, and with rows, of the batch's too: setStatuses'
// arrays.
func (c *chain) statusArgs(rows bool) ([]int64, []*string) {
	var seqs []int64
	var statuses []*string
	for _, st := range c.steps {
		if st.alias || (st.row >= 0 && !rows) {
			continue
		}
		var s *string
		if v, ok := c.status[st.seq]; ok {
			s = &v
		}
		seqs, statuses = append(seqs, st.seq), append(statuses, s)
	}
	return seqs, statuses
}

// setStatuses sets the statuses of the chain's events, the batch's
// included.
func (c *chain) setStatuses(ctx context.Context, tx pgx.Tx, tid string) error {
	seqs, statuses := c.statusArgs(true)
	if len(seqs) == 0 {
		return nil
	}
	_, err := tx.Exec(ctx, setStatuses, tid, seqs, statuses)
	return err
}

// writeChain stores a batch in one statement (one round trip, where each
// part was one): its rows new to the store (insertNewEvents; none when
// insertEvents stored them first), what its chain decided — the new
// parcels, the parcels changed, the statuses of earlier batches' events —
// and the watermark moved. Each part is its own statement numbered on
// (renumber); the parts change different rows, so that none needs to see
// another's.
var writeChain = "WITH ev AS (" + insertNewEvents + "),\nnp AS (" + renumber(insertParcels, 9) +
	"),\nup AS (" + renumber(updateParcels, 17) + "),\nst AS (" + renumber(setStatuses, 22) + ")" + renumber(moveWatermark, 25)

// renumber returns statement q with its parameters $1, $2... numbered
// from $(k+1).
func renumber(q string, k int) string {
	return paramRE.ReplaceAllStringFunc(q, func(p string) string {
		n, _ := strconv.Atoi(p[1:])
		return "$" + strconv.Itoa(n+k)
	})
}

var paramRE = regexp.MustCompile(`\$[0-9]+`)

// write stores the batch's new rows ev and what the chain decided
// (writeChain), then its conflicts: errParcelRace when another transaction
// made one of its new parcels meanwhile, errEventTaken when one of ev was
// stored meanwhile or its id under another seq.
func (c *chain) write(ctx context.Context, tx pgx.Tx, tid string, wm int64, received time.Time, ev eventRows) error {
	if p := c.writeParams(tid, wm, received, ev); p != nil {
		defer p.release()
		if err := p.execGeneric(ctx, tx, writeChain); err != nil {
			return writeErr(err)
		}
	}
	return c.writeConflicts(ctx, tx)
}

// writeConflicts inserts the chain's conflicts, if any.
func (c *chain) writeConflicts(ctx context.Context, tx pgx.Tx) error {
	if len(c.conflicts) > 0 {
		return insertConflictRows(ctx, tx, c.conflicts)
	}
	return nil
}

// writeErr translates writeChain's error: errParcelRace when another
// transaction made one of its new parcels meanwhile, errEventTaken when
// one of its events was stored meanwhile or its id under another seq.
func writeErr(err error) error {
	switch {
	case constraintOf(err) == "parcels_pkey":
		return errParcelRace
	case isUnique(err):
		return errEventTaken
	}
	return err
}

// writeParams returns writeChain's parameters for the batch's new rows ev
// and what the chain decided, or nil when there is nothing to write. The
// caller releases them.
func (c *chain) writeParams(tid string, wm int64, received time.Time, ev eventRows) *params {
	seqs, statuses := c.statusArgs(false)
	n := len(c.next)
	nt, nm, nr, ns, nh, nterm := make([]string, 0, n), make([]string, 0, n), make([]string, 0, n), make([]string, 0, n), make([]string, 0, n), make([]string, 0, n)
	nc, nsince := make([]time.Time, 0, n), make([]time.Time, 0, n)
	var ut, us, uh, uterm []string
	var usince []time.Time
	for tr, p := range c.next {
		if _, existed := c.parcels[tr]; existed {
			ut, us, uh = append(ut, text(tr)), append(us, string(p.Status)), append(uh, p.Holder)
			usince, uterm = append(usince, p.Since.UTC()), append(uterm, p.Terminal)
			continue
		}
		nt, nm, nr = append(nt, text(tr)), append(nm, p.Merchant), append(nr, text(p.RAID))
		nc, ns, nh = append(nc, p.CreatedAt.UTC()), append(ns, string(p.Status)), append(nh, p.Holder)
		nsince, nterm = append(nsince, p.Since.UTC()), append(nterm, p.Terminal)
	}
	if len(ev.seqs) == 0 && len(nt) == 0 && len(ut) == 0 && len(seqs) == 0 && c.last == wm {
		return nil
	}
	p := newParams()
	p.text(tid)
	p.time(received)
	p.int8s(ev.seqs)
	p.texts(ev.ids)
	p.texts(ev.types)
	p.texts(ev.trackings)
	p.times(ev.occurred)
	p.texts(ev.ops)
	p.textPtrs(ev.statuses)
	for _, s := range [][]string{nt, nm, nr} {
		p.texts(s)
	}
	p.times(nc)
	p.texts(ns)
	p.texts(nh)
	p.times(nsince)
	p.texts(nterm)
	for _, s := range [][]string{ut, us, uh} {
		p.texts(s)
	}
	p.times(usince)
	p.texts(uterm)
	p.text(tid)
	p.int8s(seqs)
	p.textPtrs(statuses)
	p.text(tid)
	p.int8(c.last)
	return p
}

func insertConflictRows(ctx context.Context, tx pgx.Tx, cs []cloud.Conflict) error {
	p := conflictParams(cs)
	if p == nil {
		return nil
	}
	defer p.release()
	return p.execGeneric(ctx, tx, insertConflicts)
}

// conflictParams returns insertConflicts' parameters for cs, or nil when
// there are none. The caller releases them.
func conflictParams(cs []cloud.Conflict) *params {
	n := len(cs)
	if n == 0 {
		return nil
	}
	ids, tids, types, trs, reasons, parcels := make([]string, n), make([]string, n), make([]string, n), make([]string, n), make([]string, n), make([]*string, n)
	seqs, occ, rec := make([]int64, n), make([]time.Time, n), make([]time.Time, n)
	for i, c := range cs {
		ids[i], tids[i], types[i], trs[i], reasons[i] = text(c.EventID), c.Terminal, text(string(c.Type)), text(c.Tracking), c.Reason
		seqs[i], occ[i], rec[i] = int64(c.Seq), c.OccurredAt, c.ReceivedAt
		if c.Parcel != nil {
			b, _ := json.Marshal(c.Parcel)
			s := string(b)
			parcels[i] = &s
		}
	}
	p := newParams()
	p.texts(ids)
	p.texts(tids)
	p.int8s(seqs)
	p.texts(types)
	p.texts(trs)
	p.texts(reasons)
	p.times(occ)
	p.times(rec)
	p.jsons(parcels)
	return p
}

func scanParcel(row pgx.CollectableRow) (cloud.Parcel, error) {
	var p cloud.Parcel
	var status string
	err := row.Scan(&p.Tracking, &p.Merchant, &p.RAID, &p.CreatedAt, &status, &p.Holder, &p.Since, &p.Terminal)
	p.Status, p.CreatedAt, p.Since = cloud.Status(status), p.CreatedAt.UTC(), p.Since.UTC()
	return p, err
}

// scopeMerchant is the merchant condition's parameter: ” matches every
// merchant (the network's scope).
func scopeMerchant(scope cloud.Scope) string { return scope.Merchant }

// FindParcel implements cloud.Store.
func (s *Store) FindParcel(ctx context.Context, scope cloud.Scope, tracking string) (cloud.Parcel, error) {
	rows, err := s.pool.Query(ctx, `
		SELECT tracking, merchant, ra_id, created_at, status, holder, since, terminal FROM parcels
		WHERE tracking = $1 AND ($2 = '' OR merchant = $2)`, text(tracking), scopeMerchant(scope))
	if err != nil {
		return cloud.Parcel{}, fmt.Errorf("pgstore: find parcel: %w", err)
	}
	p, err := pgx.CollectExactlyOneRow(rows, scanParcel)
	if errors.Is(err, pgx.ErrNoRows) {
		return cloud.Parcel{}, cloud.ErrNotFound("parcel", tracking)
	} else if err != nil {
		return cloud.Parcel{}, fmt.Errorf("pgstore: find parcel: %w", err)
	}
	return p, nil
}

// Timeline implements cloud.Store: the terminals' events that mark a
// status and the API's entries, by occurred_at, received_at then event id.
// In a merchant's scope, the parcel's merchant is checked in the same
// query: no row of another merchant's parcel is read.
func (s *Store) Timeline(ctx context.Context, scope cloud.Scope, tracking string) ([]cloud.TimelineEntry, error) {
	out := []cloud.TimelineEntry{}
	if !cloud.ValidTracking(tracking) {
		if scope.All() {
			return out, nil
		}
		return nil, cloud.ErrNotFound("parcel", tracking)
	}
	rows, err := s.pool.Query(ctx, `
		WITH mine AS (SELECT $2 = '' OR EXISTS (
			SELECT 1 FROM parcels WHERE tracking = $1 AND merchant = $2) AS ok)
		SELECT status, occurred_at, received_at, terminal, 'terminal:' || terminal, id
		FROM events, mine WHERE mine.ok AND tracking = $1 AND status IS NOT NULL
		UNION ALL
		SELECT status, occurred_at, received_at, location, source, event_id
		FROM timeline_entries, mine WHERE mine.ok AND tracking = $1
		ORDER BY 2, 3, 6`, tracking, scopeMerchant(scope))
	if err != nil {
		return nil, fmt.Errorf("pgstore: timeline: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var e cloud.TimelineEntry
		var status string
		if err := rows.Scan(&status, &e.OccurredAt, &e.ReceivedAt, &e.Location, &e.Source, &e.EventID); err != nil {
			return nil, fmt.Errorf("pgstore: timeline: %w", err)
		}
		e.Status = cloud.Status(status)
		e.OccurredAt, e.ReceivedAt = e.OccurredAt.UTC(), e.ReceivedAt.UTC()
		out = append(out, e)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("pgstore: timeline: %w", err)
	}
	// A merchant's parcel always has its "created" entry: none means the
	// parcel is not the merchant's.
	if len(out) == 0 && !scope.All() {
		return nil, cloud.ErrNotFound("parcel", tracking)
	}
	return out, nil
}

func checkEntry(tracking string, e cloud.TimelineEntry) error {
	if !cloud.ValidTracking(tracking) || e.EventID == "" || !e.Status.Valid() {
		return edge.Errorf(edge.EINVALID, "A timeline entry needs a tracking number, an event id and a known status.")
	}
	return nil
}

const insertEntry = `
INSERT INTO timeline_entries (event_id, tracking, status, occurred_at, received_at, location, source)
VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT DO NOTHING`

func entryArgs(tracking string, e cloud.TimelineEntry) []any {
	return []any{text(e.EventID), tracking, string(e.Status), e.OccurredAt.UTC(), e.ReceivedAt.UTC(), text(e.Location), text(e.Source)}
}

// AddTimelineEntry implements cloud.Store.
func (s *Store) AddTimelineEntry(ctx context.Context, tracking string, e cloud.TimelineEntry) (bool, error) {
	if err := checkEntry(tracking, e); err != nil {
		return false, err
	}
	tag, err := s.pool.Exec(ctx, insertEntry, entryArgs(tracking, e)...)
	if err != nil {
		return false, fmt.Errorf("pgstore: add timeline entry: %w", err)
	}
	return tag.RowsAffected() == 1, nil
}

// AddPartnerEntry implements cloud.Store: the parcel is locked (FOR
// UPDATE) while it is checked, so that two partner events of one parcel
// are checked one after the other.
func (s *Store) AddPartnerEntry(ctx context.Context, scope cloud.Scope, tracking string, e cloud.TimelineEntry, check func(cloud.Parcel) (cloud.Parcel, error)) (bool, error) {
	if err := checkEntry(tracking, e); err != nil {
		return false, err
	}
	added := false
	err := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		rows, err := tx.Query(ctx, `
			SELECT tracking, merchant, ra_id, created_at, status, holder, since, terminal FROM parcels
			WHERE tracking = $1 AND ($2 = '' OR merchant = $2) FOR UPDATE`, tracking, scopeMerchant(scope))
		if err != nil {
			return err
		}
		p, err := pgx.CollectExactlyOneRow(rows, scanParcel)
		if errors.Is(err, pgx.ErrNoRows) {
			return cloud.ErrNotFound("parcel", tracking)
		} else if err != nil {
			return err
		}
		var dup bool
		if err := tx.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM timeline_entries WHERE event_id = $1)`, text(e.EventID)).Scan(&dup); err != nil || dup {
			return err
		}
		next, err := check(p)
		if err != nil {
			return err
		}
		tag, err := tx.Exec(ctx, insertEntry, entryArgs(tracking, e)...)
		if err != nil {
			return err
		}
		added = tag.RowsAffected() == 1
		if _, err = tx.Exec(ctx, updateParcels, []string{text(tracking)}, []string{string(next.Status)}, []string{next.Holder},
			[]time.Time{next.Since.UTC()}, []string{next.Terminal}); err != nil || !added {
			return err
		}
		return publish(ctx, tx, []outRow{entryOut(next, e)}, s.insight) // the returns insight's fold reads it there
	})
	if err != nil {
		if _, coded := err.(*edge.Error); coded {
			return false, err
		}
		return false, fmt.Errorf("pgstore: add partner entry: %w", err)
	}
	return added, nil
}

// Conflicts implements cloud.Store; the cursor is the row number of the
// last conflict.
func (s *Store) Conflicts(ctx context.Context, after string, limit int) ([]cloud.Conflict, string, error) {
	var from int64
	if after != "" {
		n, err := strconv.ParseInt(after, 10, 64)
		if err != nil || n < 0 {
			return nil, "", edge.Errorf(edge.EINVALID, "The cursor %q is not one this API gave.", after)
		}
		from = n
	}
	rows, err := s.pool.Query(ctx, `
		SELECT n, event_id, terminal, seq, type, tracking, reason, occurred_at, received_at, parcel::text
		FROM conflicts WHERE n > $1 ORDER BY n LIMIT $2`, from, limit)
	if err != nil {
		return nil, "", fmt.Errorf("pgstore: conflicts: %w", err)
	}
	defer rows.Close()
	out, next := []cloud.Conflict{}, after
	for rows.Next() {
		var c cloud.Conflict
		var n, seq int64
		var typ string
		var parcel *string
		if err := rows.Scan(&n, &c.EventID, &c.Terminal, &seq, &typ, &c.Tracking, &c.Reason, &c.OccurredAt, &c.ReceivedAt, &parcel); err != nil {
			return nil, "", fmt.Errorf("pgstore: conflicts: %w", err)
		}
		c.Seq, c.Type = uint64(seq), edge.OpType(typ)
		c.OccurredAt, c.ReceivedAt = c.OccurredAt.UTC(), c.ReceivedAt.UTC()
		if parcel != nil {
			c.Parcel = &cloud.ParcelSummary{}
			_ = json.Unmarshal([]byte(*parcel), c.Parcel)
		}
		out = append(out, c)
		next = strconv.FormatInt(n, 10)
	}
	if err := rows.Err(); err != nil {
		return nil, "", fmt.Errorf("pgstore: conflicts: %w", err)
	}
	return out, next, nil
}
