import Storage

/// `app.bsky.feed.getAuthorFeed`: the actor's posts and reposts, newest first, by filter.
struct GetAuthorFeed: XRPCMethod {
    static let nsid = "app.bsky.feed.getAuthorFeed"

    let viewer: String?
    let actor: String
    let limit: Int
    let cursor: FeedCursor?
    let statement: String

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
        if let pins = try input.parameters.single("includePins"), pins != "true" && pins != "false" {
            throw .invalidRequest("includePins must be a boolean")
        }
    }

    func run(on connection: PostgresConnection, environment: XRPCEnvironment) throws -> [UInt8] {
        let subject = try ProfileResolution.resolve(actor, viewer: viewer, on: connection)
        if let relation = subject.viewer {
            if relation.blocking != nil { throw XRPCError.badRequest("BlockedActor", "Requester has blocked actor: \(subject.did)") }
            if relation.blockedBy { throw XRPCError.badRequest("BlockedByActor", "Requester is blocked by actor: \(subject.did)") }
        }
        let position = cursor.sqlParameters
        let result = try connection.query(statement, [subject.did, position[0], position[1], position[2], limit])
        return try FeedPageWriter.render(rows: FeedItemRow.read(result), limit: limit, viewer: viewer,
                                         profiles: environment.profiles, on: connection)
    }
}
