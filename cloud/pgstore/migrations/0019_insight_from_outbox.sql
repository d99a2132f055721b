-- Returns insight (issue 15): the fold reads the steps of returns'
-- parcels from the outbox (reportfacts.go), which every agreed step of a
-- merchant's parcel enters anyway, in the order of its seqs: ingest no
-- longer writes each of them a second time into report_pending (a heap
-- tuple and an index entry at ingest, a deletion at the fold).
--
-- A merchant's row carries its entries' statuses and times (what the
-- fold needs of a step, with the terminal the row has: no lookup of the
-- event; only an in-store receipt's grades are read from its event).
-- Carriers' rows (no merchant, most of them), a return's creation (no
-- step: its facts are made with it) and the rows of instances of an
-- earlier version leave them NULL: the fold skips those (the earlier
-- version queued its steps in report_pending).
ALTER TABLE outbox ADD COLUMN statuses text[] COLLATE "C", ADD COLUMN ats timestamptz[];
DO $$
BEGIN
    ALTER TABLE outbox ALTER COLUMN statuses SET COMPRESSION lz4, ALTER COLUMN ats SET COMPRESSION lz4;
EXCEPTION WHEN feature_not_supported THEN
    NULL;
END $$;

-- report_cursor is the last seq of the outbox the fold has applied (one
-- row, moved in the fold's transaction, under its lease). It starts at
-- the head: every step before it was queued in report_pending, which the
-- fold drains first (and those that instances of the earlier version
-- still queue during an upgrade). A step that both hold is applied twice,
-- which changes nothing: cloud.ReturnFacts.Apply keeps the earliest time
-- of each stage and ORs the flags.
CREATE TABLE report_cursor (
    one boolean PRIMARY KEY DEFAULT true CHECK (one),
    seq bigint  NOT NULL
);
INSERT INTO report_cursor (seq) SELECT seq FROM outbox_head;
