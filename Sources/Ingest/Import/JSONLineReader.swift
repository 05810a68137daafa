import Foundation

/// Reads newline-delimited lines from a file descriptor in large chunks (files or stdin).
public final class JSONLineReader {
    private let handle: FileHandle
    private var buffer = Data()
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
            if let newline = buffer[position...].firstIndex(of: 0x0A) {
                var end = newline
                if end > position, buffer[end - 1] == 0x0D { end -= 1 }
                let line = buffer[position..<end]
                position = newline + 1
                lineNumber += 1
                return Data(line)
            }
            if finished {
                guard position < buffer.count else { return nil }
                let line = buffer[position...]
                position = buffer.count
                lineNumber += 1
                return Data(line)
            }
            let chunk = try handle.read(upToCount: chunkSize) ?? Data()
            if chunk.isEmpty { finished = true }
            buffer = Data(buffer[position...]) + chunk
            position = 0
        }
    }
}

/// An import could not run (unreadable input…); the message says why.
public struct ImportError: Error, CustomStringConvertible {
    public let description: String
    public init(_ description: String) { self.description = description }
}
