import ArgumentParser
import Foundation

/// `appview-bench`: builds the read-path benchmark dataset and measures it (see bench/README.md).
@main
struct AppviewBench: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "appview-bench",
        abstract: "Read-path benchmark: dataset generator, anchor queries, pgbench ceiling, wrk service runs, report.",
        subcommands: [GenerateCommand.self, DatasetInfoCommand.self, AnchorsCommand.self, ServiceCommand.self, CeilingCommand.self,
                      PrintSQLCommand.self, ServeCommand.self, ReportCommand.self, FactCommand.self, IngestStreamCommand.self, IngestBenchCommand.self,
                      RelayDecodingBenchCommand.self])

    /// Line-buffered stdout, so progress shows up when the output is piped to a log.
    static func main() {
        setvbuf(stdout, nil, _IOLBF, 0)
        main(nil)
    }
}
