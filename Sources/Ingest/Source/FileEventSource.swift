import Foundation

/// Jetstream JSONL from a file or standard input as an `EventSource`: one line per event.
public final class FileEventSource: EventSource, @unchecked Sendable {
    private let reader: JSONLineReader
    private let lock = NSLock()
    private var stopped = false

    public init(reader: JSONLineReader) {
        self.reader = reader
        // A stop wakes a reader waiting on an idle pipe within 200 ms.
        reader.shouldStop = { [lock, weak self] in lock.withLock { self?.stopped ?? true } }
    }

    /// Opens a file, or standard input for `-`.
    public convenience init(path: String) throws { self.init(reader: try JSONLineReader(path: path)) }

    /// 1-based number of the last line returned.
    public var lineNumber: Int { reader.lineNumber }

    public func next() throws -> SourceEvent? {
        if lock.withLock({ stopped }) { return nil }
        return try reader.nextLine().map { SourceEvent(json: $0) }
    }

    public func stop() { lock.withLock { stopped = true } }
}
