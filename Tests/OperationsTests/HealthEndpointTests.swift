import Foundation
import Storage
import Testing
import TestSupport

@testable import API

/// `/health` and `/api/metrics/*` in-process, against a real database on the test cluster.
@Suite(.serialized)
struct HealthEndpointTests {
    let database: TestDatabase
    /// The newest migration in this checkout: what a freshly migrated database reports.
    let latestVersion: Int

    init() throws {
        database = try TestDatabase(name: "operations_health")
        latestVersion = try #require(try MigrationRunner(directory: TestDatabase.migrationsDirectory()).loadMigrations().last?.version)
    }

    func json(_ response: HTTPResponse) throws -> [String: Any] {
        try #require(JSONSerialization.jsonObject(with: Data(response.body)) as? [String: Any])
    }

    @Test func healthyDatabaseAnswers200WithSchemaPoolAndUptime() throws {
        let operations = OperationsEndpoints(pool: database.pool, expectedSchemaVersion: latestVersion)
        let response = operations.handle(HTTPRequest(path: "/health"))
        #expect(response.status == 200)
        let body = try json(response)
        #expect(body["status"] as? String == "ok")
        let databaseInfo = try #require(body["database"] as? [String: Any])
        #expect(databaseInfo["reachable"] as? Bool == true)
        #expect((databaseInfo["latencyMs"] as? Double ?? -1) >= 0)
        let schema = try #require(body["schema"] as? [String: Any])
        #expect(schema["version"] as? Int == latestVersion)
        #expect(schema["upToDate"] as? Bool == true)
        let pool = try #require(body["pool"] as? [String: Any])
        #expect(pool["size"] as? Int == database.pool.configuration.poolSize)
        #expect((pool["open"] as? Int ?? 0) >= 1)
        #expect((body["uptimeSeconds"] as? Double ?? -1) >= 0)
    }

    @Test func ingestLagComesFromTheMostRecentCursor() throws {
        let cursor = Int64((Date().timeIntervalSince1970 - 120) * 1_000_000)
        try database.pool.withConnection { connection in
            try connection.execute("DELETE FROM ingest_cursor")
            try connection.query(
                "INSERT INTO ingest_cursor (source, cursor, updated_at) VALUES ('older', 5, now() - interval '1 day'), ('jetstream', $1::bigint, now())",
                [cursor])
        }
        defer { _ = try? database.pool.withConnection { try $0.execute("DELETE FROM ingest_cursor") } }
        let body = try json(OperationsEndpoints(pool: database.pool).handle(HTTPRequest(path: "/health")))
        let ingest = try #require(body["ingest"] as? [String: Any])
        #expect(ingest["source"] as? String == "jetstream")
        #expect((ingest["cursor"] as? NSNumber)?.int64Value == cursor)
        let lag = try #require(ingest["lagSeconds"] as? Double)
        #expect(lag > 115 && lag < 200)
        #expect((ingest["updatedSecondsAgo"] as? Double ?? 99) < 60)
    }

    @Test func sequenceCursorHasNoTimeLag() throws {
        try database.pool.withConnection { connection in
            try connection.execute("DELETE FROM ingest_cursor; INSERT INTO ingest_cursor (source, cursor) VALUES ('relay', 123456)")
        }
        defer { _ = try? database.pool.withConnection { try $0.execute("DELETE FROM ingest_cursor") } }
        let body = try json(OperationsEndpoints(pool: database.pool).handle(HTTPRequest(path: "/health")))
        let ingest = try #require(body["ingest"] as? [String: Any])
        #expect(ingest["cursor"] as? Int == 123456)
        #expect(ingest["lagSeconds"] is NSNull)
        #expect(ingest["updatedSecondsAgo"] is Double)
    }

    @Test func schemaOlderThanTheBuildIs503AndSaysToMigrate() throws {
        let operations = OperationsEndpoints(pool: database.pool, expectedSchemaVersion: 99)
        let response = operations.handle(HTTPRequest(path: "/health"))
        #expect(response.status == 503)
        let body = try json(response)
        #expect(body["status"] as? String == "unavailable")
        #expect((body["schema"] as? [String: Any])?["upToDate"] as? Bool == false)
        #expect((body["error"] as? String ?? "").contains("appview-ingest migrate"))
    }

    @Test func unreachableDatabaseIs503QuicklyWithTheSameShape() throws {
        // Port 1 on loopback: connection refused at once.
        let pool = ConnectionPool(configuration: DatabaseConfiguration(
            url: "postgresql://appview@127.0.0.1:1/none", poolSize: 2, acquireTimeoutMilliseconds: 1000,
            connectTimeoutSeconds: 2))
        defer { pool.close() }
        let started = Date()
        let response = OperationsEndpoints(pool: pool, expectedSchemaVersion: latestVersion).handle(HTTPRequest(path: "/health"))
        #expect(Date().timeIntervalSince(started) < 5)
        #expect(response.status == 503)
        #expect(response.headers.contains { $0.0 == "Retry-After" })
        let body = try json(response)
        #expect(body["status"] as? String == "unavailable")
        let databaseInfo = try #require(body["database"] as? [String: Any])
        #expect(databaseInfo["reachable"] as? Bool == false)
        #expect(!(databaseInfo["error"] as? String ?? "").isEmpty)
        #expect(body["pool"] is [String: Any])
        #expect(body["schema"] is [String: Any])
        #expect(body["ingest"] is [String: Any])
    }

    @Test func stuckDatabaseAnswers503WithinTheHealthStatementTimeout() throws {
        // Another session holds a lock the health query needs; the short statement timeout cancels it.
        let blocker = try PostgresConnection(conninfo: database.url)
        defer { blocker.close() }
        try blocker.execute("BEGIN; LOCK TABLE ingest_cursor IN ACCESS EXCLUSIVE MODE")
        defer { _ = try? blocker.execute("ROLLBACK") }
        let operations = OperationsEndpoints(pool: database.pool, expectedSchemaVersion: latestVersion, healthStatementTimeoutMilliseconds: 300)
        let started = Date()
        let response = operations.handle(HTTPRequest(path: "/health"))
        #expect(Date().timeIntervalSince(started) < 3)
        #expect(response.status == 503)
        let databaseInfo = try #require(try json(response)["database"] as? [String: Any])
        #expect((databaseInfo["error"] as? String ?? "").contains("57014"))
        // The pooled connection keeps its normal statement timeout afterwards.
        let timeout = try database.pool.withConnection { try $0.query("SHOW statement_timeout")[0].string(0) }
        #expect(timeout != "300ms")
    }

    @Test func databaseMetricsAndUnknownMetrics() throws {
        let operations = OperationsEndpoints(pool: database.pool, expectedSchemaVersion: latestVersion)
        let metrics = operations.handle(HTTPRequest(path: "/api/metrics/database"))
        #expect(metrics.status == 200)
        // `current` is the pool monitor's sample shape (Storage's PoolMonitor.jsonSnapshot()).
        let current = try #require(try json(metrics)["current"] as? [String: Any])
        for key in ["size", "open", "active", "idle", "waiting", "utilizationPercent"] {
            #expect(current[key] != nil, "missing \(key)")
        }
        #expect(current["size"] as? Int == database.pool.configuration.poolSize)
        let unknown = operations.handle(HTTPRequest(path: "/api/metrics/no-such-thing"))
        #expect(unknown.status == 404)
        #expect(try json(unknown)["error"] as? String == "NotFound")
        let post = operations.handle(HTTPRequest(method: "POST", path: "/health"))
        #expect(post.status == 405)
        #expect(try json(post)["error"] as? String == "MethodNotAllowed")
    }
}
