import ArgumentParser
import Foundation

/// One measured configuration (an anchor shape, a ceiling script or a service endpoint, for one
/// viewer class at one concurrency). Stored as TSV lines in `<run-dir>/results.tsv`, so the parts of
/// a run (anchors, ceiling, service) can be executed separately and reported together.
struct BenchResult: Sendable {
    enum Kind: String, Sendable { case anchor, ceiling, service }
    var kind: Kind
    var name: String
    var viewerClass: String
    var clients: Int
    var requestsPerSecond: Double
    var p50: Double
    var p99: Double
    var count: Int
    /// Rows per page over the class's viewers (anchors/ceiling): minimum and median; -1 when not measured.
    var rowsMin = -1
    var rowsMedian = -1
    /// Failed requests (non-2xx, socket errors) or failed transactions.
    var errors = 0
    var note = ""

    var tsv: String {
        [kind.rawValue, name, viewerClass, String(clients), String(format: "%.1f", requestsPerSecond),
         String(format: "%.3f", p50), String(format: "%.3f", p99), String(count), String(rowsMin), String(rowsMedian),
         String(errors), note.replacingOccurrences(of: "\t", with: " ").replacingOccurrences(of: "\n", with: " ")]
            .joined(separator: "\t")
    }

    init(kind: Kind, name: String, viewerClass: String, clients: Int, requestsPerSecond: Double, p50: Double, p99: Double, count: Int) {
        self.kind = kind
        self.name = name
        self.viewerClass = viewerClass
        self.clients = clients
        self.requestsPerSecond = requestsPerSecond
        self.p50 = p50
        self.p99 = p99
        self.count = count
    }

    init?(tsv line: Substring) {
        let f = line.split(separator: "\t", omittingEmptySubsequences: false).map(String.init)
        guard f.count >= 11, let kind = Kind(rawValue: f[0]), let clients = Int(f[3]), let rps = Double(f[4]),
              let p50 = Double(f[5]), let p99 = Double(f[6]), let count = Int(f[7]) else { return nil }
        self.init(kind: kind, name: f[1], viewerClass: f[2], clients: clients, requestsPerSecond: rps, p50: p50, p99: p99, count: count)
        rowsMin = Int(f[8]) ?? -1
        rowsMedian = Int(f[9]) ?? -1
        errors = Int(f[10]) ?? 0
        note = f.count > 11 ? f[11] : ""
    }

    static func append(_ results: [BenchResult], to runDirectory: URL) throws {
        let file = runDirectory.appendingPathComponent("results.tsv")
        if !FileManager.default.fileExists(atPath: file.path) {
            try Data().write(to: file)
        }
        let handle = try FileHandle(forWritingTo: file)
        defer { try? handle.close() }
        try handle.seekToEnd()
        try handle.write(contentsOf: Data(results.map { $0.tsv + "\n" }.joined().utf8))
    }

    static func load(from runDirectory: URL) -> [BenchResult] {
        guard let text = try? String(contentsOf: runDirectory.appendingPathComponent("results.tsv"), encoding: .utf8) else { return [] }
        return text.split(separator: "\n").compactMap { BenchResult(tsv: $0) }
    }
}

/// Key/value facts about a run (machine, dataset, RSS peak …) in `<run-dir>/facts.tsv`.
enum RunFacts {
    static func set(_ key: String, _ value: String, in runDirectory: URL) throws {
        var facts = load(from: runDirectory)
        facts[key] = value
        let text = facts.keys.sorted().map { "\($0)\t\(facts[$0]!.replacingOccurrences(of: "\n", with: "\\n"))\n" }.joined()
        try text.write(to: runDirectory.appendingPathComponent("facts.tsv"), atomically: true, encoding: .utf8)
    }

    static func load(from runDirectory: URL) -> [String: String] {
        guard let text = try? String(contentsOf: runDirectory.appendingPathComponent("facts.tsv"), encoding: .utf8) else { return [:] }
        var facts: [String: String] = [:]
        for line in text.split(separator: "\n") {
            let parts = line.split(separator: "\t", maxSplits: 1).map(String.init)
            if parts.count == 2 { facts[parts[0]] = parts[1].replacingOccurrences(of: "\\n", with: "\n") }
        }
        return facts
    }
}

/// `appview-bench fact KEY VALUE --run-dir DIR`: lets the shell harness record facts for the report.
struct FactCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "fact", abstract: "Record a key/value fact of a run (for the report).")
    @Option(help: "Directory of this run.") var runDir: String
    @Argument var key: String
    @Argument var value: String

    func run() throws {
        try FileManager.default.createDirectory(atPath: runDir, withIntermediateDirectories: true)
        try RunFacts.set(key, value, in: URL(fileURLWithPath: runDir))
    }
}
