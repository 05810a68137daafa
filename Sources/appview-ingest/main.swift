import ArgumentParser
import Foundation
import Ingest
import Logging
import Storage

/// `appview-ingest`: schema migrations, Jetstream JSONL import, demo data.
struct AppViewIngest: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "appview-ingest",
        abstract: "Indexes AT Protocol events into the AppView database.",
        subcommands: [Migrate.self, Import.self, Run.self, DemoData.self, MintToken.self])
}

/// Database settings from the environment, with the ingest's defaults (pool 8, statements 30 s).
func ingestDatabaseConfiguration() throws -> DatabaseConfiguration {
    try DatabaseConfiguration.fromEnvironment(defaults: DatabaseConfiguration(
        url: "", poolSize: 8, statementTimeoutMilliseconds: 30_000, applicationName: "appview-ingest"))
}

/// Turns configuration errors into a clear message and exit status 2 instead of a crash.
func runReportingErrors(_ body: () throws -> Void) throws {
    do {
        try body()
    } catch let error as ConfigurationError {
        FileHandle.standardError.write(Data("appview-ingest: \(error.description)\n".utf8))
        throw ExitCode(2)
    } catch let error as PostgresError {
        FileHandle.standardError.write(Data("appview-ingest: database error: \(error.description)\n".utf8))
        throw ExitCode(1)
    } catch let error as ImportError {
        FileHandle.standardError.write(Data("appview-ingest: \(error.description)\n".utf8))
        throw ExitCode(1)
    } catch let error as ExitCode {
        throw error
    } catch {
        // E.g. the event source failed for good.
        FileHandle.standardError.write(Data("appview-ingest: \(error)\n".utf8))
        throw ExitCode(1)
    }
}

struct Migrate: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Applies pending migrations from MIGRATIONS_DIR (default ./migrations).")

    func run() throws {
        try runReportingErrors {
            let pool = ConnectionPool(configuration: try ingestDatabaseConfiguration())
            defer { pool.close() }
            let runner = MigrationRunner(directory: MigrationRunner.defaultDirectory())
            let applied = try runner.migrate(pool)
            let version = try runner.requireUpToDate(pool)
            print(applied.isEmpty ? "schema up to date (version \(version))" : "applied \(applied.map(String.init).joined(separator: ", ")); schema version \(version)")
        }
    }
}

struct Import: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Replays a Jetstream JSONL file (or - for standard input) through the ingest pipeline.",
        discussion: """
            Re-applies every line by default: idempotent once it has run to the end (an interrupted import \
            is exact again once an import of the same file has completed). --resume skips the events at \
            or below the stored cursor of the cursor source instead, like `run`; do not resume after an \
            interrupted full import of older events (records deleted later in the file would stay). \
            Pipeline knobs: see `run --help`.
            """)

    @Argument(help: "Jetstream JSONL file, or - for standard input.")
    var file: String

    @Option(help: "Events per transaction (default: INGEST_BATCH_SIZE, else 1000).")
    var batchSize: Int?

    @Option(help: "Cursor source name written to ingest_cursor (default: import:<file name>).")
    var cursorSource: String?

    @Flag(help: "Skip the events the stored cursor of the cursor source says are applied.")
    var resume = false

    func validate() throws {
        if let batchSize, batchSize < 1 || batchSize > 100_000 { throw ValidationError("--batch-size must be between 1 and 100000") }
    }

    func run() throws {
        try runReportingErrors {
            let databaseConfiguration = try ingestDatabaseConfiguration()
            var environment = ProcessInfo.processInfo.environment
            if let batchSize { environment["INGEST_BATCH_SIZE"] = String(batchSize) }
            let pipelineConfiguration = try IngestPipelineConfiguration.fromEnvironment(environment, poolSize: databaseConfiguration.poolSize)
            let pool = ConnectionPool(configuration: databaseConfiguration)
            defer { pool.close() }
            try MigrationRunner(directory: MigrationRunner.defaultDirectory()).requireUpToDate(pool)
            let source = try FileEventSource(path: file)
            let cursorName = cursorSource ?? "import:" + (file == "-" ? "stdin" : URL(fileURLWithPath: file).lastPathComponent)
            let indexer = Indexer(pool: pool, configuration: pipelineConfiguration)
            let storedCursor = resume ? try indexer.cursor(source: cursorName) : nil
            let pipeline = IngestPipeline(indexer: indexer, configuration: pipelineConfiguration, cursorSource: cursorName,
                                          resumeCursor: storedCursor, skipThrough: storedCursor, outageRetryLimit: 30)
            let signals = StopSignals { pipeline.stop() }
            defer { signals.cancel() }
            let progress = ProgressReporter(pipeline: pipeline)
            defer { progress.stop() }
            let counters = try pipeline.run(source)
            let statistics = counters.importStatistics
            print("imported \(statistics.applied) events from \(statistics.lines) lines in \(statistics.batches) batches"
                  + (statistics.skippedApplied > 0 ? " (\(statistics.skippedApplied) already applied, skipped)" : ""))
            print("errors: \(ImportStatistics.describe(statistics.errors))")
            print("ignored: \(ImportStatistics.describe(statistics.ignored))")
        }
    }
}

struct DemoData: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "demo-data",
        abstract: "Writes deterministic, realistic Jetstream JSONL for a demo AppView.")

    @Option(help: "Output file.")
    var out: String

    @Option(help: "Number of demo accounts.")
    var actors: Int = 40

    @Option(help: "Random seed: the same seed gives the same file.")
    var seed: UInt64 = 1

    func validate() throws {
        guard actors >= 3, actors <= 1_000_000 else { throw ValidationError("--actors must be between 3 and 1000000") }
    }

    func run() throws {
        try runReportingErrors {
            guard FileManager.default.createFile(atPath: out, contents: nil), let handle = FileHandle(forWritingAtPath: out) else {
                throw ImportError("cannot create \(out)")
            }
            defer { try? handle.close() }
            var generator = DemoDataGenerator(actorCount: actors, seed: seed)
            var buffer = ""
            let summary = try generator.generate { line in
                buffer += line
                buffer += "\n"
                if buffer.utf8.count >= 1 << 20 {
                    try handle.write(contentsOf: Data(buffer.utf8))
                    buffer = ""
                }
            }
            try handle.write(contentsOf: Data(buffer.utf8))
            print("wrote \(summary.events) events for \(summary.handles.count) accounts to \(out)")
            print("demo handles: \(summary.handles.prefix(10).joined(separator: ", "))\(summary.handles.count > 10 ? ", …" : "")")
        }
    }
}

LoggingSystem.bootstrap { label in
    var handler = StreamLogHandler.standardError(label: label)
    handler.logLevel = .info
    return handler
}
AppViewIngest.main()
