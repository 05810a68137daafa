import Foundation
import Logging
import Storage

/// Applies Jetstream events to the schema: records, actors, feed items, notifications and exact
/// aggregates. Each call to `apply` is one transaction with a fixed number of multi-row statements,
/// whatever the batch size. Blocking: call it from a dedicated thread.
public final class Indexer: @unchecked Sendable {
    public let pool: ConnectionPool
    let logger: Logger

    private let conflictLock = NSLock()
    private var conflictCounts = ConflictCounts()

    /// Transaction attempts of this indexer that PostgreSQL aborted, by cause; each was retried
    /// by `withTransaction` (the pool's monitor counts retries of every transaction).
    public struct ConflictCounts: Sendable, Equatable {
        /// Attempts chosen as a deadlock victim (`40P01`).
        public var deadlocks = 0
        /// Attempts that hit a serialization failure (`40001`).
        public var serializationFailures = 0
    }

    /// Conflicts seen so far.
    public var conflicts: ConflictCounts { conflictLock.withLock { conflictCounts } }

    /// Arbitrary constant: the advisory lock that serialises indexer transactions.
    static let writerLockKey: Int64 = 7_245_110_002

    /// Whether transactions take the global writer lock.
    public enum WriterLock: String, Sendable {
        /// One indexer transaction at a time: counts exact, no deadlock between indexer writers.
        case global
        /// No lock: for measuring what the lock costs only. Concurrent writers can then miss each
        /// other's uncommitted rows when recounting a shared subject, and deadlock.
        case unsafeNone = "unsafe-none"
    }

    let writerLock: WriterLock

    private let createdActorsLock = NSLock()
    private var createdActorsHandler: (@Sendable ([String]) -> Void)?

    /// Called after each committed batch with the actors it created whose handle or profile is
    /// still unknown (user creation queues them). Set before the first `apply`.
    public func onCreatedActors(_ handler: @escaping @Sendable ([String]) -> Void) {
        createdActorsLock.withLock { createdActorsHandler = handler }
    }

    /// An indexer writing through `pool` (one connection per `apply`).
    public init(pool: ConnectionPool, writerLock: WriterLock = .global, logger: Logger = Logger(label: "appview.ingest.indexer")) {
        self.pool = pool
        self.writerLock = writerLock
        self.logger = logger
    }

    /// Applies `events` (in their order) in one transaction, together with `cursor` when given.
    /// Idempotent: applying the same events again changes nothing.
    public func apply(_ events: [JetstreamEvent], cursor: IngestCursor? = nil) throws {
        let plan = BatchPlan(events: events)
        // Set by the attempt that commits (`withTransaction` may run the body again).
        var created: [String] = []
        try pool.withTransaction { connection in
            // Aggregates are recounted from the rows this transaction sees; two writers counting
            // concurrently could each miss the other's uncommitted rows. One writer at a time keeps
            // counts exact even when a live consumer and an import run together.
            do {
                if writerLock == .global {
                    try connection.query("SELECT pg_advisory_xact_lock($1::bigint)", [Self.writerLockKey])
                }
                created = try BatchWriter(connection: connection, plan: plan).write()
                if let cursor { try Self.writeCursor(cursor, connection) }
            } catch let error as PostgresError {
                countConflict(error)
                throw error
            }
        }
        if !created.isEmpty, let handler = createdActorsLock.withLock({ createdActorsHandler }) { handler(created) }
    }

    private func countConflict(_ error: PostgresError) {
        switch error.sqlState {
        case "40P01":
            conflictLock.withLock { conflictCounts.deadlocks += 1 }
            logger.warning("deadlock: this batch's transaction was chosen as the victim and is retried")
        case "40001":
            conflictLock.withLock { conflictCounts.serializationFailures += 1 }
        default:
            break
        }
    }

    /// Events the database refused in `applyIsolatingFailures`, by their index in the batch.
    public struct Rejection: Sendable {
        public var index: Int
        public var error: PostgresError
    }

    /// Like `apply`, but when the database refuses the batch's data (a value PostgreSQL cannot store),
    /// applies the events one by one and returns those it refuses, so one bad record never stops an
    /// import. Connection and timeout errors are thrown as they are.
    public func applyIsolatingFailures(_ events: [JetstreamEvent], cursor: IngestCursor? = nil) throws -> [Rejection] {
        do {
            try apply(events, cursor: cursor)
            return []
        } catch let error as PostgresError where Self.isDataError(error) {
            logger.warning("batch refused by the database, applying its events one by one", metadata: ["error": "\(error)"])
        }
        var rejections: [Rejection] = []
        for (index, event) in events.enumerated() {
            do {
                try apply([event])
            } catch let error as PostgresError where Self.isDataError(error) {
                rejections.append(Rejection(index: index, error: error))
            }
        }
        if let cursor { try pool.withTransaction { try Self.writeCursor(cursor, $0) } }
        return rejections
    }

    /// Data exceptions (22…), integrity violations (23…) and program limits such as an oversized
    /// index row (54…): properties of the data, not of the connection.
    static func isDataError(_ error: PostgresError) -> Bool {
        guard let state = error.sqlState else { return false }
        return state.hasPrefix("22") || state.hasPrefix("23") || state.hasPrefix("54")
    }

    /// The stored cursor of `source`, if any.
    public func cursor(source: String) throws -> Int64? {
        try pool.withConnection { connection in
            let result = try connection.query("SELECT cursor FROM ingest_cursor WHERE source = $1", [source])
            return result.rowCount == 0 ? nil : result[0].int64(0)
        }
    }

    static func writeCursor(_ cursor: IngestCursor, _ connection: PostgresConnection) throws {
        // Only forward, and untouched when unchanged, so a replay leaves the row as it was.
        try connection.query("""
            INSERT INTO ingest_cursor (source, cursor) VALUES ($1, $2::bigint)
            ON CONFLICT (source) DO UPDATE SET cursor = excluded.cursor, updated_at = now()
            WHERE excluded.cursor > ingest_cursor.cursor
            """, [cursor.source, cursor.position])
    }
}
