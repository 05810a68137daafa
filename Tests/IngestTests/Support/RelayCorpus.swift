import Foundation

/// The relay frames and expected Jetstream lines of Tests/Fixtures/firehose-2026-07-04, loaded once.
enum RelayCorpus {
    static let directory = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent("Fixtures/firehose-2026-07-04")

    /// Every frame of `frames.bin.zst` (`[u32 LE length][frame]…`), decompressed with the `zstd` command.
    static let frames: [[UInt8]] = {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["zstd", "-dc", directory.appendingPathComponent("frames.bin.zst").path]
        let pipe = Pipe()
        process.standardOutput = pipe
        guard (try? process.run()) != nil else { return [] }
        let data = pipe.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        guard process.terminationStatus == 0 else { return [] }
        let bytes = [UInt8](data)
        var frames: [[UInt8]] = []
        var position = 0
        while position + 4 <= bytes.count {
            let length = Int(bytes[position]) | Int(bytes[position + 1]) << 8 | Int(bytes[position + 2]) << 16
                | Int(bytes[position + 3]) << 24
            position += 4
            guard length <= bytes.count - position else { return [] }
            frames.append(Array(bytes[position..<(position + length)]))
            position += length
        }
        return frames
    }()

    /// The lines of `expected_v1.jsonl`, as bytes.
    static let expectedLines: [[UInt8]] = {
        guard let data = try? Data(contentsOf: directory.appendingPathComponent("expected_v1.jsonl")) else { return [] }
        return data.split(separator: UInt8(ascii: "\n"), omittingEmptySubsequences: true).map { [UInt8]($0) }
    }()

    /// `line` with the digits of its `"time_us":` value replaced by `0` (the one field the corpus
    /// cannot predict: Jetstream stamps events with its own receive clock).
    static func withoutTime(_ line: [UInt8]) -> [UInt8] {
        let marker = Array("\"time_us\":".utf8)
        guard let start = line.firstRange(of: marker)?.upperBound else { return line }
        var end = start
        while end < line.count, line[end] >= UInt8(ascii: "0"), line[end] <= UInt8(ascii: "9") { end += 1 }
        return Array(line[..<start]) + [UInt8(ascii: "0")] + Array(line[end...])
    }

    /// The `time_us` of a line.
    static func time(_ line: [UInt8]) -> Int64? {
        let marker = Array("\"time_us\":".utf8)
        guard let start = line.firstRange(of: marker)?.upperBound else { return nil }
        var end = start
        while end < line.count, line[end] >= UInt8(ascii: "0"), line[end] <= UInt8(ascii: "9") { end += 1 }
        return Int64(String(decoding: line[start..<end], as: UTF8.self))
    }
}
