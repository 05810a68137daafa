import Foundation
import JSON
import Logging
import Storage

/// `GET /health` and `GET /api/metrics/*`: what operators and load balancers poll.
public final class OperationsEndpoints: @unchecked Sendable {
    let pool: ConnectionPool
    /// The newest migration this build ships; nil when unknown (then `schema.upToDate` is null).
    let expectedSchemaVersion: Int?
    let healthCheck: HealthCheck
    let startedAt: ContinuousClock.Instant
    let logger: Logger

    /// - Parameters:
    ///   - expectedSchemaVersion: the highest migration on disk; by default read once from
    ///     `MigrationRunner.defaultDirectory()`.
    ///   - healthStatementTimeoutMilliseconds: statement timeout of the health query, shorter than
    ///     the API's so a stuck database answers 503 quickly instead of hanging the probe.
    public init(
        pool: ConnectionPool, expectedSchemaVersion: Int? = nil, healthStatementTimeoutMilliseconds: Int = 2000,
        logger: Logger = Logger(label: "appview.api.operations")
    ) {
        self.pool = pool
        self.expectedSchemaVersion = expectedSchemaVersion
            ?? (try? MigrationRunner(directory: MigrationRunner.defaultDirectory()).loadMigrations().last?.version)
        self.healthCheck = HealthCheck(pool: pool, statementTimeoutMilliseconds: healthStatementTimeoutMilliseconds)
        self.startedAt = .now
        self.logger = logger
    }

    public func handle(_ request: HTTPRequest) -> HTTPResponse {
        let isMetrics = request.path.hasPrefix("/api/metrics/")
        guard request.path == "/health" || isMetrics else {
            return Self.error(404, "NotFound", "no such route")
        }
        guard request.method == "GET" || request.method == "HEAD" else {
            return Self.error(405, "MethodNotAllowed", "\(request.path) accepts GET only", headers: [("Allow", "GET, HEAD")])
        }
        switch request.path {
        case "/health":
            return health()
        case "/api/metrics/database":
            return .json(200, Array(databaseMetricsJSON().utf8), headers: [("Cache-Control", "no-store")])
        case "/api/metrics/event-processor":
            return eventProcessorMetrics()
        default:
            return Self.error(404, "NotFound",
                              "unknown metrics endpoint \(request.path); available: /api/metrics/database, /api/metrics/event-processor")
        }
    }

    /// The pool monitor's JSON. The single place to switch to Storage's `PoolMonitor.jsonSnapshot()`.
    public func databaseMetricsJSON() -> String {
        DatabaseMetrics.json(pool: pool)
    }

    /// The ingest leader's latest snapshot with its age; 503 when no ingest has published one
    /// (or the database cannot be read).
    func eventProcessorMetrics() -> HTTPResponse {
        do {
            switch try EventProcessorMetrics.fetch(pool: pool) {
            case .snapshot(let body):
                return .json(200, Array(body.utf8), headers: [("Cache-Control", "no-store")])
            case .none:
                return Self.error(503, "NoIngestMetrics", "no appview-ingest run has published metrics to this database yet",
                                  headers: [("Retry-After", "5")])
            }
        } catch let error as PostgresError where error.sqlState == "42P01" {
            return Self.error(503, "SchemaOutdated", "the ingest_metrics table is missing: run `appview-ingest migrate`")
        } catch {
            logger.warning("event-processor metrics unavailable", metadata: ["error": "\(error)"])
            return Self.error(503, "Unavailable", "the ingest metrics cannot be read now", headers: [("Retry-After", "5")])
        }
    }

    /// 200 when the database answers and the schema is current, 503 (same shape) otherwise.
    func health() -> HTTPResponse {
        let report = healthCheck.run()
        let upToDate: Bool? = {
            guard let current = report.schemaVersion, let expected = expectedSchemaVersion else { return nil }
            return current >= expected
        }()
        var problem = report.error
        if problem == nil, upToDate == false {
            problem = "database schema version \(report.schemaVersion ?? 0) is older than this build's \(expectedSchemaVersion ?? 0): run `appview-ingest migrate`"
        }
        let healthy = problem == nil
        if !healthy {
            logger.warning("health check failed", metadata: ["error": "\(problem ?? "")"])
        }
        let pool = pool.snapshot()

        var json = JSONWriter(capacity: 512)
        json.beginObject()
        json.field("status", healthy ? "ok" : "unavailable")
        json.key("database")
        json.beginObject()
        json.field("reachable", report.reachable)
        json.nullableField("latencyMs", report.latencyMilliseconds, fractionDigits: 2)
        json.nullableField("error", report.error)
        json.endObject()
        json.key("schema")
        json.beginObject()
        json.nullableField("version", report.schemaVersion)
        json.nullableField("expectedVersion", expectedSchemaVersion)
        json.nullableField("upToDate", upToDate)
        json.endObject()
        json.key("pool")
        json.beginObject()
        json.field("size", pool.total)
        json.field("open", pool.open)
        json.field("active", pool.active)
        json.field("idle", pool.idle)
        json.field("waiting", pool.waiting)
        json.endObject()
        json.key("ingest")
        json.beginObject()
        json.nullableField("source", report.ingest?.source)
        json.nullableField("cursor", report.ingest.map { Int($0.cursor) })
        json.nullableField("lagSeconds", report.ingest?.lagSeconds, fractionDigits: 3)
        json.nullableField("updatedAt", report.ingest?.updatedAt)
        json.nullableField("updatedSecondsAgo", report.ingest?.updatedSecondsAgo, fractionDigits: 3)
        json.field("status", report.ingestStatus.rawValue)
        json.nullableField("leader", report.ingestSnapshot?.leader)
        json.nullableField("snapshotAgeSeconds", report.ingestSnapshot?.ageSeconds, fractionDigits: 3)
        json.nullableField("snapshotStale", report.ingestSnapshot.map { $0.ageSeconds > EventProcessorMetrics.staleAfterSeconds })
        json.endObject()
        json.field("uptimeSeconds", HealthCheck.milliseconds(startedAt.duration(to: .now)) / 1000, fractionDigits: 3)
        if let problem { json.field("error", problem) }
        json.endObject()

        var headers: [(String, String)] = [("Cache-Control", "no-store")]
        if !healthy { headers.append(("Retry-After", "5")) }
        return .json(healthy ? 200 : 503, json.bytes, headers: headers)
    }

    static func error(_ status: Int, _ name: String, _ message: String, headers: [(String, String)] = []) -> HTTPResponse {
        var json = JSONWriter(capacity: 128)
        json.beginObject()
        json.field("error", name)
        json.field("message", message)
        json.endObject()
        return .json(status, json.bytes, headers: headers)
    }
}
