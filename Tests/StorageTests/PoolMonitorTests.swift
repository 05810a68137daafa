import Foundation
import Testing
import Storage
import TestSupport

/// The pool monitor: levels from real pool state, wait statistics, counters, JSON, sampling thread.
@Suite(.serialized) struct PoolMonitorTests {
    let database: TestDatabase

    /// One database for the suite (a suite's `init` runs for every test).
    private static let sharedDatabase = Result { try TestDatabase(name: "storage_monitor", applyMigrations: false) }

    init() throws {
        database = try Self.sharedDatabase.get()
    }

    @Test func levelFollowsUtilizationOfTheRealPool() throws {
        let pool = ConnectionPool(configuration: database.configuration(poolSize: 5))
        defer { pool.close() }
        var held: [PostgresConnection] = []
        defer { held.forEach(pool.release) }
        #expect(pool.monitor.currentSample().level == .ok)
        for _ in 0..<4 { held.append(try pool.acquire()) }
        let warning = pool.monitor.currentSample()
        #expect(warning.active == 4 && warning.utilizationPercent == 80 && warning.level == .warning)
        held.append(try pool.acquire())
        let critical = pool.monitor.currentSample()
        #expect(critical.level == .critical && critical.idle == 0 && critical.open == 5)
        pool.release(held.removeLast())
        #expect(pool.monitor.currentSample().idle == 1)
    }

    @Test func everyAcquireWaitIsRecordedAndTheWindowClosesAtEachSample() throws {
        let pool = ConnectionPool(configuration: database.configuration(poolSize: 1))
        defer { pool.close() }
        for _ in 0..<10 { try pool.withConnection { _ in } }
        // One acquire that waits about 100 ms for a held connection.
        let held = try pool.acquire()
        let waiter = startThread { _ = try? pool.withConnection { _ in } }
        #expect(eventually { pool.snapshot().waiting == 1 })
        Thread.sleep(forTimeInterval: 0.1)
        pool.release(held)
        waiter.wait()
        let sample = pool.monitor.recordSample()
        #expect(sample.acquireWait.count == 12)
        #expect(sample.acquireWait.maxMilliseconds >= 90)
        #expect(sample.acquireWait.p99Milliseconds >= 90)
        #expect(sample.acquireWait.averageMilliseconds < sample.acquireWait.maxMilliseconds)
        #expect(pool.monitor.currentSample().acquireWait.count == 0, "a new window starts after a sample")
        #expect(pool.monitor.counters.acquires == 12)
    }

    @Test func keepsTheLastHundredSamples() throws {
        let pool = ConnectionPool(configuration: database.configuration(poolSize: 1))
        defer { pool.close() }
        for _ in 0..<150 { pool.monitor.recordSample() }
        let samples = pool.monitor.samples
        #expect(samples.count == 100)
        #expect(samples.first!.time <= samples.last!.time)
    }

    @Test func jsonSnapshotCarriesConfigCurrentSampleCountersAndHistory() throws {
        let pool = ConnectionPool(configuration: database.configuration(
            poolSize: 3, acquireTimeoutMilliseconds: 250, statementTimeoutMilliseconds: 4000))
        defer { pool.close() }
        let held = try pool.acquire()
        pool.monitor.recordSample()
        pool.monitor.recordSample()
        let json = pool.monitor.jsonSnapshot()
        pool.release(held)
        let object = try #require(JSONSerialization.jsonObject(with: Data(json.utf8)) as? [String: Any])
        #expect(object["level"] as? String == "ok")
        let config = try #require(object["config"] as? [String: Any])
        #expect(config["poolSize"] as? Int == 3)
        #expect(config["acquireTimeoutMs"] as? Int == 250)
        #expect(config["statementTimeoutMs"] as? Int == 4000)
        let current = try #require(object["current"] as? [String: Any])
        #expect(current["active"] as? Int == 1)
        #expect(current["size"] as? Int == 3)
        #expect(current["waiting"] as? Int == 0)
        #expect(current["utilizationPercent"] as? Double == 33.333)
        #expect((current["acquireWaitMs"] as? [String: Any])?["count"] != nil)
        let counters = try #require(object["counters"] as? [String: Int])
        #expect(Set(counters.keys) == [
            "acquires", "acquireTimeouts", "connectionsOpened", "connectionsReplaced", "connectFailures",
            "transactionRetries", "transactionTimeouts",
        ])
        #expect(counters["connectionsOpened"] == 1)
        #expect((object["samples"] as? [Any])?.count == 2)
    }

    @Test func droppingAPoolWithoutCloseEndsItsSamplingThread() throws {
        var pool: ConnectionPool? = ConnectionPool(configuration: database.configuration(poolSize: 1))
        let monitor = pool!.monitor
        monitor.start(interval: 0.02)
        #expect(eventually { monitor.samples.count >= 2 })
        pool = nil
        #expect(!monitor.isRunning)
        Thread.sleep(forTimeInterval: 0.05)
        let count = monitor.samples.count
        Thread.sleep(forTimeInterval: 0.15)
        #expect(monitor.samples.count == count, "no samples after the pool is gone")
    }

    @Test func samplingThreadLogsStatusLinesAndStops() throws {
        let log = CapturedLog()
        let pool = ConnectionPool(configuration: database.configuration(poolSize: 2), logger: log.logger)
        defer { pool.close() }
        try pool.withConnection { _ in }
        pool.monitor.start(interval: 0.05)
        #expect(pool.monitor.isRunning)
        #expect(eventually(timeout: 3) { pool.monitor.samples.count >= 3 })
        pool.monitor.stop()
        #expect(!pool.monitor.isRunning)
        let countAfterStop = pool.monitor.samples.count
        Thread.sleep(forTimeInterval: 0.2)
        #expect(pool.monitor.samples.count == countAfterStop)
        let statusLines = log.messages.filter { $0.contains("db pool ok") }
        #expect(statusLines.count >= 3)
        #expect(statusLines.first?.contains("connections opened 1") == true)
        // Restartable, and close() stops it.
        pool.monitor.start(interval: 0.05)
        pool.close()
        #expect(!pool.monitor.isRunning)
    }
}
