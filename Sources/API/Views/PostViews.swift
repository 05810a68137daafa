import JSON
import Storage

/// SQL that loads posts for post views.
public enum PostQuery {
    /// The posts $1 (text[]) plus the parents and roots they reply to, and the posts that all of
    /// these quote (embedded records), with exact counts and the viewer's like/repost ($2 viewer DID,
    /// NULL when anonymous), each post's embed type and quoted uri, its self-label values (label-value
    /// syntax only, comma-joined) and createdAt. One query per page.
    /// Indexes: posts_pkey (base rows, their parents/roots, quoted posts), post_aggregates_pkey,
    /// likes_author_subject_idx, reposts_author_subject_idx.
    public static let views = """
        WITH base AS (
            SELECT uri, reply_parent_uri, reply_root_uri, embed_record_uri FROM posts WHERE uri = ANY($1::text[])
        ), thread AS (
            SELECT uri, embed_record_uri FROM posts
            WHERE uri IN (SELECT reply_parent_uri FROM base UNION SELECT reply_root_uri FROM base)
        ), wanted AS (
            SELECT uri FROM base
            UNION SELECT reply_parent_uri FROM base WHERE reply_parent_uri IS NOT NULL
            UNION SELECT reply_root_uri FROM base WHERE reply_root_uri IS NOT NULL
            UNION SELECT embed_record_uri FROM base WHERE embed_record_uri IS NOT NULL
            UNION SELECT embed_record_uri FROM thread WHERE embed_record_uri IS NOT NULL
        )
        SELECT p.uri, p.cid, p.author_did, p.record, p.reply_parent_uri, p.reply_root_uri,
               floor(extract(epoch FROM p.indexed_at) * 1000)::bigint,
               coalesce(g.reply_count, 0), coalesce(g.repost_count, 0),
               coalesce(g.like_count, 0), coalesce(g.quote_count, 0),
               (SELECT l.uri FROM likes l WHERE l.author_did = $2::text AND l.subject_uri = p.uri LIMIT 1),
               (SELECT r.uri FROM reposts r WHERE r.author_did = $2::text AND r.subject_uri = p.uri LIMIT 1),
               p.embed_type, p.embed_record_uri,
               CASE WHEN p.record->'labels'->>'$type' = 'com.atproto.label.defs#selfLabels'
                         AND jsonb_typeof(p.record->'labels'->'values') = 'array'
                    THEN (SELECT string_agg(v.value->>'val', ',' ORDER BY v.position)
                          FROM jsonb_array_elements(p.record->'labels'->'values') WITH ORDINALITY AS v(value, position)
                          WHERE v.value->>'val' ~ '^!?[a-z][a-z0-9-]{0,126}$') END,
               floor(extract(epoch FROM p.created_at) * 1000)::bigint
        FROM wanted w
        JOIN posts p ON p.uri = w.uri
        LEFT JOIN post_aggregates g ON g.uri = p.uri
        """
}

/// One hydrated post. The record JSON stays in the query result and is spliced verbatim when written.
struct PostRecord {
    let row: Row
    var uri: String
    var cid: String
    var authorDID: String
    var replyParentURI: String?
    var replyRootURI: String?
    var indexedAtMilliseconds: Int64
    var replyCount: Int
    var repostCount: Int
    var likeCount: Int
    var quoteCount: Int
    var viewerLike: String?
    var viewerRepost: String?
    /// `posts.embed_type`: images | external | record | recordWithMedia | video | gallery, nil without embed.
    var embedType: String?
    /// The quoted record's uri (embed types record and recordWithMedia).
    var embedRecordURI: String?
    /// The author's self-labels (`record.labels`, `com.atproto.label.defs#selfLabels`), label-value syntax only.
    var selfLabels: [String]
    var createdAtMilliseconds: Int64

    static let recordColumn = 3
}

/// Loads posts (and what they reply to) for views.
enum PostHydrator {
    /// Posts keyed by uri: the requested ones and their reply parents/roots when indexed. One query.
    static func fetch(uris: [String], viewer: String?, on connection: PostgresConnection) throws -> [String: PostRecord] {
        if uris.isEmpty { return [:] }
        let result = try connection.query(PostQuery.views, [uris, viewer])
        var posts: [String: PostRecord] = [:]
        posts.reserveCapacity(result.rowCount)
        for index in 0..<result.rowCount {
            let row = result[index]
            let uri = row.string(0) ?? ""
            posts[uri] = PostRecord(
                row: row, uri: uri, cid: row.string(1) ?? "", authorDID: row.string(2) ?? "",
                replyParentURI: row.string(4), replyRootURI: row.string(5),
                indexedAtMilliseconds: row.int64(6) ?? 0,
                replyCount: row.int(7) ?? 0, repostCount: row.int(8) ?? 0,
                likeCount: row.int(9) ?? 0, quoteCount: row.int(10) ?? 0,
                viewerLike: row.string(11), viewerRepost: row.string(12),
                embedType: row.string(13), embedRecordURI: row.string(14),
                selfLabels: row.string(15).map { $0.split(separator: ",").prefix(SelfLabels.maxValues).map(String.init) } ?? [],
                createdAtMilliseconds: row.int64(16) ?? 0)
        }
        return posts
    }
}

/// Everything a page needs to render posts: posts, their authors, and who is looking.
///
/// Visibility rule (documented decision, as the reference AppView does): posts whose author is not
/// active (taken down, suspended, deactivated, deleted) are hidden — they drop out of feeds and
/// getPosts, and appear as `#notFoundPost` where a reply points at them. Posts whose author blocks
/// the viewer, or whom the viewer blocks, drop out of feeds and appear as `#blockedPost` as a
/// reply parent/root.
struct PostViewContext {
    var posts: [String: PostRecord]
    var actors: [String: ActorRecord]
    var viewer: String?
    var profiles: ProfileViewWriter
    /// Embed media of the loaded posts, by post uri.
    var media: [String: EmbedMedia] = [:]

    /// Embed types whose view needs `EmbedMediaQuery` rows.
    static let mediaEmbedTypes: Set<String> = ["images", "gallery", "external", "video", "recordWithMedia"]

    /// Loads posts (with their parents, roots and quoted posts), then every actor they (and
    /// `extraDIDs`, e.g. reposters) refer to, then the embed media when any post has some: at most
    /// three queries, whatever the page size.
    static func load(postURIs: [String], extraDIDs: [String], viewer: String?, profiles: ProfileViewWriter,
                     on connection: PostgresConnection) throws -> PostViewContext
    {
        let posts = try PostHydrator.fetch(uris: postURIs, viewer: viewer, on: connection)
        var dids = Set(extraDIDs)
        for post in posts.values {
            dids.insert(post.authorDID)
            // The author of what a loaded parent replies to: a feed item's `reply.grandparentAuthor`.
            if let grandparent = post.replyParentURI.flatMap(Self.authorDID(ofPostURI:)) { dids.insert(grandparent) }
        }
        let actors = try ActorHydrator.fetch(dids: Array(dids), viewer: viewer, on: connection)
        let withMedia = posts.values.filter { mediaEmbedTypes.contains($0.embedType ?? "") }.map(\.uri)
        let media = try EmbedMedia.fetch(uris: withMedia, on: connection)
        return PostViewContext(posts: posts, actors: actors, viewer: viewer, profiles: profiles, media: media)
    }

    /// The DID authority of `at://<did>/…`, nil for a handle authority or a malformed uri.
    static func authorDID(ofPostURI uri: String) -> String? {
        guard uri.hasPrefix("at://did:") else { return nil }
        return uri.dropFirst(5).split(separator: "/", maxSplits: 1).first.map(String.init)
    }

    func actor(_ did: String) -> ActorRecord {
        actors[did] ?? .unknown(did: did, viewerPresent: viewer != nil)
    }

    /// The post when it may be shown to this viewer in a list.
    func visiblePost(_ uri: String) -> PostRecord? {
        guard let post = posts[uri] else { return nil }
        let author = actor(post.authorDID)
        guard author.isActive, !(author.viewer?.isBlockedEitherWay ?? false) else { return nil }
        return post
    }

    /// `app.bsky.feed.defs#postView`.
    /// `typeTag` is written as `$type` first, for union members (reply parent/root).
    func writePostView(_ post: PostRecord, typeTag: String? = nil, to writer: inout JSONWriter) {
        writer.beginObject()
        writer.optionalField("$type", typeTag)
        writer.field("uri", post.uri)
        writer.field("cid", post.cid)
        writer.key("author")
        profiles.writeBasic(actor(post.authorDID), to: &writer)
        writer.key("record")
        _ = post.row.withUTF8(PostRecord.recordColumn) { writer.rawJSON($0) }
        writeEmbedField(post, to: &writer)
        writer.field("replyCount", post.replyCount)
        writer.field("repostCount", post.repostCount)
        writer.field("likeCount", post.likeCount)
        writer.field("quoteCount", post.quoteCount)
        writer.key("indexedAt")
        writer.datetime(epochMilliseconds: post.indexedAtMilliseconds)
        SelfLabels.writeField(post, to: &writer)
        if viewer != nil {
            writer.key("viewer")
            writer.beginObject()
            writer.optionalField("repost", post.viewerRepost)
            writer.optionalField("like", post.viewerLike)
            writer.endObject()
        }
        writer.endObject()
    }

    /// `feed.defs#blockedPost` / `embed.record#viewBlocked`: the same shape under two type names.
    static func writeBlocked(_ type: String, uri: String, authorDID: String, viewerState: ActorViewerState,
                             to writer: inout JSONWriter) {
        writer.beginObject()
        writer.field("$type", type)
        writer.field("uri", uri)
        writer.field("blocked", true)
        writer.key("author")
        writer.beginObject()
        writer.field("did", authorDID)
        writer.key("viewer")
        ProfileViewWriter.writeViewerState(viewerState, to: &writer)
        writer.endObject()
        writer.endObject()
    }

    /// A reply parent/root: the post view, `#blockedPost` or `#notFoundPost` (union members carry `$type`).
    func writeReplyTarget(uri: String, to writer: inout JSONWriter) {
        if let post = posts[uri] {
            let author = actor(post.authorDID)
            if author.isActive {
                if let viewerState = author.viewer, viewerState.isBlockedEitherWay {
                    Self.writeBlocked("app.bsky.feed.defs#blockedPost", uri: uri, authorDID: author.did,
                                      viewerState: viewerState, to: &writer)
                    return
                }
                writePostView(post, typeTag: "app.bsky.feed.defs#postView", to: &writer)
                return
            }
        }
        writer.beginObject()
        writer.field("$type", "app.bsky.feed.defs#notFoundPost")
        writer.field("uri", uri)
        writer.field("notFound", true)
        writer.endObject()
    }
}
