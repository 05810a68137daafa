/// The timeline query shapes of the systems this AppView replaces, timed on the same data.
/// Each is rendered for one viewer as a pgbench script (literal DID and cursor; run with
/// `-M extended`, so every execution is planned for its values, as a parameterised query is).
enum AnchorShape: String, CaseIterable, Sendable {
    /// (a) feed_items JOIN follows on the viewer's follows, joined to posts, in a 2-day window
    /// behind the cursor, plus the viewer's own items in that window; ordered by (sort_at, cid).
    case windowedJoin = "a-windowed-join"
    /// (b) posts by a followed author or reposted by one, ordered by created_at.
    case postsOrReposted = "b-posts-or-reposted"

    var title: String {
        switch self {
        case .windowedJoin: return "(a) feed_items ⋈ follows ⋈ posts, 2-day window, ∪ own items"
        case .postsOrReposted: return "(b) posts WHERE author IN follows OR EXISTS(repost by a follow)"
        }
    }

    /// One execution for `viewer` with the cursor at `cursor` (ISO timestamp).
    func sql(viewer: String, cursor: String) -> String {
        let v = Self.literal(viewer)
        let c = "timestamptz " + Self.literal(cursor)
        switch self {
        case .windowedJoin:
            // UNION ALL as the replaced system wrote it (the two arms cannot overlap: one does not follow oneself).
            return """
                SELECT * FROM (
                  SELECT fi.uri, fi.cid, fi.type, fi.post_uri, fi.originator_did, fi.sort_at
                    FROM feed_items fi
                    JOIN follows f ON f.creator_did = \(v) AND fi.originator_did = f.subject_did
                    JOIN posts p ON p.uri = fi.post_uri
                   WHERE fi.sort_at > \(c) - interval '2 days' AND fi.sort_at < \(c)
                  UNION ALL
                  SELECT fi.uri, fi.cid, fi.type, fi.post_uri, fi.originator_did, fi.sort_at
                    FROM feed_items fi
                    JOIN posts p ON p.uri = fi.post_uri
                   WHERE fi.originator_did = \(v)
                     AND fi.sort_at > \(c) - interval '2 days' AND fi.sort_at < \(c)
                ) page ORDER BY sort_at DESC, cid DESC LIMIT 50;
                """
        case .postsOrReposted:
            return """
                SELECT p.uri, p.cid, p.author_did, p.created_at
                  FROM posts p
                 WHERE p.author_did IN (SELECT subject_did FROM follows WHERE creator_did = \(v))
                    OR EXISTS (SELECT 1 FROM reposts r
                                WHERE r.subject_uri = p.uri
                                  AND r.author_did IN (SELECT subject_did FROM follows WHERE creator_did = \(v)))
                 ORDER BY p.created_at DESC LIMIT 50;
                """
        }
    }

    /// A SQL string literal for a pgbench script. pgbench would read `:plc` or `:00` inside a
    /// quoted value as a variable reference, so colons are written as the escape `\x3a`.
    static func literal(_ value: String) -> String {
        let escaped = value.replacingOccurrences(of: "\\", with: "\\\\")
            .replacingOccurrences(of: "'", with: "''")
            .replacingOccurrences(of: ":", with: "\\x3a")
        return "E'" + escaped + "'"
    }
}

import Foundation
