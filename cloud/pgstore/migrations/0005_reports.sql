-- Returns insight (issue 15): reports select the returns created in a
-- period, of a merchant or of the whole network, then read the steps of
-- their parcels through the indexes by tracking number that timelines
-- use (events_timeline, timeline_entries_tracking).
ALTER TABLE returns ADD COLUMN created_at timestamptz;
UPDATE returns SET created_at = (body->>'created_at')::timestamptz;
ALTER TABLE returns ALTER COLUMN created_at SET NOT NULL;
CREATE INDEX returns_merchant_created ON returns (merchant, created_at);
CREATE INDEX returns_created ON returns (created_at);

-- A report's durations in whole seconds, rounded down, negative ones (a
-- terminal's clock behind) as 0: cloud.Seconds; NULL (a step not taken)
-- stays NULL, which percentile_disc leaves out.
CREATE FUNCTION secs(d interval) RETURNS bigint LANGUAGE sql IMMUTABLE STRICT AS
$$ SELECT greatest(0, floor(extract(epoch FROM d)))::bigint $$;
