-- The time each outbox row was recorded (issue 14): a webhook's replay
-- names a time range, and the rows delivered are pruned after a
-- retention. now() is the inserting transaction's start; rows from before
-- this migration take its time (the column's default, given without
-- rewriting the table). BRIN, not B-tree: rows are appended in time
-- order, so block ranges summarise them, and an insert seldom touches
-- the index (the ingest's cost stays where it was).
ALTER TABLE outbox ADD COLUMN at timestamptz NOT NULL DEFAULT now();
CREATE INDEX outbox_at ON outbox USING brin (at) WITH (autosummarize = on);
