import Testing
import Storage

/// `DatabaseConfiguration.fromEnvironment`: values, defaults, and refusals that name the variable.
@Suite struct ConfigurationTests {
    let defaults = DatabaseConfiguration(url: "", poolSize: 16, statementTimeoutMilliseconds: 3000)

    @Test(arguments: ["abc", "0", "-3", "1.5", "100000"])
    func invalidPoolSizeIsRefusedNamingTheVariable(value: String) {
        do {
            _ = try DatabaseConfiguration.fromEnvironment(
                ["DATABASE_URL": "postgresql:///x", "DB_POOL_SIZE": value], defaults: defaults)
            Issue.record("DB_POOL_SIZE=\(value) must be refused")
        } catch {
            #expect("\(error)".contains("DB_POOL_SIZE=\(value)"))
        }
    }

    @Test func everyVariableIsRead() throws {
        let configuration = try DatabaseConfiguration.fromEnvironment([
            "DATABASE_URL": "postgresql:///appview?host=/tmp",
            "DB_POOL_SIZE": "7", "DB_ACQUIRE_TIMEOUT_MS": "1500", "STATEMENT_TIMEOUT_MS": "30000",
            "DB_CONNECT_TIMEOUT_S": "3", "IDLE_IN_TRANSACTION_TIMEOUT_MS": "9000", "TRANSACTION_TIMEOUT_MS": "12000",
            "DB_MONITOR_INTERVAL_S": "15",
        ], defaults: defaults)
        #expect(configuration.url == "postgresql:///appview?host=/tmp")
        #expect(configuration.poolSize == 7)
        #expect(configuration.acquireTimeoutMilliseconds == 1500)
        #expect(configuration.statementTimeoutMilliseconds == 30000)
        #expect(configuration.connectTimeoutSeconds == 3)
        #expect(configuration.idleInTransactionTimeoutMilliseconds == 9000)
        #expect(configuration.transactionTimeoutMilliseconds == 12000)
        #expect(configuration.monitorIntervalSeconds == 15)
        #expect(ConnectionPool(configuration: configuration).monitor.interval == 15)
        #expect(configuration.conninfo.contains("connect_timeout=3"))
    }

    @Test func unsetVariablesKeepTheProcessDefaults() throws {
        let configuration = try DatabaseConfiguration.fromEnvironment(["DATABASE_URL": "dbname=x"], defaults: defaults)
        #expect(configuration.poolSize == 16)
        #expect(configuration.statementTimeoutMilliseconds == 3000)
        #expect(configuration.transactionTimeoutMilliseconds == 10000)
        #expect(configuration.monitorIntervalSeconds == 60)
        #expect(configuration.conninfo.hasPrefix("dbname=x connect_timeout=5 "))
    }

    @Test(arguments: [("on", PreparedStatementMode.on), ("off", .off), ("OFF", .off), ("force_custom_plan", .forceCustomPlan)])
    func preparedStatementsModeIsRead(raw: String, mode: PreparedStatementMode) throws {
        let configuration = try DatabaseConfiguration.fromEnvironment(
            ["DATABASE_URL": "dbname=x", "DB_PREPARED_STATEMENTS": raw], defaults: defaults)
        #expect(configuration.preparedStatements == mode)
        #expect((configuration.effectivePreparedStatementCapacity == 0) == (mode == .off))
        #expect((configuration.sessionSettings["plan_cache_mode"] != nil) == (mode == .forceCustomPlan))
    }

    @Test func preparedStatementsAreOnByDefault() throws {
        let configuration = try DatabaseConfiguration.fromEnvironment(["DATABASE_URL": "dbname=x"], defaults: defaults)
        #expect(configuration.preparedStatements == .on)
        #expect(configuration.effectivePreparedStatementCapacity == 128)
    }

    @Test(arguments: ["yes", "prepared", "2"])
    func invalidPreparedStatementsModeIsRefusedNamingTheVariable(value: String) {
        #expect {
            _ = try DatabaseConfiguration.fromEnvironment(
                ["DATABASE_URL": "dbname=x", "DB_PREPARED_STATEMENTS": value], defaults: defaults)
        } throws: { error in
            "\(error)".contains("DB_PREPARED_STATEMENTS=\(value)") && "\(error)".contains("force_custom_plan")
        }
    }

    @Test func missingDatabaseURLIsRefused() {
        #expect {
            _ = try DatabaseConfiguration.fromEnvironment([:], defaults: defaults)
        } throws: { error in
            "\(error)".contains("DATABASE_URL")
        }
    }

    @Test func invalidTimeoutIsRefusedNamingTheVariable() {
        #expect {
            _ = try DatabaseConfiguration.fromEnvironment(
                ["DATABASE_URL": "dbname=x", "STATEMENT_TIMEOUT_MS": "3s"], defaults: defaults)
        } throws: { error in
            "\(error)".contains("STATEMENT_TIMEOUT_MS=3s")
        }
    }
}
