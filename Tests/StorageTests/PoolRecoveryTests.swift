import Foundation
import Testing
import Storage
import TestSupport

/// The database goes away (every connection cut, new ones refused) and comes back: the pool fails
/// fast meanwhile and heals by itself, no new pool or restart needed.
@Suite(.serialized) struct PoolRecoveryTests {
    @Test func poolFailsFastWhileTheServerIsDownAndHealsWhenItIsBack() throws {
        let database = try TestDatabase(name: "storage_recovery", applyMigrations: false)
        let proxy = try UnixSocketProxy(upstreamDirectory: Self.clusterSocketDirectory(), port: Self.clusterPort())
        try proxy.start()
        let log = CapturedLog()
        let pool = ConnectionPool(
            configuration: DatabaseConfiguration(
                url: "postgresql:///\(database.name)?host=\(proxy.directory)&port=\(proxy.port)&user=appview",
                poolSize: 2, acquireTimeoutMilliseconds: 500, connectTimeoutSeconds: 2),
            logger: log.logger)
        defer { pool.close() }
        onThreads(2) { _ in _ = try? pool.withConnection { try $0.query("SELECT pg_sleep(0.05)") } }
        #expect(pool.snapshot().idle == 2)

        proxy.stop()
        // While down: every call fails quickly with a connection-class error or an acquire timeout.
        var outcomes: [PostgresError.Kind] = []
        let downSince = Date()
        while Date().timeIntervalSince(downSince) < 0.6 {
            let start = Date()
            do {
                try pool.withConnection { try $0.query("SELECT 1") }
                Issue.record("a query succeeded while the server was unreachable")
            } catch let error as PostgresError {
                outcomes.append(error.kind)
            }
            #expect(milliseconds(since: start) < 1500, "no hang while the server is down")
        }
        #expect(!outcomes.isEmpty && outcomes.allSatisfy { $0 == .connection || $0 == .acquireTimeout })
        #expect(pool.monitor.counters.connectionsReplaced == 2, "both dead idle connections were dropped")
        #expect(pool.monitor.counters.connectFailures >= 1)

        try proxy.start()
        // Within the 2 s backoff ceiling the next attempt gets through.
        let healed = eventually(timeout: 5) {
            (try? pool.withConnection { try $0.query("SELECT 42")[0].int(0) }) == 42
        }
        #expect(healed)
        onThreads(2) { _ in _ = try? pool.withConnection { try $0.query("SELECT pg_sleep(0.05)") } }
        #expect(pool.snapshot().open == 2)
        #expect(log.messages.contains { $0.contains("database reachable again") })
    }

    @Test func silentlyLostConnectionFailsOnceInPlainUseAndIsRetriedAtTransactionStart() throws {
        let database = try TestDatabase(name: "storage_silent_loss", applyMigrations: false)
        try database.pool.withConnection { try $0.execute("CREATE TABLE marks (note text)") }
        let proxy = try UnixSocketProxy(upstreamDirectory: Self.clusterSocketDirectory(), port: Self.clusterPort())
        try proxy.start()
        defer { proxy.stop() }
        let pool = ConnectionPool(configuration: DatabaseConfiguration(
            url: "postgresql:///\(database.name)?host=\(proxy.directory)&port=\(proxy.port)&user=appview", poolSize: 1))
        defer { pool.close() }

        // Plain use: the loss shows on the next statement, which fails as a connection loss once.
        try pool.withConnection { try $0.query("SELECT 1") }
        proxy.cutServerSideSilently()
        Thread.sleep(forTimeInterval: 0.1)
        #expect {
            try pool.withConnection { try $0.query("SELECT 1") }
        } throws: { error in
            (error as? PostgresError)?.isConnectionLost == true
        }
        #expect(pool.monitor.counters.connectionsReplaced == 1)

        // A transaction: BEGIN meets the loss, nothing ran yet, so it is retried on a new connection.
        let lostPID = try pool.withConnection { $0.backendPID }
        proxy.cutServerSideSilently()
        Thread.sleep(forTimeInterval: 0.1)
        let runs = Locked(0)
        try pool.withTransaction { connection in
            runs.withValue { $0 += 1 }
            try connection.query("INSERT INTO marks VALUES ($1)", ["after silent loss"])
        }
        #expect(runs.current == 1, "the body ran once, on the fresh connection")
        #expect(try pool.withConnection { $0.backendPID } != lostPID)
        #expect(pool.monitor.counters.connectionsReplaced == 2)
        #expect(pool.monitor.counters.transactionRetries == 0)
        #expect(try database.pool.withConnection { try $0.query("SELECT count(*) FROM marks")[0].int(0) } == 1)
    }

    @Test func serverThatNeverAnswersFailsAfterTheConnectTimeoutNotAHang() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("storage-silent-\(getpid())").path
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let listener = try UnixSocketProxy.silentListener(directory: directory, port: 5432)
        defer { close(listener) }
        let pool = ConnectionPool(configuration: DatabaseConfiguration(
            url: "postgresql:///postgres?host=\(directory)&port=5432&user=appview",
            poolSize: 1, acquireTimeoutMilliseconds: 500, connectTimeoutSeconds: 2))
        defer { pool.close() }
        let start = Date()
        #expect {
            try pool.withConnection { _ in }
        } throws: { error in
            (error as? PostgresError)?.kind == .connection
        }
        let waited = milliseconds(since: start)
        #expect(waited >= 1500 && waited < 5000, "connect_timeout=2 ended the attempt after \(waited) ms")
        #expect(pool.monitor.counters.connectFailures == 1)
    }

    /// The port in `TEST_DATABASE_URL` (the proxy forwards to that cluster's socket).
    /// The test cluster's unix-socket directory, from the `host=` of `TEST_DATABASE_URL`.
    static func clusterSocketDirectory() throws -> String {
        let url = try TestDatabase.adminURL()
        guard let range = url.range(of: "host=") else {
            throw ConfigurationError("TEST_DATABASE_URL has no host= socket directory: \(url)")
        }
        let value = url[range.upperBound...].prefix { $0 != "&" && $0 != " " }
        return value.removingPercentEncoding ?? String(value)
    }

    static func clusterPort() throws -> Int {
        let url = try TestDatabase.adminURL()
        guard let range = url.range(of: "port="),
            let port = Int(url[range.upperBound...].prefix { $0.isNumber }) else { return 5432 }
        return port
    }
}
