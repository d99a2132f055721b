package pgstore_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/comptoir/comptoir/cloud"
	"github.com/comptoir/comptoir/cloud/pgstore"
	"github.com/comptoir/comptoir/cloud/storetest"
	"github.com/comptoir/comptoir/edge"
)

// TestOutboxInstances: four instances (pools) on one database write
// returns, batches and partners' events at once while a fifth follows the
// feed: every event is read once, none behind the cursor. Their
// transactions number their rows themselves (outbox_head), so this holds
// across instances only if they commit in the order of their positions.
func TestOutboxInstances(t *testing.T) {
	stores := openInstances(t, 5)
	writers := make([]cloud.Store, 4)
	for i := range writers {
		writers[i] = stores[i]
	}
	storetest.CursorUnderLoad(t, stores[4], writers...)
}

// TestOutboxNumberedMigration: an outbox of migration 0010 (numbered
// after the commit, id the insertion order, the last rows committed not
// numbered yet) keeps its positions through 0011; the rows not numbered
// get theirs after, in the order of their ids, and new rows come after
// them (through 0013 too: undone first, then applied again).
func TestOutboxNumberedMigration(t *testing.T) {
	ctx := context.Background()
	dsn := freshSchema(t)
	s := openDSN(t, dsn)
	for _, tr := range []string{"TRK1", "TRK2", "TRK3", "TRK4", "TRK5"} {
		if err := s.CreateReturn(ctx, cloud.Return{ID: "ra-" + tr, Merchant: "acme", Tracking: tr, CreatedAt: time.Now()}); err != nil {
			t.Fatal(err)
		}
	}
	// Back to 0010: TRK5's row inserted before TRK4's, neither numbered.
	if _, err := s.Pool().Exec(ctx, undo0013); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Pool().Exec(ctx, `
		DROP TABLE outbox_head;
		ALTER TABLE outbox DROP CONSTRAINT outbox_pkey, ALTER COLUMN seq DROP NOT NULL, ADD COLUMN id bigserial;
		UPDATE outbox SET id = CASE seq WHEN 4 THEN 5 WHEN 5 THEN 4 ELSE seq END;
		UPDATE outbox SET seq = NULL WHERE seq > 3;
		ALTER TABLE outbox ADD PRIMARY KEY (id);
		DROP INDEX outbox_merchant;
		CREATE INDEX outbox_unsequenced ON outbox (id) WHERE seq IS NULL;
		CREATE UNIQUE INDEX outbox_seq ON outbox (seq) WHERE seq IS NOT NULL;
		CREATE INDEX outbox_merchant ON outbox (merchant, seq) WHERE seq IS NOT NULL;
		DELETE FROM schema_version WHERE version = 11`); err != nil {
		t.Fatal(err)
	}
	again := openDSN(t, dsn)
	feed := func(after uint64) string {
		t.Helper()
		evs, _, err := again.Events(ctx, cloud.MerchantScope("acme"), after, 100)
		if err != nil {
			t.Fatal(err)
		}
		var out []string
		for _, e := range evs {
			out = append(out, fmt.Sprintf("%s@%d", e.Tracking, e.Seq))
		}
		return strings.Join(out, " ")
	}
	if got, want := feed(0), "TRK1@1 TRK2@2 TRK3@3 TRK5@4 TRK4@5"; got != want {
		t.Fatalf("feed after the migration = %s, want %s", got, want)
	}
	if head, err := again.EventsHead(ctx); err != nil || head != 5 {
		t.Fatalf("head = %d, %v; want 5", head, err)
	}
	if err := again.CreateReturn(ctx, cloud.Return{ID: "ra-TRK6", Merchant: "acme", Tracking: "TRK6", CreatedAt: time.Now()}); err != nil {
		t.Fatal(err)
	}
	if got := feed(5); got != "TRK6@6" {
		t.Fatalf("after the head: %s, want TRK6@6", got)
	}
}

// undo0013 takes an outbox of 0013 (a row per transaction and merchant)
// back to 0011's layout (a row per entry), as a store of 0012 has it, and
// forgets 0013 and 0019 (the insight's cursor and the rows' steps).
const undo0013 = `
CREATE TABLE outbox_rows AS
SELECT o.last - o.n + u.i AS seq, o.merchant, u.tracking, u.terminal, u.ev_seq, u.entry_id, o.at
FROM outbox o, unnest(o.trackings, o.terminals, o.ev_seqs, o.entry_ids) WITH ORDINALITY AS u(tracking, terminal, ev_seq, entry_id, i);
DROP TABLE outbox;
ALTER TABLE outbox_rows RENAME TO outbox;
ALTER TABLE outbox ALTER seq SET NOT NULL, ALTER merchant SET NOT NULL, ALTER merchant SET DEFAULT '',
    ALTER tracking SET NOT NULL, ALTER at SET NOT NULL, ALTER at SET DEFAULT now(), ADD PRIMARY KEY (seq);
CREATE INDEX outbox_merchant ON outbox (merchant, seq) WHERE merchant <> '';
CREATE INDEX outbox_at ON outbox USING brin (at) WITH (autosummarize = on);
DROP TABLE report_cursor;
DELETE FROM schema_version WHERE version IN (13, 19)`

// insertOutbox0011 is 0011's insert of outbox rows, one an entry: what an
// instance of 0012 publishes.
const insertOutbox0011 = `
WITH head AS (
    UPDATE outbox_head SET seq = seq + cardinality($1::text[])
    RETURNING seq - cardinality($1::text[]) AS base)
INSERT INTO outbox (seq, merchant, tracking, terminal, ev_seq, entry_id)
SELECT head.base + u.n, u.merchant, u.tracking, u.terminal, u.ev_seq, u.entry_id
FROM head, unnest($1::text[], $2::text[], $3::text[], $4::bigint[], $5::text[])
     WITH ORDINALITY AS u(merchant, tracking, terminal, ev_seq, entry_id, n)`

// TestOutboxBatchesMigration: an outbox of 0012's layout (a row per
// entry, some pruned, the last rows inserted by 0012's statement) reads
// the same through 0013: every feed, page by page, the heads, the
// positions by time; new entries come after.
func TestOutboxBatchesMigration(t *testing.T) {
	ctx := context.Background()
	dsn := freshSchema(t)
	s := openDSN(t, dsn)
	at := time.Now().Add(-time.Hour).UTC()
	for i, tr := range []string{"TRK1", "TRK2", "TRK3", "TRK4"} {
		m := []string{"acme", "bolt"}[i%2]
		if err := s.CreateReturn(ctx, cloud.Return{ID: "ra-" + tr, Merchant: m, Tracking: tr, CreatedAt: at}); err != nil {
			t.Fatal(err)
		}
	}
	// A batch of the merchants' parcels and carriers' between them, and a
	// batch that hands two over.
	var evs []edge.Operation
	for i, tr := range []string{"TRK1", "CAR1", "TRK2", "CAR2", "CAR3", "TRK3", "TRK4"} {
		evs = append(evs, storetest.Op("t-1", uint64(i+1), edge.OpReturnDeposited, tr, at))
	}
	if _, err := s.StoreEvents(ctx, "t-1", evs, at); err != nil {
		t.Fatal(err)
	}
	hand := []edge.Operation{storetest.Op("t-1", 8, edge.OpParcelHandedOver, "TRK1", at), storetest.Op("t-1", 9, edge.OpParcelHandedOver, "CAR2", at)}
	if _, err := s.StoreEvents(ctx, "t-1", hand, at); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Pool().Exec(ctx, undo0013); err != nil {
		t.Fatal(err)
	}
	// A gap (pruned rows), an old time, and rows of 0012's statement.
	if _, err := s.Pool().Exec(ctx, `DELETE FROM outbox WHERE seq IN (2, 3); UPDATE outbox SET at = at - interval '1 day' WHERE seq <= 5`); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Pool().Exec(ctx, insertOutbox0011, []string{"acme", "", "acme"}, []string{"TRK1", "CAR3", "TRK3"},
		[]*string{nil, ptr("t-1"), nil}, []*int64{nil, ptr(int64(5)), nil}, []*string{ptr("no-such-entry"), nil, ptr("other-entry")}); err != nil {
		t.Fatal(err)
	}
	read := func(s *pgstore.Store) string {
		t.Helper()
		var out []string
		for _, scope := range []cloud.Scope{cloud.Network, cloud.MerchantScope("acme"), cloud.MerchantScope("bolt")} {
			for _, limit := range []int{1, 2, 3, 100} {
				var page []string
				for after := uint64(0); ; {
					evs, last, err := s.Events(ctx, scope, after, limit)
					if err != nil {
						t.Fatal(err)
					}
					if len(evs) == 0 {
						break
					}
					for _, e := range evs {
						page = append(page, fmt.Sprintf("%s:%s:%s@%d", e.Merchant, e.Type, e.Tracking, e.Seq))
					}
					after = last
				}
				out = append(out, fmt.Sprintf("%s/%d: %s", scope.Merchant, limit, strings.Join(page, " ")))
			}
		}
		head, err := s.EventsHead(ctx)
		if err != nil {
			t.Fatal(err)
		}
		heads, err := s.FeedHeads(ctx, []string{"acme", "bolt", "none"})
		if err != nil {
			t.Fatal(err)
		}
		var ats []uint64
		for _, when := range []time.Time{at.Add(-48 * time.Hour), at.Add(-12 * time.Hour), time.Now().Add(time.Hour)} {
			pos, err := s.EventsAt(ctx, when)
			if err != nil {
				t.Fatal(err)
			}
			ats = append(ats, pos)
		}
		return fmt.Sprintf("%s\nhead %d, heads %v, at %v", strings.Join(out, "\n"), head, heads, ats)
	}
	again := openDSN(t, dsn)
	if got := read(again); got != wantBatches {
		t.Fatalf("after 0013:\n%s\nwant:\n%s", got, wantBatches)
	}
	if err := again.CreateReturn(ctx, cloud.Return{ID: "ra-TRK5", Merchant: "acme", Tracking: "TRK5", CreatedAt: at}); err != nil {
		t.Fatal(err)
	}
	if evs, _, err := again.Events(ctx, cloud.MerchantScope("acme"), 16, 10); err != nil || len(evs) != 1 || evs[0].Seq != 17 || evs[0].Tracking != "TRK5" {
		t.Fatalf("after the head: %+v, %v", evs, err)
	}
	// A batch of 0013 is a row of five entries, read in pages across it.
	evs = evs[:0]
	for i, tr := range []string{"CAR4", "CAR5", "CAR6", "CAR7", "CAR8"} {
		evs = append(evs, storetest.Op("t-1", uint64(10+i), edge.OpReturnDeposited, tr, at))
	}
	if _, err := again.StoreEvents(ctx, "t-1", evs, at); err != nil {
		t.Fatal(err)
	}
	var pages []string
	for after := uint64(17); ; {
		page, last, err := again.Events(ctx, cloud.Network, after, 2)
		if err != nil {
			t.Fatal(err)
		}
		if len(page) == 0 {
			break
		}
		var p []string
		for _, e := range page {
			p = append(p, fmt.Sprintf("%s@%d", e.Tracking, e.Seq))
		}
		pages, after = append(pages, strings.Join(p, " ")), last
	}
	if got := strings.Join(pages, " | "); got != "CAR4@18 CAR5@19 | CAR6@20 CAR7@21 | CAR8@22" {
		t.Fatalf("pages of the new row: %s", got)
	}
	var rows, entries int
	if err := again.Pool().QueryRow(ctx, `SELECT count(*), sum(n) FROM outbox WHERE last > 17`).Scan(&rows, &entries); err != nil || rows != 1 || entries != 5 {
		t.Fatalf("outbox rows after 17: %d of %d entries, %v; want 1 of 5", rows, entries, err)
	}
}

func ptr[T any](v T) *T { return &v }

// wantBatches is what TestOutboxBatchesMigration's fixture reads: each
// feed in pages of 1, 2, 3 and 100 (the same entries at the same seqs),
// then the heads and the positions by time.
const wantBatches = `/1: acme:return.created:TRK1@1 bolt:return.created:TRK4@4 acme:return.deposited:TRK1@5 :return.deposited:CAR1@6 bolt:return.deposited:TRK2@7 :return.deposited:CAR2@8 :return.deposited:CAR3@9 acme:return.deposited:TRK3@10 bolt:return.deposited:TRK4@11 acme:parcel.handed_over:TRK1@12 :parcel.handed_over:CAR2@13 acme:parcel.:TRK1@14 :return.deposited:CAR3@15 acme:parcel.:TRK3@16
/2: acme:return.created:TRK1@1 bolt:return.created:TRK4@4 acme:return.deposited:TRK1@5 :return.deposited:CAR1@6 bolt:return.deposited:TRK2@7 :return.deposited:CAR2@8 :return.deposited:CAR3@9 acme:return.deposited:TRK3@10 bolt:return.deposited:TRK4@11 acme:parcel.handed_over:TRK1@12 :parcel.handed_over:CAR2@13 acme:parcel.:TRK1@14 :return.deposited:CAR3@15 acme:parcel.:TRK3@16
/3: acme:return.created:TRK1@1 bolt:return.created:TRK4@4 acme:return.deposited:TRK1@5 :return.deposited:CAR1@6 bolt:return.deposited:TRK2@7 :return.deposited:CAR2@8 :return.deposited:CAR3@9 acme:return.deposited:TRK3@10 bolt:return.deposited:TRK4@11 acme:parcel.handed_over:TRK1@12 :parcel.handed_over:CAR2@13 acme:parcel.:TRK1@14 :return.deposited:CAR3@15 acme:parcel.:TRK3@16
/100: acme:return.created:TRK1@1 bolt:return.created:TRK4@4 acme:return.deposited:TRK1@5 :return.deposited:CAR1@6 bolt:return.deposited:TRK2@7 :return.deposited:CAR2@8 :return.deposited:CAR3@9 acme:return.deposited:TRK3@10 bolt:return.deposited:TRK4@11 acme:parcel.handed_over:TRK1@12 :parcel.handed_over:CAR2@13 acme:parcel.:TRK1@14 :return.deposited:CAR3@15 acme:parcel.:TRK3@16
acme/1: acme:return.created:TRK1@1 acme:return.deposited:TRK1@5 acme:return.deposited:TRK3@10 acme:parcel.handed_over:TRK1@12 acme:parcel.:TRK1@14 acme:parcel.:TRK3@16
acme/2: acme:return.created:TRK1@1 acme:return.deposited:TRK1@5 acme:return.deposited:TRK3@10 acme:parcel.handed_over:TRK1@12 acme:parcel.:TRK1@14 acme:parcel.:TRK3@16
acme/3: acme:return.created:TRK1@1 acme:return.deposited:TRK1@5 acme:return.deposited:TRK3@10 acme:parcel.handed_over:TRK1@12 acme:parcel.:TRK1@14 acme:parcel.:TRK3@16
acme/100: acme:return.created:TRK1@1 acme:return.deposited:TRK1@5 acme:return.deposited:TRK3@10 acme:parcel.handed_over:TRK1@12 acme:parcel.:TRK1@14 acme:parcel.:TRK3@16
bolt/1: bolt:return.created:TRK4@4 bolt:return.deposited:TRK2@7 bolt:return.deposited:TRK4@11
bolt/2: bolt:return.created:TRK4@4 bolt:return.deposited:TRK2@7 bolt:return.deposited:TRK4@11
bolt/3: bolt:return.created:TRK4@4 bolt:return.deposited:TRK2@7 bolt:return.deposited:TRK4@11
bolt/100: bolt:return.created:TRK4@4 bolt:return.deposited:TRK2@7 bolt:return.deposited:TRK4@11
head 16, heads map[acme:16 bolt:11 none:0], at [0 5 16]`
