-- The outbox of published events (issue 14): one row per entry that reached
-- a timeline, inserted in the same transaction (id in insertion order).
-- seq, the feed's cursor, is given after the commit by whoever reads the
-- feed (Store.sequence, one at a time under an advisory lock), in id order
-- to the rows committed by then: a row never gets a seq below one already
-- read, and no lock is added to the ingest's transactions. A terminal's
-- event refers to its events row (terminal, ev_seq), an API entry to its
-- timeline_entries row.
CREATE TABLE outbox (
    id       bigserial PRIMARY KEY,
    seq      bigint UNIQUE,
    merchant text   NOT NULL DEFAULT '',
    tracking text   NOT NULL,
    terminal text,
    ev_seq   bigint,
    entry_id text
);
CREATE INDEX outbox_unsequenced ON outbox (id) WHERE seq IS NULL;
-- The feed of one merchant.
CREATE INDEX outbox_merchant ON outbox (merchant, seq);

-- Webhook subscriptions: body is the subscription with its secrets.
CREATE TABLE webhooks (
    id         text        PRIMARY KEY,
    merchant   text        NOT NULL,
    created_at timestamptz NOT NULL,
    body       json        NOT NULL
);
CREATE INDEX webhooks_merchant ON webhooks (merchant, created_at);
