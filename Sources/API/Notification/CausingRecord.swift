import JSON
import Storage

/// The record that caused a notification, ready to write as the notification's `record`.
struct CausingRecord {
    enum Kind { case post, like, repost, follow }
    var kind: Kind
    let row: Row

    static func fetch(uris: [String], on connection: PostgresConnection) throws -> [String: CausingRecord] {
        if uris.isEmpty { return [:] }
        let result = try connection.query(NotificationQuery.records, [uris])
        var records: [String: CausingRecord] = [:]
        for index in 0..<result.rowCount {
            let row = result[index]
            let kind: Kind
            switch row.string(0) {
            case "post": kind = .post
            case "like": kind = .like
            case "repost": kind = .repost
            default: kind = .follow
            }
            records[row.string(1) ?? ""] = CausingRecord(kind: kind, row: row)
        }
        return records
    }

    func write(to writer: inout JSONWriter) {
        switch kind {
        case .post:
            _ = row.withUTF8(2) { writer.rawJSON($0) }
        case .like, .repost:
            writer.beginObject()
            writer.field("$type", kind == .like ? "app.bsky.feed.like" : "app.bsky.feed.repost")
            writer.key("subject")
            writer.beginObject()
            writer.field("uri", row.string(3) ?? "")
            writer.field("cid", row.string(4) ?? "")
            writer.endObject()
            writeCreatedAt(to: &writer)
            writer.endObject()
        case .follow:
            writer.beginObject()
            writer.field("$type", "app.bsky.graph.follow")
            writer.field("subject", row.string(5) ?? "")
            writeCreatedAt(to: &writer)
            writer.endObject()
        }
    }

    private func writeCreatedAt(to writer: inout JSONWriter) {
        writer.key("createdAt")
        writer.datetime(epochMilliseconds: row.int64(6) ?? 0)
    }
}

