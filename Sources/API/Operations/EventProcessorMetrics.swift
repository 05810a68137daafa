import Foundation
import Storage

/// The body of `GET /api/metrics/event-processor`: the ingest leader's latest snapshot from
/// `ingest_metrics` (written by `appview-ingest run` at least every 5 s), plus its age, a `stale`
/// flag and every ingest process known (leader, standbys). PostgreSQL merges the fields, so the
/// snapshot's own JSON is served as the ingest wrote it.
enum EventProcessorMetrics {
    /// A snapshot older than this is stale: the leader publishes at least every 5 s.
    static let staleAfterSeconds = 15.0

    static let query = """
        SELECT (m.snapshot || jsonb_build_object(
                    'publishedAt', to_char(m.updated_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"'),
                    'ageSeconds', round(extract(epoch FROM clock_timestamp() - m.updated_at)::numeric, 3),
                    'stale', extract(epoch FROM clock_timestamp() - m.updated_at) > $1::float8,
                    'instances', (SELECT jsonb_agg(jsonb_build_object(
                                      'instance', i.instance, 'role', i.role, 'source', i.source,
                                      'ageSeconds', round(extract(epoch FROM clock_timestamp() - i.updated_at)::numeric, 3))
                                      ORDER BY i.updated_at DESC)
                                  FROM ingest_metrics i
                                  WHERE i.updated_at > clock_timestamp() - interval '1 hour' OR i.instance = m.instance)))::text
        FROM ingest_metrics m
        WHERE m.role IN ('leader', 'stopped')
        ORDER BY m.updated_at DESC
        LIMIT 1
        """

    enum Outcome {
        case snapshot(String)
        case none
    }

    static func fetch(pool: ConnectionPool) throws -> Outcome {
        try pool.withConnection { connection in
            let result = try connection.query(query, [staleAfterSeconds])
            guard result.rowCount > 0, let body = result[0].string(0) else { return .none }
            return .snapshot(body)
        }
    }
}
