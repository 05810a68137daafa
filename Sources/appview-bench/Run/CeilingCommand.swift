import ArgumentParser
import Foundation
import Storage

/// `appview-bench ceiling`: the database ceiling. For each template `<endpoint>.sql` in the
/// templates directory (the statements the service issues for one request, in pgbench syntax,
/// with `{{viewer}}` and `{{actor}}` standing for the request's viewer and author DIDs), runs
/// pgbench per viewer class, so the service's throughput can be compared with what PostgreSQL
/// alone sustains for the same SQL.
struct CeilingCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "ceiling",
        abstract: "pgbench the service's own SQL (templates <endpoint>.sql) per viewer class; append to <run-dir>/results.tsv.")

    @Option(help: "Directory of this run.") var runDir: String
    @Option(help: "Directory of <endpoint>.sql templates.") var templates = "bench/ceiling"
    @Option(help: "Seconds per pgbench run.") var duration = 10
    @Option(help: "Client counts, comma-separated.") var clients = "1,8,32"
    @Option(help: "Classes, comma-separated.") var classes = ViewerClass.allCases.map(\.rawValue).joined(separator: ",")

    func run() throws {
        let url = try BenchEnvironment.databaseURL()
        let runDirectory = URL(fileURLWithPath: runDir)
        guard let pgbench = PgbenchRunner.locate() else { throw BenchError("pgbench not found: apt-get install postgresql-client") }
        let files = try FileManager.default.contentsOfDirectory(atPath: templates).filter { $0.hasSuffix(".sql") }.sorted()
        guard !files.isEmpty else { throw BenchError("no *.sql templates in \(templates)") }
        let connection = try PostgresConnection(conninfo: url)
        let viewers = try BenchViewers.load(connection)
        let targets = try ServiceTargets(connection: connection, viewers: viewers)
        connection.close()
        let runner = PgbenchRunner(executable: pgbench, databaseURL: url,
                                   workDirectory: runDirectory.appendingPathComponent("pgbench"), durationSeconds: duration)
        for file in files {
            let endpoint = String(file.dropLast(4))
            let template = try String(contentsOfFile: "\(templates)/\(file)", encoding: .utf8)
            for className in try BenchViewers.parseList(classes) {
                // One script per (viewer, author) pair, as the wrk targets of the same endpoint and class.
                let pairs: [(viewer: String, actor: String)] = (viewers[className] ?? []).map { viewer in
                    (viewer, targets.followed[viewer]?.first ?? viewer)
                }
                let scripts = pairs.map { pair in
                    template.replacingOccurrences(of: "{{viewer}}", with: AnchorShape.literal(pair.viewer))
                        .replacingOccurrences(of: "{{actor}}", with: AnchorShape.literal(pair.actor))
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
}
