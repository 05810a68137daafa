import API
import Foundation
import JSON
import Logging
import Storage
import TestSupport

/// Test-only authenticator: every request is made as `viewer` (nil = anonymous).
struct FixedViewer: ViewerAuthenticator {
    let viewer: String?
    func authenticate(_ request: HTTPRequest, method nsid: String) -> Result<String?, XRPCError> { .success(viewer) }
}

/// Builds rows directly in the tables of 0001 (what the indexer would write), with deterministic
/// DIDs, CIDs and times, so the API can be tested before the indexer exists.
final class Fixture: @unchecked Sendable {
    let database: TestDatabase
    var pool: ConnectionPool { database.pool }
    private var counter = 0
    /// 2026-07-04T12:00:00.000Z
    static let baseTime: Int64 = 1_783_166_400_000

    init(name: String) throws {
        database = try TestDatabase(name: name)
    }

    func sql(_ statement: String, _ parameters: [PostgresBindable?] = []) throws {
        _ = try pool.withConnection { try $0.query(statement, parameters) }
    }

    func nextCID() -> String {
        counter += 1
        return "bafyreicid" + String(format: "%012d", counter)
    }

    static func iso(_ ms: Int64) -> String { Timestamp.iso8601(epochMilliseconds: ms) }

    @discardableResult
    func actor(_ name: String, handle: String? = "", displayName: String? = nil, description: String? = nil,
               avatarCID: String? = nil, status: String? = nil, createdAt: Int64? = nil) throws -> String {
        let did = "did:plc:\(name)"
        let resolvedHandle = handle == "" ? "\(name).test" : handle  // "" = default handle, nil = NULL
        try sql("""
            INSERT INTO actors (did, handle, display_name, description, avatar_cid, status, is_active, indexed_at, profile_created_at)
            VALUES ($1, $2, $3, $4, $5, $6, $7, $8::timestamptz, $9::timestamptz)
            """, [did, resolvedHandle, displayName, description, avatarCID, status, status == nil,
                  Self.iso(Self.baseTime - 86_400_000), createdAt.map(Self.iso)])
        return did
    }

    /// A post (and its feed item). Returns (uri, cid).
    @discardableResult
    func post(by author: String, at time: Int64, text: String = "hello", rkey: String? = nil,
              replyTo parent: (uri: String, cid: String)? = nil, root: (uri: String, cid: String)? = nil,
              media: Bool = false, cid: String? = nil, selfThread: Bool = false) throws -> (uri: String, cid: String) {
        counter += 1
        let uri = "at://\(author)/app.bsky.feed.post/\(rkey ?? "p\(counter)")"
        let cid = cid ?? nextCID()
        var record: [String: Any] = ["$type": "app.bsky.feed.post", "text": text, "createdAt": Self.iso(time)]
        if let parent {
            let root = root ?? parent
            record["reply"] = ["parent": ["uri": parent.uri, "cid": parent.cid], "root": ["uri": root.uri, "cid": root.cid]]
        }
        let json = String(decoding: try JSONSerialization.data(withJSONObject: record, options: [.sortedKeys]), as: UTF8.self)
        let rootURI = parent.map { _ in (root ?? parent!).uri }
        try sql("""
            INSERT INTO posts (uri, cid, author_did, record, text, reply_root_uri, reply_root_cid, reply_parent_uri,
                               reply_parent_cid, has_media, created_at, indexed_at, sort_at, commit_time_us)
            VALUES ($1, $2, $3, $4::jsonb, $5, $6, $7, $8, $9, $10, $11::timestamptz, $11::timestamptz, $11::timestamptz, $12)
            """, [uri, cid, author, json, text, rootURI, parent.map { _ in (root ?? parent!).cid }, parent?.uri, parent?.cid,
                  media, Self.iso(time), time * 1000])
        try sql("""
            INSERT INTO feed_items (uri, cid, type, post_uri, post_author_did, originator_did, sort_at, is_reply, is_self_thread, has_media)
            VALUES ($1, $2, 'post', $1, $3, $3, $4::timestamptz, $5, $6, $7)
            """, [uri, cid, author, Self.iso(time), parent != nil, selfThread, media])
        return (uri, cid)
    }

    @discardableResult
    func repost(by reposter: String, of post: (uri: String, cid: String), postAuthor: String, at time: Int64,
                cid: String? = nil) throws -> (uri: String, cid: String) {
        counter += 1
        let uri = "at://\(reposter)/app.bsky.feed.repost/r\(counter)"
        let cid = cid ?? nextCID()
        try sql("""
            INSERT INTO reposts (uri, cid, author_did, subject_uri, subject_cid, created_at, indexed_at)
            VALUES ($1, $2, $3, $4, $5, $6::timestamptz, $6::timestamptz)
            """, [uri, cid, reposter, post.uri, post.cid, Self.iso(time)])
        try sql("""
            INSERT INTO feed_items (uri, cid, type, post_uri, post_author_did, originator_did, sort_at)
            VALUES ($1, $2, 'repost', $3, $4, $5, $6::timestamptz)
            """, [uri, cid, post.uri, postAuthor, reposter, Self.iso(time)])
        return (uri, cid)
    }

    @discardableResult
    func like(by liker: String, of post: (uri: String, cid: String), at time: Int64) throws -> (uri: String, cid: String) {
        counter += 1
        let uri = "at://\(liker)/app.bsky.feed.like/l\(counter)"
        let cid = nextCID()
        try sql("""
            INSERT INTO likes (uri, cid, author_did, subject_uri, subject_cid, created_at, indexed_at)
            VALUES ($1, $2, $3, $4, $5, $6::timestamptz, $6::timestamptz)
            """, [uri, cid, liker, post.uri, post.cid, Self.iso(time)])
        return (uri, cid)
    }

    @discardableResult
    func follow(_ creator: String, _ subject: String, at time: Int64 = Fixture.baseTime) throws -> (uri: String, cid: String) {
        counter += 1
        let uri = "at://\(creator)/app.bsky.graph.follow/f\(counter)"
        let cid = nextCID()
        try sql("""
            INSERT INTO follows (uri, cid, creator_did, subject_did, created_at, indexed_at)
            VALUES ($1, $2, $3, $4, $5::timestamptz, $5::timestamptz)
            """, [uri, cid, creator, subject, Self.iso(time)])
        return (uri, cid)
    }

    @discardableResult
    func block(_ creator: String, _ subject: String) throws -> String {
        counter += 1
        let uri = "at://\(creator)/app.bsky.graph.block/b\(counter)"
        try sql("""
            INSERT INTO blocks (uri, cid, creator_did, subject_did, created_at, indexed_at)
            VALUES ($1, $2, $3, $4, $5::timestamptz, $5::timestamptz)
            """, [uri, nextCID(), creator, subject, Self.iso(Self.baseTime)])
        return uri
    }

    func notify(_ recipient: String, record: (uri: String, cid: String), author: String, reason: String,
                subject: String?, at time: Int64) throws {
        try sql("""
            INSERT INTO notifications (recipient_did, record_uri, record_cid, author_did, reason, reason_subject, sort_at)
            VALUES ($1, $2, $3, $4, $5, $6, $7::timestamptz)
            """, [recipient, record.uri, record.cid, author, reason, subject, Self.iso(time)])
    }

    /// Recomputes the aggregates from the live rows, as the indexer does.
    func recomputeAggregates() throws {
        _ = try pool.withConnection { connection in
            try connection.execute("""
                DELETE FROM post_aggregates;
                INSERT INTO post_aggregates (uri, like_count, repost_count, reply_count, quote_count)
                SELECT p.uri,
                       (SELECT count(*) FROM likes l WHERE l.subject_uri = p.uri),
                       (SELECT count(*) FROM reposts r WHERE r.subject_uri = p.uri),
                       (SELECT count(*) FROM posts c WHERE c.reply_parent_uri = p.uri),
                       (SELECT count(*) FROM posts q WHERE q.embed_record_uri = p.uri)
                FROM posts p;
                DELETE FROM actor_aggregates;
                INSERT INTO actor_aggregates (did, followers_count, follows_count, posts_count)
                SELECT a.did,
                       (SELECT count(*) FROM follows f WHERE f.subject_did = a.did),
                       (SELECT count(*) FROM follows f WHERE f.creator_did = a.did),
                       (SELECT count(*) FROM posts p WHERE p.author_did = a.did)
                FROM actors a;
                """)
        }
    }

    /// The service as production wires it, with a fixed viewer (or the given authenticator).
    func service(viewer: String?, authenticator: (any ViewerAuthenticator)? = nil, pool: ConnectionPool? = nil,
                 videoURLTemplate: String = ImageURLTemplate.defaultVideoTemplate) -> AppViewService {
        let pool = pool ?? self.pool
        let router = XRPCRouter(pool: pool, authenticator: authenticator ?? FixedViewer(viewer: viewer),
                                videoURLTemplate: videoURLTemplate, logger: Logger(label: "test"))
        return AppViewService(pool: pool, xrpc: router, operations: OperationsEndpoints(pool: pool))
    }
}

/// A response decoded for assertions.
struct Answer {
    let status: Int
    let headers: [(String, String)]
    let body: [UInt8]
    let json: [String: Any]

    var error: String? { json["error"] as? String }
    var message: String? { json["message"] as? String }
    func header(_ name: String) -> String? { headers.first { $0.0.lowercased() == name.lowercased() }?.1 }
    var feed: [[String: Any]] { json["feed"] as? [[String: Any]] ?? [] }
    var cursor: String? { json["cursor"] as? String }
}

extension AppViewService {
    func call(_ nsid: String, _ query: String = "", method: String = "GET", body: String? = nil,
              headers: [String: String] = [:]) -> Answer {
        let response = handle(HTTPRequest(method: method, path: "/xrpc/\(nsid)", query: query, headers: headers,
                                          body: body.map { Array($0.utf8) } ?? []))
        let object = (try? JSONSerialization.jsonObject(with: Data(response.body))) as? [String: Any] ?? [:]
        return Answer(status: response.status, headers: response.headers, body: response.body, json: object)
    }
}

/// Percent-encodes a query value.
func q(_ value: String) -> String {
    var allowed = CharacterSet.alphanumerics
    allowed.insert(charactersIn: "-._~")
    return value.addingPercentEncoding(withAllowedCharacters: allowed) ?? value
}
