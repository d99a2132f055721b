-- The refusals report (issue 15): the network's return.refused events by
-- when they occurred.
CREATE INDEX events_refusals ON events (occurred_at) WHERE type = 'return.refused';
