import Foundation
import Storage

/// A throwaway, migrated database on the local test cluster (`TEST_DATABASE_URL`, set by `make test`).
/// Each test suite gets its own, so suites never see each other's rows.
public final class TestDatabase: @unchecked Sendable {
    public let name: String
    public let url: String
    public let pool: ConnectionPool

    /// Creates (or recreates) database `name`, applies the migrations, and opens a pool on it.
    public init(name: String, poolSize: Int = 4, statementTimeoutMilliseconds: Int = 10_000) throws {
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
        try MigrationRunner(directory: Self.migrationsDirectory()).migrate(pool)
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
