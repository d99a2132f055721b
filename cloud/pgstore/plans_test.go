package pgstore

import (
	"context"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"

	"github.com/comptoir/comptoir/build/testenv"
)

// TestGenericPlans: the generic plans of the ingest's statements, made on
// empty tables (as a connection's first batch makes them, kept until the
// tables are analyzed), look each row up in an index: no hash of a table
// or of a terminal's events, no scan of a whole table.
func TestGenericPlans(t *testing.T) {
	ctx := context.Background()
	s := openFresh(t)
	for name, q := range map[string]string{"insertEvents": insertEvents, "insertAliases": insertAliases,
		"lockParcels": lockParcels, "writeChain": writeChain, "seqsAbove": seqsAbove, "insertConflicts": insertConflicts} {
		err := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
			if _, err := tx.Exec(ctx, `SET LOCAL plan_cache_mode = force_generic_plan`); err != nil {
				return err
			}
			if _, err := tx.Exec(ctx, `PREPARE q AS `+q); err != nil {
				return err
			}
			var n int
			if err := tx.QueryRow(ctx, `SELECT cardinality(parameter_types) FROM pg_prepared_statements WHERE name = 'q'`).Scan(&n); err != nil {
				return err
			}
			args := strings.TrimSuffix(strings.Repeat("NULL, ", n), ", ")
			rows, err := tx.Query(ctx, `EXPLAIN EXECUTE q(`+args+`)`)
			if err != nil {
				return err
			}
			lines, err := pgx.CollectRows(rows, pgx.RowTo[string])
			if err != nil {
				return err
			}
			plan := strings.Join(lines, "\n")
			for _, bad := range []string{"Hash", "Seq Scan", "Bitmap Heap Scan on events", "Merge"} {
				if strings.Contains(plan, bad) {
					t.Errorf("%s's generic plan has %q:\n%s", name, bad, plan)
				}
			}
			_, err = tx.Exec(ctx, `DEALLOCATE q`)
			return err
		})
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
	}
}

// openFresh opens a store on a schema of its own, closed and dropped at
// the end of the test.
func openFresh(tb testing.TB) *Store {
	tb.Helper()
	ctx := context.Background()
	dsn, drop, err := NewSchema(ctx, testenv.Postgres(tb))
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { _ = drop() })
	s, err := Open(ctx, dsn)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { _ = s.Close() })
	return s
}

// TestTextColumnsCollateC checks that every text column of a new store,
// and every array of text, compares bytewise (0017_collate_c.sql,
// 0018_facts_only.sql for the arrays): a column added later under the
// database's collation would put strcoll back into its lookups, and
// fail a comparison with the other columns (two implicit collations). A
// migration that adds a text column gives it COLLATE "C".
func TestTextColumnsCollateC(t *testing.T) {
	s := openFresh(t)
	ctx := context.Background()
	rows, err := s.pool.Query(ctx, `
		SELECT c.table_name || '.' || c.column_name, coalesce(c.collation_name, '(default)')
		FROM information_schema.columns c
		JOIN information_schema.tables t ON t.table_schema = c.table_schema AND t.table_name = c.table_name
		WHERE c.table_schema = current_schema() AND t.table_type = 'BASE TABLE' AND (c.data_type = 'text' OR c.udt_name = '_text')
		ORDER BY 1`)
	if err != nil {
		t.Fatal(err)
	}
	cols, err := pgx.CollectRows(rows, pgx.RowToStructByPos[struct{ Column, Collation string }])
	if err != nil {
		t.Fatal(err)
	}
	if len(cols) < 20 {
		t.Fatalf("%d text columns found, want the store's tables' (at least 20): %v", len(cols), cols)
	}
	for _, c := range cols {
		if c.Collation != "C" {
			t.Errorf("column %s has collation %s, want C", c.Column, c.Collation)
		}
	}
}
