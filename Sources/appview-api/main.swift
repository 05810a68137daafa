import API
import Foundation
import Logging
import Storage

// appview-api: the read API as a FastCGI server behind nginx. Configuration comes from the
// environment (docs/CONTRACTS.md); exit 2 = invalid configuration, 1 = cannot start, 0 = clean stop.

// Before any thread exists, so every thread inherits the mask and only `wait()` below sees them.
let terminationSignals = TerminationSignals()
terminationSignals.block()

let arguments = CommandLine.arguments.dropFirst()
if arguments.contains("--help") || arguments.contains("-h") {
    print(APIConfiguration.usage)
    exit(0)
}
if let unknown = arguments.first {
    FileHandle.standardError.write(Data("appview-api: unknown argument \(unknown) (configuration comes from the environment; see --help)\n".utf8))
    exit(2)
}

let logLevel = ProcessInfo.processInfo.environment["LOG_LEVEL"].flatMap { Logger.Level(rawValue: $0.lowercased()) } ?? .info
LoggingSystem.bootstrap { label in
    var handler = StreamLogHandler.standardError(label: label)
    handler.logLevel = logLevel
    return handler
}
let logger = Logger(label: "appview.api")

func fail(_ message: String, exitCode: Int32) -> Never {
    FileHandle.standardError.write(Data("appview-api: \(message)\n".utf8))
    exit(exitCode)
}

let configuration: APIConfiguration
do {
    configuration = try APIConfiguration.fromEnvironment()
} catch {
    fail("invalid configuration: \(error)", exitCode: 2)
}

let pool = ConnectionPool(configuration: configuration.database)
pool.monitor.start()
let migrations = MigrationRunner(directory: MigrationRunner.defaultDirectory())
let schemaVersion: Int
let expectedSchemaVersion: Int?
do {
    schemaVersion = try migrations.requireUpToDate(pool)
    expectedSchemaVersion = try migrations.loadMigrations().last?.version
} catch let error as ConfigurationError {
    fail("refusing to start: \(error) (migrations in \(migrations.directory.path))", exitCode: 1)
} catch {
    fail("cannot check the database schema: \(error)", exitCode: 1)
}

let service = AppViewService(
    pool: pool, xrpc: XRPCRouter(pool: pool, imageURLTemplate: configuration.imageURLTemplate),
    operations: OperationsEndpoints(pool: pool, expectedSchemaVersion: expectedSchemaVersion))
let server = FastCGIServer(
    configuration: FastCGIServer.Configuration(listen: configuration.listen, threads: configuration.threads),
    handler: service)

do {
    try server.start()
} catch {
    fail("cannot start the FastCGI server: \(error)", exitCode: 1)
}
let database = configuration.database
logger.info("appview-api started", metadata: [
    "listen": "\(configuration.listen)", "threads": "\(configuration.threads)",
    "database": "\(APIConfiguration.redacted(database.url))", "poolSize": "\(database.poolSize)",
    "acquireTimeoutMs": "\(database.acquireTimeoutMilliseconds)",
    "statementTimeoutMs": "\(database.statementTimeoutMilliseconds)",
    "connectTimeoutS": "\(database.connectTimeoutSeconds)", "schemaVersion": "\(schemaVersion)",
    "pid": "\(getpid())",
])

if database.poolSize > configuration.threads {
    logger.warning("DB_POOL_SIZE is above API_THREADS: the extra connections can never be used", metadata: [
        "poolSize": "\(database.poolSize)", "threads": "\(configuration.threads)",
    ])
}

let received = terminationSignals.wait()
logger.info("shutting down", metadata: ["signal": "\(TerminationSignals.name(received))"])
let finishedCleanly = server.shutdown(gracePeriod: 10)
pool.close()
logger.info("appview-api stopped", metadata: ["clean": "\(finishedCleanly)"])
exit(0)
