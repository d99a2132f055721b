-- Returns insight (issue 15): what ingest writes for the reports, made
-- cheaper. Most of the insight's cost at ingest was the database's
-- (BenchmarkStoreReturnSteps: 189.5 us of the server's CPU an event with
-- the insight, 60.6 without), and most of that report_durations' rows
-- (about six an event: a row a return, key and stage taken) and their
-- three indexes' entries, two of them at random places (by key and
-- duration).

-- One index for the network's reports and the merchants', and for
-- ingest's deletes: the merchant is in the entries (INCLUDE), so that a
-- merchant's report reads the keys' durations of the network in order and
-- keeps its own, in the index alone (as many entries as the network's
-- report of the period reads, within the reports' target: the network's
-- quarter was 82 ms of CPU by SKU, the slowest); the tracking ends the
-- key, so that ingest finds a row to delete by all it holds
-- (reportfacts.go: the facts before a step say which durations go). No
-- primary key: a row is never looked up by tracking.
CREATE INDEX report_durations_key ON report_durations (dim, key, stage, secs, tracking) INCLUDE (created_at, merchant);
DROP INDEX report_durations_network, report_durations_merchant;
ALTER TABLE report_durations DROP CONSTRAINT report_durations_pkey;

-- Each step of a return's parcel updates its report_facts row, changing
-- no column that an index holds (tracking, merchant, created_at). With
-- room left on the row's page the new version goes there (a HOT update)
-- and no index gets an entry for it; with the pages full (fillfactor 100,
-- as the rows are inserted) each update wrote the row on another page
-- and an entry in each of the three indexes. The room of a version no
-- transaction sees any more is taken back when the page is next read
-- (pruning), without VACUUM. Pages written from now on keep half of their
-- room for it.
ALTER TABLE report_facts SET (fillfactor = 50);
