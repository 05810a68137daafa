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
    /// Asked while waiting for input (every 200 ms); true ends the input at once, so a reader
    /// blocked on an idle pipe (stdin) can be stopped. Set before reading; any thread may flip
    /// what it answers.
    public var shouldStop: (() -> Bool)?

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
            guard waitUntilReadable() else {
                finished = true
                buffer.removeAll()
                position = 0
                return nil
            }
            buffer.removeSubrange(0..<start)
            position = 0
            if try readChunk() == 0 { finished = true }
        }
    }

    /// Appends what one `read(2)` returns (at most `chunkSize` bytes; a pipe gives what it has, so
    /// lines arriving slowly on stdin are handed on at once). 0 at the end of the input.
    private func readChunk() throws -> Int {
        let old = buffer.count
        buffer.append(contentsOf: repeatElement(0, count: chunkSize))
        while true {
            let count = buffer.withUnsafeMutableBytes { bytes in
                read(handle.fileDescriptor, bytes.baseAddress! + old, chunkSize)
            }
            if count >= 0 {
                buffer.removeSubrange((old + count)...)
                return count
            }
            if errno != EINTR {
                buffer.removeSubrange(old...)
                throw ImportError("cannot read the input: \(String(cString: strerror(errno)))")
            }
        }
    }

    /// Waits until a read will not block (data, end of file or an error), checking `shouldStop`
    /// every 200 ms. False when asked to stop.
    private func waitUntilReadable() -> Bool {
        guard let shouldStop else { return true }
        while true {
            if shouldStop() { return false }
            var descriptor = pollfd(fd: handle.fileDescriptor, events: Int16(POLLIN), revents: 0)
            let ready = poll(&descriptor, 1, 200)
            if ready > 0 || (ready < 0 && errno != EINTR) { return true }
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
