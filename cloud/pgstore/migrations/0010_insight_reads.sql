-- Returns insight (issue 15): what the reports count of each return, kept
-- as its parcel moves (cloud.ReturnFacts, as the Badger store keeps it),
-- so that a report reads one row a return instead of looking up the
-- steps of every return of its period in the events and the timelines (a
-- network's month of 30,000 returns took seconds).
CREATE TABLE report_facts (
    tracking     text PRIMARY KEY,
    merchant     text NOT NULL,
    created_at   timestamptz NOT NULL,
    carrier      text NOT NULL,
    reasons      text[] NOT NULL,
    skus         text[] NOT NULL,
    relay        text,
    dispositions text[] NOT NULL DEFAULT '{}',
    resolution   text NOT NULL DEFAULT '',
    dropped_at   timestamptz,
    instore_at   timestamptz,
    handed_at    timestamptz,
    wh_at        timestamptz,
    resolved_at  timestamptz,
    dep          boolean NOT NULL DEFAULT false,
    ins          boolean NOT NULL DEFAULT false,
    can          boolean NOT NULL DEFAULT false,
    refunded     boolean NOT NULL DEFAULT false,
    exchanged    boolean NOT NULL DEFAULT false
);
CREATE INDEX report_facts_merchant_created ON report_facts (merchant, created_at);
CREATE INDEX report_facts_created ON report_facts (created_at);

-- The facts of the returns stored before, from their steps: the first
-- drop-off (its time and terminal), the first of each step, the grades of
-- the first in-store receipt (the query reports answered until now).
INSERT INTO report_facts
SELECT r.tracking, r.merchant, r.created_at, coalesce(r.carrier, ''),
    ARRAY(SELECT DISTINCT coalesce(x->>'reason', '') FROM json_array_elements(coalesce(r.items, '[]')) x ORDER BY 1),
    ARRAY(SELECT DISTINCT coalesce(x->>'sku', '') FROM json_array_elements(coalesce(r.items, '[]')) x ORDER BY 1),
    d.relay,
    ARRAY(SELECT DISTINCT x->>'disposition' FROM json_array_elements(coalesce(i.data->'items', '[]')) x
          WHERE coalesce(x->>'disposition', '') <> '' ORDER BY 1),
    coalesce(i.data->>'resolution', ''),
    d.dropped_at, i.at, s.handed_at, p.wh_at,
    least(p.resolved_at, CASE WHEN i.data->>'resolution' IN ('REFUND', 'EXCHANGE') THEN i.at END),
    coalesce(s.dep, false), coalesce(s.ins, false), coalesce(s.can, false),
    coalesce(p.refunded, false) OR coalesce(i.data->>'resolution' = 'REFUND', false),
    coalesce(p.exchanged, false) OR coalesce(i.data->>'resolution' = 'EXCHANGE', false)
FROM (SELECT body->>'tracking' AS tracking, merchant, created_at, body->>'carrier' AS carrier, body->'items' AS items FROM returns) r
LEFT JOIN LATERAL (
    SELECT e.occurred_at AS dropped_at, e.terminal AS relay FROM events e
    WHERE e.tracking = r.tracking AND e.status IN ('deposited', 'received_in_store')
    ORDER BY e.occurred_at, e.received_at, e.id LIMIT 1) d ON true
LEFT JOIN LATERAL (
    SELECT bool_or(e.status = 'deposited') AS dep, bool_or(e.status = 'received_in_store') AS ins,
        bool_or(e.status = 'cancelled') AS can,
        min(e.occurred_at) FILTER (WHERE e.status = 'handed_over') AS handed_at
    FROM events e WHERE e.tracking = r.tracking AND e.status IS NOT NULL) s ON true
LEFT JOIN LATERAL (
    SELECT min(t.occurred_at) FILTER (WHERE t.status = 'received_at_warehouse') AS wh_at,
        bool_or(t.status = 'refunded') AS refunded, bool_or(t.status = 'exchanged') AS exchanged,
        min(t.occurred_at) FILTER (WHERE t.status IN ('refunded', 'exchanged')) AS resolved_at
    FROM timeline_entries t WHERE t.tracking = r.tracking) p ON true
LEFT JOIN LATERAL (
    SELECT e.op->'data' AS data, e.occurred_at AS at FROM events e
    WHERE e.tracking = r.tracking AND e.status = 'received_in_store'
    ORDER BY e.occurred_at, e.received_at, e.id LIMIT 1) i ON true
ON CONFLICT DO NOTHING;

-- The network's stuck list takes the oldest parcels of a stage: an index
-- a stage by (since, tracking), read in the list's order up to its limit,
-- instead of one by (status, since), whose two statuses of the shelf made
-- it read and sort every parcel waiting there (tens of thousands).
DROP INDEX parcels_waiting;
CREATE INDEX parcels_awaiting_handover ON parcels (since, tracking COLLATE "C")
    WHERE status IN ('deposited', 'received_in_store');
CREATE INDEX parcels_awaiting_carrier ON parcels (since, tracking COLLATE "C")
    WHERE status = 'handed_over';
