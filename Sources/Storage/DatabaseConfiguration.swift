import Foundation

/// How to reach PostgreSQL and how to bound every connection. Read from the environment at start.
public struct DatabaseConfiguration: Sendable {
    /// libpq URI or conninfo string (`DATABASE_URL`).
    public var url: String
    /// Connections in the pool (`DB_POOL_SIZE`).
    public var poolSize: Int
    /// How long `acquire` waits for a free connection before failing (`DB_ACQUIRE_TIMEOUT_MS`).
    public var acquireTimeoutMilliseconds: Int
    /// Server-side `statement_timeout` (`STATEMENT_TIMEOUT_MS`). Short for the API (its default is
    /// 3000 ms: a read that takes longer is better answered with an error than held), long for the
    /// ingest (30000 ms: batches and COPY). A cancelled statement fails with SQLSTATE 57014.
    public var statementTimeoutMilliseconds: Int
    /// libpq `connect_timeout` in seconds (`DB_CONNECT_TIMEOUT_S`).
    public var connectTimeoutSeconds: Int
    /// Server-side `idle_in_transaction_session_timeout` (`IDLE_IN_TRANSACTION_TIMEOUT_MS`).
    public var idleInTransactionTimeoutMilliseconds: Int
    /// Limit for one `withTransaction` call, all attempts included (`TRANSACTION_TIMEOUT_MS`).
    public var transactionTimeoutMilliseconds: Int
    /// Shown in `pg_stat_activity`.
    public var applicationName: String
    /// Seconds between the pool monitor's samples and status lines (`DB_MONITOR_INTERVAL_S`, default 60).
    public var monitorIntervalSeconds: Int
    /// Server-side prepared statements for `query` (`DB_PREPARED_STATEMENTS`: `on`, `off`, `force_custom_plan`).
    public var preparedStatements: PreparedStatementMode
    /// Most prepared statements one connection keeps (least recently used evicted first).
    public var preparedStatementCacheCapacity: Int

    public init(
        url: String,
        poolSize: Int = 16,
        acquireTimeoutMilliseconds: Int = 2000,
        statementTimeoutMilliseconds: Int = 3000,
        connectTimeoutSeconds: Int = 5,
        idleInTransactionTimeoutMilliseconds: Int = 15000,
        transactionTimeoutMilliseconds: Int = 10000,
        applicationName: String = "appview",
        monitorIntervalSeconds: Int = 60,
        preparedStatements: PreparedStatementMode = .on,
        preparedStatementCacheCapacity: Int = 128
    ) {
        self.url = url
        self.poolSize = poolSize
        self.acquireTimeoutMilliseconds = acquireTimeoutMilliseconds
        self.statementTimeoutMilliseconds = statementTimeoutMilliseconds
        self.connectTimeoutSeconds = connectTimeoutSeconds
        self.idleInTransactionTimeoutMilliseconds = idleInTransactionTimeoutMilliseconds
        self.transactionTimeoutMilliseconds = transactionTimeoutMilliseconds
        self.applicationName = applicationName
        self.monitorIntervalSeconds = monitorIntervalSeconds
        self.preparedStatements = preparedStatements
        self.preparedStatementCacheCapacity = preparedStatementCacheCapacity
    }

    /// Reads the configuration from environment variables, with per-process defaults
    /// (the API wants a short statement timeout, the ingest a long one).
    public static func fromEnvironment(
        _ environment: [String: String] = ProcessInfo.processInfo.environment,
        defaults: DatabaseConfiguration
    ) throws -> DatabaseConfiguration {
        var configuration = defaults
        if let url = environment["DATABASE_URL"], !url.isEmpty { configuration.url = url }
        guard !configuration.url.isEmpty else {
            throw ConfigurationError("DATABASE_URL is not set (a libpq URI such as postgresql:///appview?host=/tmp)")
        }
        configuration.poolSize = try environment.positiveInt("DB_POOL_SIZE", default: defaults.poolSize, max: 1000)
        configuration.acquireTimeoutMilliseconds = try environment.positiveInt(
            "DB_ACQUIRE_TIMEOUT_MS", default: defaults.acquireTimeoutMilliseconds, max: 600_000)
        configuration.statementTimeoutMilliseconds = try environment.positiveInt(
            "STATEMENT_TIMEOUT_MS", default: defaults.statementTimeoutMilliseconds, max: 3_600_000)
        configuration.connectTimeoutSeconds = try environment.positiveInt(
            "DB_CONNECT_TIMEOUT_S", default: defaults.connectTimeoutSeconds, max: 300)
        configuration.idleInTransactionTimeoutMilliseconds = try environment.positiveInt(
            "IDLE_IN_TRANSACTION_TIMEOUT_MS", default: defaults.idleInTransactionTimeoutMilliseconds, max: 3_600_000)
        configuration.transactionTimeoutMilliseconds = try environment.positiveInt(
            "TRANSACTION_TIMEOUT_MS", default: defaults.transactionTimeoutMilliseconds, max: 3_600_000)
        configuration.monitorIntervalSeconds = try environment.positiveInt(
            "DB_MONITOR_INTERVAL_S", default: defaults.monitorIntervalSeconds, max: 86_400)
        if let raw = environment["DB_PREPARED_STATEMENTS"], !raw.isEmpty {
            guard let mode = PreparedStatementMode(rawValue: raw.lowercased()) else {
                let allowed = PreparedStatementMode.allCases.map(\.rawValue).joined(separator: ", ")
                throw ConfigurationError("DB_PREPARED_STATEMENTS=\(raw) is invalid: expected one of \(allowed)")
            }
            configuration.preparedStatements = mode
        }
        return configuration
    }

    /// Statements a pooled connection may keep prepared; 0 when prepared statements are off.
    public var effectivePreparedStatementCapacity: Int {
        preparedStatements == .off ? 0 : max(0, preparedStatementCacheCapacity)
    }

    /// The conninfo libpq gets: the configured URL plus the connect timeout and application name.
    /// Session settings (statement timeout …) are applied after connecting, see `sessionSettings`.
    /// TCP keepalives (ignored on unix sockets) let a connection whose peer vanished without a FIN
    /// (network cut, host gone) fail within about a minute instead of hanging, so the pool replaces it.
    public var conninfo: String {
        let options = [
            ("connect_timeout", String(connectTimeoutSeconds)), ("application_name", applicationName),
            ("keepalives", "1"), ("keepalives_idle", "30"), ("keepalives_interval", "10"), ("keepalives_count", "3"),
        ]
        if url.hasPrefix("postgres://") || url.hasPrefix("postgresql://") {
            return url + (url.contains("?") ? "&" : "?") + options.map { "\($0)=\($1)" }.joined(separator: "&")
        }
        return url + " " + options.map { "\($0)=\($1)" }.joined(separator: " ")
    }

    /// Applied with `set_config` on every new connection, so they also hold behind a pooler that drops startup options.
    public var sessionSettings: [String: String] {
        var settings = [
            "statement_timeout": String(statementTimeoutMilliseconds),
            "idle_in_transaction_session_timeout": String(idleInTransactionTimeoutMilliseconds),
            "TimeZone": "UTC",
        ]
        if preparedStatements == .forceCustomPlan { settings["plan_cache_mode"] = "force_custom_plan" }
        return settings
    }
}

/// A configuration value was missing or invalid; the message says which and why.
public struct ConfigurationError: Error, CustomStringConvertible, Sendable {
    public let description: String
    public init(_ description: String) { self.description = description }
}

extension Dictionary where Key == String, Value == String {
    /// A positive integer from the environment, or the default when unset.
    public func positiveInt(_ name: String, default defaultValue: Int, max: Int) throws -> Int {
        guard let raw = self[name], !raw.isEmpty else { return defaultValue }
        guard let value = Int(raw), value > 0, value <= max else {
            throw ConfigurationError("\(name)=\(raw) is invalid: expected an integer between 1 and \(max)")
        }
        return value
    }
}
