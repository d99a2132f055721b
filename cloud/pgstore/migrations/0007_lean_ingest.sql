-- Leaner ingest: index entries that no query reads are not written.
--
-- A merchant's waiting parcels only: carriers' parcels (no merchant, most
-- of the deposits) are read through parcels_waiting, the network's.
DROP INDEX parcels_merchant_waiting;
CREATE INDEX parcels_merchant_waiting ON parcels (merchant, status, since)
    WHERE merchant <> '' AND status IN ('deposited', 'received_in_store', 'handed_over');
-- The outbox's rows are inserted with no seq (sequence gives it after the
-- commit): the indexes by seq hold the sequenced rows only, so that an
-- insert writes the heap, the primary key and outbox_unsequenced.
ALTER TABLE outbox DROP CONSTRAINT outbox_seq_key;
CREATE UNIQUE INDEX outbox_seq ON outbox (seq) WHERE seq IS NOT NULL;
DROP INDEX outbox_merchant;
CREATE INDEX outbox_merchant ON outbox (merchant, seq) WHERE seq IS NOT NULL;
