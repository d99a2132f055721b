-- Events of terminals: one row per (terminal, seq), each event id once.
CREATE TABLE events (
    terminal    text        NOT NULL,
    seq         bigint      NOT NULL,
    id          text        NOT NULL,
    type        text        NOT NULL,
    tracking    text,
    -- status is the timeline status the event marks, NULL for none.
    status      text,
    occurred_at timestamptz NOT NULL,
    received_at timestamptz NOT NULL,
    op          json        NOT NULL,
    PRIMARY KEY (terminal, seq),
    UNIQUE (id)
);
-- Timelines read the events that mark a status.
CREATE INDEX events_timeline ON events (tracking, occurred_at, received_at) WHERE status IS NOT NULL;

-- Seqs whose event id was already stored under another seq (a terminal's
-- bug, a reset journal): recorded so that the watermark moves on.
CREATE TABLE alias_seqs (
    terminal text   NOT NULL,
    seq      bigint NOT NULL,
    id       text   NOT NULL,
    PRIMARY KEY (terminal, seq)
);

-- acked_seq of each terminal: every seq up to it is stored.
CREATE TABLE watermarks (
    terminal  text   PRIMARY KEY,
    acked_seq bigint NOT NULL
);

-- Timeline entries from the API (issuer, partners).
CREATE TABLE timeline_entries (
    event_id    text        PRIMARY KEY,
    tracking    text        NOT NULL,
    status      text        NOT NULL,
    occurred_at timestamptz NOT NULL,
    received_at timestamptz NOT NULL,
    location    text        NOT NULL DEFAULT '',
    source      text        NOT NULL
);
CREATE INDEX timeline_entries_tracking ON timeline_entries (tracking, occurred_at, received_at);

CREATE TABLE returns (
    id         text PRIMARY KEY,
    body       json NOT NULL
);

CREATE TABLE terminals (
    id                 text        PRIMARY KEY,
    name               text        NOT NULL,
    receipt_public_key text        NOT NULL,
    password_hash      bytea,
    enrolled_at        timestamptz NOT NULL,
    status             json,
    online             boolean     NOT NULL DEFAULT false,
    last_seen          timestamptz
);
-- Fleet queries: who is online.
CREATE INDEX terminals_online ON terminals (online, id);

CREATE TABLE dead_letters (
    n        bigserial   PRIMARY KEY,
    terminal text        NOT NULL,
    topic    text        NOT NULL,
    reason   text        NOT NULL,
    message  text        NOT NULL,
    payload  bytea,
    at       timestamptz NOT NULL
);
CREATE INDEX dead_letters_at ON dead_letters (at, n);

CREATE TABLE api_keys (
    hash bytea PRIMARY KEY,
    role text  NOT NULL,
    name text  NOT NULL DEFAULT ''
);

CREATE TABLE revocations (
    ra_id text PRIMARY KEY
);
