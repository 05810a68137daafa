import ArgumentParser
import Foundation
import Storage

/// `appview-bench anchors`: times the replaced systems' timeline shapes per viewer class with
/// pgbench, and counts the rows each viewer's page returns (short pages show up here).
struct AnchorsCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "anchors",
        abstract: "Time the anchor query shapes (a) and (b) per viewer class; append to <run-dir>/results.tsv.")

    @Option(help: "Directory of this run (results.tsv, pgbench scripts and logs).") var runDir: String
    @Option(help: "Seconds per pgbench run.") var duration = 10
    @Option(help: "Client counts, comma-separated.") var clients = "1,8"
    @Option(help: "Classes, comma-separated (default: all).") var classes = ViewerClass.allCases.map(\.rawValue).joined(separator: ",")

    func run() throws {
        let url = try BenchEnvironment.databaseURL()
        let runDirectory = URL(fileURLWithPath: runDir)
        try FileManager.default.createDirectory(at: runDirectory, withIntermediateDirectories: true)
        guard let pgbench = PgbenchRunner.locate() else {
            throw BenchError("pgbench not found: apt-get install postgresql-client (or set PGBENCH)")
        }
        let connection = try PostgresConnection(conninfo: url, settings: ["statement_timeout": "0"])
        defer { connection.close() }
        let viewers = try BenchViewers.load(connection)
        let cursor = try BenchViewers.endAt(connection)
        let runner = PgbenchRunner(executable: pgbench, databaseURL: url,
                                   workDirectory: runDirectory.appendingPathComponent("pgbench"), durationSeconds: duration)
        let clientCounts = try BenchViewers.parseList(clients).map { value -> Int in
            guard let n = Int(value), n >= 1 else { throw ValidationError("bad client count \(value)") }
            return n
        }
        for shape in AnchorShape.allCases {
            for className in try BenchViewers.parseList(classes) {
                guard let dids = viewers[className], !dids.isEmpty else { throw ValidationError("no viewers of class \(className)") }
                let scripts = dids.map { shape.sql(viewer: $0, cursor: cursor) }
                // One pass over every viewer: warms the cache and counts the rows of each page.
                var rowCounts: [Int] = []
                for script in scripts { rowCounts.append(try connection.query(script).rowCount) }
                rowCounts.sort()
                for clientCount in clientCounts {
                    let outcome = try runner.run(label: "anchor-\(shape.rawValue)-\(className)-c\(clientCount)", scripts: scripts, clients: clientCount)
                    var result = BenchResult(kind: .anchor, name: shape.rawValue, viewerClass: className, clients: clientCount,
                                             requestsPerSecond: outcome.transactionsPerSecond,
                                             p50: outcome.latency?.p50 ?? 0, p99: outcome.latency?.p99 ?? 0,
                                             count: outcome.latency?.count ?? 0)
                    result.rowsMin = rowCounts.first ?? 0
                    result.rowsMedian = rowCounts[rowCounts.count / 2]
                    result.errors = outcome.failed
                    try BenchResult.append([result], to: runDirectory)
                    print(String(format: "anchor %@ %@ c=%d: %.1f tps, p50 %.1f ms, p99 %.1f ms, rows min %d median %d (%d tx)",
                                 shape.rawValue, className, clientCount, result.requestsPerSecond, result.p50, result.p99,
                                 result.rowsMin, result.rowsMedian, result.count))
                }
            }
        }
    }
}

/// The benchmark viewers recorded by the generator.
enum BenchViewers {
    /// class → viewer DIDs ordered by their number.
    static func load(_ connection: PostgresConnection) throws -> [String: [String]] {
        let result = try connection.query("SELECT class, did FROM bench_viewers ORDER BY class, n")
        guard result.rowCount > 0 else { throw BenchError("bench_viewers is empty: run `appview-bench generate` first") }
        var viewers: [String: [String]] = [:]
        for row in result.rows { viewers[row.string(0)!, default: []].append(row.string(1)!) }
        return viewers
    }

    /// The dataset's "now": anchors put their cursor there.
    static func endAt(_ connection: PostgresConnection) throws -> String {
        let result = try connection.query("SELECT value FROM bench_dataset WHERE key = 'end_at'")
        guard result.rowCount == 1, let value = result[0].string(0) else { throw BenchError("bench_dataset has no end_at: regenerate") }
        return value
    }

    static func parseList(_ text: String) throws -> [String] {
        let items = text.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
        guard !items.isEmpty else { throw ValidationError("empty list") }
        return items
    }
}
