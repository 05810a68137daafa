import JSON
import Storage

/// `app.bsky.notification.listNotifications`: the viewer's notifications, newest first, each with
/// its author's `profileView` and the full record that caused it. Four queries per page: marker,
/// page, causing records, authors.
///
/// Records of likes, reposts and follows are rebuilt from their columns (`$type`, `subject`,
/// `createdAt`, in this order) because those tables store no record JSON: fields beyond these (rare
/// extensions such as `via`) are not reproduced, and `createdAt` is given at millisecond precision.
/// Notifications whose author is inactive or blocked either way, or whose record is gone, are left
/// out; the cursor still advances past them.
struct ListNotifications: XRPCMethod {
    static let nsid = "app.bsky.notification.listNotifications"
    static let requiresViewer = true
    /// The lexicon's known reasons. Only the first six are produced by this AppView; the others are
    /// accepted (clients send them) and simply match nothing.
    static let knownReasons: Set<String> = [
        "like", "repost", "follow", "mention", "reply", "quote", "starterpack-joined", "verified", "unverified",
        "like-via-repost", "repost-via-repost", "subscribed-post", "contact-match",
    ]

    let viewer: String
    let limit: Int
    let cursor: FeedCursor?
    let reasons: [String]
    /// A `seenAt` parameter overrides the stored marker for `isRead` and is echoed back.
    let seenAtOverride: Int64?

    init(_ input: XRPCInput) throws(XRPCError) {
        viewer = try input.requiredViewer()
        limit = try input.parameters.limit()
        cursor = try input.cursor()
        seenAtOverride = try input.parameters.datetime("seenAt")
        let reasons = input.parameters.all("reasons")
        for reason in reasons where !Self.knownReasons.contains(reason) {
            throw .invalidRequest("reasons must be notification reasons (like, repost, follow, mention, reply, quote, …)")
        }
        self.reasons = reasons
        if let priority = try input.parameters.single("priority"), priority != "true" && priority != "false" {
            throw .invalidRequest("priority must be a boolean")
        }
    }

    struct Item {
        var uri: String
        var cid: String
        var authorDID: String
        var reason: String
        var reasonSubject: String?
        var sortAtMilliseconds: Int64
    }

    func run(on connection: PostgresConnection, environment: XRPCEnvironment) throws -> [UInt8] {
        var seenAt = seenAtOverride
        if seenAt == nil {
            let marker = try connection.query(NotificationQuery.lastSeen, [viewer])
            if marker.rowCount > 0 { seenAt = marker[0].int64(0) }
        }
        let position = cursor.sqlParameters
        let page = try connection.query(NotificationQuery.page, [viewer, reasons, position[0], position[1], position[2], limit])
        let items: [Item] = (0..<page.rowCount).map { index in
            let row = page[index]
            return Item(uri: row.string(0) ?? "", cid: row.string(1) ?? "", authorDID: row.string(2) ?? "",
                        reason: row.string(3) ?? "", reasonSubject: row.string(4),
                        sortAtMilliseconds: row.int64(5) ?? 0)
        }
        let records = try CausingRecord.fetch(uris: items.map(\.uri), on: connection)
        let actors = try ActorHydrator.fetch(dids: Array(Set(items.map(\.authorDID))), viewer: viewer, on: connection)

        var writer = JSONWriter(capacity: 1024 + items.count * 1200)
        writer.beginObject()
        writer.key("notifications")
        writer.beginArray()
        for item in items {
            guard let author = actors[item.authorDID], author.isActive,
                  !(author.viewer?.isBlockedEitherWay ?? false),
                  let record = records[item.uri] else { continue }
            writer.beginObject()
            writer.field("uri", item.uri)
            writer.field("cid", item.cid)
            writer.key("author")
            environment.profiles.writeView(author, to: &writer)
            writer.field("reason", item.reason)
            writer.optionalField("reasonSubject", item.reasonSubject)
            writer.key("record")
            record.write(to: &writer)
            writer.field("isRead", seenAt.map { item.sortAtMilliseconds <= $0 } ?? false)
            writer.key("indexedAt")
            writer.datetime(epochMilliseconds: item.sortAtMilliseconds)
            writer.endObject()
        }
        writer.endArray()
        if items.count == limit, let last = items.last {
            writer.field("cursor", FeedCursor(sortAtMilliseconds: last.sortAtMilliseconds, cid: last.cid, uri: last.uri).encoded)
        }
        if let seenAt {
            writer.key("seenAt")
            writer.datetime(epochMilliseconds: seenAt)
        }
        writer.endObject()
        return writer.bytes
    }
}
