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

-- Bounded dead letters (issue 13): the payload is cut to 4 KiB; its size
-- and SHA-256 as received are kept. The index serves the cap per terminal.
ALTER TABLE dead_letters
    ADD COLUMN size      integer NOT NULL DEFAULT 0,
    ADD COLUMN sha256    text    NOT NULL DEFAULT '',
    ADD COLUMN truncated boolean NOT NULL DEFAULT false;
CREATE INDEX dead_letters_terminal ON dead_letters (terminal, at, n);
