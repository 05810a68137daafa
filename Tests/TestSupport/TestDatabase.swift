import Foundation
import Storage

/// A throwaway, migrated database on the local test cluster (`TEST_DATABASE_URL`, set by `make test`).
/// Each test suite gets its own, so suites never see each other's rows.
public final class TestDatabase: @unchecked Sendable {
    public let name: String
    public let url: String
    public let pool: ConnectionPool

    /// Creates (or recreates) database `name`, applies the migrations (unless `applyMigrations` is
    /// false), and opens a pool on it.
    public init(
        name: String, poolSize: Int = 4, statementTimeoutMilliseconds: Int = 10_000, applyMigrations: Bool = true
    ) throws {
        self.name = name
        let adminURL = try Self.adminURL()
        let admin = try PostgresConnection(conninfo: adminURL)
        defer { admin.close() }
        try admin.execute("DROP DATABASE IF EXISTS \"\(name)\" WITH (FORCE)")
        try admin.execute("CREATE DATABASE \"\(name)\"")
        url = Self.replacingDatabase(in: adminURL, with: name)
        pool = ConnectionPool(configuration: DatabaseConfiguration(
            url: url, poolSize: poolSize, acquireTimeoutMilliseconds: 5000,
            statementTimeoutMilliseconds: statementTimeoutMilliseconds))
        if applyMigrations {
            try MigrationRunner(directory: Self.migrationsDirectory()).migrate(pool)
        }
    }

    /// A configuration for this database with test-friendly defaults, to build pools with other
    /// limits than `pool`'s (the caller closes such pools).
    public func configuration(
        poolSize: Int = 4, acquireTimeoutMilliseconds: Int = 5000, statementTimeoutMilliseconds: Int = 10_000,
        transactionTimeoutMilliseconds: Int = 10_000
    ) -> DatabaseConfiguration {
        DatabaseConfiguration(
            url: url, poolSize: poolSize, acquireTimeoutMilliseconds: acquireTimeoutMilliseconds,
            statementTimeoutMilliseconds: statementTimeoutMilliseconds,
            transactionTimeoutMilliseconds: transactionTimeoutMilliseconds)
    }

    /// Runs SQL on the cluster's admin database, outside any pool (e.g. `pg_terminate_backend`).
    @discardableResult
    public static func admin<T>(_ body: (PostgresConnection) throws -> T) throws -> T {
        let connection = try PostgresConnection(conninfo: adminURL())
        defer { connection.close() }
        return try body(connection)
    }

    /// The admin URL of the test cluster; fails with a clear message outside `make test`.
    public static func adminURL() throws -> String {
        guard let url = ProcessInfo.processInfo.environment["TEST_DATABASE_URL"], !url.isEmpty else {
            throw ConfigurationError("TEST_DATABASE_URL is not set: run the tests with `make test`")
        }
        return url
    }

    /// `migrations/` of this checkout (`MIGRATIONS_DIR` wins when set).
    public static func migrationsDirectory() -> URL {
        if let path = ProcessInfo.processInfo.environment["MIGRATIONS_DIR"], !path.isEmpty {
            return URL(fileURLWithPath: path)
        }
        return packageRoot().appendingPathComponent("migrations")
    }

    /// The repository root, found from this source file's location.
    public static func packageRoot() -> URL {
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    }

    /// Test fixtures folder (`Tests/Fixtures`).
    public static func fixturesDirectory() -> URL {
        packageRoot().appendingPathComponent("Tests/Fixtures")
    }

    /// Swaps the database name in a libpq URI (`postgresql:///postgres?...` → `postgresql:///<name>?...`).
    static func replacingDatabase(in url: String, with database: String) -> String {
        guard let schemeEnd = url.range(of: "://") else { return url + " dbname=\(database)" }
        let afterScheme = url[schemeEnd.upperBound...]
        let slash = afterScheme.firstIndex(of: "/") ?? afterScheme.endIndex
        let queryStart = afterScheme[slash...].firstIndex(of: "?") ?? afterScheme.endIndex
        return String(url[..<slash]) + "/" + database + String(afterScheme[queryStart...])
    }

    deinit { pool.close() }
}
