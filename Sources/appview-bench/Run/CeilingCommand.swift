import ArgumentParser
import API
import Foundation
import Storage

/// `appview-bench ceiling`: the database ceiling. For each endpoint, pgbench runs the statements
/// the service issues for one request (`CeilingScripts`, built from the API's SQL constants) per
/// viewer class, one script per viewer, so the service's throughput can be compared with what
/// PostgreSQL alone sustains for the same SQL. The scripts are kept in <run-dir>/pgbench/.
struct CeilingCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "ceiling",
        abstract: "pgbench the service's own SQL per endpoint and viewer class; append to <run-dir>/results.tsv.")

    @Option(help: "Directory of this run.") var runDir: String
    @Option(help: "Endpoints, comma-separated.") var endpoints = CeilingScripts.endpoints.joined(separator: ",")
    @Option(help: "Seconds per pgbench run.") var duration = 10
    @Option(help: "Client counts, comma-separated.") var clients = "1,8,32"
    @Option(help: "Classes, comma-separated.") var classes = ViewerClass.allCases.map(\.rawValue).joined(separator: ",")

    func run() throws {
        let url = try BenchEnvironment.databaseURL()
        let runDirectory = URL(fileURLWithPath: runDir)
        guard let pgbench = PgbenchRunner.locate() else { throw BenchError("pgbench not found: apt-get install postgresql-client") }
        let connection = try PostgresConnection(conninfo: url)
        let viewers = try BenchViewers.load(connection)
        let targets = try ServiceTargets(connection: connection, viewers: viewers)
        let originators = try Self.originatorCounts(viewers.values.flatMap { $0 }, on: connection)
        connection.close()
        let runner = PgbenchRunner(executable: pgbench, databaseURL: url,
                                   workDirectory: runDirectory.appendingPathComponent("pgbench"), durationSeconds: duration)
        for endpoint in try BenchViewers.parseList(endpoints) {
            for className in try BenchViewers.parseList(classes) {
                // One script per (viewer, author) pair, as the wrk targets of the same endpoint and class.
                let scripts = try (viewers[className] ?? []).map { viewer in
                    try CeilingScripts.script(endpoint: endpoint, viewer: viewer, actor: targets.followed[viewer]?.first ?? viewer,
                                              originatorCount: originators[viewer] ?? 1, timelineCursor: targets.timelineCursor)
                }
                for count in try BenchViewers.parseList(clients).compactMap(Int.init) {
                    let outcome = try runner.run(label: "ceiling-\(endpoint)-\(className)-c\(count)", scripts: scripts, clients: count)
                    var result = BenchResult(kind: .ceiling, name: endpoint, viewerClass: className, clients: count,
                                             requestsPerSecond: outcome.transactionsPerSecond,
                                             p50: outcome.latency?.p50 ?? 0, p99: outcome.latency?.p99 ?? 0,
                                             count: outcome.latency?.count ?? 0)
                    result.errors = outcome.failed
                    try BenchResult.append([result], to: runDirectory)
                    print(String(format: "ceiling %@ %@ c=%d: %.0f tx/s, p50 %.2f ms, p99 %.2f ms",
                                 endpoint, className, count, result.requestsPerSecond, result.p50, result.p99))
                }
            }
        }
    }

    /// Timeline originators per viewer as `GetTimeline` computes them: follows + the viewer −
    /// blocked either way − inactive (from `TimelineQuery.followsAndBlocks` itself).
    static func originatorCounts(_ viewers: [String], on connection: PostgresConnection) throws -> [String: Int] {
        var counts: [String: Int] = [:]
        for viewer in viewers {
            let graph = try connection.query(TimelineQuery.followsAndBlocks, [viewer])
            var follows: Set<String> = [viewer], excluded = Set<String>()
            for row in graph.rows {
                guard let did = row.string(1) else { continue }
                if row.string(0) == "f" { follows.insert(did) } else { excluded.insert(did) }
            }
            counts[viewer] = follows.subtracting(excluded).count
        }
        return counts
    }
}
