import ArgumentParser
import Foundation
import Storage

/// `appview-bench print-sql`: the service's SQL as the API module exposes it, or the pgbench
/// ceiling script of one endpoint for one viewer (what `ceiling` runs).
struct PrintSQLCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "print-sql",
        abstract: "Print one of the API's SQL constants (no name: list them), or with --script the ceiling script of an endpoint.")

    @Argument(help: "Constant, e.g. TimelineQuery.page.") var name: String?
    @Option(help: "Print the pgbench ceiling script of this endpoint (getTimeline, getAuthorFeed, listNotifications) instead.")
    var script: String?
    @Option(help: "Viewer DID for --script (default: the first viewer of --viewer-class; needs DATABASE_URL).") var viewer: String?
    @Option(help: "Viewer class for --script.") var viewerClass = "dense500"

    func run() throws {
        if let script {
            let url = try BenchEnvironment.databaseURL()
            let connection = try PostgresConnection(conninfo: url)
            defer { connection.close() }
            let viewers = try BenchViewers.load(connection)
            guard let viewer = viewer ?? viewers[viewerClass]?.first else { throw BenchError("no viewer of class \(viewerClass)") }
            let targets = try ServiceTargets(connection: connection, viewers: [viewerClass: [viewer]])
            let counts = try CeilingCommand.originatorCounts([viewer], on: connection)
            print(try CeilingScripts.script(endpoint: script, viewer: viewer, actor: targets.followed[viewer]?.first ?? viewer,
                                            originatorCount: counts[viewer] ?? 1, timelineCursor: targets.timelineCursor), terminator: "")
            return
        }
        guard let name else {
            for statement in CeilingScripts.statements { print(statement.name) }
            return
        }
        guard let statement = CeilingScripts.statements.first(where: { $0.name == name }) else {
            throw ValidationError("unknown statement \(name); known: \(CeilingScripts.statements.map(\.name).joined(separator: ", "))")
        }
        print(statement.sql)
    }
}
