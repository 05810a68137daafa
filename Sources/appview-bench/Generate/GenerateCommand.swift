import ArgumentParser
import Foundation
import Storage

/// `appview-bench generate`: builds the dataset into DATABASE_URL.
struct GenerateCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "generate",
        abstract: "Build the benchmark dataset with COPY (wipes the benchmark tables of DATABASE_URL).")

    @Option(help: "Ordinary actors (viewers come on top).") var actors = 100_000
    @Option(help: "Feed items: posts + reposts.") var feedItems = 5_000_000
    @Option(help: "Likes.") var likes = 2_000_000
    @Option(help: "Mean follows per ordinary actor.") var meanFollows = 20
    @Option(help: "Viewers per class (sparse, dense50, dense500, dense2000).") var viewersPerClass = 20
    @Option(help: "Days of activity.") var days = 30
    @Option(help: "Random seed.") var seed: UInt64 = 42
    @Option(help: "Shrink every count by this factor (e.g. 0.04 for a quick run); viewers are kept.")
    var scale: Double = 1.0
    @Option(help: "Parallel COPY/index connections.") var jobs = 2
    @Flag(help: "Skip when the database already holds a complete dataset with the same parameters.")
    var ifChanged = false
    @Flag(help: "Wipe the tables even when they hold data appview-bench did not generate.")
    var replace = false

    var parameters: DatasetParameters {
        var p = DatasetParameters()
        p.actors = max(min(actors, 5 * ViewerClass.dense2000.followCount), Int(Double(actors) * scale))
        p.feedItems = max(10_000, Int(Double(feedItems) * scale))
        p.likes = max(1000, Int(Double(likes) * scale))
        p.meanFollows = meanFollows
        p.viewersPerClass = viewersPerClass
        p.days = days
        p.seed = seed
        return p
    }

    func validate() throws {
        guard scale > 0, scale <= 10 else { throw ValidationError("--scale must be in (0, 10]") }
        guard jobs >= 1, jobs <= 16 else { throw ValidationError("--jobs must be 1…16") }
        guard viewersPerClass >= 1, days >= 1, meanFollows >= 3 else {
            throw ValidationError("--viewers-per-class, --days must be ≥ 1 and --mean-follows ≥ 3")
        }
        let p = parameters
        guard p.actors >= 5 * ViewerClass.dense2000.followCount else {
            throw ValidationError("need at least \(5 * ViewerClass.dense2000.followCount) actors for the dense2000 class (got \(p.actors))")
        }
    }

    func run() throws {
        let url = try BenchEnvironment.databaseURL()
        let parameters = parameters
        if ifChanged {
            try DatasetGenerator.migrate(url)
            let connection = try PostgresConnection(conninfo: url)
            defer { connection.close() }
            if (try? DatasetGenerator.existingFingerprint(connection)) == parameters.fingerprint {
                print("dataset present with the same parameters, skipping generation (\(parameters.fingerprint))")
                return
            }
        }
        try DatasetGenerator(parameters: parameters, url: url, workers: jobs).run(replaceForeignData: replace)
    }
}

/// `appview-bench dataset-info`: what is loaded (row counts, sizes, fingerprint), as a markdown table.
struct DatasetInfoCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "dataset-info", abstract: "Describe the loaded dataset.")

    func run() throws {
        let connection = try PostgresConnection(conninfo: try BenchEnvironment.databaseURL())
        defer { connection.close() }
        print(try DatasetSummary.load(connection).markdown)
    }
}

enum BenchEnvironment {
    static func databaseURL() throws -> String {
        guard let url = ProcessInfo.processInfo.environment["DATABASE_URL"], !url.isEmpty else {
            throw ValidationError("DATABASE_URL is not set (a libpq URI, e.g. postgresql:///bench?host=/tmp&port=5432)")
        }
        return url
    }
}
