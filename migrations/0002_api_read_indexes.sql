-- Read-path indexes the API needs beyond 0001.

-- getTimeline (TimelineQuery.followsAndBlocks): the followed accounts that are not active
--   SELECT a.did FROM follows f JOIN actors a ON a.did = f.subject_did AND NOT a.is_active WHERE f.creator_did = $1
-- A small partial index (inactive accounts are few), so this never scans actors.
CREATE INDEX actors_inactive_idx ON actors (did) WHERE NOT is_active;
