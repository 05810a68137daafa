import Foundation

/// Runs pgbench over a set of scripts (one per viewer; pgbench picks one at random per
/// transaction) and computes p50/p99 from its per-transaction log (`--log`).
struct PgbenchRunner {
    let executable: String
    let databaseURL: String
    let workDirectory: URL
    let durationSeconds: Int

    static func locate() -> String? {
        if let path = ProcessInfo.processInfo.environment["PGBENCH"], FileManager.default.isExecutableFile(atPath: path) { return path }
        for candidate in ["/usr/bin/pgbench", "/usr/local/bin/pgbench"] + ((try? FileManager.default.contentsOfDirectory(atPath: "/usr/lib/postgresql"))?
            .sorted(by: >).map { "/usr/lib/postgresql/\($0)/bin/pgbench" } ?? []) where FileManager.default.isExecutableFile(atPath: candidate) {
            return candidate
        }
        return nil
    }

    struct Outcome {
        var transactionsPerSecond: Double
        var latency: LatencySummary?
        var failed: Int
        var output: String
    }

    /// `label` names the script and log files; `scripts` are SQL texts (one per viewer).
    func run(label: String, scripts: [String], clients: Int) throws -> Outcome {
        let directory = workDirectory.appendingPathComponent(label)
        try? FileManager.default.removeItem(at: directory)
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        var arguments = ["-n", "-M", "extended", "-c", String(clients), "-j", String(min(clients, 4)),
                         "-T", String(durationSeconds), "--random-seed=42", "--log",
                         "--log-prefix=\(directory.appendingPathComponent("txlog").path)"]
        for (i, script) in scripts.enumerated() {
            let file = directory.appendingPathComponent("viewer-\(i + 1).sql")
            try script.write(to: file, atomically: true, encoding: .utf8)
            arguments += ["-f", file.path]
        }
        arguments.append(databaseURL)
        let output = try Subprocess.run(executable, arguments, currentDirectory: directory)
        guard output.status == 0 else {
            throw BenchError("pgbench \(label) failed (exit \(output.status)): \(output.text.suffix(2000))")
        }
        var samples: [Double] = []
        let logs = (try FileManager.default.contentsOfDirectory(atPath: directory.path)).filter { $0.hasPrefix("txlog.") }
        for log in logs {
            let text = try String(contentsOf: directory.appendingPathComponent(log), encoding: .utf8)
            for line in text.split(separator: "\n") {
                // client_id transaction_no time script_no time_epoch time_us  (time in µs, or "failed"/"skipped")
                let fields = line.split(separator: " ")
                if fields.count >= 3, let micros = Double(fields[2]) { samples.append(micros / 1000) }
            }
        }
        let tps = Self.number(after: "tps = ", in: output.text) ?? Double(samples.count) / Double(durationSeconds)
        let failed = Int(Self.number(after: "number of failed transactions: ", in: output.text) ?? 0)
        return Outcome(transactionsPerSecond: tps, latency: LatencySummary(samples), failed: failed, output: output.text)
    }

    static func number(after marker: String, in text: String) -> Double? {
        guard let range = text.range(of: marker) else { return nil }
        let rest = text[range.upperBound...].prefix { $0.isNumber || $0 == "." }
        return Double(rest)
    }
}

/// Runs a program to completion, capturing stdout and stderr together.
enum Subprocess {
    struct Output { var status: Int32; var text: String }

    static func run(_ executable: String, _ arguments: [String], currentDirectory: URL? = nil) throws -> Output {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        if let currentDirectory { process.currentDirectoryURL = currentDirectory }
        let pipe = Pipe()
        process.standardOutput = pipe
        process.standardError = pipe
        try process.run()
        let data = pipe.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return Output(status: process.terminationStatus, text: String(decoding: data, as: UTF8.self))
    }
}

struct BenchError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}
