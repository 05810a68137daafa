import Foundation
import Storage

/// What `/health` reports: database reachability and latency, schema version, ingest progress.
struct HealthReport {
    /// Where the indexer is, from the most recently updated `ingest_cursor` row.
    struct IngestProgress {
        var source: String
        var cursor: Int64
        /// `now − cursor time` when the cursor is a Jetstream `time_us`; nil for sequence numbers.
        var lagSeconds: Double?
        var updatedAt: String
        var updatedSecondsAgo: Double
    }

    /// The ingest leader's latest metrics snapshot (`ingest_metrics`).
    struct IngestSnapshot {
        var leader: String
        var role: String
        var ageSeconds: Double
    }

    /// What operators alert on. Reported, never a reason for 503: the read API keeps serving
    /// (slightly old) data while the ingest is behind or down.
    enum IngestStatus: String {
        /// No ingest has ever written to this database.
        case none
        case ok
        /// The committed cursor is more than `lagWarningSeconds` behind the wall clock.
        case lagging
        /// The leader's snapshot is older than `EventProcessorMetrics.staleAfterSeconds`: no ingest is running.
        case stale
        /// The last leader stopped cleanly and no other has taken over.
        case stopped
    }

    /// Lag beyond which the ingest is `lagging`.
    static let lagWarningSeconds = 60.0

    var reachable: Bool
    var latencyMilliseconds: Double?
    var error: String?
    var schemaVersion: Int?
    var ingest: IngestProgress?
    var ingestSnapshot: IngestSnapshot? = nil

    var ingestStatus: IngestStatus {
        guard let snapshot = ingestSnapshot else { return ingest == nil ? .none : (isLagging ? .lagging : .ok) }
        if snapshot.role == "stopped" { return .stopped }
        if snapshot.ageSeconds > EventProcessorMetrics.staleAfterSeconds { return .stale }
        return isLagging ? .lagging : .ok
    }

    private var isLagging: Bool { (ingest?.lagSeconds ?? 0) > Self.lagWarningSeconds }
}

/// Runs the health query: one short read-only transaction with its own statement timeout, through
/// the pool (so the pool's acquire timeout bounds the wait for a connection).
struct HealthCheck {
    let pool: ConnectionPool
    let statementTimeoutMilliseconds: Int

    /// Cursors above this are microseconds since the epoch (Jetstream `time_us`, ~1.7e15 today);
    /// relay sequence numbers are orders of magnitude smaller.
    static let smallestTimeMicroseconds: Int64 = 1_000_000_000_000_000

    static let query = """
        SELECT (SELECT coalesce(max(version), 0) FROM schema_migrations)::int AS schema_version,
               to_regclass('ingest_metrics') IS NOT NULL AS has_metrics,
               c.source, c.cursor,
               to_char(c.updated_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"') AS updated_at,
               extract(epoch FROM clock_timestamp() - c.updated_at)::float8 AS updated_seconds_ago,
               CASE WHEN c.cursor >= $1::bigint
                    THEN (extract(epoch FROM clock_timestamp()) - c.cursor / 1e6)::float8 END AS lag_seconds
        FROM (SELECT 1) AS one
        LEFT JOIN LATERAL (
            SELECT source, cursor, updated_at FROM ingest_cursor ORDER BY updated_at DESC LIMIT 1
        ) AS c ON true
        """

    /// The newest leader snapshot (asked only when the table exists: older schemas lack it).
    static let snapshotQuery = """
        SELECT instance, role, extract(epoch FROM clock_timestamp() - updated_at)::float8
        FROM ingest_metrics WHERE role IN ('leader', 'stopped') ORDER BY updated_at DESC LIMIT 1
        """

    func run() -> HealthReport {
        do {
            return try pool.withConnection { connection in
                // SET LOCAL keeps the short timeout inside this transaction; the pooled connection
                // returns to the pool with its normal statement timeout.
                try connection.execute(
                    "BEGIN READ ONLY; SET LOCAL statement_timeout = \(max(1, statementTimeoutMilliseconds))")
                let started = ContinuousClock.now
                let result = try connection.query(Self.query, [Self.smallestTimeMicroseconds])
                let elapsed = started.duration(to: .now)
                let row = result[0]
                var snapshot: HealthReport.IngestSnapshot?
                if row.bool(1) == true {
                    let snapshots = try connection.query(Self.snapshotQuery)
                    if snapshots.rowCount > 0 {
                        snapshot = HealthReport.IngestSnapshot(
                            leader: snapshots[0].string(0) ?? "", role: snapshots[0].string(1) ?? "",
                            ageSeconds: snapshots[0].double(2) ?? 0)
                    }
                }
                try connection.execute("COMMIT")
                var ingest: HealthReport.IngestProgress?
                if let source = row.string(2), let cursor = row.int64(3) {
                    ingest = HealthReport.IngestProgress(
                        source: source, cursor: cursor, lagSeconds: row.double(6),
                        updatedAt: row.string(4) ?? "", updatedSecondsAgo: row.double(5) ?? 0)
                }
                return HealthReport(
                    reachable: true, latencyMilliseconds: Self.milliseconds(elapsed), error: nil,
                    schemaVersion: row.int(0), ingest: ingest, ingestSnapshot: snapshot)
            }
        } catch let error as PostgresError {
            // The server answered (e.g. statement timeout) → reachable but unhealthy; otherwise not reachable.
            return HealthReport(
                reachable: error.kind == .query && !error.isConnectionLost, latencyMilliseconds: nil,
                error: error.description, schemaVersion: nil, ingest: nil)
        } catch {
            return HealthReport(reachable: false, latencyMilliseconds: nil, error: "\(error)", schemaVersion: nil, ingest: nil)
        }
    }

    static func milliseconds(_ duration: Duration) -> Double {
        Double(duration.components.seconds) * 1000 + Double(duration.components.attoseconds) / 1e15
    }
}
