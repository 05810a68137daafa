/// A request as the transport delivered it. Transport-independent: FastCGI builds one from its
/// params, tests build one directly.
public struct HTTPRequest: Sendable {
    public var method: String
    /// Path without the query string, e.g. `/xrpc/app.bsky.feed.getTimeline`.
    public var path: String
    /// Raw query string without `?` (percent-encoded).
    public var query: String
    /// Header names lower-cased, e.g. `authorization`, `content-type`.
    public var headers: [String: String]
    public var body: [UInt8]
    public var remoteAddress: String

    public init(
        method: String = "GET", path: String, query: String = "", headers: [String: String] = [:],
        body: [UInt8] = [], remoteAddress: String = "127.0.0.1"
    ) {
        self.method = method
        self.path = path
        self.query = query
        self.headers = headers
        self.body = body
        self.remoteAddress = remoteAddress
    }
}

/// A response ready to write. `body` is already encoded (JSON for every route).
public struct HTTPResponse: Sendable {
    public var status: Int
    public var headers: [(String, String)]
    public var body: [UInt8]

    public init(status: Int, headers: [(String, String)] = [], body: [UInt8]) {
        self.status = status
        self.headers = headers
        self.body = body
    }

    /// A JSON response; `Content-Type: application/json; charset=utf-8` is set.
    public static func json(_ status: Int, _ body: [UInt8], headers: [(String, String)] = []) -> HTTPResponse {
        HTTPResponse(status: status, headers: [("Content-Type", "application/json; charset=utf-8")] + headers, body: body)
    }
}
