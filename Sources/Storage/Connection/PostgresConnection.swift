import CLibPQ
import Foundation
import Logging

/// One libpq connection. Blocking: call it from a dedicated thread, never from Swift's cooperative pool.
/// Not thread-safe: one thread at a time (the pool guarantees that).
public final class PostgresConnection: @unchecked Sendable {
    private var handle: OpaquePointer?
    /// Receives the server's NOTICE/WARNING messages instead of libpq printing them on stderr.
    private let noticeSink: NoticeSink
    /// Set when a statement failed with a connection-class error: the pool drops the connection on release.
    public internal(set) var isMarkedBroken = false
    /// When the connection was opened; the pool uses it for diagnostics.
    public let openedAt: Date
    /// SQL text → server-side prepared statement, so `query` plans a statement once per connection.
    private var statements: PreparedStatementCache
    /// Statements evicted from the cache that still exist on the server; deallocated when the
    /// connection is next idle (a failing DEALLOCATE inside a caller's transaction would abort it).
    private var pendingDeallocations: [String] = []
    /// The server may hold statements the cache no longer knows (it lost track after an error):
    /// `DEALLOCATE ALL` when next idle and start over.
    private var pendingDeallocateAll = false

    /// Opens a connection. `conninfo` is a libpq URI or key=value string; `settings` are applied with
    /// `set_config` after connecting (works behind PgBouncer in session mode and without startup options).
    /// Server notices go to `logger` at debug level, never to stderr.
    /// `preparedStatementCapacity` > 0 makes `query` prepare each distinct SQL text once and keep up to
    /// that many statements (least recently used evicted); 0 sends every statement unnamed (planned per call).
    public init(
        conninfo: String, settings: [String: String] = [:],
        logger: Logger = Logger(label: "appview.storage.postgres"),
        preparedStatementCapacity: Int = 0
    ) throws {
        openedAt = Date()
        statements = PreparedStatementCache(capacity: preparedStatementCapacity)
        noticeSink = NoticeSink(logger: logger)
        guard let connection = PQconnectdb(conninfo) else {
            throw PostgresError(.connection, message: "out of memory creating a connection")
        }
        guard PQstatus(connection) == CONNECTION_OK else {
            let message = Self.trimmedMessage(PQerrorMessage(connection))
            PQfinish(connection)
            throw PostgresError(.connection, message: message)
        }
        noticeSink.install(on: connection)
        handle = connection
        for (name, value) in settings.sorted(by: { $0.key < $1.key }) {
            _ = try query("SELECT set_config($1, $2, false)", [name, value])
        }
    }

    deinit { close() }

    /// Closes the connection; further use fails with a connection error.
    public func close() {
        if let handle {
            PQfinish(handle)
            self.handle = nil
        }
    }

    /// False once the socket broke or the connection was closed.
    public var isOpen: Bool {
        guard let handle else { return false }
        return PQstatus(handle) == CONNECTION_OK
    }

    /// Checks, without blocking and without a round trip, that an idle connection is still alive:
    /// a backend that was terminated (server restart, `pg_terminate_backend`) has sent its last error
    /// and closed the socket, which shows up here as readable data followed by end-of-file.
    /// Returns false when the connection must be replaced.
    public func isAliveWhileIdle() -> Bool {
        guard let handle, !isMarkedBroken, PQstatus(handle) == CONNECTION_OK else { return false }
        // A few rounds: the first read may return the server's farewell message, the next one the EOF.
        for _ in 0..<4 {
            var descriptor = pollfd(fd: PQsocket(handle), events: Int16(POLLIN), revents: 0)
            let ready = poll(&descriptor, 1, 0)
            if ready < 0 { return false }
            if ready == 0 { return true }
            if descriptor.revents & Int16(POLLERR | POLLHUP | POLLNVAL) != 0 && descriptor.revents & Int16(POLLIN) == 0 {
                return false
            }
            // The socket is non-blocking inside libpq, so this only takes what already arrived.
            if PQconsumeInput(handle) == 0 || PQstatus(handle) != CONNECTION_OK { return false }
            // Let libpq parse what it read: an unsolicited error becomes a notice; a FATAL one means
            // the backend is exiting even if its socket has not closed yet.
            _ = PQisBusy(handle)
            if noticeSink.receivedFatal { return false }
        }
        return PQstatus(handle) == CONNECTION_OK && !noticeSink.receivedFatal
    }

    /// True inside a transaction block (including a failed one).
    public var isInTransaction: Bool {
        guard let handle else { return false }
        let status = PQtransactionStatus(handle)
        return status == PQTRANS_INTRANS || status == PQTRANS_INERROR || status == PQTRANS_ACTIVE
    }

    /// Backend process id, for `pg_terminate_backend` in tests and for logs.
    public var backendPID: Int32 {
        guard let handle else { return 0 }
        return PQbackendPID(handle)
    }

    /// Runs one statement with parameters sent separately from the SQL text (never spliced in).
    /// With the prepared-statement cache on, the first call with a given SQL text prepares it on this
    /// connection and later calls only bind and execute it (no parse, analysis or, usually, planning).
    @discardableResult
    public func query(_ sql: String, _ parameters: [PostgresBindable?] = []) throws -> QueryResult {
        guard let handle else { throw PostgresError(.connection, message: "connection is closed") }
        let texts = parameters.map { $0?.postgresText }
        guard statements.isEnabled else {
            let result: OpaquePointer? = withCStringArray(texts) { values in
                PQexecParams(handle, sql, Int32(texts.count), nil, values, nil, nil, 0)
            }
            return try check(result)
        }
        try deallocatePendingStatementsIfIdle()
        if let name = statements.lookup(sql) {
            do {
                return try executePrepared(name, texts)
            } catch let error as PostgresError where error.invalidatesPreparedStatement {
                // The statement is gone (DISCARD ALL, DEALLOCATE) or its result type changed (ALTER TABLE).
                // Forget it; the server state is uncertain after a 26000, so start clean when idle.
                statements.remove(sql)
                if error.sqlState == SQLState.invalidSQLStatementName {
                    pendingDeallocateAll = true
                } else {
                    pendingDeallocations.append(name)
                }
                // Inside a transaction the failure aborted it: the caller must see the error.
                guard PQtransactionStatus(handle) == PQTRANS_IDLE else {
                    var stale = error
                    stale.isStalePreparedStatement = true
                    throw stale
                }
                try deallocatePendingStatementsIfIdle()
            }
        }
        if let evicted = statements.evictIfFull() {
            pendingDeallocations.append(evicted)
            try deallocatePendingStatementsIfIdle()
        }
        let name = statements.makeName()
        _ = try check(PQprepare(handle, name, sql, 0, nil))
        // Recorded only after PREPARE succeeded: a failed one must never be looked up.
        statements.record(sql, name: name)
        return try executePrepared(name, texts)
    }

    /// Statements currently held by this connection's cache (for diagnostics and tests).
    public var preparedStatementCount: Int { statements.count }

    private func executePrepared(_ name: String, _ texts: [String?]) throws -> QueryResult {
        let result: OpaquePointer? = withCStringArray(texts) { values in
            PQexecPrepared(handle, name, Int32(texts.count), values, nil, nil, 0)
        }
        return try check(result)
    }

    /// Drops evicted or invalidated statements on the server, only outside a transaction, in one round trip.
    /// If that fails the cache and the server disagree: `DEALLOCATE ALL` and forget everything.
    private func deallocatePendingStatementsIfIdle() throws {
        guard let handle, pendingDeallocateAll || !pendingDeallocations.isEmpty,
              PQtransactionStatus(handle) == PQTRANS_IDLE else { return }
        if !pendingDeallocateAll {
            let sql = pendingDeallocations.map { "DEALLOCATE \($0)" }.joined(separator: "; ")
            do {
                _ = try check(PQexec(handle, sql))
                pendingDeallocations.removeAll()
                return
            } catch let error as PostgresError where !error.isConnectionLost {
                pendingDeallocateAll = true
            }
        }
        _ = try check(PQexec(handle, "DEALLOCATE ALL"))
        statements.removeAll()
        pendingDeallocations.removeAll()
        pendingDeallocateAll = false
    }

    /// Runs one or more statements without parameters (migrations, `BEGIN`, `COMMIT`).
    @discardableResult
    public func execute(_ sql: String) throws -> QueryResult {
        guard let handle else { throw PostgresError(.connection, message: "connection is closed") }
        return try check(PQexec(handle, sql))
    }

    /// Streams rows into a table with `COPY ... FROM STDIN` (text format). `copySQL` is the full COPY
    /// statement; `write` is called with a sink that accepts encoded data chunks.
    /// Returns the number of rows copied.
    @discardableResult
    public func copyIn(_ copySQL: String, _ write: (_ send: (String) throws -> Void) throws -> Void) throws -> Int {
        guard let handle else { throw PostgresError(.connection, message: "connection is closed") }
        let start = PQexec(handle, copySQL)
        guard PQresultStatus(start) == PGRES_COPY_IN else {
            _ = try check(start)
            throw PostgresError(.query, message: "COPY did not start")
        }
        PQclear(start)
        var failure: Error?
        do {
            try write { chunk in
                var chunk = chunk
                let ok = chunk.withUTF8 { buffer in
                    buffer.withMemoryRebound(to: CChar.self) {
                        PQputCopyData(handle, $0.baseAddress, Int32($0.count))
                    }
                }
                if ok != 1 {
                    self.isMarkedBroken = true
                    throw PostgresError(.connection, message: Self.trimmedMessage(PQerrorMessage(handle)))
                }
            }
        } catch {
            failure = error
        }
        let endStatus = PQputCopyEnd(handle, failure == nil ? nil : "aborted by client")
        if endStatus != 1 {
            isMarkedBroken = true
            throw PostgresError(.connection, message: Self.trimmedMessage(PQerrorMessage(handle)))
        }
        var copied = 0
        var firstError: Error?
        while let result = PQgetResult(handle) {
            do {
                let checked = try check(result)
                copied = checked.affectedRows
            } catch {
                if firstError == nil { firstError = error }
            }
        }
        if let failure { throw failure }
        if let firstError { throw firstError }
        return copied
    }

    private func check(_ result: OpaquePointer?) throws -> QueryResult {
        guard let result else {
            isMarkedBroken = true
            throw PostgresError(.connection, message: Self.trimmedMessage(PQerrorMessage(handle)))
        }
        switch PQresultStatus(result) {
        case PGRES_COMMAND_OK, PGRES_TUPLES_OK, PGRES_EMPTY_QUERY, PGRES_COPY_IN:
            return QueryResult(handle: result)
        default:
            let sqlState = PQresultErrorField(result, CLIBPQ_DIAG_SQLSTATE).map { String(cString: $0) }
            var message = PQresultErrorField(result, CLIBPQ_DIAG_MESSAGE_PRIMARY).map { String(cString: $0) }
                ?? Self.trimmedMessage(PQresultErrorMessage(result))
            if let detail = PQresultErrorField(result, CLIBPQ_DIAG_MESSAGE_DETAIL) {
                message += " (\(String(cString: detail)))"
            }
            PQclear(result)
            let broken = handle.map { PQstatus($0) != CONNECTION_OK } ?? true
            let error = PostgresError(broken && sqlState == nil ? .connection : .query, sqlState: sqlState, message: message)
            if broken || error.isConnectionLost { isMarkedBroken = true }
            throw error
        }
    }

    static func trimmedMessage(_ pointer: UnsafePointer<CChar>?) -> String {
        guard let pointer else { return "unknown error" }
        // libpq's messages span lines ("...failed: No such file\n\tIs the server running..."); one line reads better in logs.
        return String(cString: pointer)
            .split(whereSeparator: \.isNewline)
            .map { $0.trimmingCharacters(in: .whitespaces) }
            .filter { !$0.isEmpty }
            .joined(separator: " ")
    }
}

/// Calls `body` with a C array of C strings (nil for SQL NULL) that lives for the call only.
private func withCStringArray<R>(_ strings: [String?], _ body: (UnsafePointer<UnsafePointer<CChar>?>?) -> R) -> R {
    if strings.isEmpty { return body(nil) }
    var pointers: [UnsafeMutablePointer<CChar>?] = strings.map { $0.map { strdup($0) } ?? nil }
    defer { pointers.forEach { free($0) } }
    return pointers.withUnsafeMutableBufferPointer { buffer in
        buffer.baseAddress!.withMemoryRebound(to: UnsafePointer<CChar>?.self, capacity: buffer.count) {
            body(UnsafePointer($0))
        }
    }
}
