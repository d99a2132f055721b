-- Every text column of the store compares bytewise (COLLATE "C") rather
-- than under the database's default collation (issue 13). The keys are
-- trackings, terminal and event ids, merchants' ids, statuses: ASCII
-- codes that no language orders, compared at every lookup of ingest
-- (a deposit's event, its parcel, its watermark). Under C.UTF-8 each
-- comparison went through strcoll: 6 to 7 % of the server's CPU at
-- ingest (perf), 9 % less server CPU an event without it
-- (BenchmarkIngest, a database created with LC_COLLATE 'C' against the
-- test database, alternated). Bytewise order is also Go's, so that lists
-- ordered by a text key come in the same order from both stores. All
-- columns change at once: a comparison of two columns of different
-- implicit collations fails. Their indexes are rebuilt; no row is
-- rewritten.
DO $$
DECLARE
    c record;
BEGIN
    FOR c IN
        SELECT col.table_name, col.column_name
        FROM information_schema.columns col
        JOIN information_schema.tables t ON t.table_schema = col.table_schema AND t.table_name = col.table_name
        WHERE col.table_schema = current_schema() AND t.table_type = 'BASE TABLE'
          AND col.data_type = 'text' AND col.collation_name IS NULL
        ORDER BY 1, 2
    LOOP
        EXECUTE format('ALTER TABLE %I ALTER COLUMN %I TYPE text COLLATE "C"', c.table_name, c.column_name);
    END LOOP;
END $$;
