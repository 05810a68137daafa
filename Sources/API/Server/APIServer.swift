import Foundation
import Identity
import Logging
import Storage

/// The API process around `AppViewService`: pool, schema check, FastCGI server, graceful stop on
/// SIGTERM/SIGINT. `appview-api` runs it with the production authenticator; the benchmark's
/// `appview-bench serve` runs the very same setup with its own (a separate binary, so production
/// can never honour a bench-only header).
public enum APIServer {
    /// Sends swift-log output to stderr at `LOG_LEVEL` (default info). Call once, first.
    public static func bootstrapLogging(_ environment: [String: String] = ProcessInfo.processInfo.environment) {
        let level = environment["LOG_LEVEL"].flatMap { Logger.Level(rawValue: $0.lowercased()) } ?? .info
        LoggingSystem.bootstrap { label in
            var handler = StreamLogHandler.standardError(label: label)
            handler.logLevel = level
            return handler
        }
    }

    /// Serves until SIGTERM/SIGINT, then finishes running requests (up to 10 s), closes the pool
    /// and exits 0; exits 1 when it cannot start (schema behind its migrations, socket unusable).
    /// `signals` must have been blocked before any thread was started.
    /// - Parameters:
    ///   - name: the program name for messages and the log (`appview-api`).
    ///   - authenticator: decides each request's viewer.
    public static func run(
        name: String, configuration: APIConfiguration, authenticator: any ViewerAuthenticator,
        signals: TerminationSignals, logger: Logger
    ) -> Never {
        run(name: name, configuration: configuration, makeAuthenticator: { _ in authenticator }, signals: signals, logger: logger)
    }

    /// Serves with the production authenticator: atproto service auth when `SERVICE_DID` is
    /// configured (DID documents cached in memory and in `did_documents`), else
    /// `UnconfiguredServiceAuth`.
    public static func run(name: String, configuration: APIConfiguration, signals: TerminationSignals, logger: Logger) -> Never {
        run(name: name, configuration: configuration, makeAuthenticator: { pool in
            guard let serviceAuth = configuration.serviceAuth else {
                logger.notice("SERVICE_DID is not set: Authorization headers are refused, every request is anonymous")
                return UnconfiguredServiceAuth()
            }
            let resolver = DIDResolver(configuration: serviceAuth.resolver, store: DIDDocumentStore(pool: pool))
            logger.info("service auth enabled", metadata: [
                "serviceDID": "\(serviceAuth.serviceDID)", "alternates": "\(serviceAuth.alternateDIDs.joined(separator: ","))",
                "plcURL": "\(serviceAuth.resolver.plcURL)", "clockSkewS": "\(serviceAuth.clockSkewSeconds)",
                "didCacheTTLS": "\(Int(serviceAuth.resolver.cacheTTLSeconds))", "didCacheSize": "\(serviceAuth.resolver.cacheSize)",
                "didResolveTimeoutMs": "\(serviceAuth.resolver.timeoutMilliseconds)",
            ])
            return ServiceAuthVerifier(configuration: serviceAuth, keys: resolver)
        }, signals: signals, logger: logger)
    }

    private static func run(
        name: String, configuration: APIConfiguration, makeAuthenticator: (ConnectionPool) -> any ViewerAuthenticator,
        signals: TerminationSignals, logger: Logger
    ) -> Never {
        func fail(_ message: String) -> Never {
            FileHandle.standardError.write(Data("\(name): \(message)\n".utf8))
            exit(1)
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
            fail("refusing to start: \(error) (migrations in \(migrations.directory.path))")
        } catch {
            fail("cannot check the database schema: \(error)")
        }

        let service = AppViewService(
            pool: pool,
            xrpc: XRPCRouter(pool: pool, authenticator: makeAuthenticator(pool), imageURLTemplate: configuration.imageURLTemplate,
                             videoURLTemplate: configuration.videoURLTemplate),
            operations: OperationsEndpoints(pool: pool, expectedSchemaVersion: expectedSchemaVersion))
        let server = FastCGIServer(
            configuration: FastCGIServer.Configuration(listen: configuration.listen, threads: configuration.threads),
            handler: service)
        do {
            try server.start()
        } catch {
            fail("cannot start the FastCGI server: \(error)")
        }
        let database = configuration.database
        logger.info("\(name) started", metadata: [
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

        let received = signals.wait()
        logger.info("shutting down", metadata: ["signal": "\(TerminationSignals.name(received))"])
        let finishedCleanly = server.shutdown(gracePeriod: 10)
        pool.close()
        logger.info("\(name) stopped", metadata: ["clean": "\(finishedCleanly)"])
        exit(0)
    }
}
