-- The outbox numbered in the transaction that inserts its rows (issue 14):
-- each transaction that publishes takes its range of seqs from
-- outbox_head, its last statement (Store's publish), and holds that row
-- until it commits. Transactions that publish thus commit in the order of
-- their seqs, and a reader never sees a seq while a lower one may still
-- come. The rows are no longer numbered after the commit by an UPDATE
-- each (0004's sequence), which cost the database more than the insert.
--
-- Instances of a version before this one insert rows without a seq: their
-- inserts now fail (NOT NULL), and their terminals' batches go unacked
-- until an instance of this version stores them, rather than their events
-- staying off the feed.
LOCK TABLE outbox IN SHARE ROW EXCLUSIVE MODE;

-- The rows committed and not numbered yet, after the others, in the
-- order the old sequence would have numbered them.
UPDATE outbox SET seq = base.b + todo.rn
FROM (SELECT id, row_number() OVER (ORDER BY id) AS rn FROM outbox WHERE seq IS NULL) AS todo,
     (SELECT coalesce(max(seq), 0) AS b FROM outbox) AS base
WHERE outbox.id = todo.id;

-- The last seq given (one row).
CREATE TABLE outbox_head (
    one boolean PRIMARY KEY DEFAULT true CHECK (one),
    seq bigint  NOT NULL
);
INSERT INTO outbox_head (seq) SELECT coalesce(max(seq), 0) FROM outbox;

-- seq is the key; id (the insertion order the old sequence followed) goes,
-- with its index and outbox_unsequenced: an insert writes the heap, the
-- key and, for a merchant's parcel, outbox_merchant. Carriers' parcels
-- (no merchant, most of the deposits) are read by the network's feed
-- only, which reads the key.
DROP INDEX outbox_unsequenced, outbox_seq, outbox_merchant;
ALTER TABLE outbox DROP COLUMN id, ALTER COLUMN seq SET NOT NULL, ADD PRIMARY KEY (seq);
CREATE INDEX outbox_merchant ON outbox (merchant, seq) WHERE merchant <> '';
