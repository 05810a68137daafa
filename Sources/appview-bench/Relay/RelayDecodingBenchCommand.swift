import ArgumentParser
import Foundation
import Ingest
import IPLD

/// `appview-bench relay-decoding`: decoding throughput of the relay firehose against the Jetstream
/// JSON decoding of the same events, in one process: the corpus frames (`frames.bin.zst`) through
/// `RelayFrameDecoder` (DAG-CBOR, CAR with sha2-256 checks, MST walk, record → Jetstream JSON), and
/// the corpus lines (`expected_v1.jsonl`, the same 152 events) through `JetstreamEventDecoder`.
/// Each measurement loops over its corpus for `--seconds`, after a warm-up pass; best of `--rounds`.
struct RelayDecodingBenchCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "relay-decoding",
        abstract: "Frames/s of relay frame decoding vs events/s of Jetstream JSON decoding on the same corpus.")

    @Option(help: "Corpus folder (frames.bin.zst, expected_v1.jsonl).")
    var corpus = "Tests/Fixtures/firehose-2026-07-04"
    @Option(help: "Seconds per measurement.") var seconds: Double = 3
    @Option(help: "Rounds per measurement (the best is reported).") var rounds = 3

    struct Measurement {
        var name: String
        var units: Int
        var seconds: Double
        var perSecond: Double { Double(units) / seconds }
    }

    func run() throws {
        let directory = URL(fileURLWithPath: corpus)
        let frames = try Self.loadFrames(directory.appendingPathComponent("frames.bin.zst"))
        let lines = try Data(contentsOf: directory.appendingPathComponent("expected_v1.jsonl"))
            .split(separator: UInt8(ascii: "\n")).map { Data($0) }
        let frameBytes = frames.reduce(0) { $0 + $1.count }
        print("corpus: \(frames.count) frames (\(frameBytes) bytes), \(lines.count) JSON lines")

        let full = RelayFrameDecoder()
        let unverified = RelayFrameDecoder(limits: RelayDecodingLimits(car: CARLimits(verifyBlockHashes: false)))
        let indexed = RelayFrameDecoder(wantedCollections: [
            "app.bsky.feed.post", "app.bsky.feed.like", "app.bsky.feed.repost", "app.bsky.graph.follow",
            "app.bsky.graph.block", "app.bsky.actor.profile",
        ])
        var eventCount = 0
        for frame in frames { eventCount += try full.decode(frame, timeMicroseconds: 1).events.count }
        guard eventCount == lines.count else {
            throw ValidationError("the frames yield \(eventCount) events, the JSON corpus has \(lines.count)")
        }

        var results: [Measurement] = []
        results.append(measure("relay frames → Jetstream JSON (hashes checked)", units: frames.count) {
            for frame in frames { _ = try? full.decode(frame, timeMicroseconds: 1) }
        })
        results.append(measure("relay frames → Jetstream JSON (no hash check)", units: frames.count) {
            for frame in frames { _ = try? unverified.decode(frame, timeMicroseconds: 1) }
        })
        results.append(measure("relay frames → JSON, indexed collections only", units: frames.count) {
            for frame in frames { _ = try? indexed.decode(frame, timeMicroseconds: 1) }
        })
        results.append(measure("relay frames → JSON → JetstreamEvent (relay source path)", units: frames.count) {
            for frame in frames {
                guard let decoded = try? full.decode(frame, timeMicroseconds: 1) else { continue }
                for event in decoded.events { _ = JetstreamEventDecoder.decode(event) }
            }
        })
        results.append(measure("Jetstream JSON lines → JetstreamEvent (152 lines = 150 frames)", units: frames.count) {
            for line in lines { _ = JetstreamEventDecoder.decode(line) }
        })
        results.append(measure("DAG-CBOR header + body only (no CAR)", units: frames.count) {
            let decoder = DAGCBORDecoder()
            for frame in frames {
                frame.withUnsafeBufferPointer { buffer in
                    guard let head = try? decoder.decodePrefix(buffer) else { return }
                    _ = try? decoder.decode(UnsafeBufferPointer(rebasing: buffer[head.byteCount...]))
                }
            }
        })

        let baseline = results[4].perSecond
        print("")
        print("| measurement | frames/s | events/s | MB/s of frames | vs Jetstream JSON |")
        print("| --- | ---: | ---: | ---: | ---: |")
        for result in results {
            let perFrame = result.perSecond
            let events = perFrame * Double(lines.count) / Double(frames.count)
            let megabytes = perFrame * Double(frameBytes) / Double(frames.count) / 1_000_000
            print(String(format: "| %@ | %.0f | %.0f | %.1f | %.2f× |", result.name, perFrame, events, megabytes, perFrame / baseline))
        }
    }

    /// Best of `rounds` timed loops over the corpus, each running for about `seconds`.
    func measure(_ name: String, units: Int, _ body: () -> Void) -> Measurement {
        body()  // warm-up
        var best = Measurement(name: name, units: 0, seconds: 1)
        for _ in 0..<max(1, rounds) {
            var passes = 0
            let start = DispatchTime.now().uptimeNanoseconds
            var elapsed = 0.0
            repeat {
                body()
                passes += 1
                elapsed = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
            } while elapsed < seconds
            let round = Measurement(name: name, units: passes * units, seconds: elapsed)
            if round.perSecond > best.perSecond { best = round }
        }
        return best
    }

    static func loadFrames(_ url: URL) throws -> [[UInt8]] {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["zstd", "-dc", url.path]
        let pipe = Pipe()
        process.standardOutput = pipe
        try process.run()
        let bytes = [UInt8](pipe.fileHandleForReading.readDataToEndOfFile())
        process.waitUntilExit()
        guard process.terminationStatus == 0 else { throw ValidationError("zstd -dc \(url.path) failed") }
        var frames: [[UInt8]] = []
        var position = 0
        while position + 4 <= bytes.count {
            let length = Int(bytes[position]) | Int(bytes[position + 1]) << 8 | Int(bytes[position + 2]) << 16
                | Int(bytes[position + 3]) << 24
            position += 4
            guard length <= bytes.count - position else { throw ValidationError("truncated frames file") }
            frames.append(Array(bytes[position..<(position + length)]))
            position += length
        }
        return frames
    }
}
