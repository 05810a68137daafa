import Foundation
import Testing
import Storage
import TestSupport

/// `withTransaction` retries, statement and transaction timeouts, against the real cluster.
@Suite(.serialized) struct TransactionTests {
    let database: TestDatabase

    /// One database for the suite (a suite's `init` runs for every test).
    private static let sharedDatabase = Result {
        let database = try TestDatabase(name: "storage_transactions", applyMigrations: false)
        try database.pool.withConnection { connection in
            try connection.execute("""
                CREATE TABLE counters (id int PRIMARY KEY, value int NOT NULL);
                INSERT INTO counters VALUES (1, 0), (2, 0);
                CREATE TABLE notes (body text NOT NULL);
                """)
        }
        return database
    }

    init() throws {
        database = try Self.sharedDatabase.get()
    }

    @Test func realDeadlockIsRetriedSucceedsAndIsCounted() throws {
        let pool = ConnectionPool(configuration: database.configuration(poolSize: 2))
        defer { pool.close() }
        let firstLockTaken = [DispatchSemaphore(value: 0), DispatchSemaphore(value: 0)]
        let attempts = Locked<[Int]>([0, 0])
        let failures = Locked<[String]>([])
        // Thread 0 locks row 1 then row 2, thread 1 row 2 then row 1: a classic deadlock on the
        // first attempt; the victim's retry runs after the winner committed.
        onThreads(2) { side in
            let (first, second) = side == 0 ? (1, 2) : (2, 1)
            do {
                try pool.withTransaction { connection in
                    let attempt = attempts.withValue { $0[side] += 1; return $0[side] }
                    try connection.query("UPDATE counters SET value = value + 1 WHERE id = $1::int", [first])
                    if attempt == 1 {
                        firstLockTaken[side].signal()
                        _ = firstLockTaken[1 - side].wait(timeout: .now() + 5)
                    }
                    try connection.query("UPDATE counters SET value = value + 1 WHERE id = $1::int", [second])
                }
            } catch {
                failures.withValue { $0.append("\(error)") }
            }
        }
        #expect(failures.current.isEmpty)
        #expect(attempts.current.reduce(0, +) == 3, "one side ran twice")
        #expect(pool.monitor.counters.transactionRetries == 1)
        let values = try pool.withConnection { try $0.query("SELECT value FROM counters ORDER BY id").rows.map { $0.int(0) } }
        #expect(values == [2, 2], "both transactions committed exactly once")
        try pool.withConnection { try $0.execute("UPDATE counters SET value = 0") }
    }

    @Test func serializationFailuresAreRetriedThreeAttemptsThenReported() throws {
        let pool = ConnectionPool(configuration: database.configuration(poolSize: 1))
        defer { pool.close() }
        let attempts = Locked(0)
        let start = Date()
        do {
            try pool.withTransaction { connection in
                attempts.withValue { $0 += 1 }
                try connection.execute("DO $$ BEGIN RAISE EXCEPTION 'conflict' USING ERRCODE = 'serialization_failure'; END $$")
            }
            Issue.record("the third failure must be reported")
        } catch let error as PostgresError {
            #expect(error.sqlState == SQLState.serializationFailure)
            #expect(error.isRetryableTransactionConflict)
        }
        #expect(attempts.current == 3)
        #expect(pool.monitor.counters.transactionRetries == 2)
        // Pauses of 100 and 200 ms between the attempts.
        #expect(milliseconds(since: start) >= 290)
    }

    @Test func failedBodyRollsBackAndLeavesConnectionReusable() throws {
        struct Abort: Error {}
        #expect(throws: Abort.self) {
            try database.pool.withTransaction { connection in
                try connection.query("INSERT INTO notes (body) VALUES ($1)", ["rolled back"])
                throw Abort()
            }
        }
        let count = try database.pool.withConnection { try $0.query("SELECT count(*) FROM notes WHERE body = 'rolled back'")[0].int(0) }
        #expect(count == 0)
    }

    @Test func statementTimeoutFailsWith57014() throws {
        let pool = ConnectionPool(configuration: database.configuration(poolSize: 1, statementTimeoutMilliseconds: 200))
        defer { pool.close() }
        let start = Date()
        do {
            try pool.withConnection { try $0.query("SELECT pg_sleep(5)") }
            Issue.record("pg_sleep(5) must be cancelled after 200 ms")
        } catch let error as PostgresError {
            #expect(error.sqlState == "57014")
            #expect(error.isStatementTimeout)
            #expect(!error.isConnectionLost)
        }
        #expect(milliseconds(since: start) < 2000)
        // The connection survives a cancelled statement.
        #expect(try pool.withConnection { try $0.query("SELECT 1")[0].int(0) } == 1)
        #expect(pool.monitor.counters.connectionsReplaced == 0)
    }

    @Test func idleInTransactionAndStatementTimeoutsAreSetOnEveryConnection() throws {
        var configuration = database.configuration(poolSize: 1, statementTimeoutMilliseconds: 1234)
        configuration.idleInTransactionTimeoutMilliseconds = 4321
        let pool = ConnectionPool(configuration: configuration)
        defer { pool.close() }
        let settings = try pool.withConnection { connection in
            try connection.query("SELECT current_setting('statement_timeout'), current_setting('idle_in_transaction_session_timeout'), current_setting('TimeZone')")[0]
        }
        #expect(settings.string(0) == "1234ms")
        #expect(settings.string(1) == "4321ms")
        #expect(settings.string(2) == "UTC")
    }

    @Test func sessionLeftIdleInTransactionIsEndedByTheServerAndReplaced() throws {
        var configuration = database.configuration(poolSize: 1)
        configuration.idleInTransactionTimeoutMilliseconds = 200
        let pool = ConnectionPool(configuration: configuration)
        defer { pool.close() }
        do {
            try pool.withConnection { connection in
                try connection.execute("BEGIN")
                Thread.sleep(forTimeInterval: 0.5)
                try connection.query("SELECT 1")
            }
            Issue.record("the server must end a session idle in a transaction for 500 ms")
        } catch let error as PostgresError {
            #expect(error.isConnectionLost, "\(error)")
        }
        #expect(pool.monitor.counters.connectionsReplaced == 1)
        #expect(try pool.withConnection { try $0.query("SELECT 1")[0].int(0) } == 1)
    }

    @Test func transactionExceedingItsOwnTimeoutFailsAndIsCounted() throws {
        let pool = ConnectionPool(configuration: database.configuration(
            poolSize: 1, statementTimeoutMilliseconds: 10_000, transactionTimeoutMilliseconds: 300))
        defer { pool.close() }
        let start = Date()
        do {
            try pool.withTransaction { try $0.query("SELECT pg_sleep(5)") }
            Issue.record("the transaction must not outlive its 300 ms budget")
        } catch let error as PostgresError {
            #expect(error.kind == .transactionTimeout)
            #expect(error.isTransactionTimeout)
            #expect(error.sqlState == "57014")
        }
        #expect(milliseconds(since: start) < 2000)
        #expect(pool.monitor.counters.transactionTimeouts == 1)
    }

    @Test func bodyReturningAfterTheDeadlineIsRolledBack() throws {
        let pool = ConnectionPool(configuration: database.configuration(poolSize: 1))
        defer { pool.close() }
        #expect {
            try pool.withTransaction(timeoutMilliseconds: 100) { connection in
                try connection.query("INSERT INTO notes (body) VALUES ($1)", ["too late"])
                Thread.sleep(forTimeInterval: 0.2)
            }
        } throws: { error in
            (error as? PostgresError)?.kind == .transactionTimeout
        }
        let count = try pool.withConnection { try $0.query("SELECT count(*) FROM notes WHERE body = 'too late'")[0].int(0) }
        #expect(count == 0)
        #expect(pool.monitor.counters.transactionTimeouts == 1)
    }

    @Test func noRetryStartsThatWouldOverrunTheBudget() throws {
        let pool = ConnectionPool(configuration: database.configuration(poolSize: 1))
        defer { pool.close() }
        let attempts = Locked(0)
        #expect {
            try pool.withTransaction(timeoutMilliseconds: 150) { connection in
                attempts.withValue { $0 += 1 }
                Thread.sleep(forTimeInterval: 0.1)
                try connection.execute("DO $$ BEGIN RAISE EXCEPTION 'deadlock' USING ERRCODE = 'deadlock_detected'; END $$")
            }
        } throws: { error in
            (error as? PostgresError)?.kind == .transactionTimeout
        }
        #expect(attempts.current == 1, "a 100 ms pause after 100 ms of work does not fit a 150 ms budget")
        #expect(pool.monitor.counters.transactionRetries == 0)
        #expect(pool.monitor.counters.transactionTimeouts == 1)
    }
}
