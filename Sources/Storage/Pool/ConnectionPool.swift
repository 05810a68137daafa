import DequeModule
import Foundation
import Logging

/// A fixed-size pool of libpq connections shared by threads. `acquire` waits in FIFO order up to the
/// acquire timeout; broken connections are dropped and reopened on demand.
/// Blocking by design: callers are dedicated threads (FastCGI workers, ingest writers).
public final class ConnectionPool: @unchecked Sendable {
    public let configuration: DatabaseConfiguration
    let logger: Logger

    private let condition = NSCondition()
    private var idle: [PostgresConnection] = []
    private var openCount = 0
    private var waiters = Deque<UInt64>()
    private var nextTicket: UInt64 = 0
    private var closed = false

    public init(configuration: DatabaseConfiguration, logger: Logger = Logger(label: "appview.storage.pool")) {
        self.configuration = configuration
        self.logger = logger
    }

    /// Runs `body` with a connection and returns it to the pool afterwards (or drops it if it broke).
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

    /// Takes a connection, waiting FIFO up to the acquire timeout.
    public func acquire() throws -> PostgresConnection {
        let deadline = Date(timeIntervalSinceNow: Double(configuration.acquireTimeoutMilliseconds) / 1000)
        condition.lock()
        let ticket = nextTicket
        nextTicket += 1
        waiters.append(ticket)
        defer {
            if let index = waiters.firstIndex(of: ticket) { waiters.remove(at: index) }
            condition.broadcast()
            condition.unlock()
        }
        while true {
            if closed { throw PostgresError(.poolClosed, message: "the connection pool is closed") }
            if waiters.first == ticket {
                if let connection = idle.popLast() {
                    if connection.isOpen { return connection }
                    openCount -= 1
                    continue
                }
                if openCount < configuration.poolSize {
                    openCount += 1
                    condition.unlock()
                    do {
                        let connection = try PostgresConnection(
                            conninfo: configuration.conninfo, settings: configuration.sessionSettings)
                        condition.lock()
                        return connection
                    } catch {
                        condition.lock()
                        openCount -= 1
                        throw error
                    }
                }
            }
            if !condition.wait(until: deadline) {
                throw PostgresError(
                    .acquireTimeout,
                    message: "no database connection free within \(configuration.acquireTimeoutMilliseconds) ms")
            }
        }
    }

    /// Returns a connection. A broken one, or one left inside a transaction, is closed instead of reused.
    public func release(_ connection: PostgresConnection) {
        if connection.isOpen && connection.isInTransaction {
            _ = try? connection.execute("ROLLBACK")
        }
        condition.lock()
        defer {
            condition.broadcast()
            condition.unlock()
        }
        if closed || !connection.isOpen || connection.isInTransaction {
            connection.close()
            openCount -= 1
            return
        }
        idle.append(connection)
    }

    /// Closes idle connections and refuses new acquires; connections in use close when released.
    public func close() {
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
        public var total: Int
        public var open: Int
        public var idle: Int
        public var active: Int
        public var waiting: Int
    }

    public func snapshot() -> Snapshot {
        condition.lock()
        defer { condition.unlock() }
        return Snapshot(
            total: configuration.poolSize, open: openCount, idle: idle.count,
            active: openCount - idle.count, waiting: waiters.count)
    }
}
