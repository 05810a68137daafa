import Foundation
import Logging

/// A fixed-size pool of libpq connections shared by threads. Blocking by design: callers are
/// dedicated threads (FastCGI workers, ingest writers), never Swift concurrency tasks.
///
/// - `acquire` waits in FIFO order up to the acquire timeout, then fails with `.acquireTimeout`.
/// - A broken connection (server restart, `pg_terminate_backend`, network) is detected, either by a
///   connection-class failure while in use or by a liveness check when taken from the idle list, and
///   dropped; a fresh connection takes its slot on demand (`monitor.counters.connectionsReplaced`).
/// - After a failed connection attempt, new attempts are spaced 50 ms, doubling up to 2 s, and
///   only one probe runs at a time, so a database that is down is not hammered; the first success
///   ends the backoff and the pool heals without a restart.
public final class ConnectionPool: @unchecked Sendable {
    public let configuration: DatabaseConfiguration
    let logger: Logger
    /// Pool state, acquire wait times and counters; `monitor.start()` for periodic status lines,
    /// `monitor.jsonSnapshot()` for `/api/metrics/database`.
    public let monitor: PoolMonitor

    private let condition = NSCondition()
    /// Waiters, idle connections, counts and backoff; guarded by `condition`.
    private var state: PoolState<PostgresConnection>
    private var lastConnectError: PostgresError?

    public init(configuration: DatabaseConfiguration, logger: Logger = Logger(label: "appview.storage.pool")) {
        self.configuration = configuration
        self.logger = logger
        self.state = PoolState(capacity: configuration.poolSize)
        self.monitor = PoolMonitor(configuration: configuration, logger: logger)
        monitor.attach(to: self)
    }

    /// A pool dropped without `close()` still ends its monitor thread; idle connections close with it.
    deinit { monitor.requestStop() }

    /// Runs `body` with a connection and returns it to the pool afterwards (or drops it if it broke).
    @discardableResult
    public func withConnection<T>(_ body: (PostgresConnection) throws -> T) throws -> T {
        let connection = try acquire()
        do {
            let value = try body(connection)
            release(connection)
            return value
        } catch {
            release(connection)
            throw error
        }
    }

    /// Takes a connection, waiting FIFO up to the acquire timeout. Every call must be paired with
    /// `release` (prefer `withConnection`).
    ///
    /// Throws `.acquireTimeout` when none became free in time, `.connection` when opening a new one
    /// failed (or the database is known to be down and no attempt is due before the deadline),
    /// `.poolClosed` after `close()`.
    public func acquire() throws -> PostgresConnection {
        let started = Self.now()
        let deadline = started + UInt64(configuration.acquireTimeoutMilliseconds) * 1_000_000
        var dead: [PostgresConnection] = []
        defer { discardBroken(dead) }

        condition.lock()
        let ticket = state.arrive()
        while true {
            let now = Self.now()
            switch state.step(for: ticket, now: now, deadline: deadline) {
            case .checkIdle(let connection):
                // A cheap local check (no round trip) that the server has not closed it meanwhile.
                if connection.isAliveWhileIdle() {
                    state.handedOut(to: ticket)
                    condition.broadcast()
                    condition.unlock()
                    monitor.recordAcquire(waitedNanoseconds: Self.now() - started)
                    return connection
                }
                state.idleConnectionDied()
                dead.append(connection)
            case .connect:
                condition.broadcast()
                condition.unlock()
                let connection = try openConnection()
                monitor.recordAcquire(waitedNanoseconds: Self.now() - started)
                return connection
            case .wait(let wakeAt):
                _ = condition.wait(until: Date(timeIntervalSinceNow: Double(wakeAt > now ? wakeAt - now : 0) / 1e9))
            case .closed:
                condition.broadcast()
                condition.unlock()
                throw PostgresError(.poolClosed, message: "the connection pool is closed")
            case .unavailable(let nextAttemptAt):
                let message = "database unavailable, next connection attempt in \((nextAttemptAt - min(now, nextAttemptAt)) / 1_000_000) ms"
                    + (lastConnectError.map { " (last error: \($0.message))" } ?? "")
                condition.broadcast()
                condition.unlock()
                throw PostgresError(.connection, message: message)
            case .timedOut:
                var message = "no database connection free within \(configuration.acquireTimeoutMilliseconds) ms"
                if state.backoff.isBackingOff, let lastConnectError {
                    message += " (last connection error: \(lastConnectError.message))"
                }
                condition.broadcast()
                condition.unlock()
                monitor.count(\.acquireTimeouts)
                throw PostgresError(.acquireTimeout, message: message)
            }
        }
    }

    /// Opens a connection for a slot reserved by a `.connect` step, updating backoff and counters.
    private func openConnection() throws -> PostgresConnection {
        do {
            let connection = try PostgresConnection(
                conninfo: configuration.conninfo, settings: configuration.sessionSettings, logger: logger,
                preparedStatementCapacity: configuration.effectivePreparedStatementCapacity)
            condition.lock()
            let wasBackingOff = state.connectSucceeded()
            lastConnectError = nil
            condition.broadcast()
            condition.unlock()
            monitor.count(\.connectionsOpened)
            if wasBackingOff { logger.notice("database reachable again, connection pool recovering") }
            return connection
        } catch {
            let failure = error as? PostgresError ?? PostgresError(.connection, message: "\(error)")
            condition.lock()
            state.connectFailed(now: Self.now())
            lastConnectError = failure
            let delay = state.backoff.delayMilliseconds(afterFailures: state.backoff.consecutiveFailures)
            condition.broadcast()
            condition.unlock()
            monitor.count(\.connectFailures)
            logger.warning(
                "could not open a database connection",
                metadata: ["error": "\(failure.message)", "retry_after_ms": "\(delay)"])
            throw failure
        }
    }

    /// Returns a connection. A broken one, or one left inside a transaction that cannot be rolled
    /// back, is closed instead of reused and its slot freed for a replacement.
    public func release(_ connection: PostgresConnection) {
        if !connection.isMarkedBroken && connection.isOpen && connection.isInTransaction {
            _ = try? connection.execute("ROLLBACK")
        }
        let broken = connection.isMarkedBroken || !connection.isOpen
        condition.lock()
        let kept = state.released(connection, reusable: !broken && !connection.isInTransaction)
        condition.broadcast()
        condition.unlock()
        if kept { return }
        if broken {
            discardBroken([connection])
        } else {
            connection.close()
        }
    }

    private func discardBroken(_ connections: [PostgresConnection]) {
        guard !connections.isEmpty else { return }
        connections.forEach { $0.close() }
        monitor.count(\.connectionsReplaced, by: connections.count)
        logger.warning("dropped broken database connection(s); replacements open on demand", metadata: ["count": "\(connections.count)"])
    }

    /// Stops the monitor, closes idle connections and refuses new acquires; connections in use
    /// close when released.
    public func close() {
        monitor.stop()
        condition.lock()
        let toClose = state.close()
        condition.broadcast()
        condition.unlock()
        toClose.forEach { $0.close() }
    }

    /// Counts for the monitor.
    public struct Snapshot: Sendable {
        /// Configured pool size.
        public var total: Int
        /// Connections open (lent out or idle) or being opened.
        public var open: Int
        public var idle: Int
        /// Connections lent out (or being opened for a caller).
        public var active: Int
        /// Threads waiting in `acquire`.
        public var waiting: Int
    }

    public func snapshot() -> Snapshot {
        condition.lock()
        defer { condition.unlock() }
        return Snapshot(
            total: configuration.poolSize, open: state.openCount, idle: state.idle.count,
            active: state.activeCount, waiting: state.waiters.count)
    }

    static func now() -> UInt64 { DispatchTime.now().uptimeNanoseconds }
}
