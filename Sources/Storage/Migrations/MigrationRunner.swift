import Foundation
import Logging

/// Applies `migrations/NNNN_name.sql` files in order, each in its own transaction, recording a
/// checksum in `schema_migrations`. A PostgreSQL advisory lock serialises concurrent runners.
public struct MigrationRunner: Sendable {
    /// One migration file.
    public struct Migration: Sendable, Equatable {
        public var version: Int
        public var name: String
        public var sql: String
        public var checksum: String
    }

    public let directory: URL
    let logger: Logger

    /// Arbitrary constant: the advisory lock key that serialises migration runs.
    static let advisoryLockKey: Int64 = 7_245_110_001

    public init(directory: URL, logger: Logger = Logger(label: "appview.storage.migrations")) {
        self.directory = directory
        self.logger = logger
    }

    /// The directory named by `MIGRATIONS_DIR`, else `./migrations`.
    public static func defaultDirectory(environment: [String: String] = ProcessInfo.processInfo.environment) -> URL {
        if let path = environment["MIGRATIONS_DIR"], !path.isEmpty { return URL(fileURLWithPath: path) }
        return URL(fileURLWithPath: FileManager.default.currentDirectoryPath).appendingPathComponent("migrations")
    }

    /// Reads and orders the migration files.
    public func loadMigrations() throws -> [Migration] {
        let names = try FileManager.default.contentsOfDirectory(atPath: directory.path)
        var migrations: [Migration] = []
        for name in names where name.hasSuffix(".sql") {
            let digits = name.prefix { $0.isNumber }
            guard digits.count == 4, let version = Int(digits) else {
                throw ConfigurationError("migration file \(name) must be named NNNN_name.sql")
            }
            let sql = try String(contentsOf: directory.appendingPathComponent(name), encoding: .utf8)
            migrations.append(Migration(
                version: version, name: String(name.dropLast(4)), sql: sql, checksum: Checksum.fnv1a64Hex(sql)))
        }
        migrations.sort { $0.version < $1.version }
        for (a, b) in zip(migrations, migrations.dropFirst()) where a.version == b.version {
            throw ConfigurationError("two migrations share version \(a.version): \(a.name), \(b.name)")
        }
        return migrations
    }

    /// Applies every pending migration; returns the versions applied now.
    @discardableResult
    public func migrate(_ pool: ConnectionPool) throws -> [Int] {
        let migrations = try loadMigrations()
        return try pool.withConnection { connection in
            try waitForMigrationLock(connection)
            defer { _ = try? connection.query("SELECT pg_advisory_unlock($1::bigint)", [Self.advisoryLockKey]) }
            try connection.execute("""
                CREATE TABLE IF NOT EXISTS schema_migrations (
                    version integer PRIMARY KEY,
                    name text NOT NULL,
                    checksum text NOT NULL,
                    applied_at timestamptz NOT NULL DEFAULT now()
                )
                """)
            let applied = try appliedChecksums(connection)
            var appliedNow: [Int] = []
            for migration in migrations {
                if let checksum = applied[migration.version] {
                    guard checksum == migration.checksum else {
                        throw ConfigurationError(
                            "migration file \(migration.name).sql was edited after it was applied (checksum \(checksum) in the database, \(migration.checksum) on disk): restore it and add a new migration instead of editing an applied one")
                    }
                    continue
                }
                logger.info("applying migration", metadata: ["migration": "\(migration.name)"])
                // Schema changes may legitimately outlast the service's statement timeout.
                try connection.execute("BEGIN; SET LOCAL statement_timeout = 0")
                do {
                    try connection.execute(migration.sql)
                    try connection.query(
                        "INSERT INTO schema_migrations (version, name, checksum) VALUES ($1::int, $2, $3)",
                        [migration.version, migration.name, migration.checksum])
                    try connection.execute("COMMIT")
                } catch {
                    _ = try? connection.execute("ROLLBACK")
                    throw error
                }
                appliedNow.append(migration.version)
            }
            return appliedNow
        }
    }

    /// Longest wait for another process's migration run to finish.
    static let lockWaitLimitSeconds: TimeInterval = 600

    /// Takes the migration lock, polling so that the wait is not cut short by `statement_timeout`
    /// and says in the log why this process is waiting.
    private func waitForMigrationLock(_ connection: PostgresConnection) throws {
        let deadline = Date(timeIntervalSinceNow: Self.lockWaitLimitSeconds)
        var announced = false
        while try connection.query("SELECT pg_try_advisory_lock($1::bigint)", [Self.advisoryLockKey])[0].bool(0) != true {
            guard Date() < deadline else {
                throw ConfigurationError(
                    "another process has been applying migrations for over \(Int(Self.lockWaitLimitSeconds)) s (advisory lock \(Self.advisoryLockKey)); check pg_locks and retry")
            }
            if !announced {
                logger.info("another process is applying migrations; waiting for it to finish")
                announced = true
            }
            Thread.sleep(forTimeInterval: 0.1)
        }
    }

    /// Fails with a clear message unless every migration on disk is applied (with the same checksum).
    /// Returns the schema version (highest applied).
    @discardableResult
    public func requireUpToDate(_ pool: ConnectionPool) throws -> Int {
        let migrations = try loadMigrations()
        let applied = try pool.withConnection { try appliedChecksums($0) }
        let missing = migrations.filter { applied[$0.version] == nil }
        if !missing.isEmpty {
            throw ConfigurationError(
                "the database schema is older than this build: \(missing.count) migration(s) pending (\(missing.map(\.name).joined(separator: ", "))); run `appview-ingest migrate` first")
        }
        return applied.keys.max() ?? 0
    }

    /// The highest applied version, or 0 for an empty database.
    public static func currentVersion(_ connection: PostgresConnection) throws -> Int {
        let exists = try connection.query("SELECT to_regclass('schema_migrations') IS NOT NULL")
        guard exists[0].bool(0) == true else { return 0 }
        return try connection.query("SELECT coalesce(max(version), 0) FROM schema_migrations")[0].int(0) ?? 0
    }

    private func appliedChecksums(_ connection: PostgresConnection) throws -> [Int: String] {
        let exists = try connection.query("SELECT to_regclass('schema_migrations') IS NOT NULL")
        guard exists[0].bool(0) == true else { return [:] }
        var applied: [Int: String] = [:]
        for row in try connection.query("SELECT version, checksum FROM schema_migrations").rows {
            if let version = row.int(0), let checksum = row.string(1) { applied[version] = checksum }
        }
        return applied
    }
}

/// A stable content hash for migration files (not for security).
enum Checksum {
    static func fnv1a64Hex(_ text: String) -> String {
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        for byte in text.utf8 {
            hash ^= UInt64(byte)
            hash = hash &* 0x100_0000_01b3
        }
        let hex = String(hash, radix: 16)
        return String(repeating: "0", count: 16 - hex.count) + hex
    }
}
