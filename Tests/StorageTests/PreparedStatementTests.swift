import Testing
import Storage
import TestSupport

/// The per-connection prepared-statement cache behind `query`, observed on the server through
/// `pg_prepared_statements` (read with the unprepared `execute`, so the observation adds no statement).
/// Temporary tables only: each test owns its session, so nothing is shared with other suites.
@Suite(.serialized) struct PreparedStatementTests {
    private func connection(capacity: Int) throws -> PostgresConnection {
        try PostgresConnection(conninfo: TestDatabase.adminURL(), preparedStatementCapacity: capacity)
    }

    /// Statements this session holds prepared on the server.
    private func serverStatementCount(_ connection: PostgresConnection, text: String? = nil) throws -> Int {
        let filter = text.map { " AND statement = '\($0.replacingOccurrences(of: "'", with: "''"))'" } ?? ""
        return try connection.execute("SELECT count(*) FROM pg_prepared_statements WHERE NOT from_sql\(filter)")[0].int(0) ?? -1
    }

    @Test func aStatementRunTwiceIsPreparedOnceAndBindsEachCallsParameters() throws {
        let connection = try connection(capacity: 8)
        let sql = "SELECT $1::int + 1"
        #expect(try connection.query(sql, [1])[0].int(0) == 2)
        #expect(try connection.query(sql, [41])[0].int(0) == 42)
        #expect(try serverStatementCount(connection, text: sql) == 1)
        #expect(try serverStatementCount(connection) == 1)
        #expect(connection.preparedStatementCount == 1)
    }

    @Test func theCacheIsBoundedAndEvictedStatementsAreDeallocated() throws {
        let connection = try connection(capacity: 10)
        for number in 0..<200 {
            #expect(try connection.query("SELECT \(number) + $1::int", [1])[0].int(0) == number + 1)
        }
        #expect(try serverStatementCount(connection) <= 10)
        #expect(connection.preparedStatementCount <= 10)
        // An evicted text still works (prepared again), and the bound still holds.
        #expect(try connection.query("SELECT 0 + $1::int", [5])[0].int(0) == 5)
        #expect(try serverStatementCount(connection) <= 10)
    }

    @Test func evictionInsideATransactionIsDeferredWithoutAbortingIt() throws {
        let connection = try connection(capacity: 5)
        try connection.execute("BEGIN")
        for number in 0..<20 {
            #expect(try connection.query("SELECT \(number) * $1::int", [2])[0].int(0) == number * 2)
        }
        #expect(connection.isInTransaction)
        try connection.execute("COMMIT")
        // The first statement after the transaction drops the deferred names.
        #expect(try connection.query("SELECT 100 * $1::int", [2])[0].int(0) == 200)
        #expect(try serverStatementCount(connection) <= 5)
    }

    @Test func aChangedResultTypeIsPreparedAgainAndTheStaleStatementDropped() throws {
        let connection = try connection(capacity: 8)
        try connection.execute("CREATE TEMP TABLE prepared_t (a int); INSERT INTO prepared_t VALUES (1)")
        let sql = "SELECT * FROM prepared_t WHERE a = $1::int"
        #expect(try connection.query(sql, [1]).columnCount == 1)
        try connection.execute("ALTER TABLE prepared_t ADD COLUMN b int DEFAULT 7")
        // Without recovery this fails with 0A000 "cached plan must not change result type".
        let after = try connection.query(sql, [1])
        #expect(after.columnCount == 2)
        #expect(after[0].int(1) == 7)
        #expect(try serverStatementCount(connection, text: sql) == 1)
    }

    @Test func statementsDroppedOnTheServerArePreparedAgain() throws {
        let connection = try connection(capacity: 8)
        #expect(try connection.query("SELECT $1::text", ["a"])[0].string(0) == "a")
        #expect(try connection.query("SELECT $1::int", [3])[0].int(0) == 3)
        try connection.execute("DEALLOCATE ALL")  // what a pooler's reset or DISCARD ALL does
        #expect(try connection.query("SELECT $1::text", ["b"])[0].string(0) == "b")
        // The other entry is stale too; the cache started over, so it runs (prepared again) inside a transaction.
        try connection.execute("BEGIN")
        #expect(try connection.query("SELECT $1::int", [4])[0].int(0) == 4)
        try connection.execute("COMMIT")
        #expect(try serverStatementCount(connection) == connection.preparedStatementCount)
    }

    @Test func aStatementThatFailedToPrepareInAFailedTransactionIsNotCached() throws {
        let connection = try connection(capacity: 8)
        try connection.execute("BEGIN")
        #expect(throws: PostgresError.self) { try connection.query("SELEC 1") }
        // The transaction is aborted: this PREPARE fails (25P02) and must leave no cache entry.
        #expect { try connection.query("SELECT $1::int * 3", [2]) } throws: { error in
            (error as? PostgresError)?.sqlState == "25P02"
        }
        try connection.execute("ROLLBACK")
        #expect(connection.preparedStatementCount == 0)
        // A poisoned entry would name a statement that does not exist: 26000 inside this transaction.
        try connection.execute("BEGIN")
        #expect(try connection.query("SELECT $1::int * 3", [2])[0].int(0) == 6)
        try connection.execute("COMMIT")
        #expect(try serverStatementCount(connection) == 1)
    }

    @Test func anExecutionErrorKeepsTheStatementUsable() throws {
        let connection = try connection(capacity: 8)
        let sql = "SELECT 10 / $1::int"
        #expect(throws: PostgresError.self) { try connection.query(sql, [0]) }
        #expect(try connection.query(sql, [5])[0].int(0) == 2)
        #expect(try serverStatementCount(connection, text: sql) == 1)
    }

    @Test func theOffSwitchSendsNoPreparedStatements() throws {
        var configuration = DatabaseConfiguration(url: try TestDatabase.adminURL(), poolSize: 1)
        configuration.preparedStatements = .off
        let pool = ConnectionPool(configuration: configuration)
        defer { pool.close() }
        try pool.withConnection { (connection: PostgresConnection) throws -> Void in
            #expect(try connection.query("SELECT $1::int", [1])[0].int(0) == 1)
            #expect(try connection.query("SELECT $1::int", [2])[0].int(0) == 2)
            #expect(try serverStatementCount(connection) == 0)
            #expect(try connection.execute("SHOW plan_cache_mode")[0].string(0) == "auto")
        }
    }

    @Test func pooledConnectionsPrepareByDefault() throws {
        let pool = ConnectionPool(configuration: DatabaseConfiguration(url: try TestDatabase.adminURL(), poolSize: 1))
        defer { pool.close() }
        try pool.withConnection { (connection: PostgresConnection) throws -> Void in
            try connection.query("SELECT $1::int", [1])
            try connection.query("SELECT $1::int", [2])
            #expect(try serverStatementCount(connection, text: "SELECT $1::int") == 1)
            #expect(try connection.execute("SHOW plan_cache_mode")[0].string(0) == "auto")
        }
    }

    @Test func forceCustomPlanPreparesAndPlansEveryExecution() throws {
        var configuration = DatabaseConfiguration(url: try TestDatabase.adminURL(), poolSize: 1)
        configuration.preparedStatements = .forceCustomPlan
        let pool = ConnectionPool(configuration: configuration)
        defer { pool.close() }
        try pool.withConnection { (connection: PostgresConnection) throws -> Void in
            for value in 1...7 { try connection.query("SELECT $1::int", [value]) }
            #expect(try serverStatementCount(connection, text: "SELECT $1::int") == 1)
            #expect(try connection.execute("SHOW plan_cache_mode")[0].string(0) == "force_custom_plan")
            let plans = try connection.execute(
                "SELECT generic_plans, custom_plans FROM pg_prepared_statements WHERE statement = 'SELECT $1::int'")
            #expect(plans[0].int(0) == 0)
            #expect(plans[0].int(1) == 7)
        }
    }
}

/// A cached statement that goes stale inside `withTransaction` costs one retry, not an error.
@Suite(.serialized) struct PreparedStatementTransactionTests {
    @Test func aStaleStatementInsideWithTransactionIsRetriedAndSucceeds() throws {
        let pool = ConnectionPool(configuration: DatabaseConfiguration(url: try TestDatabase.adminURL(), poolSize: 1))
        defer { pool.close() }
        try pool.withConnection { (connection: PostgresConnection) throws -> Void in
            try connection.execute("CREATE TEMP TABLE prepared_tx (a int); INSERT INTO prepared_tx VALUES (1)")
            #expect(try connection.query("SELECT * FROM prepared_tx WHERE a = $1::int", [1]).columnCount == 1)
            try connection.execute("ALTER TABLE prepared_tx ADD COLUMN b int DEFAULT 9")
        }
        let retriesBefore = pool.monitor.counters.transactionRetries
        var attempts = 0
        let columns = try pool.withTransaction { (connection: PostgresConnection) throws -> Int in
            attempts += 1
            return try connection.query("SELECT * FROM prepared_tx WHERE a = $1::int", [1]).columnCount
        }
        #expect(columns == 2)
        #expect(attempts == 2)
        #expect(pool.monitor.counters.transactionRetries == retriesBefore + 1)
    }
}
