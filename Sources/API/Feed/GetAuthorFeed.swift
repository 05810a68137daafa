import Storage

/// `app.bsky.feed.getAuthorFeed`: the actor's posts and reposts, newest first, by filter.
struct GetAuthorFeed: XRPCMethod {
    static let nsid = "app.bsky.feed.getAuthorFeed"

    let viewer: String?
    let actor: String
    let limit: Int
    let cursor: FeedCursor?
    let statement: String
    /// `includePins=true`: the first page starts with the actor's pinned post (`#reasonPin`).
    let includePins: Bool

    init(_ input: XRPCInput) throws(XRPCError) {
        viewer = input.viewer
        actor = try input.parameters.requiredActor()
        limit = try input.parameters.limit()
        cursor = try input.cursor()
        let filter = try input.parameters.single("filter") ?? "posts_with_replies"
        guard let statement = AuthorFeedQuery.statement(filter: filter) else {
            throw .invalidRequest(
                "filter must be one of posts_with_replies, posts_no_replies, posts_with_media, posts_and_author_threads")
        }
        self.statement = statement
        let pins = try input.parameters.single("includePins")
        if let pins, pins != "true" && pins != "false" {
            throw .invalidRequest("includePins must be a boolean")
        }
        includePins = pins == "true"
    }

    func run(on connection: PostgresConnection, environment: XRPCEnvironment) throws -> [UInt8] {
        let subject = try ProfileResolution.resolve(actor, viewer: viewer, on: connection)
        if let relation = subject.viewer {
            if relation.blocking != nil { throw XRPCError.badRequest("BlockedActor", "Requester has blocked actor: \(subject.did)") }
            if relation.blockedBy { throw XRPCError.badRequest("BlockedByActor", "Requester is blocked by actor: \(subject.did)") }
        }
        let position = cursor.sqlParameters
        let result = try connection.query(statement, [subject.did, position[0], position[1], position[2], limit])
        // Only a post of the actor's own can be pinned on its feed, and only on the first page.
        let pinned = includePins && cursor == nil
            ? subject.pinnedPost.flatMap { $0.uri.hasPrefix("at://\(subject.did)/app.bsky.feed.post/") ? $0.uri : nil }
            : nil
        return try FeedPageWriter.render(rows: FeedItemRow.read(result), limit: limit, viewer: viewer,
                                         profiles: environment.profiles, pinnedPostURI: pinned, on: connection)
    }
}
