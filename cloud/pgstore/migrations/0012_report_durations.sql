-- Returns insight (issue 15): the durations of the reports' percentiles,
-- a row a return, row of a report (dim and key) and stage taken
-- (cloud.ReturnFacts.Durations), kept with report_facts. Indexed by
-- (dim, key, stage, secs), a report reads each key's durations in order
-- (percentile_disc's sort finds them sorted) instead of unnesting the
-- period's report_facts and sorting every key's durations: a network's
-- quarter (90,000 returns) took over 200 ms so.
CREATE TABLE report_durations (
    tracking   text NOT NULL,
    dim        text NOT NULL,
    key        text NOT NULL,
    stage      smallint NOT NULL,
    secs       bigint NOT NULL,
    merchant   text NOT NULL,
    created_at timestamptz NOT NULL,
    PRIMARY KEY (tracking, dim, key, stage)
);

-- The durations of the returns stored before, from their facts (each
-- dimension's keys as reports.go reads them from report_facts).
INSERT INTO report_durations
SELECT f.tracking, k.dim, k.key, s.stage, s.secs, f.merchant, f.created_at
FROM report_facts f,
LATERAL (SELECT 'reason', unnest(f.reasons) UNION ALL SELECT 'sku', unnest(f.skus)
    UNION ALL SELECT 'disposition', unnest(f.dispositions)
    UNION ALL SELECT 'resolution', f.resolution WHERE f.resolution <> ''
    UNION ALL SELECT 'relay_point', f.relay WHERE f.relay IS NOT NULL
    UNION ALL SELECT 'carrier', f.carrier) AS k(dim, key),
LATERAL (VALUES (0, secs(f.dropped_at - f.created_at)), (1, secs(f.handed_at - f.dropped_at)),
    (2, secs(f.wh_at - f.dropped_at)), (3, secs(f.resolved_at - f.dropped_at))) AS s(stage, secs)
WHERE s.secs IS NOT NULL;

-- The network's reports, and a merchant's; created_at included, so that
-- the period is checked in the index (an index-only scan).
CREATE INDEX report_durations_network ON report_durations (dim, key, stage, secs) INCLUDE (created_at);
CREATE INDEX report_durations_merchant ON report_durations (merchant, dim, key, stage, secs) INCLUDE (created_at);

-- The index-only scans skip the table's pages that VACUUM marked all
-- visible; the others are read row by row. The table mostly grows (a row
-- a stage taken): vacuumed after 1 % of new rows rather than 20 % (the
-- latest two or three weeks of a network's three months), the pages of
-- the latest days stay marked.
ALTER TABLE report_durations SET (autovacuum_vacuum_insert_scale_factor = 0.01);
