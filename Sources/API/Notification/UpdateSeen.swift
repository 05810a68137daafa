import Foundation
import JSON
import Storage

/// `app.bsky.notification.updateSeen` (POST `{"seenAt": datetime}`): moves the read marker forward;
/// an older `seenAt` than the stored one leaves it unchanged. Answers 200 with an empty body.
struct UpdateSeen: XRPCMethod {
    static let nsid = "app.bsky.notification.updateSeen"
    static let httpMethod = "POST"
    static let requiresViewer = true
    static let maxBodyBytes = 64 * 1024

    let viewer: String
    let seenAt: Int64

    init(_ input: XRPCInput) throws(XRPCError) {
        viewer = try input.requiredViewer()
        guard !input.body.isEmpty else { throw .invalidRequest("Request body must be a JSON object with seenAt") }
        guard input.body.count <= Self.maxBodyBytes else { throw .invalidRequest("Request body is too large") }
        let object = try? JSONSerialization.jsonObject(with: Data(input.body))
        guard let object = object as? [String: Any] else {
            throw .invalidRequest("Request body must be a JSON object with seenAt")
        }
        guard let text = object["seenAt"] as? String else {
            throw .invalidRequest("Input must have the property \"seenAt\"")
        }
        guard let value = Timestamp.parseISO8601(text) else {
            throw .invalidRequest("seenAt must be a valid datetime (RFC 3339)")
        }
        seenAt = value
    }

    func run(on connection: PostgresConnection, environment: XRPCEnvironment) throws -> [UInt8] {
        try connection.query(NotificationQuery.updateSeen, [viewer, Timestamp.iso8601(epochMilliseconds: seenAt)])
        return []
    }
}
