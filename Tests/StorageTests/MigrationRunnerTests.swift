import Foundation
import Testing
import Storage
import TestSupport

/// Migrations from a temporary directory into throwaway databases.
@Suite(.serialized) struct MigrationRunnerTests {
    /// A temporary migrations directory with the given files.
    final class MigrationFiles {
        let directory: URL
        init(_ files: [String: String]) throws {
            directory = FileManager.default.temporaryDirectory.appendingPathComponent("storage-migrations-\(UUID().uuidString)")
            try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
            for (name, sql) in files { try write(name, sql) }
        }
        func write(_ name: String, _ sql: String) throws {
            try sql.write(to: directory.appendingPathComponent(name), atomically: true, encoding: .utf8)
        }
        deinit { try? FileManager.default.removeItem(at: directory) }
    }

    static let baseFiles = [
        "0001_create_log.sql": "CREATE TABLE applied_log (migration text NOT NULL);",
        // Sleeps so that a concurrent runner really overlaps with this one.
        "0002_fill_log.sql": "INSERT INTO applied_log VALUES ('0002'); SELECT pg_sleep(0.3);",
    ]

    @Test func freshDatabaseGetsEveryMigrationAndARerunAppliesNothing() throws {
        let database = try TestDatabase(name: "storage_migrate_fresh", applyMigrations: false)
        let files = try MigrationFiles(Self.baseFiles)
        let runner = MigrationRunner(directory: files.directory)
        #expect(try runner.migrate(database.pool) == [1, 2])
        #expect(try runner.migrate(database.pool) == [])
        let recorded = try database.pool.withConnection { connection in
            try connection.query("SELECT version, name FROM schema_migrations ORDER BY version").rows.map { "\($0.int(0)!) \($0.string(1)!)" }
        }
        #expect(recorded == ["1 0001_create_log", "2 0002_fill_log"])
        #expect(try runner.requireUpToDate(database.pool) == 2)
    }

    @Test func editedAppliedMigrationIsRefusedNamingTheFile() throws {
        let database = try TestDatabase(name: "storage_migrate_edited", applyMigrations: false)
        let files = try MigrationFiles(Self.baseFiles)
        let runner = MigrationRunner(directory: files.directory)
        try runner.migrate(database.pool)
        try files.write("0001_create_log.sql", "CREATE TABLE applied_log (migration text NOT NULL, extra int);")
        #expect {
            try runner.migrate(database.pool)
        } throws: { error in
            let message = "\(error)"
            return message.contains("0001_create_log.sql") && message.contains("edited")
        }
    }

    @Test func failingMigrationIsRolledBackAndNotRecorded() throws {
        let database = try TestDatabase(name: "storage_migrate_failing", applyMigrations: false)
        let files = try MigrationFiles([
            "0001_create_log.sql": Self.baseFiles["0001_create_log.sql"]!,
            "0002_broken.sql": "CREATE TABLE half_done (id int); SELECT * FROM no_such_table;",
        ])
        let runner = MigrationRunner(directory: files.directory)
        #expect(throws: PostgresError.self) { try runner.migrate(database.pool) }
        let state = try database.pool.withConnection { connection in
            try connection.query("SELECT (SELECT max(version) FROM schema_migrations), to_regclass('half_done') IS NULL")[0]
        }
        #expect(state.int(0) == 1)
        #expect(state.bool(1) == true)
    }

    @Test func concurrentRunnersApplyEachMigrationExactlyOnce() throws {
        let database = try TestDatabase(name: "storage_migrate_race", applyMigrations: false)
        let files = try MigrationFiles(Self.baseFiles)
        let outcomes = Locked<[String]>([])
        let start = DispatchSemaphore(value: 0)
        let groups = (0..<2).map { _ in
            startThread {
                // Each runner has its own pool, as two processes would.
                let pool = ConnectionPool(configuration: database.configuration(poolSize: 1))
                defer { pool.close() }
                start.wait()
                do {
                    let applied = try MigrationRunner(directory: files.directory).migrate(pool)
                    outcomes.withValue { $0.append(applied.map(String.init).joined(separator: ",")) }
                } catch {
                    outcomes.withValue { $0.append("error: \(error)") }
                }
            }
        }
        start.signal()
        start.signal()
        groups.forEach { $0.wait() }
        #expect(outcomes.current.sorted() == ["", "1,2"], "one runner applied both, the other found nothing to do")
        let logged = try database.pool.withConnection { try $0.query("SELECT count(*) FROM applied_log")[0].int(0) }
        #expect(logged == 1)
    }

    @Test func pendingMigrationMakesRequireUpToDateFailWithTheCommandToRun() throws {
        let database = try TestDatabase(name: "storage_migrate_pending", applyMigrations: false)
        let files = try MigrationFiles(Self.baseFiles)
        let runner = MigrationRunner(directory: files.directory)
        try runner.migrate(database.pool)
        try files.write("0003_add_index.sql", "CREATE INDEX applied_log_migration ON applied_log (migration);")
        #expect {
            try runner.requireUpToDate(database.pool)
        } throws: { error in
            let message = "\(error)"
            return message.contains("appview-ingest migrate") && message.contains("0003_add_index")
        }
        #expect(try runner.migrate(database.pool) == [3])
        #expect(try runner.requireUpToDate(database.pool) == 3)
    }

    @Test func emptyDatabaseIsReportedAsNotMigrated() throws {
        let database = try TestDatabase(name: "storage_migrate_empty", applyMigrations: false)
        let files = try MigrationFiles(Self.baseFiles)
        #expect {
            try MigrationRunner(directory: files.directory).requireUpToDate(database.pool)
        } throws: { error in
            "\(error)".contains("appview-ingest migrate")
        }
        #expect(try database.pool.withConnection { try MigrationRunner.currentVersion($0) } == 0)
    }

    @Test func badlyNamedFileIsRefused() throws {
        let files = try MigrationFiles(["1_short.sql": "SELECT 1;"])
        #expect {
            _ = try MigrationRunner(directory: files.directory).loadMigrations()
        } throws: { error in
            "\(error)".contains("1_short.sql")
        }
    }

    @Test func projectMigrationsApplyToAnEmptyDatabase() throws {
        let database = try TestDatabase(name: "storage_migrate_project")
        let runner = MigrationRunner(directory: TestDatabase.migrationsDirectory())
        let version = try runner.requireUpToDate(database.pool)
        #expect(version == (try runner.loadMigrations().map(\.version).max()))
    }
}
