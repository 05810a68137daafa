import API
import JSON

/// The pgbench scripts of the database ceiling, built from the API's own SQL constants (so they
/// cannot drift from what the service runs): one request of an endpoint for one viewer.
///
/// Each statement is the service's constant with its `$n` parameters bound: the viewer/actor as
/// literals, earlier results as pgbench variables (`-M extended` sends `:name` as a bind
/// parameter, as the service sends `$n`). Where Swift post-processes a result (sets of follows,
/// page assembly, which URIs to hydrate), the statement is wrapped in one aggregate `SELECT … FROM
/// (<constant>) alias \gset` that computes the same values in SQL; the wrapper also reads every
/// column as text (`octet_length(alias::text)`), so the planner cannot skip columns the service
/// receives. Branches: getTimeline takes the recent-items walk exactly when the service does
/// (≥ `TimelineQuery.denseFollowThreshold` originators, counted when the script is built), and the
/// window attempts follow the service's loop with `\if` on the rows still missing (widths from
/// `TimelineQuery.initialWindow`, ×`windowGrowth`, last unbounded). One page (limit 50) is
/// modelled, as wrk requests it: getTimeline below `ServiceTargets.timelineCursor` (the dataset's
/// newest item), the other endpoints without a cursor.
enum CeilingScripts {
    static let endpoints = ["getTimeline", "getAuthorFeed", "listNotifications"]
    static let limit = 50

    /// Names accepted by `appview-bench print-sql`, with the SQL the API runs.
    static let statements: [(name: String, sql: String)] = [
        ("TimelineQuery.followsAndBlocks", TimelineQuery.followsAndBlocks),
        ("TimelineQuery.recentScan", TimelineQuery.recentScan),
        ("TimelineQuery.recentScanFloor", TimelineQuery.recentScanFloor),
        ("TimelineQuery.page", TimelineQuery.page),
        ("AuthorFeedQuery.postsWithReplies", AuthorFeedQuery.postsWithReplies),
        ("AuthorFeedQuery.postsNoReplies", AuthorFeedQuery.postsNoReplies),
        ("AuthorFeedQuery.postsWithMedia", AuthorFeedQuery.postsWithMedia),
        ("AuthorFeedQuery.postsAndAuthorThreads", AuthorFeedQuery.postsAndAuthorThreads),
        ("PostQuery.views", PostQuery.views),
        ("ActorQuery.profiles", ActorQuery.profiles),
        ("NotificationQuery.page", NotificationQuery.page),
        ("NotificationQuery.lastSeen", NotificationQuery.lastSeen),
        ("NotificationQuery.records", NotificationQuery.records),
        ("NotificationQuery.unreadCount", NotificationQuery.unreadCount),
        ("NotificationQuery.updateSeen", NotificationQuery.updateSeen),
    ]

    /// `sql` with `$1`…`$n` replaced by `values` (literals or `:variables`).
    static func bind(_ sql: String, _ values: [String]) -> String {
        var text = sql
        for (index, value) in values.enumerated().reversed() {
            text = text.replacingOccurrences(of: "$\(index + 1)", with: value)
        }
        return text
    }

    static func literal(_ value: String) -> String { AnchorShape.literal(value) }

    /// One request of `endpoint` as a pgbench script. `originatorCount`: the viewer's timeline
    /// originators as the service computes them (follows + viewer − blocked − inactive).
    static func script(endpoint: String, viewer: String, actor: String, originatorCount: Int,
                       timelineCursor: FeedCursor) throws -> String {
        switch endpoint {
        case "getTimeline": return timeline(viewer: viewer, originatorCount: originatorCount, cursor: timelineCursor)
        case "getAuthorFeed": return authorFeed(viewer: viewer, actor: actor)
        case "listNotifications": return notifications(viewer: viewer)
        default: throw BenchError("no ceiling script for \(endpoint) (known: \(endpoints.joined(separator: ", ")))")
        }
    }

    /// Window starts `lower0…lower3` behind `upper` (SQL timestamptz expression), as text.
    static func windowStarts(below upper: String, originatorCount: Int) -> String {
        var width = TimelineQuery.initialWindow(originatorCount: originatorCount)
        var columns: [String] = []
        for attempt in 0..<(TimelineQuery.windowAttempts - 1) {
            columns.append("(\(upper) - interval '\(width) milliseconds')::text AS lower\(attempt)")
            width *= TimelineQuery.windowGrowth
        }
        return columns.joined(separator: ",\n       ")
    }

    static func timeline(viewer: String, originatorCount: Int, cursor: FeedCursor) -> String {
        let v = literal(viewer)
        // The service binds the cursor as (ISO timestamp, cid, uri); its windows start below the cursor's time.
        let cursorAt = literal(Timestamp.iso8601(epochMilliseconds: cursor.sortAtMilliseconds))
        var position = [cursorAt, literal(cursor.cid), literal(cursor.uri)]
        let dense = originatorCount >= TimelineQuery.denseFollowThreshold
        var lines: [String] = []
        lines.append("""
            -- getTimeline (limit \(limit), cursor at the dataset's newest item), \(originatorCount) originators: \(dense ? "recent-items walk first" : "window attempts only")
            WITH g(kind, did) AS MATERIALIZED (
            \(bind(TimelineQuery.followsAndBlocks, [v]))
            ), x AS (SELECT did FROM g WHERE kind <> 'f')
            SELECT (SELECT array_agg(DISTINCT o.did) FROM (SELECT did FROM g WHERE kind = 'f' AND did NOT IN (SELECT did FROM x)
                                                       UNION ALL SELECT \(v)) o)::text AS originators,
                   (SELECT coalesce(array_agg(did), '{}') FROM g WHERE kind = 'b')::text AS blocked,
                   (SELECT coalesce(array_agg(DISTINCT did), '{}') FROM x)::text AS excluded,
                   '{}' AS uris, '{}' AS reposters, 0 AS got\(dense ? "" : ",\n       " + windowStarts(below: "\(cursorAt)::timestamptz", originatorCount: originatorCount))
            \\gset
            \\set need \(limit)
            """)
        if dense {
            lines.append("""
                SELECT count(*) AS got,
                       coalesce(array_agg(r.post_uri), '{}')::text AS uris,
                       coalesce(array_agg(r.originator_did) FILTER (WHERE r.type = 'repost'), '{}')::text AS reposters,
                       sum(octet_length(r::text)) AS bytes
                FROM (
                \(bind(TimelineQuery.recentScan, [v, ":excluded", position[0], position[1], position[2], String(TimelineQuery.recentScanBudget), ":need"]))
                ) r
                \\gset
                \\set need \(limit) - :got
                \\if :need > 0
                SELECT to_timestamp(f.ms / 1000.0)::text AS pos_at, f.cid AS pos_cid, f.uri AS pos_uri,
                       \(windowStarts(below: "to_timestamp(f.ms / 1000.0)", originatorCount: originatorCount))
                FROM (
                \(bind(TimelineQuery.recentScanFloor, [position[0], position[1], position[2], String(TimelineQuery.recentScanBudget)]))
                ) f(ms, cid, uri)
                \\gset
                \\endif
                """)
            position = [":pos_at", ":pos_cid", ":pos_uri"]
        }
        for attempt in 0..<TimelineQuery.windowAttempts {
            let isLast = attempt == TimelineQuery.windowAttempts - 1
            let lower = isLast ? "'-infinity'" : ":lower\(attempt)"
            lines.append("""
                \\if :need > 0
                SELECT :got + count(*) AS got,
                       (:uris::text[] || coalesce(array_agg(p.post_uri), '{}'))::text AS uris,
                       (:reposters::text[] || coalesce(array_agg(p.originator_did) FILTER (WHERE p.type = 'repost'), '{}'))::text AS reposters,
                       sum(octet_length(p::text)) AS bytes
                FROM (
                \(bind(TimelineQuery.page, [":originators", ":blocked", lower, position[0], position[1], position[2], ":need"]))
                ) p
                \\gset
                \\set need \(limit) - :got
                \\endif
                """)
            position = [lower, "''", "''"]
        }
        lines.append(hydration(viewer: v))
        return lines.joined(separator: "\n") + "\n"
    }

    static func authorFeed(viewer: String, actor: String) -> String {
        let v = literal(viewer)
        return """
            -- getAuthorFeed (posts_with_replies, limit \(limit), no cursor): resolve the actor, page, hydrate
            SELECT count(*) AS found, sum(octet_length(a::text)) AS bytes FROM (
            \(bind(ActorQuery.profiles, [literal("{\(actor)}"), "'{}'", v]))
            ) a
            \\gset
            SELECT count(*) AS got,
                   coalesce(array_agg(p.post_uri), '{}')::text AS uris,
                   coalesce(array_agg(p.originator_did) FILTER (WHERE p.type = 'repost'), '{}')::text AS reposters,
                   sum(octet_length(p::text)) AS bytes
            FROM (
            \(bind(AuthorFeedQuery.postsWithReplies, [literal(actor), "'infinity'", "''", "''", String(limit)]))
            ) p
            \\gset
            \(hydration(viewer: v))

            """
    }

    /// `FeedPageWriter.render`: posts (with parents/roots), then every actor they and the reposters name.
    static func hydration(viewer v: String) -> String {
        """
        SELECT (coalesce(array_agg(DISTINCT w.author_did), '{}') || :reposters::text[])::text AS dids,
               sum(octet_length(w::text)) AS bytes
        FROM (
        \(bind(PostQuery.views, [":uris", v]))
        ) w
        \\gset
        SELECT count(*) AS actors, sum(octet_length(a::text)) AS bytes FROM (
        \(bind(ActorQuery.profiles, [":dids", "'{}'", v]))
        ) a
        \\gset
        """
    }

    static func notifications(viewer: String) -> String {
        let v = literal(viewer)
        return """
            -- listNotifications (limit \(limit), no cursor): marker, page, causing records, authors
            SELECT count(*) AS marker FROM (
            \(bind(NotificationQuery.lastSeen, [v]))
            ) s
            \\gset
            SELECT coalesce(array_agg(n.record_uri), '{}')::text AS uris,
                   coalesce(array_agg(DISTINCT n.author_did), '{}')::text AS dids,
                   sum(octet_length(n::text)) AS bytes
            FROM (
            \(bind(NotificationQuery.page, [v, "'{}'", "'infinity'", "''", "''", String(limit)]))
            ) n
            \\gset
            SELECT sum(octet_length(r::text)) AS bytes FROM (
            \(bind(NotificationQuery.records, [":uris"]))
            ) r
            \\gset
            SELECT count(*) AS actors, sum(octet_length(a::text)) AS bytes FROM (
            \(bind(ActorQuery.profiles, [":dids", "'{}'", v]))
            ) a
            \\gset

            """
    }
}
