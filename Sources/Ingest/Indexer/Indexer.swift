import Foundation
import Identity
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
        /// No lock: for measuring what the lock costs only. Concurrent writers can then deadlock on
        /// shared aggregate rows and miss each other's uncommitted tombstones.
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

    /// Actors known to exist, with an upper bound of their stored first-sight time (ms): a batch
    /// upserts only DIDs missing here or seen earlier than that bound. Filled after commit only;
    /// nothing deletes actor rows, so an entry never goes stale.
    private let knownActorsLock = NSLock()
    private var knownActors: LRUCache<String, Int64>
    /// Tombstones older than this (event time, µs) behind a batch's newest event are pruned.
    let tombstoneHorizonMicroseconds: Int64
    private let pruneLock = NSLock()
    private var lastPrune: UInt64?
    /// Least time between two prunes (ns; tests shorten it), and most tombstones one prune removes
    /// (it runs inside a batch).
    var tombstonePruneInterval: UInt64 {
        get { pruneLock.withLock { pruneInterval } }
        set { pruneLock.withLock { pruneInterval = newValue } }
    }
    private var pruneInterval: UInt64 = 10_000_000_000
    static let pruneLimit = 5000

    /// An indexer writing through `pool` (one connection per `apply`).
    /// - Parameters:
    ///   - knownActorCapacity: actors remembered as existing (`INGEST_ACTOR_CACHE_SIZE`).
    ///   - tombstoneHorizonSeconds: how long (event time) a delete's tombstone is kept (`INGEST_TOMBSTONE_HORIZON_S`).
    public init(pool: ConnectionPool, writerLock: WriterLock = .global, knownActorCapacity: Int = 100_000,
                tombstoneHorizonSeconds: Int = 7 * 86_400, logger: Logger = Logger(label: "appview.ingest.indexer")) {
        self.pool = pool
        self.writerLock = writerLock
        self.logger = logger
        knownActors = LRUCache(capacity: max(1, knownActorCapacity))
        tombstoneHorizonMicroseconds = Int64(tombstoneHorizonSeconds) * 1_000_000
    }

    /// An indexer with the pipeline configuration's cache size and tombstone horizon.
    public convenience init(pool: ConnectionPool, configuration: IngestPipelineConfiguration, writerLock: WriterLock = .global,
                            logger: Logger = Logger(label: "appview.ingest.indexer")) {
        self.init(pool: pool, writerLock: writerLock, knownActorCapacity: configuration.knownActorCacheSize,
                  tombstoneHorizonSeconds: configuration.tombstoneHorizonSeconds, logger: logger)
    }

    /// The DIDs of the plan whose actor rows may need an insert or an earlier first sight.
    private func actorsToUpsert(_ plan: BatchPlan) -> [String] {
        knownActorsLock.withLock {
            plan.actorsSeen.filter { did, seen in knownActors.peek(did).map { seen < $0 } ?? true }.keys.sorted()
        }
    }

    /// After commit: every actor of the plan exists, first seen no later than this batch saw it.
    private func rememberActors(_ plan: BatchPlan) {
        knownActorsLock.withLock {
            for (did, seen) in plan.actorsSeen {
                knownActors.set(did, knownActors.peek(did).map { min($0, seen) } ?? seen)
            }
        }
    }

    /// Whether this batch prunes old tombstones (at most once per `tombstonePruneInterval`; the first batch does).
    private func takePruneTurn() -> Bool {
        pruneLock.withLock {
            let now = DispatchTime.now().uptimeNanoseconds
            if let lastPrune, now &- lastPrune < pruneInterval { return false }
            lastPrune = now
            return true
        }
    }

    /// Removes up to `pruneLimit` tombstones older than the horizon behind `newest` (µs).
    private func pruneTombstones(before newest: Int64, _ connection: PostgresConnection) throws {
        try connection.query("""
            DELETE FROM record_tombstones WHERE uri IN (
                SELECT uri FROM record_tombstones WHERE time_us < $1::bigint ORDER BY time_us LIMIT $2::int)
            """, [newest - tombstoneHorizonMicroseconds, Self.pruneLimit])
    }

    /// Applies `events` (in their order) in one transaction, together with `cursor` when given.
    /// Idempotent: applying the same events again changes nothing.
    public func apply(_ events: [JetstreamEvent], cursor: IngestCursor? = nil) throws {
        let plan = BatchPlan(events: events)
        let actors = actorsToUpsert(plan)
        let newestEvent = events.lazy.map(\.timeMicroseconds).max()
        let prune = newestEvent != nil && takePruneTurn()
        // Set by the attempt that commits (`withTransaction` may run the body again).
        var created: [String] = []
        try pool.withTransaction { connection in
            // One writer at a time: the newest-tombstone bound a batch reads stays true until it
            // commits, and writers never hold row locks of shared aggregates against each other
            // (no deadlocks), even when a live consumer and an import run together.
            do {
                if writerLock == .global {
                    try connection.query("SELECT pg_advisory_xact_lock($1::bigint)", [Self.writerLockKey])
                }
                created = try BatchWriter(connection: connection, plan: plan, actorsToUpsert: actors).write()
                if prune, let newestEvent { try pruneTombstones(before: newestEvent, connection) }
                if let cursor { try Self.writeCursor(cursor, connection) }
            } catch let error as PostgresError {
                countConflict(error)
                throw error
            }
        }
        rememberActors(plan)
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
