import Foundation
import Testing
import Storage
import TestSupport

/// Pool behaviour against the real test cluster: exhaustion, FIFO fairness, broken connections.
@Suite(.serialized) struct ConnectionPoolTests {
    let database: TestDatabase

    /// One database for the suite (a suite's `init` runs for every test).
    private static let sharedDatabase = Result { try TestDatabase(name: "storage_pool", applyMigrations: false) }

    init() throws {
        database = try Self.sharedDatabase.get()
    }

    @Test func exhaustedPoolFailsWithAcquireTimeoutInRoughlyTheConfiguredTime() throws {
        let pool = ConnectionPool(configuration: database.configuration(poolSize: 2, acquireTimeoutMilliseconds: 300))
        defer { pool.close() }
        let first = try pool.acquire()
        let second = try pool.acquire()
        let start = Date()
        #expect {
            _ = try pool.acquire()
        } throws: { error in
            (error as? PostgresError)?.kind == .acquireTimeout
        }
        let waited = milliseconds(since: start)
        #expect(waited >= 280 && waited < 1500, "waited \(waited) ms for a 300 ms acquire timeout")
        #expect(pool.monitor.counters.acquireTimeouts == 1)
        pool.release(first)
        pool.release(second)
        // Freed connections serve again.
        #expect(try pool.withConnection { try $0.query("SELECT 1")[0].int(0) } == 1)
    }

    @Test func waitersAreServedInArrivalOrder() throws {
        let pool = ConnectionPool(configuration: database.configuration(poolSize: 1, acquireTimeoutMilliseconds: 10_000))
        defer { pool.close() }
        let held = try pool.acquire()
        let served = Locked<[Int]>([])
        var joins: [DispatchGroup] = []
        for waiter in 0..<5 {
            joins.append(startThread {
                do {
                    try pool.withConnection { connection in
                        served.withValue { $0.append(waiter) }
                        _ = try connection.query("SELECT pg_sleep(0.01)")
                    }
                } catch {
                    served.withValue { $0.append(-1) }
                }
            })
            // The next waiter starts only once this one is queued, so arrival order is known.
            #expect(eventually { pool.snapshot().waiting == waiter + 1 })
        }
        pool.release(held)
        joins.forEach { $0.wait() }
        #expect(served.current == [0, 1, 2, 3, 4])
        #expect(pool.snapshot().waiting == 0)
    }

    @Test func manyThreadsShareASmallPoolWithoutLosingConnections() throws {
        let pool = ConnectionPool(configuration: database.configuration(poolSize: 3, acquireTimeoutMilliseconds: 10_000))
        defer { pool.close() }
        let failures = Locked(0)
        let concurrentlyHeld = Locked((now: 0, max: 0))
        onThreads(8) { thread in
            for iteration in 0..<100 {
                do {
                    let value = try pool.withConnection { connection -> Int? in
                        concurrentlyHeld.withValue { $0.now += 1; $0.max = max($0.max, $0.now) }
                        defer { concurrentlyHeld.withValue { $0.now -= 1 } }
                        return try connection.query("SELECT $1::int", [thread * 1000 + iteration])[0].int(0)
                    }
                    if value != thread * 1000 + iteration { failures.withValue { $0 += 1 } }
                } catch {
                    failures.withValue { $0 += 1 }
                }
            }
        }
        #expect(failures.current == 0)
        #expect(concurrentlyHeld.current.max <= 3, "never more connections lent out than the pool size")
        let state = pool.snapshot()
        #expect(state.active == 0 && state.waiting == 0 && state.open <= 3)
        #expect(pool.monitor.counters.acquires == 800)
        #expect(pool.monitor.counters.connectionsOpened == state.open)
    }

    @Test func closeWakesWaitersAndClosesConnectionsAsTheyComeBack() throws {
        let pool = ConnectionPool(configuration: database.configuration(poolSize: 1, acquireTimeoutMilliseconds: 10_000))
        let held = try pool.acquire()
        let outcome = Locked<PostgresError.Kind?>(nil)
        let waiter = startThread {
            do { try pool.withConnection { _ in } } catch let error as PostgresError { outcome.withValue { $0 = error.kind } } catch {}
        }
        #expect(eventually { pool.snapshot().waiting == 1 })
        let start = Date()
        pool.close()
        waiter.wait()
        #expect(outcome.current == .poolClosed)
        #expect(milliseconds(since: start) < 1000)
        pool.release(held)
        #expect(!held.isOpen, "a connection returned after close is closed")
        #expect(pool.snapshot().open == 0)
    }

    @Test func poolHealsAfterAllBackendsAreTerminated() throws {
        let pool = ConnectionPool(configuration: database.configuration(poolSize: 3))
        defer { pool.close() }
        // Open three connections at once so the pool holds three idle ones.
        let connections = try (0..<3).map { _ in try pool.acquire() }
        let oldPIDs = Set(connections.map(\.backendPID))
        connections.forEach(pool.release)
        #expect(pool.snapshot().idle == 3)

        try terminateAndWait(oldPIDs)

        let newPIDs = Locked<Set<Int32>>([])
        onThreads(3) { _ in
            for _ in 0..<4 {
                let pid = try? pool.withConnection { connection -> Int32 in
                    _ = try connection.query("SELECT pg_sleep(0.01)")
                    return connection.backendPID
                }
                newPIDs.withValue { $0.insert(pid ?? -1) }
            }
        }
        #expect(!newPIDs.current.contains(-1), "every operation after the terminations succeeds")
        #expect(newPIDs.current.isDisjoint(with: oldPIDs))
        #expect(pool.monitor.counters.connectionsReplaced == 3)
        #expect(pool.monitor.counters.connectionsOpened >= 4)
    }

    @Test func connectionKilledWhileInUseIsDroppedAndReplaced() throws {
        let pool = ConnectionPool(configuration: database.configuration(poolSize: 1))
        defer { pool.close() }
        #expect(throws: PostgresError.self) {
            try pool.withConnection { connection in
                try terminateAndWait([connection.backendPID])
                _ = try connection.query("SELECT 1")
            }
        }
        #expect(pool.monitor.counters.connectionsReplaced == 1)
        #expect(pool.snapshot().open == 0)
        #expect(try pool.withConnection { try $0.query("SELECT 41 + 1")[0].int(0) } == 42)
    }

    @Test func lostConnectionErrorIsClassifiedAsConnectionLoss() throws {
        let connection = try PostgresConnection(conninfo: database.url)
        defer { connection.close() }
        try terminateAndWait([connection.backendPID])
        do {
            _ = try connection.query("SELECT 1")
            Issue.record("a query on a terminated backend must fail")
        } catch let error as PostgresError {
            #expect(error.isConnectionLost)
            #expect(!connection.isOpen || connection.isMarkedBroken)
        }
    }

    @Test func unreachableServerIsNotHammeredAndFailsFast() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("storage-nosuchserver-\(getpid())")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let pool = ConnectionPool(configuration: DatabaseConfiguration(
            url: "postgresql:///postgres?host=\(directory.path)&port=1&user=appview",
            poolSize: 4, acquireTimeoutMilliseconds: 200))
        defer { pool.close() }
        let start = Date()
        let failures = Locked<[PostgresError.Kind]>([])
        // Four threads asking for connections in a tight loop for about a second.
        onThreads(4) { _ in
            while Date().timeIntervalSince(start) < 1 {
                do {
                    _ = try pool.withConnection { _ in 0 }
                } catch let error as PostgresError {
                    failures.withValue { $0.append(error.kind) }
                } catch {}
            }
        }
        let attempts = pool.monitor.counters.connectFailures
        // 50 + 100 + 200 + 400 ms of backoff fit in a second: about 5 attempts, not hundreds.
        #expect(attempts >= 2 && attempts <= 8, "\(attempts) connection attempts in one second")
        #expect(failures.current.count > attempts, "callers fail without an attempt each")
        #expect(failures.current.allSatisfy { $0 == .connection || $0 == .acquireTimeout })
    }

    @Test func serverNoticesGoToTheLoggerNotStderr() throws {
        let captured = CapturedLog()
        let connection = try PostgresConnection(conninfo: database.url, logger: captured.logger)
        defer { connection.close() }
        try connection.execute("DO $$ BEGIN RAISE NOTICE 'storage-notice-%', 7; END $$")
        #expect(captured.messages.contains { $0.contains("storage-notice-7") })
    }

    private func terminateAndWait(_ pids: Set<Int32>) throws {
        let list = pids.map(Int.init)
        try TestDatabase.admin { admin in
            try admin.query("SELECT pg_terminate_backend(pid) FROM unnest($1::int[]) AS pid", [list])
            let gone = try eventually {
                try admin.query("SELECT count(*) FROM pg_stat_activity WHERE pid = ANY($1::int[])", [list])[0].int(0) == 0
            }
            #expect(gone, "terminated backends exit")
        }
    }
}
