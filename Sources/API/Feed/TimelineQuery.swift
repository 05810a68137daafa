/// The SQL of `app.bsky.feed.getTimeline`, exposed so the benchmark runs exactly what the service runs.
public enum TimelineQuery {
    /// The viewer's ($1) follows (`f`), the DIDs blocked in either direction (`b`) and the followed
    /// accounts that are not active (`x`). Indexes: follows_creator_subject_idx (index-only),
    /// blocks_creator_subject_idx, blocks_subject_creator_idx, actors_inactive_idx (0002).
    public static let followsAndBlocks = """
        SELECT 'f', subject_did FROM follows WHERE creator_did = $1
        UNION ALL
        SELECT 'b', subject_did FROM blocks WHERE creator_did = $1
        UNION ALL
        SELECT 'b', creator_did FROM blocks WHERE subject_did = $1
        UNION ALL
        SELECT 'x', a.did FROM follows f JOIN actors a ON a.did = f.subject_did AND NOT a.is_active
        WHERE f.creator_did = $1
        """

    /// One window of the timeline: items of the originators $1 (text[]) whose post author is not in
    /// $2 (blocked, text[]), with `sort_at >= $3` (window start; `-infinity` = unbounded) and
    /// strictly after the keyset position ($4 sort_at, $5 cid, $6 uri; `infinity`,'','' = start),
    /// newest first, at most $7 rows. Index: feed_items_originator_sort_idx
    /// (originator_did, sort_at DESC, cid DESC, uri DESC) — one range per originator.
    public static let page = """
        SELECT uri, cid, type, post_uri, originator_did, floor(extract(epoch FROM sort_at) * 1000)::bigint
        FROM feed_items
        WHERE originator_did = ANY($1::text[])
          AND post_author_did <> ALL($2::text[])
          AND sort_at >= $3::timestamptz
          AND (sort_at, cid, uri) < ($4::timestamptz, $5::text, $6::text)
        ORDER BY sort_at DESC, cid DESC, uri DESC
        LIMIT $7::int
        """
}
