import JSON
import Storage

/// An XRPC error answer: HTTP status plus the JSON body `{"error": name, "message": text}`.
public struct XRPCError: Error, Sendable, Equatable {
    public var status: Int
    public var name: String
    public var message: String
    public var headers: [String: String]

    public init(status: Int, name: String, message: String, headers: [String: String] = [:]) {
        self.status = status
        self.name = name
        self.message = message
        self.headers = headers
    }

    public static func invalidRequest(_ message: String) -> XRPCError {
        XRPCError(status: 400, name: "InvalidRequest", message: message)
    }

    /// A 400 with a method-specific error name (`BlockedActor`, `AccountTakedown`, …).
    public static func badRequest(_ name: String, _ message: String) -> XRPCError {
        XRPCError(status: 400, name: name, message: message)
    }

    public static let authenticationRequired = XRPCError(
        status: 401, name: "AuthenticationRequired", message: "Authentication Required")

    public static func methodNotImplemented(_ nsid: String) -> XRPCError {
        XRPCError(status: 501, name: "MethodNotImplemented", message: "Method Not Implemented: \(nsid)")
    }

    public static func wrongHTTPMethod(_ used: String, expected: String) -> XRPCError {
        XRPCError(status: 405, name: "InvalidRequest",
                  message: "Incorrect HTTP method (\(used)), expected \(expected)", headers: ["Allow": expected])
    }

    /// Maps a database failure to the answer a client can act on. Expected failure modes are never a
    /// bare 500: pool exhaustion and lost connections are retryable 503s, a statement timeout is a 504.
    /// Names follow the atproto XRPC response types.
    public static func from(database error: PostgresError) -> XRPCError {
        switch error.kind {
        case .acquireTimeout:
            return XRPCError(status: 503, name: "NotEnoughResources",
                             message: "The server is busy (no database connection free), retry shortly",
                             headers: ["Retry-After": "1"])
        case .poolClosed, .connection:
            return XRPCError(status: 503, name: "NotEnoughResources",
                             message: "The database is unavailable, retry shortly", headers: ["Retry-After": "1"])
        case .transactionTimeout:
            return XRPCError(status: 504, name: "UpstreamTimeout", message: "The database took too long to answer")
        case .query, .decoding:
            if error.isStatementTimeout {
                return XRPCError(status: 504, name: "UpstreamTimeout", message: "The database took too long to answer")
            }
            if error.isConnectionLost {
                return XRPCError(status: 503, name: "NotEnoughResources",
                                 message: "The database is unavailable, retry shortly", headers: ["Retry-After": "1"])
            }
            return XRPCError(status: 500, name: "InternalServerError", message: "Internal Server Error")
        }
    }

    /// The JSON response for this error.
    public var response: HTTPResponse {
        var writer = JSONWriter(capacity: 128)
        writer.beginObject()
        writer.field("error", name)
        writer.field("message", message)
        writer.endObject()
        return HTTPResponse.json(status, writer.bytes, headers: headers.sorted { $0.key < $1.key }.map { ($0.key, $0.value) })
    }
}
