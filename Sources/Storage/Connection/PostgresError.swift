/// A database failure as a value: what went wrong, and the SQLSTATE the server gave when it gave one.
public struct PostgresError: Error, CustomStringConvertible, Sendable {
    /// Broad classes callers branch on.
    public enum Kind: String, Sendable {
        /// Could not connect, or the connection broke.
        case connection
        /// The server rejected or failed a statement (see `sqlState`).
        case query
        /// No pooled connection became free within the acquire timeout.
        case acquireTimeout
        /// A transaction ran past its own time limit.
        case transactionTimeout
        /// The pool was closed.
        case poolClosed
        /// A value in a result could not be decoded as the requested type.
        case decoding
    }

    public var kind: Kind
    /// Five-character SQLSTATE, e.g. `40P01`; nil when the error did not come from the server.
    public var sqlState: String?
    public var message: String
    /// A statement cached as prepared had gone stale (dropped on the server, or its result type changed)
    /// inside a transaction, which the failure aborted. The cache has forgotten it: running the
    /// transaction again prepares it afresh, so `withTransaction` retries.
    public internal(set) var isStalePreparedStatement = false

    public init(_ kind: Kind, sqlState: String? = nil, message: String) {
        self.kind = kind
        self.sqlState = sqlState
        self.message = message
    }

    public var description: String {
        if let sqlState { return "\(kind.rawValue) [\(sqlState)]: \(message)" }
        return "\(kind.rawValue): \(message)"
    }

    /// Deadlock (`40P01`) or serialization failure (`40001`): the transaction may succeed if retried.
    public var isRetryableTransactionConflict: Bool {
        sqlState == SQLState.deadlockDetected || sqlState == SQLState.serializationFailure
    }

    /// The server cancelled the statement because `statement_timeout` elapsed (a cancel caused by a
    /// transaction's own budget is reported as `isTransactionTimeout` instead).
    public var isStatementTimeout: Bool { sqlState == SQLState.queryCanceled && kind != .transactionTimeout }

    /// A `withTransaction` call ran out of its time budget.
    public var isTransactionTimeout: Bool { kind == .transactionTimeout }

    /// A cached prepared statement can no longer run as prepared: it no longer exists on the server
    /// (`26000`, e.g. after `DISCARD ALL`) or its result columns changed (`0A000`, "cached plan must not
    /// change result type", e.g. after `ALTER TABLE`). Preparing it again fixes it.
    var invalidatesPreparedStatement: Bool {
        sqlState == SQLState.invalidSQLStatementName || sqlState == SQLState.featureNotSupported
    }

    /// The connection is unusable and must be replaced (the server ended the session or the socket broke).
    public var isConnectionLost: Bool {
        if kind == .connection { return true }
        guard let sqlState else { return false }
        return sqlState.hasPrefix("08") || sqlState == SQLState.adminShutdown
            || sqlState == SQLState.crashShutdown || sqlState == SQLState.cannotConnectNow
            || sqlState == SQLState.idleInTransactionTimeout
    }
}

/// SQLSTATE codes this project reacts to.
public enum SQLState {
    public static let deadlockDetected = "40P01"
    public static let serializationFailure = "40001"
    public static let queryCanceled = "57014"
    public static let lockNotAvailable = "55P03"
    public static let uniqueViolation = "23505"
    public static let connectionFailure = "08006"
    public static let adminShutdown = "57P01"
    public static let crashShutdown = "57P02"
    public static let cannotConnectNow = "57P03"
    public static let idleInTransactionTimeout = "25P03"
    public static let invalidSQLStatementName = "26000"
    public static let featureNotSupported = "0A000"
}
