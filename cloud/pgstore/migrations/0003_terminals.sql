-- Decommissioning (issue 13): when and why a terminal was taken out of
-- service; its password_hash is then NULL.
ALTER TABLE terminals
    ADD COLUMN decommissioned_at   timestamptz,
    ADD COLUMN decommission_reason text NOT NULL DEFAULT '';

-- The receipt keys of a terminal's earlier enrolments, each with the period
-- it was valid, so that the receipts they signed stay verifiable after the
-- terminal is enrolled again with a new key.
CREATE TABLE terminal_receipt_keys (
    terminal          text        NOT NULL,
    public_key        text        NOT NULL,
    enrolled_at       timestamptz NOT NULL,
    decommissioned_at timestamptz NOT NULL,
    PRIMARY KEY (terminal, enrolled_at)
);
