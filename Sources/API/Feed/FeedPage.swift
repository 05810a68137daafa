import JSON
import Storage

/// One `feed_items` row as the page queries select it:
/// `uri, cid, type, post_uri, originator_did, sort_at (epoch ms)`.
struct FeedItemRow {
    var uri: String
    var cid: String
    var isRepost: Bool
    var postURI: String
    var originatorDID: String
    var sortAtMilliseconds: Int64

    var cursor: FeedCursor { FeedCursor(sortAtMilliseconds: sortAtMilliseconds, cid: cid, uri: uri) }

    static func read(_ result: QueryResult) -> [FeedItemRow] {
        (0..<result.rowCount).map { read(result[$0]) }
    }

    /// One row whose six columns start at `first`.
    static func read(_ row: Row, from first: Int = 0) -> FeedItemRow {
        FeedItemRow(
            uri: row.string(first) ?? "", cid: row.string(first + 1) ?? "", isRepost: row.string(first + 2) == "repost",
            postURI: row.string(first + 3) ?? "", originatorDID: row.string(first + 4) ?? "",
            sortAtMilliseconds: row.int64(first + 5) ?? 0)
    }
}

/// Renders a page of feed items as `{"feed": [feedViewPost…], "cursor"?}` with two hydration
/// queries (posts with their parents/roots, then all actors), whatever the page size.
enum FeedPageWriter {
    /// `rows` is the page as the database returned it. The cursor is set when the page was full
    /// (`rows.count == limit`), even if hiding rules dropped some rows, so a client keeps paging.
    /// `pinnedPostURI` (getAuthorFeed's first page with `includePins`) goes first with `#reasonPin`
    /// when visible; as in the reference AppView it also keeps its place in the chronological list.
    static func render(rows: [FeedItemRow], limit: Int, viewer: String?, profiles: ProfileViewWriter,
                       pinnedPostURI: String? = nil, on connection: PostgresConnection) throws -> [UInt8]
    {
        var postURIs: [String] = []
        var seen = Set<String>()
        if let pinnedPostURI { postURIs.append(pinnedPostURI); seen.insert(pinnedPostURI) }
        for row in rows where seen.insert(row.postURI).inserted { postURIs.append(row.postURI) }
        let reposters = rows.filter(\.isRepost).map(\.originatorDID)
        let context = try PostViewContext.load(
            postURIs: postURIs, extraDIDs: reposters, viewer: viewer, profiles: profiles, on: connection)

        var writer = JSONWriter(capacity: 2048 + rows.count * 1500)
        writer.beginObject()
        writer.key("feed")
        writer.beginArray()
        let pinned = pinnedPostURI.flatMap { context.visiblePost($0) }
        if let pinned {
            writer.beginObject()
            writer.key("post")
            context.writePostView(pinned, to: &writer)
            writeReply(of: pinned, context: context, to: &writer)
            writer.key("reason")
            writer.beginObject()
            writer.field("$type", "app.bsky.feed.defs#reasonPin")
            writer.endObject()
            writer.endObject()
        }
        for row in rows {
            guard let post = context.visiblePost(row.postURI) else { continue }
            var reposter: ActorRecord?
            if row.isRepost {
                let by = context.actor(row.originatorDID)
                guard by.isActive, !(by.viewer?.isBlockedEitherWay ?? false) else { continue }
                reposter = by
            }
            writer.beginObject()
            writer.key("post")
            context.writePostView(post, to: &writer)
            writeReply(of: post, context: context, to: &writer)
            if let reposter {
                writer.key("reason")
                writer.beginObject()
                writer.field("$type", "app.bsky.feed.defs#reasonRepost")
                writer.key("by")
                profiles.writeBasic(reposter, to: &writer)
                writer.field("uri", row.uri)
                writer.field("cid", row.cid)
                writer.key("indexedAt")
                writer.datetime(epochMilliseconds: row.sortAtMilliseconds)
                writer.endObject()
            }
            writer.endObject()
        }
        writer.endArray()
        if rows.count == limit, let last = rows.last {
            writer.field("cursor", last.cursor.encoded)
        }
        writer.endObject()
        return writer.bytes
    }

    /// `"reply": {root, parent, grandparentAuthor?}` for a post that replies. `grandparentAuthor` is
    /// written when the parent is shown and itself replies to an active, unblocked author.
    private static func writeReply(of post: PostRecord, context: PostViewContext, to writer: inout JSONWriter) {
        guard let parentURI = post.replyParentURI else { return }
        writer.key("reply")
        writer.beginObject()
        writer.key("root")
        context.writeReplyTarget(uri: post.replyRootURI ?? parentURI, to: &writer)
        writer.key("parent")
        context.writeReplyTarget(uri: parentURI, to: &writer)
        if let parent = context.visiblePost(parentURI),
           let grandparentDID = parent.replyParentURI.flatMap(PostViewContext.authorDID(ofPostURI:)),
           let grandparent = context.actors[grandparentDID], grandparent.isActive,
           !(grandparent.viewer?.isBlockedEitherWay ?? false)
        {
            writer.key("grandparentAuthor")
            context.profiles.writeBasic(grandparent, to: &writer)
        }
        writer.endObject()
    }
}
