-- Returns insight (issue 15): what ingest writes for the reports, made
-- cheaper. Most of the insight's cost at ingest was the database's
-- (BenchmarkStoreReturnSteps: 189.5 us of the server's CPU an event with
-- the insight, 60.6 without), and most of that the entries of
-- report_durations' two indexes by key and duration: a row a return, key
-- and stage (about six an event), each entered at a random place of both.

-- One index for the network's reports and the merchants': the merchant
-- is in the entries (INCLUDE), so that a merchant's report reads the
-- keys' durations of the network in order and keeps its own, in the
-- index alone (a merchant's report reads as many entries as the
-- network's of the period, which is within the reports' target: the
-- network's quarter was 82 ms of CPU by SKU, the slowest).
CREATE INDEX report_durations_key ON report_durations (dim, key, stage, secs) INCLUDE (created_at, merchant);
DROP INDEX report_durations_network, report_durations_merchant;

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
