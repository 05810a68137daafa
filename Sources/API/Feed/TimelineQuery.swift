/// The SQL of `app.bsky.feed.getTimeline`, exposed so the benchmark runs exactly what the service runs.
///
/// A request runs: `followsAndBlocks`; then, for ≥ `denseFollowThreshold` originators,
/// `recentScan` (+ `recentScanFloor` when it did not fill the page); then, while the page is not
/// full, `page` over windows `initialWindow(originatorCount:)` × `windowGrowth`^k
/// behind the keyset position (at most `windowAttempts`, the last unbounded); then
/// `PostQuery.views` and `ActorQuery.profiles` to hydrate.
public enum TimelineQuery {
    /// Follow sets (viewer included) at least this large try the recent-items walk first.
    public static let denseFollowThreshold = 100
    /// Items the recent-items walk reads at most ($6 of `recentScan`, $4 of `recentScanFloor`).
    public static let recentScanBudget = 2500
    /// Window attempts of `page`: the initial width, then ×`windowGrowth` per attempt, the last unbounded.
    public static let windowAttempts = 5
    public static let windowGrowth: Int64 = 8
    static let hour: Int64 = 3_600_000

    /// First window width: expected to hold a page for the follow count (6 h for 50 follows,
    /// shrinking with more follows, at least 10 minutes): a heuristic; a wrong guess costs at most a
    /// few more cheap attempts, each continuing below the last.
    public static func initialWindow(originatorCount: Int) -> Int64 {
        let scaled = 6 * Self.hour * 50 / Int64(max(originatorCount, 1))
        return min(6 * Self.hour, max(Self.hour / 6, scaled))
    }

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
    /// (originator_did, sort_at DESC, cid DESC, uri DESC).
    /// One ordered, limited range per originator (LATERAL), then the newest $7 of those: at most
    /// originators × $7 rows are read whatever the window. A single `originator_did = ANY($1)` scan
    /// cannot merge the per-originator ranges in order, so it reads and sorts every row of the
    /// window: for an unbounded window over very active accounts that is the whole history
    /// (measured: 51 active originators, 520k rows, 2.4 s, against 25 ms cold for this form).
    /// The blocked array is wrapped in `(SELECT …)` so the planner treats it as an opaque parameter
    /// (no selectivity estimation against the statistics on every call).
    public static let page = """
        SELECT i.uri, i.cid, i.type, i.post_uri, i.originator_did, floor(extract(epoch FROM i.sort_at) * 1000)::bigint
        FROM unnest($1::text[]) AS o(did)
        CROSS JOIN LATERAL (
            SELECT uri, cid, type, post_uri, originator_did, sort_at
            FROM feed_items
            WHERE originator_did = o.did
              AND post_author_did <> ALL((SELECT $2::text[])::text[])
              AND sort_at >= $3::timestamptz
              AND (sort_at, cid, uri) < ($4::timestamptz, $5::text, $6::text)
            ORDER BY sort_at DESC, cid DESC, uri DESC
            LIMIT $7::int
        ) i
        ORDER BY i.sort_at DESC, i.cid DESC, i.uri DESC
        LIMIT $7::int
        """

    /// Dense follow graphs: walk the newest items of the whole table strictly after the keyset
    /// position ($3 sort_at, $4 cid, $5 uri), at most $6 of them, and keep those originated by the
    /// viewer ($1) or an account the viewer follows, whose originator and post author are not in $2
    /// (blocked either way or inactive: a short list), newest first, at most $7. The subquery's
    /// order carries through, so the scan stops as soon as $7 rows matched. No follow array is sent:
    /// each walked row costs one probe of follows_creator_subject_idx, and planning stays cheap.
    /// Indexes: feed_items_sort_idx (sort_at DESC, cid DESC, uri DESC) from 0002,
    /// follows_creator_subject_idx.
    public static let recentScan = """
        SELECT uri, cid, type, post_uri, originator_did, floor(extract(epoch FROM sort_at) * 1000)::bigint
        FROM (
            SELECT uri, cid, type, post_uri, post_author_did, originator_did, sort_at
            FROM feed_items
            WHERE (sort_at, cid, uri) < ($3::timestamptz, $4::text, $5::text)
            ORDER BY sort_at DESC, cid DESC, uri DESC
            LIMIT $6::int
        ) recent
        WHERE (recent.originator_did = $1::text
               OR EXISTS (SELECT 1 FROM follows f WHERE f.creator_did = $1::text AND f.subject_did = recent.originator_did))
          AND recent.originator_did <> ALL($2::text[])
          AND recent.post_author_did <> ALL($2::text[])
        ORDER BY sort_at DESC, cid DESC, uri DESC
        LIMIT $7::int
        """

    /// Where `recentScan` stopped when it did not fill the page: the key of the $4-th newest item
    /// strictly after ($1 sort_at, $2 cid, $3 uri), none when fewer exist (the table is exhausted).
    /// Index: feed_items_sort_idx.
    public static let recentScanFloor = """
        SELECT floor(extract(epoch FROM sort_at) * 1000)::bigint, cid, uri
        FROM feed_items
        WHERE (sort_at, cid, uri) < ($1::timestamptz, $2::text, $3::text)
        ORDER BY sort_at DESC, cid DESC, uri DESC
        OFFSET $4::int - 1
        LIMIT 1
        """
}
