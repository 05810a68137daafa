import Foundation

/// Where raw Jetstream events come from: a file, stdin, a live Jetstream or relay connection. The
/// ingest pipeline reads a source from one dedicated thread, so a source applies backpressure simply
/// by not being read: a live source must then stop reading its socket once its own bounded buffer is full.
public protocol EventSource: AnyObject {
    /// The next item: one event, or a bare resume position. Blocks until one is available; nil once
    /// the source has ended or `stop()` was called.
    func next() throws -> SourceEvent?
    /// Makes a blocked `next()` and every later one return nil promptly (SIGTERM). Any thread.
    func stop()
}

/// One item a source hands the pipeline.
public struct SourceEvent: Sendable, Equatable {
    /// One Jetstream JSON object, UTF-8, without the line terminator; empty for a position alone.
    public var json: Data
    /// The source's resume position once this item and every item before it are committed (the
    /// relay's `seq`); nil: the event's own `time_us` (Jetstream, files). Where several events share
    /// one position (the ops of one relay commit), the source gives it to the last of them only and
    /// the previous position to the others, so a stored cursor never covers a half-written commit.
    public var cursor: Int64?

    public init(json: Data, cursor: Int64? = nil) {
        self.json = json
        self.cursor = cursor
    }

    /// A position reached without an event to write (e.g. a relay frame of a collection not
    /// indexed): the pipeline counts it as done, so the cursor moves past it.
    public static func position(_ cursor: Int64) -> SourceEvent { SourceEvent(json: Data(), cursor: cursor) }
}
