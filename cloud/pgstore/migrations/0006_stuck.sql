-- Stuck parcels (issue 15): when a parcel took its status, and the last
-- terminal that moved it (a handover clears the holder, not this).
ALTER TABLE parcels
    ADD COLUMN since    timestamptz,
    ADD COLUMN terminal text NOT NULL DEFAULT '';
-- Parcels from before: their creation stands for when they took their
-- status, and their holder for their terminal.
UPDATE parcels SET since = created_at, terminal = holder;
ALTER TABLE parcels ALTER COLUMN since SET NOT NULL;
-- The parcels waiting at a stage, oldest first: the network's, and a
-- merchant's.
CREATE INDEX parcels_waiting ON parcels (status, since)
    WHERE status IN ('deposited', 'received_in_store', 'handed_over');
CREATE INDEX parcels_merchant_waiting ON parcels (merchant, status, since)
    WHERE status IN ('deposited', 'received_in_store', 'handed_over');
