import DequeModule
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
    private var idle: [PostgresConnection] = []
    /// Open connections, lent out or idle, plus the ones being opened.
    private var openCount = 0
    private var connectsInFlight = 0
    private var waiters = Deque<UInt64>()
    private var nextTicket: UInt64 = 0
    private var closed = false
    private var backoff = ConnectBackoff()
    private var lastConnectError: PostgresError?

    public init(configuration: DatabaseConfiguration, logger: Logger = Logger(label: "appview.storage.pool")) {
        self.configuration = configuration
        self.logger = logger
        self.monitor = PoolMonitor(configuration: configuration, logger: logger)
        monitor.attach(to: self)
    }

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
        var dropped: [PostgresConnection] = []
        defer { discardBroken(dropped) }

        condition.lock()
        let ticket = nextTicket
        nextTicket += 1
        waiters.append(ticket)
        var queued = true
        func leaveQueue() {
            guard queued else { return }
            if let index = waiters.firstIndex(of: ticket) { waiters.remove(at: index) }
            queued = false
            condition.broadcast()
        }

        while true {
            if closed {
                leaveQueue()
                condition.unlock()
                throw PostgresError(.poolClosed, message: "the connection pool is closed")
            }
            // Only the oldest waiter may take a connection: FIFO.
            if waiters.first == ticket {
                while let connection = idle.popLast() {
                    if connection.isAliveWhileIdle() {
                        leaveQueue()
                        condition.unlock()
                        monitor.recordAcquire(waitedNanoseconds: Self.now() - started)
                        return connection
                    }
                    openCount -= 1
                    dropped.append(connection)
                }
                let now = Self.now()
                // While backing off, a single probe at a time; otherwise open in parallel.
                let mayConnect = openCount < configuration.poolSize && backoff.allowsAttempt(now: now)
                    && (!backoff.isBackingOff || connectsInFlight == 0)
                if mayConnect {
                    openCount += 1
                    connectsInFlight += 1
                    leaveQueue()
                    condition.unlock()
                    let connection = try openConnection()
                    monitor.recordAcquire(waitedNanoseconds: Self.now() - started)
                    return connection
                }
                // Nothing can be released and no attempt is allowed before the deadline: fail now.
                if openCount == 0 && connectsInFlight == 0 && backoff.isBackingOff && backoff.nextAttemptAt >= deadline {
                    leaveQueue()
                    let message = "database unavailable, next connection attempt in \((backoff.nextAttemptAt - now) / 1_000_000) ms"
                        + (lastConnectError.map { " (last error: \($0.message))" } ?? "")
                    condition.unlock()
                    throw PostgresError(.connection, message: message)
                }
            }
            let now = Self.now()
            if now >= deadline {
                leaveQueue()
                var message = "no database connection free within \(configuration.acquireTimeoutMilliseconds) ms"
                if backoff.isBackingOff, let lastConnectError { message += " (last connection error: \(lastConnectError.message))" }
                condition.unlock()
                monitor.count(\.acquireTimeouts)
                throw PostgresError(.acquireTimeout, message: message)
            }
            var wakeAt = deadline
            if waiters.first == ticket && backoff.isBackingOff && openCount < configuration.poolSize {
                wakeAt = min(wakeAt, max(backoff.nextAttemptAt, now + 1_000_000))
            }
            _ = condition.wait(until: Date(timeIntervalSinceNow: Double(wakeAt - now) / 1e9))
        }
    }

    /// Opens a connection for a slot already counted in `openCount`, updating backoff and counters.
    private func openConnection() throws -> PostgresConnection {
        do {
            let connection = try PostgresConnection(
                conninfo: configuration.conninfo, settings: configuration.sessionSettings, logger: logger)
            condition.lock()
            connectsInFlight -= 1
            let wasBackingOff = backoff.isBackingOff
            backoff.recordSuccess()
            lastConnectError = nil
            condition.broadcast()
            condition.unlock()
            monitor.count(\.connectionsOpened)
            if wasBackingOff { logger.notice("database reachable again, connection pool recovering") }
            return connection
        } catch {
            let failure = error as? PostgresError ?? PostgresError(.connection, message: "\(error)")
            condition.lock()
            connectsInFlight -= 1
            openCount -= 1
            backoff.recordFailure(now: Self.now())
            lastConnectError = failure
            let delay = backoff.delayMilliseconds(afterFailures: backoff.consecutiveFailures)
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
        if closed || broken || connection.isInTransaction {
            openCount -= 1
            condition.broadcast()
            condition.unlock()
            if broken {
                discardBroken([connection])
            } else {
                connection.close()
            }
            return
        }
        idle.append(connection)
        condition.broadcast()
        condition.unlock()
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
        closed = true
        let toClose = idle
        idle.removeAll()
        openCount -= toClose.count
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
            total: configuration.poolSize, open: openCount, idle: idle.count,
            active: openCount - idle.count, waiting: waiters.count)
    }

    static func now() -> UInt64 { DispatchTime.now().uptimeNanoseconds }
}
