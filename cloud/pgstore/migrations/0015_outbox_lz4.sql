-- The outbox's entries compressed with LZ4 rather than pglz (issue 13): a
-- row of 256 entries holds arrays of 2 to 5 KB, which PostgreSQL
-- compresses (TOAST) at each insert, and pglz took 3 % of the server's
-- CPU at ingest (perf); LZ4 compresses several times faster. A server
-- built without LZ4 keeps pglz.
DO $$
BEGIN
    ALTER TABLE outbox
        ALTER COLUMN trackings SET COMPRESSION lz4,
        ALTER COLUMN terminals SET COMPRESSION lz4,
        ALTER COLUMN ev_seqs SET COMPRESSION lz4,
        ALTER COLUMN entry_ids SET COMPRESSION lz4;
EXCEPTION WHEN feature_not_supported THEN
    NULL;
END $$;
