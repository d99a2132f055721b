-- Version 2 of the cloud: merchants as tenants, parcels, conflicts.

CREATE TABLE merchants (
    id         text        PRIMARY KEY,
    name       text        NOT NULL,
    created_at timestamptz NOT NULL
);

-- Keys that sign merchants' return authorisations; private is NULL for a
-- key the merchant keeps.
CREATE TABLE signing_keys (
    kid        text        PRIMARY KEY,
    merchant   text        NOT NULL,
    iss        text        NOT NULL,
    public_key text        NOT NULL,
    private    text,
    created_at timestamptz NOT NULL,
    retired_at timestamptz
);
CREATE INDEX signing_keys_merchant ON signing_keys (merchant, created_at);

-- Issuer and partner keys belong to a merchant; operator keys to none ('').
ALTER TABLE api_keys ADD COLUMN merchant text NOT NULL DEFAULT '';

ALTER TABLE returns ADD COLUMN merchant text NOT NULL DEFAULT '';
CREATE INDEX returns_merchant ON returns (merchant, id);

-- One parcel per tracking number: what makes tracking numbers unique in the
-- network, and what terminals' and partners' events are checked against.
CREATE TABLE parcels (
    tracking   text        PRIMARY KEY,
    merchant   text        NOT NULL DEFAULT '',
    ra_id      text        NOT NULL DEFAULT '',
    created_at timestamptz NOT NULL,
    status     text        NOT NULL,
    holder     text        NOT NULL DEFAULT ''
);
-- Merchants' parcels only: carriers' parcels (no merchant, most of the
-- deposits) do not pay for an index no query of theirs uses.
CREATE INDEX parcels_merchant ON parcels (merchant, tracking) WHERE merchant <> '';

-- Parcels of the returns stored before parcels existed (the first return
-- of a tracking number keeps it), at the status of their timeline's last
-- entry; their merchant is set by AdoptLegacy.
INSERT INTO parcels (tracking, ra_id, created_at, status)
SELECT DISTINCT ON (body->>'tracking') body->>'tracking', id, (body->>'created_at')::timestamptz, 'created'
FROM returns WHERE coalesce(body->>'tracking', '') <> ''
ORDER BY body->>'tracking', (body->>'created_at')::timestamptz, id
ON CONFLICT DO NOTHING;
UPDATE parcels p SET status = l.status,
       holder = CASE WHEN l.status IN ('deposited', 'received_in_store') THEN l.location ELSE '' END
FROM (
    SELECT DISTINCT ON (tracking) tracking, status, location FROM (
        SELECT tracking, status, occurred_at, received_at, terminal AS location, id FROM events WHERE status IS NOT NULL
        UNION ALL
        SELECT tracking, status, occurred_at, received_at, location, event_id FROM timeline_entries
    ) t ORDER BY tracking, occurred_at DESC, received_at DESC, id DESC
) l WHERE l.tracking = p.tracking;

-- Terminals' events that disagreed with their parcel: kept off timelines.
CREATE TABLE conflicts (
    n           bigserial   PRIMARY KEY,
    event_id    text        NOT NULL UNIQUE,
    terminal    text        NOT NULL,
    seq         bigint      NOT NULL,
    type        text        NOT NULL,
    tracking    text        NOT NULL DEFAULT '',
    reason      text        NOT NULL,
    occurred_at timestamptz NOT NULL,
    received_at timestamptz NOT NULL,
    parcel      json
);

CREATE TABLE secrets (
    name  text  PRIMARY KEY,
    value bytea NOT NULL
);
