import Foundation

/// Reads newline-delimited lines from a file descriptor in large chunks (files or stdin).
public final class JSONLineReader {
    private let handle: FileHandle
    private var buffer: [UInt8] = []
    private var position = 0
    private var finished = false
    private let chunkSize: Int
    /// 1-based number of the last line returned.
    public private(set) var lineNumber = 0

    public init(handle: FileHandle, chunkSize: Int = 1 << 20) {
        self.handle = handle
        self.chunkSize = chunkSize
    }

    /// Opens a file, or standard input for `-`.
    public convenience init(path: String) throws {
        if path == "-" {
            self.init(handle: FileHandle.standardInput)
        } else {
            guard let handle = FileHandle(forReadingAtPath: path) else {
                throw ImportError("cannot open \(path) for reading")
            }
            self.init(handle: handle)
        }
    }

    /// The next line without its terminator (a trailing `\r` is dropped), or nil at the end.
    public func nextLine() throws -> Data? {
        while true {
            let start = position
            let newline: Int? = buffer.withUnsafeBufferPointer { bytes in
                guard start < bytes.count, let base = bytes.baseAddress,
                      let found = memchr(base + start, 0x0A, bytes.count - start) else { return nil }
                return base.distance(to: found.assumingMemoryBound(to: UInt8.self))
            }
            if let newline {
                position = newline + 1
                lineNumber += 1
                return line(from: start, to: newline)
            }
            if finished {
                guard start < buffer.count else { return nil }
                position = buffer.count
                lineNumber += 1
                return line(from: start, to: buffer.count)
            }
            let chunk = try handle.read(upToCount: chunkSize) ?? Data()
            if chunk.isEmpty { finished = true }
            buffer.removeSubrange(0..<start)
            buffer.append(contentsOf: chunk)
            position = 0
        }
    }

    private func line(from start: Int, to end: Int) -> Data {
        var end = end
        if end > start, buffer[end - 1] == 0x0D { end -= 1 }
        return buffer.withUnsafeBufferPointer { Data(UnsafeBufferPointer(rebasing: $0[start..<end])) }
    }
}

/// An import could not run (unreadable input…); the message says why.
public struct ImportError: Error, CustomStringConvertible {
    public let description: String
    public init(_ description: String) { self.description = description }
}
