import Logging
import Storage

/// The whole read service behind one `RequestHandler`: routes `/xrpc/<nsid>` to the XRPC methods,
/// `/health` and `/api/metrics/*` to the operations endpoints. Embed it in another program or drive
/// it in-process from tests.
public final class AppViewService: RequestHandler, @unchecked Sendable {
    public let pool: ConnectionPool
    public let xrpc: XRPCRouter
    public let operations: OperationsEndpoints
    let logger: Logger

    public init(pool: ConnectionPool, xrpc: XRPCRouter, operations: OperationsEndpoints, logger: Logger = Logger(label: "appview.api")) {
        self.pool = pool
        self.xrpc = xrpc
        self.operations = operations
        self.logger = logger
    }

    public func handle(_ request: HTTPRequest) -> HTTPResponse {
        if request.path.hasPrefix("/xrpc/") {
            return xrpc.handle(request)
        }
        if request.path == "/health" || request.path.hasPrefix("/api/metrics/") {
            return operations.handle(request)
        }
        return HTTPResponse.json(404, Array(#"{"error":"NotFound","message":"no such route"}"#.utf8))
    }
}
