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

    var reachable: Bool
    var latencyMilliseconds: Double?
    var error: String?
    var schemaVersion: Int?
    var ingest: IngestProgress?
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
                try connection.execute("COMMIT")
                let row = result[0]
                var ingest: HealthReport.IngestProgress?
                if let source = row.string(1), let cursor = row.int64(2) {
                    ingest = HealthReport.IngestProgress(
                        source: source, cursor: cursor, lagSeconds: row.double(5),
                        updatedAt: row.string(3) ?? "", updatedSecondsAgo: row.double(4) ?? 0)
                }
                return HealthReport(
                    reachable: true, latencyMilliseconds: Self.milliseconds(elapsed), error: nil,
                    schemaVersion: row.int(0), ingest: ingest)
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
