import ArgumentParser
import Foundation
import Ingest

/// `appview-bench ingest-stream`: writes a generated, realistic Jetstream JSONL stream (likes ≈ 2/3,
/// posts with replies, mentions, quotes and images, reposts, follows, blocks, profile updates,
/// deletes, identity and account events; power-law popularity) for ingest benchmarks and replay tests.
struct IngestStreamCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "ingest-stream", abstract: "Writes a generated Jetstream JSONL stream (deterministic for a seed).")

    @Option(help: "Events to write.") var events = 1_000_000
    @Option(help: "Accounts (default: events / 20, at least 100).") var actors: Int?
    @Option(help: "Random seed.") var seed: UInt64 = 1
    @Option(help: "Output file.") var out: String

    func validate() throws {
        guard events >= 1, events <= 100_000_000 else { throw ValidationError("--events must be between 1 and 100000000") }
        if let actors, actors < 2 { throw ValidationError("--actors must be at least 2") }
    }

    func run() throws {
        guard FileManager.default.createFile(atPath: out, contents: nil), let handle = FileHandle(forWritingAtPath: out) else {
            throw BenchError("cannot create \(out)")
        }
        defer { try? handle.close() }
        var generator = SyntheticStreamGenerator(actorCount: actors ?? max(100, events / 20), seed: seed)
        var buffer: [UInt8] = []
        buffer.reserveCapacity(1 << 21)
        try generator.generate(count: events) { line in
            buffer.append(contentsOf: line.utf8)
            buffer.append(0x0A)
            if buffer.count >= 1 << 20 {
                try handle.write(contentsOf: buffer)
                buffer.removeAll(keepingCapacity: true)
            }
        }
        try handle.write(contentsOf: buffer)
        print("wrote \(events) events to \(out)")
    }
}
