import Foundation

extension ConnectionPool {
    /// Attempts in all for a transaction that hits deadlocks or serialization failures.
    public static let transactionMaxAttempts = 3
    /// Pause before the 2nd, 3rd (and, were there more attempts, 4th) attempt.
    public static let transactionRetryBackoffMilliseconds = [100, 200, 400]

    /// Runs `body` inside a transaction on one connection, within the configured transaction
    /// timeout (`TRANSACTION_TIMEOUT_MS`). See `withTransaction(timeoutMilliseconds:_:)`.
    @discardableResult
    public func withTransaction<T>(_ body: (PostgresConnection) throws -> T) throws -> T {
        try withTransaction(timeoutMilliseconds: configuration.transactionTimeoutMilliseconds, body)
    }

    /// Runs `body` inside a transaction on one connection and commits it.
    ///
    /// - Deadlocks (`40P01`) and serialization failures (`40001`) are retried, 3 attempts in all,
    ///   after 100 and 200 ms; each retry is counted (`monitor.counters.transactionRetries`).
    ///   So is, without a pause, a cached prepared statement that went stale (`PostgresError.isStalePreparedStatement`).
    ///   `body` may therefore run more than once: keep side effects outside the database idempotent.
    /// - `timeoutMilliseconds` bounds the whole call, all attempts included: each attempt's
    ///   statements get `statement_timeout` = min(configured statement timeout, remaining budget),
    ///   no retry starts that could not finish its pause in time, and a body that returns after the
    ///   deadline is rolled back. Running out fails with `.transactionTimeout` (SQLSTATE `57014` when
    ///   the server cancelled the statement), counted in `monitor.counters.transactionTimeouts`.
    @discardableResult
    public func withTransaction<T>(timeoutMilliseconds: Int, _ body: (PostgresConnection) throws -> T) throws -> T {
        let deadline = Self.now() + UInt64(max(1, timeoutMilliseconds)) * 1_000_000
        var attempt = 1
        var reconnected = false
        do {
            while true {
                let now = Self.now()
                guard now < deadline else {
                    throw PostgresError(.transactionTimeout, message: "transaction did not finish within \(timeoutMilliseconds) ms")
                }
                let remainingMilliseconds = Int((deadline - now) / 1_000_000)
                do {
                    return try withConnection { connection in
                        try runTransactionAttempt(
                            on: connection, body: body, deadline: deadline,
                            remainingMilliseconds: max(1, remainingMilliseconds), timeoutMilliseconds: timeoutMilliseconds)
                    }
                } catch let failure as TransactionNotStarted where !reconnected {
                    // The connection died between the pool's liveness check and BEGIN; the body has
                    // not run, so one more try on a fresh connection is safe and not a conflict retry.
                    reconnected = true
                    logger.notice("connection lost before the transaction began, retrying", metadata: ["error": "\(failure.error.message)"])
                } catch let failure as TransactionNotStarted {
                    throw failure.error
                } catch let error as PostgresError where error.isStalePreparedStatement && attempt < Self.transactionMaxAttempts {
                    // A schema change or DISCARD invalidated a cached statement; it is forgotten now, so
                    // the next attempt prepares it again. No pause: nothing to wait for.
                    monitor.count(\.transactionRetries)
                    logger.notice("prepared statement went stale inside a transaction, retrying",
                                  metadata: ["sqlstate": "\(error.sqlState ?? "")", "attempt": "\(attempt + 1)"])
                    attempt += 1
                } catch let error as PostgresError where error.isRetryableTransactionConflict {
                    guard attempt < Self.transactionMaxAttempts else { throw error }
                    let pause = Self.transactionRetryBackoffMilliseconds[attempt - 1]
                    guard Self.now() + UInt64(pause) * 1_000_000 < deadline else {
                        throw PostgresError(
                            .transactionTimeout,
                            message: "transaction hit \(error.sqlState ?? "a conflict") and no time was left to retry within \(timeoutMilliseconds) ms: \(error.message)")
                    }
                    monitor.count(\.transactionRetries)
                    logger.notice(
                        "transaction conflict, retrying",
                        metadata: ["sqlstate": "\(error.sqlState ?? "")", "attempt": "\(attempt + 1)", "pause_ms": "\(pause)"])
                    Thread.sleep(forTimeInterval: Double(pause) / 1000)
                    attempt += 1
                }
            }
        } catch let error as PostgresError where error.kind == .transactionTimeout {
            monitor.count(\.transactionTimeouts)
            logger.warning("transaction timed out", metadata: ["error": "\(error.message)"])
            throw error
        }
    }

    private func runTransactionAttempt<T>(
        on connection: PostgresConnection, body: (PostgresConnection) throws -> T,
        deadline: UInt64, remainingMilliseconds: Int, timeoutMilliseconds: Int
    ) throws -> T {
        let statementLimit = min(configuration.statementTimeoutMilliseconds, remainingMilliseconds)
        // One round trip; the interpolated value is an Int computed here, never outside input.
        do {
            try connection.execute("BEGIN; SET LOCAL statement_timeout = \(statementLimit)")
        } catch let error as PostgresError where error.isConnectionLost {
            throw TransactionNotStarted(error: error)
        }
        do {
            let value = try body(connection)
            guard Self.now() < deadline else {
                throw PostgresError(.transactionTimeout, message: "transaction ran past its \(timeoutMilliseconds) ms limit and was rolled back")
            }
            try connection.execute("COMMIT")
            return value
        } catch {
            if !connection.isMarkedBroken && connection.isOpen { _ = try? connection.execute("ROLLBACK") }
            // A cancel caused by the transaction's budget (not the ordinary statement timeout) is a transaction timeout.
            if let failure = error as? PostgresError, failure.kind == .query, failure.sqlState == SQLState.queryCanceled,
                statementLimit < configuration.statementTimeoutMilliseconds || Self.now() >= deadline {
                throw PostgresError(
                    .transactionTimeout, sqlState: failure.sqlState,
                    message: "transaction exceeded its \(timeoutMilliseconds) ms limit: \(failure.message)")
            }
            throw error
        }
    }
}

/// BEGIN failed because the connection was lost: nothing of the transaction ran.
private struct TransactionNotStarted: Error {
    let error: PostgresError
}
