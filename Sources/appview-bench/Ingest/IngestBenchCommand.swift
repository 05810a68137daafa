import ArgumentParser
import Foundation
import Ingest
import Logging
import Storage

/// `appview-bench ingest`: replays a Jetstream JSONL file through the ingest pipeline into a fresh
/// database and reports events/s, event-to-commit latency, peak resident memory and the table
/// counts. `--mode one-per-transaction` runs the same stream through the same code with batching
/// off (one partition, one event per transaction): the baseline. Run each mode in its own process
/// so the peak memory is that mode's own.
struct IngestBenchCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "ingest", abstract: "Replays a JSONL file through the ingest pipeline into a fresh database; appends a TSV row.")

    enum Mode: String, ExpressibleByArgument { case pipeline, onePerTransaction = "one-per-transaction" }

    @Option(help: "Jetstream JSONL file.") var file: String?
    @Option(help: "Read from this Jetstream subscribe URL (the local replayer) instead of --file; stops after --limit events.")
    var jetstream: String?
    @Option(help: "Database to (re)create on the DATABASE_URL server.") var database: String
    @Option(help: "pipeline (knobs from the INGEST_* environment) or one-per-transaction.") var mode: Mode = .pipeline
    @Option(help: "Read at most this many events.") var limit: Int?
    @Option(help: "Pace the source at this many events/s (latency at a sustained rate); default: as fast as it goes.") var rate: Int?
    @Option(help: "The rate (events/s) a source paced outside this process sends at (the replayer's --rate), for the report.")
    var sourceRate: Int?
    @Option(help: "TSV file the result row is appended to.") var out: String?
    @Option(help: "global (the product) or unsafe-none (measures what the global writer lock costs; counts may drift).")
    var writerLock = "global"

    func validate() throws {
        guard (file == nil) != (jetstream == nil) else { throw ValidationError("give exactly one of --file and --jetstream") }
        if jetstream != nil && limit == nil { throw ValidationError("--jetstream needs --limit: a live source never ends") }
    }

    func run() throws {
        let adminURL = try BenchEnvironment.databaseURL()
        let admin = try PostgresConnection(conninfo: adminURL)
        try admin.execute("DROP DATABASE IF EXISTS \"\(database)\" WITH (FORCE)")
        try admin.execute("CREATE DATABASE \"\(database)\"")
        admin.close()
        var databaseConfiguration = try DatabaseConfiguration.fromEnvironment(defaults: DatabaseConfiguration(
            url: "", poolSize: 8, statementTimeoutMilliseconds: 30_000, applicationName: "appview-bench-ingest"))
        databaseConfiguration.url = Self.replacingDatabase(in: adminURL, with: database)
        let pool = ConnectionPool(configuration: databaseConfiguration)
        defer { pool.close() }
        try MigrationRunner(directory: MigrationRunner.defaultDirectory()).migrate(pool)

        let configuration: IngestPipelineConfiguration
        switch mode {
        case .pipeline:
            configuration = try IngestPipelineConfiguration.fromEnvironment(ProcessInfo.processInfo.environment, poolSize: databaseConfiguration.poolSize)
        case .onePerTransaction:
            configuration = IngestPipelineConfiguration(partitions: 1, batchSize: 1, batchMaxDelayMilliseconds: 1, queueCapacity: 1000,
                                                        maxConcurrentOperations: 1)
        }
        guard let lockMode = Indexer.WriterLock(rawValue: writerLock) else { throw ValidationError("--writer-lock: global or unsafe-none") }
        let indexer = Indexer(pool: pool, configuration: configuration, writerLock: lockMode)
        let pipeline = IngestPipeline(indexer: indexer, configuration: configuration, cursorSource: "bench")
        let inner: EventSource
        if let jetstream {
            var environment = ProcessInfo.processInfo.environment
            environment["JETSTREAM_URL"] = jetstream
            inner = JetstreamSource(configuration: try JetstreamSourceConfiguration.fromEnvironment(environment),
                                    resumeCursor: { [pipeline] in pipeline.committedCursor > 0 ? pipeline.committedCursor : nil },
                                    logger: Logger(label: "appview.bench.jetstream"))
        } else {
            inner = try FileEventSource(path: file!)
        }
        let source = BenchSource(inner: inner, limit: limit, rate: rate)
        let sampler = RSSSampler(pid: getpid())
        sampler.start()
        let started = Date()
        let values = try pipeline.run(source)
        let seconds = Date().timeIntervalSince(started)
        let memory = sampler.stop()

        let counts = try pool.withConnection { connection in
            try ["posts", "likes", "reposts", "follows", "blocks", "actors", "feed_items", "notifications"].map { table in
                "\(table)=\(try connection.query("SELECT count(*) FROM \(table)")[0].int(0) ?? -1)"
            }.joined(separator: " ")
        }
        let accounted = values.applied + values.ignoredCount + values.errorCount + values.skippedApplied
        let rateValue = Double(values.applied) / seconds
        let peakMB = Double(max(memory.highWaterMarkKilobytes, memory.peakRSSKilobytes)) / 1024
        let row = [mode.rawValue + (jetstream == nil ? "" : " websocket"), String(values.received), String(values.applied), String(format: "%.1f", seconds),
                   String(format: "%.0f", rateValue), String(format: "%.1f", values.latencyMilliseconds(0.5) ?? -1),
                   String(format: "%.1f", values.latencyMilliseconds(0.99) ?? -1), String(format: "%.0f", peakMB),
                   String(values.batches), String(format: "%.1f", values.meanBatchSize), String(indexer.conflicts.deadlocks),
                   String(pool.monitor.counters.transactionRetries), String(values.errorCount), String(values.received - accounted),
                   (rate ?? sourceRate).map(String.init) ?? "max", "partitions=\(configuration.partitions) batch=\(configuration.batchSize) ops=\(configuration.maxConcurrentOperations) lock=\(writerLock)",
                   counts]
        print("mode\treceived\tapplied\tseconds\tevents_per_s\tp50_ms\tp99_ms\tpeak_rss_mb\tbatches\tmean_batch\tdeadlocks\tretries\terrors\tunaccounted\trate\tconfig\tcounts")
        print(row.joined(separator: "\t"))
        if let out {
            let line = row.joined(separator: "\t") + "\n"
            if let handle = FileHandle(forWritingAtPath: out) {
                handle.seekToEndOfFile()
                handle.write(Data(line.utf8))
                try handle.close()
            } else {
                try line.write(toFile: out, atomically: true, encoding: .utf8)
            }
        }
        guard values.received == accounted else { throw BenchError("\(values.received - accounted) events unaccounted for") }
    }

    static func replacingDatabase(in url: String, with name: String) -> String {
        guard let schemeEnd = url.range(of: "://") else { return url + " dbname=\(name)" }
        let afterScheme = url[schemeEnd.upperBound...]
        guard let slash = afterScheme.firstIndex(of: "/") else { return url + "/" + name }
        let rest = url[slash...]
        let query = rest.firstIndex(of: "?").map { String(url[$0...]) } ?? ""
        return String(url[..<slash]) + "/" + name + query
    }
}

/// A file or Jetstream source, optionally cut at `limit` events and paced at `rate` events/s.
final class BenchSource: EventSource, @unchecked Sendable {
    let file: EventSource
    let limit: Int?
    let rate: Int?
    private var served = 0
    private var started: Date?

    init(inner: EventSource, limit: Int?, rate: Int?) {
        self.file = inner
        self.limit = limit
        self.rate = rate
    }

    func next() throws -> SourceEvent? {
        if let limit, served >= limit {
            file.stop()  // a live source holds a connection open: close it
            return nil
        }
        if let rate {
            let start = started ?? Date()
            started = start
            let due = start.addingTimeInterval(Double(served) / Double(rate))
            let wait = due.timeIntervalSinceNow
            if wait > 0.0005 { Thread.sleep(forTimeInterval: wait) }
        }
        served += 1
        return try file.next()
    }

    func stop() { file.stop() }
}
