-- The outbox a row per transaction and merchant (issue 13): a publishing
-- transaction inserts one row for each merchant's entries (up to 256 a
-- row) instead of one per entry: the entries' columns as arrays, in the
-- order of their seqs, which run from last - n + 1 to last. An ingest of
-- full batches wrote two index entries and a heap tuple per event here,
-- a fifth of the database's work per event (auto_explain); it writes
-- them per 256 events now. Readers expand the arrays (unnest WITH
-- ORDINALITY); the seqs, the feeds' order and cursors are those of
-- 0011's rows.
--
-- Instances of a version before this one insert into the old columns:
-- their inserts now fail, and their terminals' batches go unacked until
-- an instance of this version stores them.
LOCK TABLE outbox, outbox_head IN ACCESS EXCLUSIVE MODE;

CREATE TABLE outbox_batches (
    last      bigint      PRIMARY KEY,
    n         int         NOT NULL CHECK (n > 0),
    merchant  text        NOT NULL DEFAULT '',
    at        timestamptz NOT NULL DEFAULT now(),
    -- An entry is a terminal's event (terminal, ev_seq; entry_id NULL)
    -- or an API entry (entry_id; the others NULL).
    trackings text[]      NOT NULL,
    terminals text[]      NOT NULL,
    ev_seqs   bigint[]    NOT NULL,
    entry_ids text[]      NOT NULL
);
-- The rows of before, one entry each: their seqs, merchants and times.
INSERT INTO outbox_batches (last, n, merchant, at, trackings, terminals, ev_seqs, entry_ids)
SELECT seq, 1, merchant, at, ARRAY[tracking], ARRAY[terminal], ARRAY[ev_seq], ARRAY[entry_id]
FROM outbox ORDER BY seq;

DROP TABLE outbox;
ALTER TABLE outbox_batches RENAME TO outbox;
ALTER INDEX outbox_batches_pkey RENAME TO outbox_pkey;
-- The feed of one merchant (carriers' parcels, no merchant, are read by
-- the network's feed only, through the key).
CREATE INDEX outbox_merchant ON outbox (merchant, last) WHERE merchant <> '';
-- As 0009's: replays and pruning by time.
CREATE INDEX outbox_at ON outbox USING brin (at) WITH (autosummarize = on);
