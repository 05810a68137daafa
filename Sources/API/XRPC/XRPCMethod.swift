import Storage

/// What a method sees of the request once routing and authentication are done.
struct XRPCInput {
    var parameters: QueryParameters
    /// nil for an anonymous request.
    var viewer: String?
    var body: [UInt8]
    /// Wall clock at request start, epoch milliseconds (timeline windows start here without a cursor).
    var nowMilliseconds: Int64
}

/// Settings shared by the methods.
struct XRPCEnvironment {
    var profiles: ProfileViewWriter
}

/// One XRPC method. Parameters are validated in `init` — before any database connection is taken,
/// so a bad request is a 400 even when the pool is exhausted — and `run` does the database work.
protocol XRPCMethod {
    static var nsid: String { get }
    /// `GET` for queries, `POST` for procedures.
    static var httpMethod: String { get }
    /// Methods that answer 401 `AuthenticationRequired` without a viewer.
    static var requiresViewer: Bool { get }
    init(_ input: XRPCInput) throws(XRPCError)
    /// The JSON body of the 200 answer. Throws `XRPCError` or `PostgresError`.
    func run(on connection: PostgresConnection, environment: XRPCEnvironment) throws -> [UInt8]
}

extension XRPCMethod {
    static var httpMethod: String { "GET" }
    static var requiresViewer: Bool { false }
}

extension XRPCInput {
    /// The viewer of a method that requires one (the router has already answered 401 otherwise).
    func requiredViewer() throws(XRPCError) -> String {
        guard let viewer else { throw .authenticationRequired }
        return viewer
    }

    /// The `cursor` parameter, nil when absent or empty.
    func cursor() throws(XRPCError) -> FeedCursor? {
        guard let text = try parameters.single("cursor"), !text.isEmpty else { return nil }
        return try FeedCursor(parsing: text)
    }
}
