import JSON

/// Keyset position in a list ordered by `(sort_at, cid, uri)` descending: the last row served.
/// Encoded as the opaque string `<sort_at epoch-ms>::<cid>::<uri>`. `cid` never contains `:`, so
/// the string splits unambiguously at the first two `::` (the uri itself may contain `:`).
/// The uri breaks ties between rows with equal time and cid, so a page boundary never skips or
/// repeats a row however many rows share a timestamp.
public struct FeedCursor: Sendable, Equatable {
    public var sortAtMilliseconds: Int64
    public var cid: String
    public var uri: String

    public init(sortAtMilliseconds: Int64, cid: String, uri: String) {
        self.sortAtMilliseconds = sortAtMilliseconds
        self.cid = cid
        self.uri = uri
    }

    public var encoded: String { "\(sortAtMilliseconds)::\(cid)::\(uri)" }

    /// Parses a cursor string; anything malformed is a 400 `InvalidRequest`.
    public init(parsing text: String) throws(XRPCError) {
        let malformed = XRPCError.invalidRequest("Malformed cursor")
        guard text.utf8.count <= 8400, let first = text.range(of: "::") else { throw malformed }
        let millisText = text[..<first.lowerBound]
        let rest = text[first.upperBound...]
        guard let second = rest.range(of: "::") else { throw malformed }
        let cid = String(rest[..<second.lowerBound])
        let uri = String(rest[second.upperBound...])
        guard !millisText.isEmpty, millisText.utf8.count <= 15, millisText.utf8.allSatisfy({ $0 >= 48 && $0 <= 57 }),
              let millis = Int64(millisText), millis <= 253_402_300_799_999,  // 9999-12-31T23:59:59.999Z
              Identifiers.isCID(cid), Identifiers.isATURI(uri)
        else { throw malformed }
        sortAtMilliseconds = millis
        self.cid = cid
        self.uri = uri
    }

    /// The cursor as SQL parameters `(sort_at, cid, uri)` for `(…) < ($n::timestamptz, $n+1, $n+2)`.
    var sqlParameters: [String] { [Timestamp.iso8601(epochMilliseconds: sortAtMilliseconds), cid, uri] }

    /// Parameters standing for "before everything": every row sorts below `infinity`.
    static let startParameters = ["infinity", "", ""]
}

extension Optional where Wrapped == FeedCursor {
    var sqlParameters: [String] { self?.sqlParameters ?? FeedCursor.startParameters }
}
