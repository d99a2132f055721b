-- Returns insight (issue 15): reports take their durations' percentiles
-- of report_facts itself (reports.go), as before 0012, and ingest no
-- longer keeps report_durations: a row per return, row of a report and
-- stage (about 13 a return) and their index, written by every fold, were
-- most of the insight's cost on the server at ingest. The durations'
-- table made a network's quarter by SKU fast while its keys sorted under
-- the database's collation; every key now compares bytewise, and the
-- facts answer as fast, with each stage's duration a column of their own
-- (s0 to s3, cloud.ReturnFacts.StageSecs: whole seconds, NULL for a
-- stage not taken), written by the fold with the times it comes from:
-- sorting bigints rather than intervals, and no interval computed a row,
-- took a network's quarter by reason 148 ms at the median rather than
-- 173 (by SKU 165 / 185, by carrier 78 / 108). They are filled here for
-- the facts there are, as 0012 computed the durations (a rewrite of the
-- table).
DROP TABLE report_durations;
ALTER TABLE report_facts ADD COLUMN s0 bigint, ADD COLUMN s1 bigint, ADD COLUMN s2 bigint, ADD COLUMN s3 bigint;
UPDATE report_facts SET s0 = secs(dropped_at - created_at), s1 = secs(handed_at - dropped_at),
    s2 = secs(wh_at - dropped_at), s3 = secs(resolved_at - dropped_at);

-- The arrays of text (the facts' reasons, SKUs and dispositions, whose
-- elements reports group and sort, and the outbox's) compare bytewise
-- too, as 0017_collate_c.sql made the text columns: it left them out. A
-- column's compression (the outbox's lz4, 0015_outbox_lz4.sql) is set
-- again after: a change of type resets it.
DO $$
DECLARE
    c record;
BEGIN
    FOR c IN
        SELECT col.table_name, col.column_name, a.attcompression
        FROM information_schema.columns col
        JOIN information_schema.tables t ON t.table_schema = col.table_schema AND t.table_name = col.table_name
        JOIN pg_attribute a ON a.attrelid = format('%I.%I', col.table_schema, col.table_name)::regclass AND a.attname = col.column_name
        WHERE col.table_schema = current_schema() AND t.table_type = 'BASE TABLE'
          AND col.udt_name = '_text' AND col.collation_name IS NULL
        ORDER BY 1, 2
    LOOP
        EXECUTE format('ALTER TABLE %I ALTER COLUMN %I TYPE text[] COLLATE "C"', c.table_name, c.column_name);
        IF c.attcompression = 'l' THEN
            EXECUTE format('ALTER TABLE %I ALTER COLUMN %I SET COMPRESSION lz4', c.table_name, c.column_name);
        END IF;
    END LOOP;
END $$;
