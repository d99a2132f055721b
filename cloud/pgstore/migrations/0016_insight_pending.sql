-- Returns insight (issue 15): ingest no longer moves report_facts and
-- report_durations itself. Each step of a return's parcel that agreed
-- with it is appended here, in the transaction that stores it (one
-- INSERT a group commit: no read of the facts, no update, no entry in
-- report_durations' index), and folded into the facts and durations later
-- (reportfacts.go: by the instance holding the fold's lease, every
-- second, and by each report first, so that every figure is exact). A
-- row is a step as cloud.ReportStep holds it; id is the order in which
-- the steps are applied (a parcel's steps are stored one transaction after
-- the other, under its row's lock: a later step gets a greater id).
CREATE TABLE report_pending (
    id       bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    tracking text NOT NULL,
    status   text NOT NULL,
    at       timestamptz NOT NULL,
    terminal text NOT NULL,
    instore  text -- an in-store receipt's data (edge.InstoreData), as sent
);
