package pgstore_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/comptoir/comptoir/cloud"
	"github.com/comptoir/comptoir/cloud/storetest"
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
// them.
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
