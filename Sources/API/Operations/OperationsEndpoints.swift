import Storage

/// `/health` and `/api/metrics/*`. (Stub: replaced by the operations part.)
public final class OperationsEndpoints: @unchecked Sendable {
    public init(pool: ConnectionPool) {}
    public func handle(_ request: HTTPRequest) -> HTTPResponse {
        HTTPResponse.json(503, Array(#"{"status":"unknown"}"#.utf8))
    }
}
