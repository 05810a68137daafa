import Storage

/// Dispatches `/xrpc/<nsid>` to the implemented methods. (Stub: replaced by the XRPC part.)
public final class XRPCRouter: @unchecked Sendable {
    public init(pool: ConnectionPool) {}
    public func handle(_ request: HTTPRequest) -> HTTPResponse {
        HTTPResponse.json(501, Array(#"{"error":"MethodNotImplemented","message":"not implemented yet"}"#.utf8))
    }
}
