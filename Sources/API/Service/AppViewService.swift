import Logging
import Storage

/// The whole read service behind one `RequestHandler`: routes `/xrpc/<nsid>`, `/health` and
/// `/api/metrics/*`. Embed it in another program or drive it in-process from tests.
public final class AppViewService: RequestHandler, @unchecked Sendable {
    public let pool: ConnectionPool
    let logger: Logger

    public init(pool: ConnectionPool, logger: Logger = Logger(label: "appview.api")) {
        self.pool = pool
        self.logger = logger
    }

    public func handle(_ request: HTTPRequest) -> HTTPResponse {
        // Filled in by the XRPC and operations parts.
        HTTPResponse.json(501, Array(#"{"error":"MethodNotImplemented","message":"not implemented yet"}"#.utf8))
    }
}
