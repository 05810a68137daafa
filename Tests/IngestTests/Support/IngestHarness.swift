import Foundation
@testable import Ingest
import Storage
import TestSupport

/// A migrated test database with an indexer, and helpers to feed lines and read rows back.
final class IngestHarness {
    let database: TestDatabase
    let indexer: Indexer

    init(_ name: String) throws {
        database = try TestDatabase(name: name)
        indexer = Indexer(pool: database.pool)
    }

    var pool: ConnectionPool { database.pool }

    static var corpusURL: URL {
        TestDatabase.fixturesDirectory().appendingPathComponent("firehose-2026-07-04/expected_v1.jsonl")
    }

    static func corpusLines() throws -> [String] {
        try String(contentsOf: corpusURL, encoding: .utf8).split(separator: "\n").map(String.init)
    }

    /// Decodes lines (all must be valid) and applies them as one batch.
    func apply(_ lines: [String], cursor: IngestCursor? = nil) throws {
        try indexer.apply(lines.map { try JetstreamEventDecoder.decode($0).get() }, cursor: cursor)
    }

    /// Runs the importer over `lines` written to a temporary file.
    @discardableResult
    func importLines(_ lines: [String], batchSize: Int = 1000, partitions: Int = 4, source: String = "import:test") throws -> ImportStatistics {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("ingest-\(UUID().uuidString).jsonl")
        try (lines.joined(separator: "\n") + "\n").write(to: url, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(at: url) }
        return try importFile(url.path, batchSize: batchSize, partitions: partitions, source: source)
    }

    /// Runs `path` through the ingest pipeline, as `appview-ingest import` does.
    @discardableResult
    func importFile(_ path: String, batchSize: Int = 1000, partitions: Int = 4, source: String = "import:test") throws -> ImportStatistics {
        let configuration = IngestPipelineConfiguration(partitions: partitions, batchSize: batchSize, batchMaxDelayMilliseconds: 5,
                                                        queueCapacity: max(batchSize, 64), maxConcurrentOperations: 3)
        let pipeline = IngestPipeline(indexer: indexer, configuration: configuration, cursorSource: source, outageRetryLimit: 5)
        return try pipeline.run(try FileEventSource(path: path)).importStatistics
    }

    /// What the importer did before the pipeline: every valid, indexed line in file order, applied
    /// through the indexer one batch after another on one thread. The reference the pipeline is
    /// compared with.
    func applySequentially(_ lines: [String], batchSize: Int = 1000, source: String = "import:test") throws {
        var events: [JetstreamEvent] = []
        var cursor: Int64 = 0
        for line in lines {
            guard case .success(let event) = JetstreamEventDecoder.decode(Data(line.utf8)) else { continue }
            cursor = max(cursor, event.timeMicroseconds)
            if IgnoredEvents.reason(event) == nil { events.append(event) }
        }
        var start = 0
        while start < events.count {
            let end = min(events.count, start + batchSize)
            _ = try indexer.applyIsolatingFailures(Array(events[start..<end]))
            start = end
        }
        if cursor > 0 { try indexer.apply([], cursor: IngestCursor(source: source, position: cursor)) }
    }

    /// The first column of every row of `sql`, as text (NULL → "NULL").
    func strings(_ sql: String, _ parameters: [PostgresBindable?] = []) throws -> [String] {
        try pool.withConnection { connection in
            try connection.query(sql, parameters).rows.map { $0.string(0) ?? "NULL" }
        }
    }

    func int(_ sql: String, _ parameters: [PostgresBindable?] = []) throws -> Int? {
        try pool.withConnection { connection in
            let result = try connection.query(sql, parameters)
            return result.rowCount == 0 ? nil : result[0].int(0)
        }
    }

    static let tables = ["actors", "posts", "likes", "reposts", "follows", "blocks", "feed_items", "notifications",
                         "post_aggregates", "actor_aggregates", "ingest_cursor"]

    /// Every row of every table the indexer writes, as sorted text (ingest_cursor without its wall-clock column).
    /// Aggregate rows whose counts are all zero are left out: whether one exists depends on batch
    /// boundaries (a like created and deleted in one batch never touches its subject's row; in two
    /// batches it leaves a row of zeros), and readers treat a missing row as zeros.
    func dump(_ tables: [String] = IngestHarness.tables) throws -> [String: [String]] {
        var result: [String: [String]] = [:]
        for table in tables {
            let projection = table == "ingest_cursor" ? "(source, cursor)" : "t"
            let filter = switch table {
            case "post_aggregates": " WHERE like_count + repost_count + reply_count + quote_count <> 0"
            case "actor_aggregates": " WHERE followers_count + follows_count + posts_count <> 0"
            default: ""
            }
            result[table] = try strings("SELECT \(projection)::text AS row FROM \(table) t\(filter) ORDER BY 1")
        }
        return result
    }

    /// The tables on which two dumps differ, with a few differing rows each (short failure messages).
    static func differences(_ actual: [String: [String]], _ expected: [String: [String]]) -> [String] {
        tables.compactMap { table in
            let a = Set(actual[table] ?? []), e = Set(expected[table] ?? [])
            guard a != e || actual[table]?.count != expected[table]?.count else { return nil }
            return "\(table): \(actual[table]?.count ?? 0) rows vs \(expected[table]?.count ?? 0) expected; unexpected \(a.subtracting(e).sorted().prefix(3)); missing \(e.subtracting(a).sorted().prefix(3))"
        }
    }
}
