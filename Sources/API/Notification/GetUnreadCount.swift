import JSON
import Storage

/// `app.bsky.notification.getUnreadCount`: notifications newer than the read marker (or the
/// `seenAt` parameter), counted up to `NotificationQuery.unreadCountCap`.
struct GetUnreadCount: XRPCMethod {
    static let nsid = "app.bsky.notification.getUnreadCount"
    static let requiresViewer = true

    let viewer: String
    let seenAt: Int64?

    init(_ input: XRPCInput) throws(XRPCError) {
        viewer = try input.requiredViewer()
        seenAt = try input.parameters.datetime("seenAt")
        if let priority = try input.parameters.single("priority"), priority != "true" && priority != "false" {
            throw .invalidRequest("priority must be a boolean")
        }
    }

    func run(on connection: PostgresConnection, environment: XRPCEnvironment) throws -> [UInt8] {
        let result = try connection.query(NotificationQuery.unreadCount,
                                          [viewer, seenAt.map { Timestamp.iso8601(epochMilliseconds: $0) }])
        var writer = JSONWriter(capacity: 32)
        writer.beginObject()
        writer.field("count", result.rowCount > 0 ? result[0].int(0) ?? 0 : 0)
        writer.endObject()
        return writer.bytes
    }
}
