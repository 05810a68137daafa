-- Read-path indexes the API needs beyond 0001.

-- getTimeline (TimelineQuery.followsAndBlocks): the followed accounts that are not active
--   SELECT a.did FROM follows f JOIN actors a ON a.did = f.subject_did AND NOT a.is_active WHERE f.creator_did = $1
-- A small partial index (inactive accounts are few), so this never scans actors.
CREATE INDEX actors_inactive_idx ON actors (did) WHERE NOT is_active;

-- getTimeline for dense follow graphs (TimelineQuery.recentScan): the newest items of the whole
-- table, walked backwards from the cursor and filtered by the viewer's follows
--   SELECT … FROM feed_items WHERE (sort_at, cid, uri) < ($3, $4, $5) ORDER BY sort_at DESC, cid DESC, uri DESC LIMIT $6
-- One index descent instead of one per followed account.
CREATE INDEX feed_items_sort_idx ON feed_items (sort_at DESC, cid DESC, uri DESC);
