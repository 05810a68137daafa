import Foundation
import Storage
import Testing
import TestSupport

@testable import API

/// `GET /api/metrics/event-processor` and the ingest part of `/health`, from `ingest_metrics` rows
/// as `appview-ingest run` writes them (the end-to-end path is in Tests/http/test_ingest_run.py).
@Suite(.serialized)
struct EventProcessorMetricsTests {
    let database: TestDatabase
    let operations: OperationsEndpoints

    init() throws {
        database = try TestDatabase(name: "operations_ingest_metrics")
        operations = OperationsEndpoints(pool: database.pool)
    }

    func json(_ response: HTTPResponse) throws -> [String: Any] {
        try #require(JSONSerialization.jsonObject(with: Data(response.body)) as? [String: Any])
    }

    func publish(_ instance: String, role: String, secondsAgo: Int, snapshot: String) throws {
        try database.pool.withConnection { connection in
            try connection.query("""
                INSERT INTO ingest_metrics (instance, role, source, snapshot, updated_at)
                VALUES ($1, $2, 'jetstream', $3::jsonb, now() - make_interval(secs => $4::int))
                ON CONFLICT (instance) DO UPDATE SET role = excluded.role, snapshot = excluded.snapshot, updated_at = excluded.updated_at
                """, [instance, role, snapshot, secondsAgo])
        }
    }

    func clear() throws { try database.pool.withConnection { try $0.execute("DELETE FROM ingest_metrics") } }

    @Test func noIngestYetIs503ForTheMetricsAndStatusNoneInAHealthy200() throws {
        try clear()
        let metrics = operations.handle(HTTPRequest(path: "/api/metrics/event-processor"))
        #expect(metrics.status == 503)
        #expect(try json(metrics)["error"] as? String == "NoIngestMetrics")
        let health = operations.handle(HTTPRequest(path: "/health"))
        #expect(health.status == 200)
        let ingest = try #require(try json(health)["ingest"] as? [String: Any])
        #expect(ingest["status"] as? String == "none")
        #expect(ingest["snapshotAgeSeconds"] is NSNull)
    }

    @Test func servesTheLeadersSnapshotWithItsAgeAndEveryInstance() throws {
        try clear()
        try publish("host:1", role: "leader", secondsAgo: 2,
                    snapshot: #"{"role":"leader","leader":"host:1","eventsPerSecond":812.5,"activeUserCreations":0,"maxConcurrentUserCreations":5,"userCreationUtilization":"0%"}"#)
        try publish("host:2", role: "standby", secondsAgo: 1, snapshot: #"{"role":"standby"}"#)
        let response = operations.handle(HTTPRequest(path: "/api/metrics/event-processor"))
        #expect(response.status == 200)
        let body = try json(response)
        #expect(body["leader"] as? String == "host:1")
        #expect(body["eventsPerSecond"] as? Double == 812.5)
        #expect(body["userCreationUtilization"] as? String == "0%")
        let age = try #require(body["ageSeconds"] as? Double)
        #expect(age >= 1.9 && age < 10)
        #expect(body["stale"] as? Bool == false)
        let instances = try #require(body["instances"] as? [[String: Any]])
        #expect(instances.compactMap { $0["role"] as? String }.sorted() == ["leader", "standby"])
        let ingest = try #require(try json(operations.handle(HTTPRequest(path: "/health")))["ingest"] as? [String: Any])
        #expect(ingest["status"] as? String == "ok")
        #expect(ingest["leader"] as? String == "host:1")
    }

    @Test func aSnapshotOlderThan15SecondsIsStaleButHealthStays200() throws {
        try clear()
        try publish("host:1", role: "leader", secondsAgo: 40, snapshot: #"{"role":"leader"}"#)
        let body = try json(operations.handle(HTTPRequest(path: "/api/metrics/event-processor")))
        #expect(body["stale"] as? Bool == true)
        let health = operations.handle(HTTPRequest(path: "/health"))
        #expect(health.status == 200)
        let ingest = try #require(try json(health)["ingest"] as? [String: Any])
        #expect(ingest["status"] as? String == "stale")
        #expect(ingest["snapshotStale"] as? Bool == true)
        #expect((ingest["snapshotAgeSeconds"] as? Double ?? 0) >= 40)
    }

    @Test func aCursorFarBehindIsLagging() throws {
        try clear()
        try publish("host:1", role: "leader", secondsAgo: 0, snapshot: #"{"role":"leader"}"#)
        let tenMinutesAgo = Int64((Date().timeIntervalSince1970 - 600) * 1_000_000)
        try database.pool.withConnection { connection in
            try connection.execute("DELETE FROM ingest_cursor")
            try connection.query("INSERT INTO ingest_cursor (source, cursor) VALUES ('jetstream', $1::bigint)", [tenMinutesAgo])
        }
        defer { _ = try? database.pool.withConnection { try $0.execute("DELETE FROM ingest_cursor") } }
        let ingest = try #require(try json(operations.handle(HTTPRequest(path: "/health")))["ingest"] as? [String: Any])
        #expect(ingest["status"] as? String == "lagging")
        #expect((ingest["lagSeconds"] as? Double ?? 0) >= 600)
    }
}
